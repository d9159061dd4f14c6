use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn things(&self, page: u32) -> Result<(), Error>;
}

fn main() {}
