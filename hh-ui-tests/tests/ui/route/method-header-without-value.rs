use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    #[header("x-api-version")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
