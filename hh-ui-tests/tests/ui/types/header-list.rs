use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn things(&self, #[header("x-tags")] tags: Vec<String>) -> Result<(), Error>;
}

fn main() {}
