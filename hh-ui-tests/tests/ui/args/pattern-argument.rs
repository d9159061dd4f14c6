use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn things(&self, #[query] (a, b): (u32, u32)) -> Result<(), Error>;
}

fn main() {}
