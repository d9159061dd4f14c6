use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things/{id}")]
    async fn thing(&self, id: u64) -> Result<(), Error>;
}

fn main() {}
