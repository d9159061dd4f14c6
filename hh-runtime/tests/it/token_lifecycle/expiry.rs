//! Expiry arithmetic (RELIABILITY.md B): when a token counts as expired, and lifetimes that
//! must not cause a request per call.

use std::time::Duration;

use tokio::time::{Instant, sleep};

use super::{SECS, token_of};
use crate::support::{Reply, Server};

#[tokio::test(start_paused = true)]
async fn expiry_is_measured_from_when_the_request_was_sent() {
    let server = Server::start().await;
    // Answered 20 s after it was asked, valid for 60 s: expires 60 s after sending, and is not
    // used with less than 15 s (25% of 60 s) left, so not after 45 s from sending.
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 60).after(SECS(20)));
    let client = server.builder().token_timeout(SECS(30)).build().unwrap();
    token_of(&client).await.unwrap();
    assert_eq!(server.token_requests(), 1);
    sleep(SECS(26)).await; // 46 s after the first request was sent
    let _ = token_of(&client).await.unwrap();
    assert_eq!(server.token_requests(), 2);
}

#[tokio::test(start_paused = true)]
async fn short_lifetimes_do_not_cause_a_request_per_call() {
    for lifetime in [1u64, 5, 30, 59, 60, 61, 62, 120] {
        let server = Server::start().await;
        server.issue_tokens(lifetime);
        let client = server.client();
        // One call every 100 ms for ten lifetimes (at least 10 s).
        let span = SECS(lifetime * 10).max(SECS(10));
        let started = Instant::now();
        let mut calls = 0;
        while started.elapsed() < span {
            token_of(&client).await.unwrap();
            calls += 1;
            sleep(Duration::from_millis(100)).await;
        }
        let requests = server.token_requests() as u64;
        // At most one request per half lifetime, and never more than one per second.
        let bound = (span.as_secs() * 2 / lifetime).min(span.as_secs()) + 1;
        assert!(
            requests <= bound,
            "lifetime {lifetime}s: {requests} token requests for {calls} calls (bound {bound})"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_same_near_expiry_token_reissued_does_not_spin() {
    let server = Server::start().await;
    // A server that keeps handing back one token with 200 s left, below our 300 s refresh-ahead.
    server.on_token(|_, _| Reply::token("same", 200));
    let client = server.client();
    let started = Instant::now();
    while started.elapsed() < SECS(600) {
        token_of(&client).await.unwrap();
        sleep(Duration::from_millis(50)).await;
    }
    // Lifetime 200 s: refresh starts at half-life, so about one request per 100 s.
    assert!(server.token_requests() <= 8, "{}", server.token_requests());
}
