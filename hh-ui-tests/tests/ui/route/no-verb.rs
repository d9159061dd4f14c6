use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    async fn things(&self) -> Result<(), Error>;
}

// Using the generated client must not add errors of its own.
fn _uses(client: hh_runtime::Client) {
    let _ = ApiClient::new(client);
}

fn main() {}
