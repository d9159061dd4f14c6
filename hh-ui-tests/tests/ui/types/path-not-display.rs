use hh_runtime::{healthhero_api, Error};

pub struct NotDisplay;

#[healthhero_api]
pub trait Api {
    #[get("/things/<id>")]
    async fn thing(&self, id: NotDisplay) -> Result<(), Error>;
}

fn main() {}
