use hh_runtime::{healthhero_api, Error};

// One mistake (no verb); everything a user does with the generated client still compiles, so
// the only error is ours.
#[healthhero_api]
pub trait Api {
    async fn things(&self) -> Result<(), Error>;
}

fn _uses(client: hh_runtime::Client) {
    let api = ApiClient::new(client);
    let _: &hh_runtime::Client = api.client();
    let _ = api.clone();
    let _ = api.things();
}

fn main() {}
