use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/reports/<traversal_idd>/risks")]
    async fn risks(&self, traversal_id: &str) -> Result<(), Error>;
}

fn main() {}
