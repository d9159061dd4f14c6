use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    #[timeout("5s")]
    #[timeout("10s")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
