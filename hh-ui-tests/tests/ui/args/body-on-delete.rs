use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[delete("/things/<id>")]
    async fn remove(&self, id: u64, #[body] reason: &str) -> Result<(), Error>;
}

fn main() {}
