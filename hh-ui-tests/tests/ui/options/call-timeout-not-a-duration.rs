use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    #[call_timeout("soon")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
