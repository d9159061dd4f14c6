use hh_runtime::{healthhero_api, Error};

pub struct NotSerialize;

#[healthhero_api]
pub trait Api {
    #[post("/things")]
    async fn create(&self, #[body] thing: &NotSerialize) -> Result<(), Error>;
}

fn main() {}
