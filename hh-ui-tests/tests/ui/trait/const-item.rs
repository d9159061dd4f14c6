use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    const VERSION: u32;

    #[get("/things")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
