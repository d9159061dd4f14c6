use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[post("/things")]
    async fn things(&self, #[query] #[body] page: u32) -> Result<(), Error>;
}

fn main() {}
