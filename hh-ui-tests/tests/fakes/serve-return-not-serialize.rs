use hh_runtime::{healthhero_api, Error};

#[derive(Clone, Debug, serde::Deserialize)]
pub struct Receipt {
    pub id: String,
}

#[healthhero_api(serve)]
pub trait Api {
    #[post("/orders")]
    async fn place(&self) -> Result<Receipt, Error>;
}

fn main() {}
