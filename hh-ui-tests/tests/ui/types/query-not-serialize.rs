use hh_runtime::{healthhero_api, Error};

pub struct NotSerialize;

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn things(&self, #[query] filter: &NotSerialize) -> Result<(), Error>;
}

fn main() {}
