use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things/<id>")]
    async fn thing(&self, #[timeout("5s")] id: &str) -> Result<(), Error>;
}

fn main() {}
