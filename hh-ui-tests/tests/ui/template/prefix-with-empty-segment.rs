use hh_runtime::{healthhero_api, Error};

// `/api//` joined to `/things` would send `/api//things`.
#[healthhero_api(prefix = "/api//")]
pub trait Api {
    #[get("/things")]
    async fn things(&self) -> Result<(), Error>;
}

fn main() {}
