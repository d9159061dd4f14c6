use hh_runtime::{healthhero_api, Error};

#[healthhero_api(prefix = "/api/<version>")]
pub trait Api {
    #[get("/things")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
