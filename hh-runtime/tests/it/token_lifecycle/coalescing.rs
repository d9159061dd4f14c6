//! Coalescing (RELIABILITY.md A): callers of one key share one token request, at a cold start,
//! in the refresh window and past expiry; other keys never share it and never wait on it.

use std::time::Duration;

use hh_runtime::Client;
use tokio::task::JoinSet;
use tokio::time::{Instant, advance, sleep};

use super::{SECS, token_of};
use crate::support::{CLIENT_ID, Reply, Server, get_json};

#[tokio::test(start_paused = true)]
async fn cold_herd_of_10000_callers_makes_one_token_request() {
    let server = Server::start().await;
    server
        .on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(Duration::from_millis(300)));
    let client = server.client();
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..10_000 {
        let client = client.clone();
        tasks.spawn(async move { token_of(&client).await.unwrap() });
    }
    while let Some(token) = tasks.join_next().await {
        assert_eq!(token.unwrap(), "tok-1");
    }
    assert_eq!(server.token_requests(), 1);
    // Every caller was served by the one round trip.
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn concurrent_api_calls_at_cold_start_share_one_token() {
    let server = Server::start().await;
    let client = server.client();
    let mut tasks = JoinSet::new();
    for _ in 0..300 {
        let client = client.clone();
        tasks.spawn(async move { get_json(&client, "/api/v1/things").await.unwrap() });
    }
    while let Some(body) = tasks.join_next().await {
        assert_eq!(body.unwrap()["ok"], true);
    }
    assert_eq!(server.token_requests(), 1);
    assert_eq!(server.api_requests(), 300);
}

#[tokio::test(start_paused = true)]
async fn refresh_ahead_under_load_is_one_request_and_no_caller_waits() {
    let server = Server::start().await;
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(2)));
    let client = server.client();
    assert_eq!(token_of(&client).await.unwrap(), "tok-1");

    // Into the refresh window (the last 300 s), still well clear of the 30 s hard stop.
    advance(SECS(3600 - 200)).await;
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..2_000 {
        let client = client.clone();
        tasks.spawn(async move { token_of(&client).await.unwrap() });
    }
    while let Some(token) = tasks.join_next().await {
        // The refresh runs in the background; everyone is served the current token at once.
        assert_eq!(token.unwrap(), "tok-1");
    }
    assert!(started.elapsed() < Duration::from_millis(10));
    sleep(SECS(3)).await;
    assert_eq!(server.token_requests(), 2);
    assert_eq!(token_of(&client).await.unwrap(), "tok-2");
    assert_eq!(server.token_requests(), 2);
}

#[tokio::test(start_paused = true)]
async fn expiry_under_load_is_one_refresh_and_no_caller_error() {
    let server = Server::start().await;
    let client = server.client();
    get_json(&client, "/api/v1/warm").await.unwrap();

    // Past the hard stop (30 s before expiry) with no call in the refresh window: every caller
    // has to wait for a new token, and they all share one request.
    advance(SECS(3600 - 20)).await;
    let mut tasks = JoinSet::new();
    for _ in 0..500 {
        let client = client.clone();
        tasks.spawn(async move { get_json(&client, "/api/v1/things").await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    assert_eq!(server.token_requests(), 2);
    assert_eq!(server.api_requests(), 501, "no call needed a 401 replay");
}

#[tokio::test(start_paused = true)]
async fn a_failed_fetch_answers_every_waiter_with_one_request() {
    let server = Server::start().await;
    server.on_token(|_, _| Reply::new(503, "").after(Duration::from_millis(500)));
    let client = server.client();
    let mut tasks = JoinSet::new();
    for _ in 0..200 {
        let client = client.clone();
        tasks.spawn(async move { token_of(&client).await.unwrap_err() });
    }
    while let Some(err) = tasks.join_next().await {
        assert!(err.unwrap().is_retryable());
    }
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_token_is_cached_across_clones_and_calls() {
    let server = Server::start().await;
    let client = server.client();
    for _ in 0..100 {
        get_json(&client.clone(), "/api/v1/things").await.unwrap();
    }
    assert_eq!(server.token_requests(), 1);
    assert_eq!(client.client_id(), CLIENT_ID);
}

#[tokio::test(start_paused = true)]
async fn clients_with_different_scopes_never_share_a_token() {
    let server = Server::start().await;
    server.on_token(|n, seen| {
        let scope = seen
            .body_text()
            .split('&')
            .find_map(|p| p.strip_prefix("scope="))
            .unwrap_or("none")
            .to_owned();
        Reply::token(&format!("tok-{n}-{scope}"), 3600).after(Duration::from_millis(200))
    });
    let clients: Vec<Client> = ["a", "b", "c"]
        .into_iter()
        .map(|scope| server.builder().scope(scope).build().unwrap())
        .collect();
    let mut tasks = JoinSet::new();
    for (i, client) in clients.iter().enumerate() {
        for _ in 0..100 {
            let client = client.clone();
            tasks.spawn(async move { (i, token_of(&client).await.unwrap()) });
        }
    }
    while let Some(result) = tasks.join_next().await {
        let (i, token) = result.unwrap();
        assert!(
            token.ends_with(["-a", "-b", "-c"][i]),
            "client {i} got {token}"
        );
    }
    assert_eq!(server.token_requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_fetch_for_one_client_does_not_delay_another() {
    let server = Server::start().await;
    let slow = server.builder().scope("slow").build().unwrap();
    let fast = server.builder().scope("fast").build().unwrap();
    token_of(&fast).await.unwrap();
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(9)));
    let stalled = tokio::spawn({
        let slow = slow.clone();
        async move { token_of(&slow).await }
    });
    tokio::task::yield_now().await;
    let started = Instant::now();
    for _ in 0..1_000 {
        token_of(&fast).await.unwrap();
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert!(stalled.await.unwrap().is_ok());
}
