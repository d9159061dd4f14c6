use hh_runtime::{healthhero_api, Error};

// Each repeated option is reported at its second use, keywords too, all at once.
#[healthhero_api(prefix = "/v1", dyn, crate = "hh_runtime", prefix = "/v2", dyn, crate = "hh_runtime")]
pub trait Api {
    #[get("/things")]
    async fn list(&self) -> Result<(), Error>;
}

fn main() {}
