use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[post("/things")]
    async fn things(&self, #[body(json)] thing: &str) -> Result<(), Error>;
}

fn main() {}
