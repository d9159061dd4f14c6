//! README's setup for a service (`examples/observability.rs`, compiled in here), run against
//! hh-sandbox and an OTLP/HTTP receiver: a request to it makes a HealthHero call; `/metrics`
//! renders Prometheus histograms with the conventions' buckets; a SIGTERM drains it and the
//! spans still batched reach the receiver before `run` returns, the API attempt's among them,
//! in the trace whose `traceparent` the sandbox received.

#![allow(clippy::unwrap_used)]

// Its `main` is not called here: `run` is, with the ports this test chose.
#[allow(dead_code)]
#[path = "../examples/observability.rs"]
mod observability;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use healthhero::HealthHero;
use hh_sandbox::Sandbox;
use tokio::net::TcpListener;

// The only test of this binary: `run` installs the global subscriber and metrics recorder, and
// SIGTERM goes to the whole process. (`RUST_LOG`, which the example's filter reads, must not
// turn INFO off.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_setup_exports_at_sigterm_and_renders_histograms() {
    let (otlp, exports) = otlp_receiver().await;
    let sandbox = Sandbox::start().await.unwrap();
    let hh = HealthHero::new(
        healthhero::Client::builder()
            .identity_url(sandbox.identity_url())
            .api_url(sandbox.api_url())
            .client_id(sandbox.client_id())
            .client_secret(sandbox.client_secret())
            .build()
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = observability::shutdown_signal().unwrap();
    let served = async {
        let (ran, metrics) = tokio::join!(
            observability::run(hh, listener, Some(&otlp), shutdown),
            use_then_terminate(&service)
        );
        ran.unwrap();
        metrics
    };
    // Generous: nothing here waits on a timer of its own but the exporter's HTTP calls.
    let metrics = tokio::time::timeout(Duration::from_secs(120), served)
        .await
        .expect("the service did not stop after SIGTERM");

    for expected in [
        "# TYPE http_client_request_duration_seconds histogram",
        "# TYPE hh_client_call_duration_seconds histogram",
        "le=\"0.005\"",
        "le=\"10\"",
        "hh_token_requests_total",
    ] {
        assert!(metrics.contains(expected), "no `{expected}` in\n{metrics}");
    }
    assert!(
        !metrics.contains("quantile="),
        "summaries, not histograms:\n{metrics}"
    );

    // Exported by the time `run` returned: the flush at shutdown, not the batch's timer.
    let exported: Vec<u8> = exports.lock().unwrap().concat();
    for name in [
        "my-service",
        "Traversals.create",
        "POST /api/v1/{client_id}/Traversals",
    ] {
        assert!(contains(&exported, name.as_bytes()), "no `{name}` exported");
    }
    let received = sandbox.trace_contexts();
    let [create] = &received[..] else {
        panic!("{received:#?}")
    };
    assert_eq!(create.endpoint, "traversals.create");
    let trace_id = hex(create.trace_id().unwrap());
    assert!(
        contains(&exported, &trace_id),
        "the trace the API saw was not exported"
    );
}

/// An OTLP/HTTP receiver on loopback: its `/v1/traces` URL, and every export's body.
async fn otlp_receiver() -> (String, Arc<Mutex<Vec<Bytes>>>) {
    let exports = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&exports);
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            kept.lock().unwrap().push(body);
            std::future::ready(axum::http::StatusCode::OK)
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, exports)
}

/// A request that makes a HealthHero call, the metrics, then SIGTERM to this process, as an
/// orchestrator sends at a deploy. Returns what `/metrics` rendered.
async fn use_then_terminate(service: &str) -> String {
    let http = reqwest::Client::new();
    let triage = http.get(format!("{service}/triage")).send().await.unwrap();
    assert!(triage.status().is_success(), "{triage:?}");
    let metrics = http.get(format!("{service}/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    // The shell's own `kill`, to its parent: this process.
    let terminated = std::process::Command::new("sh")
        .args(["-c", "kill -TERM $PPID"])
        .status()
        .unwrap();
    assert!(terminated.success());
    metrics
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Hex digits as the bytes they spell (a trace id as OTLP's protobuf carries it).
fn hex(digits: &str) -> Vec<u8> {
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}
