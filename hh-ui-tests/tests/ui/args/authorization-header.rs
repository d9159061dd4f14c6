use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn things(&self, #[header("Authorization")] credentials: &str) -> Result<(), Error>;
}

fn main() {}
