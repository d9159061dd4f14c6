use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things/<client id>")]
    async fn thing(&self) -> Result<(), Error>;
}

fn main() {}
