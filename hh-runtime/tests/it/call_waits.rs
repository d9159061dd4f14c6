//! How long a call waits, and for what: a token outage waited out by every call together
//! (the call that came first never finishes after a later one), token failures bounded by the
//! retry budget's time but not counted as attempts, and `call_timeout` bounding the whole
//! call. Over real HTTP on loopback, on tokio's paused clock.

#![allow(clippy::unwrap_used)]

use crate::support;

use std::time::Duration;

use hh_runtime::{ErrorKind, RetryPolicy};
use support::{Reply, Server, get_json};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// The identity server answers 503 to its first `failures` token requests, then issues tokens.
fn down_for(server: &Server, failures: usize) {
    server.on_token(move |n, _| {
        if n <= failures {
            Reply::new(503, "identity down")
        } else {
            Reply::token(&format!("tok-{n}"), 3600)
        }
    });
}

/// Four 503s from the identity server while new calls arrive every 200 ms: the call that was
/// waiting from the start finishes with the first new call to get the fresh token (it is told
/// when the token arrives, and wakes when it may fetch by the same rule new calls follow),
/// not seconds later at the end of a backoff of its own.
#[tokio::test(start_paused = true)]
async fn a_waiting_call_finishes_no_later_than_the_first_call_to_get_the_new_token() {
    let server = Server::start().await;
    down_for(&server, 4);
    let client = server
        .builder()
        .retry(RetryPolicy::default().max_attempts(6))
        .build()
        .unwrap();
    let t0 = Instant::now();
    let first = {
        let client = client.clone();
        tokio::spawn(async move {
            get_json(&client, "/api/v1/first").await.unwrap();
            Instant::now()
        })
    };
    let mut later = JoinSet::new();
    for i in 1..=75u32 {
        sleep(Duration::from_millis(200)).await;
        let client = client.clone();
        later.spawn(async move {
            let started = Instant::now();
            get_json(&client, "/api/v1/later")
                .await
                .map(|_| (i, started, Instant::now()))
        });
    }
    let first_done = first.await.unwrap();
    let mut earliest_later = None::<Instant>;
    while let Some(done) = later.join_next().await {
        // A later call may fail (it arrived just after a failure and got it); what matters is
        // the first one to succeed.
        if let Ok((_, _, done)) = done.unwrap() {
            earliest_later = Some(earliest_later.map_or(done, |e| e.min(done)));
        }
    }
    let earliest_later = earliest_later.unwrap();
    // Give or take one arrival tick: both get the token at the same instant, then each sends
    // its API request, whose loopback round trip the paused clock may or may not see jump.
    assert!(
        first_done <= earliest_later + Duration::from_millis(200),
        "the first call finished at {:?}, a later call got the token at {:?}",
        first_done - t0,
        earliest_later - t0
    );
    assert_eq!(server.token_requests(), 5, "four failures, one token");
}

/// Token failures are waited out within the retry budget's time (30 s by default) and are
/// not counted as attempts: no request reached the API, so with the default 3 attempts a cold
/// call outlives five failures of the identity server, and sends one API request.
#[tokio::test(start_paused = true)]
async fn token_failures_do_not_count_against_a_calls_attempts() {
    let server = Server::start().await;
    down_for(&server, 5);
    let client = server.client();
    let started = Instant::now();
    get_json(&client, "/api/v1/cold").await.unwrap();
    assert_eq!(server.token_requests(), 6);
    assert_eq!(server.api_requests(), 1);
    assert!(started.elapsed() < SECS(30), "{:?}", started.elapsed());

    // A policy that never retries does not wait either: the failure is returned at once.
    let server = Server::start().await;
    down_for(&server, 1);
    let once = server.builder().retry(RetryPolicy::none()).build().unwrap();
    let started = Instant::now();
    // No timer needs to fire: the clock is held, so no jump can count as time waited.
    let held = support::hold_clock();
    let error = get_json(&once, "/api/v1/once").await.unwrap_err();
    drop(held);
    assert!(error.is_token() && error.is_retryable(), "{error}");
    assert_eq!(started.elapsed(), Duration::ZERO);
}

