use hh_runtime::{healthhero_api, Error};

// One error, at the malformed `#[query(1)]`: nothing more at `#[healthhero_api]`.
#[healthhero_api]
pub trait Api {
    #[get("/things/<id>")]
    async fn thing(&self, #[query(1)] id: u64) -> Result<(), Error>;
}

fn main() {}
