use hh_runtime::{healthhero_api, Error};

#[derive(Clone, Debug, serde::Serialize)]
pub enum Sort {
    Newest,
    Oldest,
}

#[healthhero_api(serve)]
pub trait Api {
    #[get("/things")]
    async fn list(&self, #[query] sort: Sort) -> Result<(), Error>;
}

fn main() {}
