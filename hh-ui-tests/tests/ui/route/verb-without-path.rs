use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
