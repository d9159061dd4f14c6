use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things/<id>")]
    async fn get(&self, id: u64, #[query] id: u64) -> Result<(), Error>;
}

fn main() {}
