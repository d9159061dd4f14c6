use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[post("/things")]
    #[idempotent]
    #[retry(false)]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
