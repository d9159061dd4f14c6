use hh_runtime::{healthhero_api, Error};

#[healthhero_api(fake = "Api")]
pub trait Api {
    #[get("/things")]
    async fn list(&self) -> Result<(), Error>;
}

fn main() {}
