use hh_runtime::{healthhero_api, Error};

#[healthhero_api(prefix = "/v1", serve, prefix = "/v2")]
pub trait Api {
    #[get("/things")]
    async fn list(&self) -> Result<(), Error>;
}

fn main() {}
