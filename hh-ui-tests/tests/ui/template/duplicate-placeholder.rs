use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things/<id>/parts/<id>")]
    async fn thing(&self, id: &str) -> Result<(), Error>;
}

fn main() {}
