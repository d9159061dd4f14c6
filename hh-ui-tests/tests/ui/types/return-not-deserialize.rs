use hh_runtime::{healthhero_api, Error};

pub struct NotDeserialize;

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn thing(&self) -> Result<NotDeserialize, Error>;
}

fn main() {}
