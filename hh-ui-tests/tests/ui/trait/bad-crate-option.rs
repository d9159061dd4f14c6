use hh_runtime::{healthhero_api, Error};

#[healthhero_api(crate = "not a path")]
pub trait Api {
    #[get("/things")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
