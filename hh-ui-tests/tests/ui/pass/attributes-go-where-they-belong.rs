#![deny(warnings)]

use hh_runtime::{healthhero_api, Error};

/// Attributes of other tools, written as paths, reach the generated method (which has the
/// body `#[tracing::instrument]` needs); `#[cfg]` on the trait removes the client with it.
#[healthhero_api]
pub trait Clock {
    /// The server's time.
    #[get("/time")]
    #[rustfmt::skip]
    #[tracing::instrument(level = "debug", skip(self))]
    #[allow(clippy::needless_lifetimes)]
    async fn now(&self, #[allow(unused_variables)] #[query] zone: &str) -> Result<String, Error>;
}

#[cfg(any())]
#[healthhero_api]
pub trait Gone {
    #[get("/gone")]
    async fn gone(&self) -> Result<(), Error>;
}

// With the trait configured away, so is its client: this type may be defined again.
#[cfg(not(any()))]
pub struct GoneClient;

fn main() {
    let client = hh_runtime::Client::builder()
        .identity_url("http://127.0.0.1:9/identity")
        .api_url("http://127.0.0.1:9/api")
        .client_id("c")
        .client_secret("s")
        .build()
        .unwrap();
    let clock = ClockClient::new(client);
    let _ = clock.now("UTC");
    let _ = GoneClient;
}
