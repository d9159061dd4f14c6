use hh_runtime::{healthhero_api, Error};

#[derive(Clone, Debug, serde::Serialize)]
pub struct Order {
    pub items: Vec<String>,
}

#[healthhero_api(serve)]
pub trait Api {
    #[post("/orders")]
    async fn place(&self, #[body] order: &Order) -> Result<(), Error>;
}

fn main() {}
