#![deny(warnings)]

use hh_runtime::{healthhero_api, Error};

/// A client named by the user; a user type called `ClockClient` no longer collides.
#[healthhero_api(client = "ClockApi")]
pub trait Clock {
    #[get("/time")]
    async fn now(&self) -> Result<Option<String>, Error>;

    /// A helper: a default method without a verb, kept as written.
    #[allow(async_fn_in_trait)]
    async fn now_or_midnight(&self) -> Result<String, Error> {
        Ok(self.now().await?.unwrap_or_else(|| "00:00".to_owned()))
    }
}

pub struct ClockClient;

fn main() {
    let client = hh_runtime::Client::builder()
        .identity_url("http://127.0.0.1:9/identity")
        .api_url("http://127.0.0.1:9/api")
        .client_id("c")
        .client_secret("s")
        .build()
        .unwrap();
    let clock = ClockApi::new(client);
    let _ = clock.now_or_midnight();
    let _ = ClockClient;
}
