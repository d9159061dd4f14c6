use hh_runtime::{healthhero_api, Error};

#[healthhero_api(serve)]
pub trait Api {
    #[post("/letters")]
    async fn upload(&self, #[body(bytes)] letter: &[u8; 4]) -> Result<(), Error>;
}

fn main() {}
