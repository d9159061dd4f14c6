use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    #[call_timeout("30s")]
    #[call_timeout("1m")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
