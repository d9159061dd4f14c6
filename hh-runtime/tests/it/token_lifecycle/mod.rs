//! The token lifecycle over real HTTP on loopback, on tokio's paused clock.
//! One module per group of RELIABILITY.md (A to F); the helpers they share are here, the
//! scripted server in `support`.

#![allow(clippy::unwrap_used)]

mod cancellation;
mod coalescing;
mod expiry;
mod failures;
mod replay;
mod token_endpoint;

use std::time::Duration;

use hh_runtime::Client;

async fn token_of(client: &Client) -> hh_runtime::Result<String> {
    Ok(client.access_token().await?.expose_secret().to_owned())
}

const SECS: fn(u64) -> Duration = Duration::from_secs;
