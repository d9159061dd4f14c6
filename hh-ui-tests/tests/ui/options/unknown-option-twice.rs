use hh_runtime::{healthhero_api, Error};

// An unknown option given twice is unknown twice, not also "given twice".
#[healthhero_api(serv, serv)]
pub trait Api {
    #[get("/things")]
    async fn list(&self) -> Result<(), Error>;
}

fn main() {}
