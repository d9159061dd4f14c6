use hh_runtime::{healthhero_api, Error};

#[derive(serde::Serialize)]
pub struct Order {
    pub items: Vec<String>,
}

#[healthhero_api]
pub trait Api {
    #[post("/orders")]
    async fn place(&self, #[body] orders: &[Order]) -> Result<(), Error>;
}

fn main() {}
