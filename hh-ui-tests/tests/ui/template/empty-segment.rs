use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things//parts")]
    async fn parts(&self) -> Result<(), Error>;
}

fn main() {}
