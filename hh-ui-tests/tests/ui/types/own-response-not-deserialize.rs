use hh_runtime::{healthhero_api, Error};

// A user's own `Response<T>` is decoded from JSON, so it must be `Deserialize`.
pub struct Response<T> {
    pub value: T,
}

#[derive(serde::Deserialize)]
pub struct Thing {
    pub name: String,
}

#[healthhero_api]
pub trait Things {
    #[get("/wrapped")]
    async fn wrapped(&self) -> Result<Response<Thing>, Error>;
}

fn main() {}
