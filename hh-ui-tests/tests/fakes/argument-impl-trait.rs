use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things/<id>")]
    async fn get(&self, id: impl std::fmt::Display + Send) -> Result<(), Error>;
}

fn main() {}
