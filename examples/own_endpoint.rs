//! Declaring an endpoint of your own next to the shipped ones: say your HealthHero tenant has
//! an endpoint this crate does not know, or you want a different return type.
//!
//! ```sh
//! cargo run --example own_endpoint
//! ```

use std::error::Error;

use healthhero::models::TraversalCreate;
use healthhero::{HealthHero, Traversals as _};
use hh_runtime::healthhero_api;

/// Yours: the same language the shipped APIs are declared in.
#[healthhero_api(prefix = "/api/v1/<client_id>")]
#[header("x-api-version", "v3")]
pub trait TraversalExtras {
    /// The raw JSON of a traversal, for logging it as it came.
    #[get("/Traversals/<traversal_id>")]
    async fn raw(
        &self,
        traversal_id: &str,
    ) -> hh_runtime::Result<hh_runtime::Response<serde_json::Value>>;

    /// The track file as bytes, to store unchanged.
    #[get("/Traversals/<traversal_id>/track-file")]
    async fn track_file_bytes(&self, traversal_id: &str) -> hh_runtime::Result<hh_runtime::Bytes>;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let sandbox = hh_sandbox::Sandbox::start().await?;
    let client = healthhero::Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(sandbox.client_id())
        .client_secret(sandbox.client_secret())
        .build()?;

    // The shipped client and yours share one runtime client: one token, one connection pool.
    let hh = HealthHero::new(client.clone());
    let extras = TraversalExtrasClient::new(client);

    let page = hh
        .traversals()
        .create(&TraversalCreate::new("SYMPTOMS"))
        .await?;
    let raw = extras.raw(&page.traversal_id).await?;
    println!("GET traversal: HTTP {}", raw.status());
    println!("{}", serde_json::to_string_pretty(raw.value())?);
    let track = extras.track_file_bytes(&page.traversal_id).await?;
    println!("track file: {} bytes", track.len());
    println!("token requests made: {}", sandbox.token_requests());
    Ok(())
}