/// A hanging identity server: each token request times out after the 10 s token timeout, and
/// the call gives up when its 30 s retry budget is spent, not at the end of a third request
/// (32 s). The error names the budget, and keeps the token timeout it was waiting out.
#[tokio::test(start_paused = true)]
async fn a_hanging_identity_server_fails_a_call_within_its_retry_budget() {
    let server = Server::start().await;
    server.on_token(|_, _| Reply::token("never", 3600).after(SECS(3600)));
    let client = server.client();
    let started = Instant::now();
    let error = get_json(&client, "/api/v1/x").await.unwrap_err();
    assert_eq!(started.elapsed(), SECS(30), "{error}");
    assert_eq!(error.kind(), ErrorKind::Deadline, "{error}");
    assert!(error.is_timeout(), "{error}");
    let message = error.to_string();
    for expected in [
        "30s retry budget (`RetryPolicy::max_elapsed`)",
        "waiting for an access token",
        "no token within the 10s `token_timeout`",
    ] {
        assert!(message.contains(expected), "{message}");
    }
    let source = std::error::Error::source(&error).unwrap();
    assert!(source.to_string().contains("token_timeout"), "{source}");
}

/// The budget bounds only a wait that follows a failure: a call's first token request, and
/// the one for a 401's replay however late in the call, are bounded by the token timeout.
#[tokio::test(start_paused = true)]
async fn the_retry_budget_does_not_cut_a_first_token_request_or_a_replay() {
    // A budget of 1 s, an identity server answering in 2 s: the first call still succeeds.
    let server = Server::start().await;
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(2)));
    let patient = server
        .builder()
        .retry(RetryPolicy::none().max_elapsed(SECS(1)))
        .build()
        .unwrap();
    get_json(&patient, "/api/v1/cold").await.unwrap();

    // An answer after 35 s (past the 30 s budget), then a 401: the call is still replayed.
    let server = Server::start().await;
    server.on_api(|n, _| match n {
        1 => Reply::new(401, "").after(SECS(35)),
        _ => Reply::json(200, serde_json::json!({"ok": true})),
    });
    let client = server.builder().no_request_timeout().build().unwrap();
    get_json(&client, "/api/v1/report").await.unwrap();
    assert_eq!(server.api_requests(), 2);
    assert_eq!(server.token_requests(), 2);
}

/// `call_timeout` bounds the whole call, whatever it is waiting for, and its error names the
/// limit, how long the call ran and what it was waiting for.
#[tokio::test(start_paused = true)]
async fn call_timeout_bounds_the_whole_call_and_says_what_fired() {
    // Waiting for a token (the identity server hangs).
    let server = Server::start().await;
    server.on_token(|_, _| Reply::token("never", 3600).after(SECS(3600)));
    let client = server.builder().call_timeout(SECS(5)).build().unwrap();
    let started = Instant::now();
    let error = get_json(&client, "/api/v1/x").await.unwrap_err();
    assert_eq!(started.elapsed(), SECS(5));
    assert_eq!(error.kind(), ErrorKind::Deadline);
    assert!(error.is_timeout() && error.is_retryable());
    let message = error.to_string();
    for expected in [
        "GET /api/v1/x: ",
        "5s `call_timeout`",
        "after 5.0 s",
        "waiting for an access token",
    ] {
        assert!(message.contains(expected), "{message}");
    }

    // Waiting for a token while an outage is waited out: the failure is named and kept.
    let server = Server::start().await;
    server.on_token(|_, _| Reply::new(503, "identity down"));
    let client = server.builder().call_timeout(SECS(5)).build().unwrap();
    let error = get_json(&client, "/api/v1/x").await.unwrap_err();
    assert!(error.to_string().contains("HTTP 503"), "{error}");
    let source = std::error::Error::source(&error).unwrap().to_string();
    assert!(source.contains("unavailable (HTTP 503"), "{source}");

    // Waiting for an answer (the API hangs; no per-attempt timeout).
    let server = Server::start().await;
    server.on_api(|_, _| Reply::new(200, "{}").after(SECS(3600)));
    let client = server
        .builder()
        .no_request_timeout()
        .call_timeout(SECS(3))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = get_json(&client, "/api/v1/x").await.unwrap_err();
    assert_eq!(started.elapsed(), SECS(3));
    assert!(
        error
            .to_string()
            .contains("waiting for the answer to attempt 1"),
        "{error}"
    );

    // Waiting between attempts (503 with `Retry-After: 2`, retried).
    let server = Server::start().await;
    server.on_api(|_, _| Reply::new(503, "").header("retry-after", "2"));
    let client = server
        .builder()
        .retry(RetryPolicy::default().max_attempts(10))
        .call_timeout(SECS(3))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = get_json(&client, "/api/v1/x").await.unwrap_err();
    assert_eq!(started.elapsed(), SECS(3));
    assert!(
        error.to_string().contains("waiting to send attempt 3"),
        "{error}"
    );
    assert_eq!(server.api_requests(), 2);
}

