use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[post("/things")]
    async fn things(&self, #[body] a: &str, #[form] b: &[(String, String)]) -> Result<(), Error>;
}

fn main() {}
