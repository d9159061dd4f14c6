use hh_runtime::{healthhero_api, Error};

pub struct ETag(String);

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn things(&self, #[header("if-none-match")] etag: &ETag) -> Result<(), Error>;
}

fn main() {}
