//! An argument name given twice: our error on the second, and rustc's; the fake adds no
//! second field of that name.
use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things/<id>")]
    async fn get(&self, id: u64, #[query] id: u64) -> Result<(), Error>;
}

fn main() {}
