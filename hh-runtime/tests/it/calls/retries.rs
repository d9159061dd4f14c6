//! Retries: which calls are retried and how often, `Retry-After`, and the per-call
//! `#[retry]` and `#[idempotent]`.

use std::time::Duration;

use hh_runtime::{Method, RetryPolicy};
use tokio::time::Instant;

use super::{SECS, answering, call_with};
use crate::support::{Reply, Server, get_json, post_json};

#[tokio::test(start_paused = true)]
async fn idempotent_calls_are_retried_on_retryable_statuses() {
    let server = Server::start().await;
    server.on_api(|n, _| match n {
        1 => Reply::new(503, ""),
        2 => Reply::new(502, ""),
        _ => Reply::json(200, serde_json::json!({"ok": true})),
    });
    assert_eq!(get_json(&server.client(), "/x").await.unwrap()["ok"], true);
    assert_eq!(server.api_requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_after_max_attempts() {
    let server = answering(Reply::new(504, "")).await;
    let err = get_json(&server.client(), "/x").await.unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 504);
    assert!(err.is_retryable());
    assert_eq!(server.api_requests(), 3);

    let server = answering(Reply::new(504, "")).await;
    let client = server.builder().retry(RetryPolicy::none()).build().unwrap();
    get_json(&client, "/x").await.unwrap_err();
    assert_eq!(server.api_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_post_is_not_retried_once_it_may_have_reached_the_server() {
    let server = answering(Reply::new(503, "")).await;
    let err = post_json(&server.client(), "/create", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 503);
    assert_eq!(server.api_requests(), 1);

    // Nor after a timeout: the server may have acted on it.
    let server = answering(Reply::json(200, serde_json::json!({})).after(SECS(60))).await;
    let err = post_json(&server.client(), "/create", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(server.api_requests(), 1);

    let server = answering(Reply::new(503, "")).await;
    let client = server
        .builder()
        .retry(RetryPolicy::default().retry_non_idempotent(true))
        .build()
        .unwrap();
    post_json(&client, "/create", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(server.api_requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_honoured() {
    let server = Server::start().await;
    server.on_api(|n, _| match n {
        1 => Reply::new(429, "").header("retry-after", "4"),
        _ => Reply::json(200, serde_json::json!({})),
    });
    get_json(&server.client(), "/x").await.unwrap();
    let log = server.api_log();
    assert!(log[1].at - log[0].at >= SECS(4));
}

#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = Server::start().await;
    // HTTP dates have one-second resolution: the date the server sends, as it sends it.
    let date = httpdate::parse_http_date(&httpdate::fmt_http_date(
        std::time::SystemTime::now() + SECS(3),
    ))
    .unwrap();
    server.on_api(move |n, _| match n {
        1 => Reply::new(503, "").header("retry-after", &httpdate::fmt_http_date(date)),
        _ => Reply::json(200, serde_json::json!({})),
    });
    let started = Instant::now();
    get_json(&server.client(), "/x").await.unwrap();
    // The client waits until the date by the wall clock it reads when the answer arrives,
    // which is before `now`: so at least `date - now`, whatever the machine's speed. (The
    // paused clock measures the wait; it does not move the wall clock.)
    let now = std::time::SystemTime::now();
    let least = date.duration_since(now).unwrap_or_default();
    assert!(
        started.elapsed() >= least,
        "{:?} < {least:?}",
        started.elapsed()
    );
    assert_eq!(server.api_requests(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_budget_fails_at_once() {
    let server = answering(Reply::new(503, "").header("retry-after", "3600")).await;
    let started = Instant::now();
    let err = get_json(&server.client(), "/x").await.unwrap_err();
    assert_eq!(err.retry_after(), Some(SECS(3600)));
    assert_eq!(server.api_requests(), 1);
    assert!(started.elapsed() < SECS(1));
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    // A port with nothing listening: bind, note the address, close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let server = Server::start().await;
    let client = server
        .builder()
        .api_url(&dead)
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
        .build()
        .unwrap();
    let err = post_json(&client, "/x", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(err.is_connect() && err.is_retryable(), "{err}");
    assert!(
        !format!("{err}").contains(&dead),
        "messages name the path template, not the URL: {err}"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_false_sends_an_idempotent_call_once() {
    let server = answering(Reply::new(503, "")).await;
    call_with(&server.client(), Method::GET, |r| r.retry(false))
        .await
        .unwrap_err();
    assert_eq!(server.api_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_idempotent_post_is_retried_like_a_get() {
    let server = Server::start().await;
    server.on_api(|n, _| match n {
        1 => Reply::new(503, ""),
        _ => Reply::json(200, serde_json::json!({"ok": true})),
    });
    let answer = call_with(&server.client(), Method::POST, |r| r.idempotent())
        .await
        .unwrap();
    assert_eq!(answer["ok"], true);
    assert_eq!(server.api_requests(), 2);
    // And a 401 replay is still one replay, retries or not.
    let server = Server::start().await;
    server.on_api(|n, _| match n {
        1 => Reply::new(401, ""),
        _ => Reply::json(200, serde_json::json!({})),
    });
    call_with(&server.client(), Method::GET, |r| r.retry(false))
        .await
        .unwrap();
    assert_eq!(server.api_requests(), 2);
}
