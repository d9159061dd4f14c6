use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things/../admin")]
    async fn admin(&self) -> Result<(), Error>;
}

fn main() {}
