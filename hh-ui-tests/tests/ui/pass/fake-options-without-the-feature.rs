//! `serve` and `fake = ".."` without hh-runtime's `testing` feature: nothing is written for
//! them, and nothing warns, warnings denied.
#![deny(warnings, missing_docs, unreachable_pub)]

use hh_runtime::{healthhero_api, Error};

/// Served in tests, named.
#[healthhero_api(serve, fake = "FakeThings")]
pub trait Things {
    /// One.
    #[get("/things/<id>")]
    async fn thing(&self, id: u32, #[query] detail: Option<&str>) -> Result<String, Error>;
}

/// No fake, said out loud.
#[healthhero_api(fake = false)]
pub trait Others {
    /// One.
    #[get("/others")]
    async fn other(&self) -> Result<(), Error>;
}

fn main() {
    let _ = ThingsClient::new;
    let _ = OthersClient::new;
}
