use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things/<id>")]
    async fn thing<T: std::fmt::Display + Send + Sync>(&self, id: T) -> Result<(), Error>;
}

fn main() {}
