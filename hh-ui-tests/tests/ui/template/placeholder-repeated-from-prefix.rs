use hh_runtime::{healthhero_api, Error};

#[healthhero_api(prefix = "/api/v1/<client_id>")]
pub trait Api {
    #[get("/things/<client_id>")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
