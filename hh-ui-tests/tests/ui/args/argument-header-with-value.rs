use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn things(&self, #[header("x-trace", "v")] trace: &str) -> Result<(), Error>;
}

fn main() {}
