use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[post("/things")]
    #[idempotent(true)]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
