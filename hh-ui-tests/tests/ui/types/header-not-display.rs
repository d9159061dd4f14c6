use hh_runtime::{healthhero_api, Error};

pub struct Token(Vec<u8>);

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn things(&self, #[header("x-token")] token: &Token) -> Result<(), Error>;
}

fn main() {}
