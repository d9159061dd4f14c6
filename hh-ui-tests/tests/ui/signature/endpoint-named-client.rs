use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/client")]
    async fn client(&self) -> Result<(), Error>;
}

fn main() {}
