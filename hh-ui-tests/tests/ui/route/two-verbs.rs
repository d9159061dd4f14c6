use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    #[post("/things")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
