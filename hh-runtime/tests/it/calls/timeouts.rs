//! Timeouts: the client's, after retries, and the per-call `#[timeout]`.

use std::time::Duration;

use hh_runtime::{ErrorKind, Method, RetryPolicy};
use tokio::time::Instant;

use super::{SECS, answering, call_with};
use crate::support::{Reply, get_json};

#[tokio::test(start_paused = true)]
async fn a_request_that_never_answers_times_out() {
    let server = answering(Reply::json(200, serde_json::json!({})).after(SECS(3600))).await;
    let client = server
        .builder()
        .request_timeout(SECS(5))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = get_json(&client, "/x").await.unwrap_err();
    assert!(err.is_timeout() && err.is_retryable(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(started.elapsed() >= SECS(5) && started.elapsed() < SECS(6));
}

#[tokio::test(start_paused = true)]
async fn a_timeout_after_retries_says_how_many_attempts() {
    let server = answering(Reply::json(200, serde_json::json!({})).after(SECS(3600))).await;
    let client = server
        .builder()
        .request_timeout(SECS(1))
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(400)))
        .build()
        .unwrap();
    let err = get_json(&client, "/x").await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("no response within 1s (3 attempts each, "),
        "{text}"
    );
    assert_eq!(server.api_requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_timeout_replaces_the_client_timeout() {
    let server = answering(Reply::json(200, serde_json::json!({})).after(SECS(10))).await;
    let client = server.builder().retry(RetryPolicy::none()).build().unwrap();
    let started = Instant::now();
    let err = call_with(&client, Method::GET, |r| r.timeout(SECS(2)))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("2s"), "{err}");
    assert!(started.elapsed() < SECS(3));
    // Without it, the client's 30 s: the 10 s answer arrives.
    call_with(&client, Method::GET, |r| r).await.unwrap();
}