/// One token failure handed to many calls names each call, however the calls and the fetch
/// interleave.
#[tokio::test(start_paused = true)]
async fn a_shared_token_failure_names_each_call() {
    let server = Server::start().await;
    server.on_token(|_, _| {
        Reply::json(400, serde_json::json!({"error": "invalid_client"}))
            .after(Duration::from_millis(100))
    });
    let client = server.client();
    let mut calls = JoinSet::new();
    for _ in 0..100 {
        let client = client.clone();
        calls.spawn(async move { get_json(&client, "/api/v1/shared").await.unwrap_err() });
    }
    while let Some(error) = calls.join_next().await {
        let error = error.unwrap();
        assert!(
            error.to_string().starts_with("GET /api/v1/shared: "),
            "{error}"
        );
    }
    assert_eq!(server.token_requests(), 1);
}

/// A subscriber's code (a slow `fmt` layer, say) never runs under the lock that callers
/// without a token take to decide: while the subscriber makes the fetch's span, another caller
/// on another thread gets through that lock and joins the fetch. Were the span made under the
/// lock, that caller would be held until the subscriber gave up waiting for it (30 s).
#[test]
fn a_slow_subscriber_never_holds_up_the_callers_deciding() {
    use futures_util::FutureExt as _;
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt as _;

    if !hh_sandbox::in_own_process_within(SECS(120)) {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(Server::start());
    let client = server.client();

    /// Making the fetch's span, it starts a second caller on a thread of its own and waits
    /// (up to 30 s) for that caller to have got past the decision.
    struct Slow {
        client: hh_runtime::Client,
        joined: Arc<Mutex<Option<bool>>>,
    }
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Slow {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if attrs.metadata().name() != "hh.token.fetch" || self.joined.lock().unwrap().is_some()
            {
                return;
            }
            let (tx, rx) = mpsc::channel();
            let other = self.client.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let _enter = rt.enter();
                // The first poll decides under the lock, then waits for the fetch.
                let mut call = Box::pin(other.access_token());
                let pending = (&mut call).now_or_never().is_none();
                let _ = tx.send(pending);
            });
            let joined = rx.recv_timeout(SECS(30)).unwrap_or(false);
            *self.joined.lock().unwrap() = Some(joined);
        }
    }
    let joined = Arc::new(Mutex::new(None));
    let subscriber = tracing_subscriber::registry().with(Slow {
        client: client.clone(),
        joined: Arc::clone(&joined),
    });
    let _guard = tracing::subscriber::set_default(subscriber);
    let token = rt.block_on(client.access_token());
    assert!(token.is_ok());
    assert_eq!(*joined.lock().unwrap(), Some(true));
    assert_eq!(server.token_requests(), 1);
}
