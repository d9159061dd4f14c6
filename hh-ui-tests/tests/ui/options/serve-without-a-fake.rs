use hh_runtime::{healthhero_api, Error};

#[healthhero_api(serve, fake = false)]
pub trait Api {
    #[get("/things")]
    async fn list(&self) -> Result<(), Error>;
}

fn main() {}
