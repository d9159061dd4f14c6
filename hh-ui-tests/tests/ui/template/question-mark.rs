use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things?page=1")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
