use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/my things")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
