//! Request building, sending, retries and decoding, through the surface generated code calls.
//! One module per concern; the helpers they share are here, the scripted server in `support`.

#![allow(clippy::unwrap_used)]

mod bodies;
mod client;
mod encoding;
mod errors;
mod headers;
mod retries;
mod timeouts;

use std::time::Duration;

use hh_runtime::__private::{Json, Request};
use hh_runtime::Method;

use crate::support::{Reply, Server};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// A server whose API answers every request with `reply` (the token endpoint works).
async fn answering(reply: Reply) -> Server {
    let server = Server::start().await;
    server.on_api(move |_, _| reply.clone());
    server
}

/// One call with the per-endpoint options the macro's `#[timeout]`, `#[retry]` and
/// `#[idempotent]` set.
async fn call_with(
    client: &hh_runtime::Client,
    method: Method,
    options: impl FnOnce(Request<'_>) -> Request<'_>,
) -> hh_runtime::Result<serde_json::Value> {
    options(Request::new(client, method, "/x").literal("/x"))
        .send::<Json<serde_json::Value>>()
        .await
}
