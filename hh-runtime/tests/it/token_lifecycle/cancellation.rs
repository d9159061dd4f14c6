//! Timeouts, cancellation and panics (RELIABILITY.md E): callers that give up, a hung token
//! endpoint, a runtime shut down under a fetch, a panicking subscriber, no runtime at all.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};

use super::{SECS, token_of};
use crate::support::{Reply, Server};

#[tokio::test(start_paused = true)]
async fn dropping_the_first_caller_leaves_the_others_served() {
    let server = Server::start().await;
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(2)));
    let client = server.client();

    let first = tokio::time::timeout(Duration::from_millis(100), token_of(&client)).await;
    assert!(first.is_err(), "the first caller gave up");
    let (a, b) = tokio::join!(token_of(&client), token_of(&client));
    assert_eq!(a.unwrap(), "tok-1");
    assert_eq!(b.unwrap(), "tok-1");
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_every_waiter_still_fills_the_cache() {
    let server = Server::start().await;
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(2)));
    let client = server.client();
    for _ in 0..3 {
        let _ = tokio::time::timeout(Duration::from_millis(50), token_of(&client)).await;
    }
    sleep(SECS(3)).await;
    let started = Instant::now();
    assert_eq!(token_of(&client).await.unwrap(), "tok-1");
    assert_eq!(started.elapsed(), Duration::ZERO, "a cache hit");
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hung_token_endpoint_times_out_and_the_next_call_starts_afresh() {
    let server = Server::start().await;
    server.on_token(|_, _| Reply::token("never", 3600).after(SECS(3600)));
    let client = server.builder().token_timeout(SECS(10)).build().unwrap();
    let started = Instant::now();
    let err = token_of(&client).await.unwrap_err();
    assert!(
        err.is_timeout() && err.is_token() && err.is_retryable(),
        "{err}"
    );
    assert!(started.elapsed() >= SECS(10) && started.elapsed() < SECS(11));

    server.issue_tokens(3600);
    sleep(SECS(3)).await;
    assert_eq!(token_of(&client).await.unwrap(), "tok-2");
}

#[tokio::test(start_paused = true)]
async fn slow_callers_time_out_alone_and_the_shared_fetch_lands() {
    let server = Server::start().await;
    server.on_token(|n, _| Reply::token(&format!("tok-{n}"), 3600).after(SECS(8)));
    let client = server.client();
    let mut tasks = JoinSet::new();
    for _ in 0..50 {
        let client = client.clone();
        tasks.spawn(async move { tokio::time::timeout(SECS(2), token_of(&client)).await });
    }
    while let Some(r) = tasks.join_next().await {
        assert!(r.unwrap().is_err(), "each caller's own deadline fired");
    }
    sleep(SECS(7)).await;
    let started = Instant::now();
    assert_eq!(token_of(&client).await.unwrap(), "tok-1");
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(server.token_requests(), 1);
}

#[test]
fn a_runtime_shut_down_mid_fetch_leaves_the_client_usable() {
    // The server lives on its own runtime and thread, for the whole test.
    let (server_tx, server_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let server = Server::start().await;
            server.on_token(|n, _| {
                let delay = if n == 1 { SECS(30) } else { Duration::ZERO };
                Reply::token(&format!("tok-{n}"), 3600).after(delay)
            });
            server_tx.send(server.clone()).unwrap();
            let _ = stop_rx.await;
        });
    });
    let server = server_rx.recv().unwrap();
    let client = server.client();

    // Runtime A starts a fetch (the server takes 30 s) and is shut down under it.
    let rt_a = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt_a.block_on(async {
        let _ = tokio::time::timeout(Duration::from_millis(200), token_of(&client)).await;
    });
    drop(rt_a);

    // Runtime B: the abandoned fetch left no "in flight" state behind; a new one runs.
    let rt_b = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let token = rt_b.block_on(async {
        // The aborted fetch counts as a failure: wait out its (at most 2 s) backoff.
        for _ in 0..40 {
            if let Ok(token) = token_of(&client).await {
                return token;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the client never recovered");
    });
    assert_eq!(token, "tok-2");
    stop_tx.send(()).unwrap();
    server_thread.join().unwrap();
}

/// E27: creating the token request's span runs the subscriber's code as a fetch starts, with
/// the flight lock held. A subscriber that panics there fails the call that started the fetch
/// (its own subscriber, its own call) and leaves no flight behind: the next call fetches.
#[tokio::test(start_paused = true)]
async fn a_subscriber_that_panics_as_a_fetch_starts_leaves_no_flight_behind() {
    use futures_util::FutureExt as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tracing_subscriber::layer::SubscriberExt as _;

    // Alone: the subscriber must see every callsite (see `hh_sandbox::in_own_process`);
    // within 30 s, since the bug this guards against is a hang.
    if !hh_sandbox::in_own_process_within(SECS(30)) {
        return;
    }
    struct PanicOnce(AtomicBool);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PanicOnce {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if attrs.metadata().name() == "hh.token.fetch" && self.0.swap(false, Ordering::SeqCst) {
                panic!("a deliberate panic in a subscriber (a test of a subscriber that panics)");
            }
        }
    }
    let subscriber = tracing_subscriber::registry().with(PanicOnce(AtomicBool::new(true)));
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Server::start().await;
    let client = server.client();
    let first = std::panic::AssertUnwindSafe(client.access_token())
        .catch_unwind()
        .await;
    assert!(first.is_err(), "the subscriber's panic reached its call");
    assert_eq!(server.token_requests(), 0);
    let token = tokio::time::timeout(SECS(60), token_of(&client)).await;
    assert_eq!(token.unwrap().unwrap(), "tok-1");
    assert_eq!(server.token_requests(), 1);
}

/// E28: a call polled outside any runtime panics as `tokio::spawn` does, and leaves no flight
/// behind: the fetch's guard is dropped after the flight lock is released (under it, the
/// guard's drop would take the lock its own thread holds, and hang). The next call, inside a
/// runtime, fetches.
#[test]
fn a_call_outside_a_runtime_panics_and_leaves_no_flight_behind() {
    use futures_util::FutureExt as _;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(Server::start());
    let client = server.client();
    // On a thread of its own, with a deadline, so that a hang fails the test.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let outside = client.clone();
    std::thread::spawn(move || {
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            outside.access_token().now_or_never()
        }));
        let _ = done_tx.send(polled.is_err());
    });
    let panicked = done_rx
        .recv_timeout(SECS(60))
        .expect("a call outside a runtime hung instead of panicking");
    assert!(
        panicked,
        "a call outside a runtime should panic as tokio::spawn does"
    );
    let token = rt.block_on(async {
        // The abandoned fetch counts as a failure: wait out its (at most 2 s) backoff.
        for _ in 0..40 {
            if let Ok(token) = token_of(&client).await {
                return token;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the client never recovered");
    });
    assert_eq!(token, "tok-1");
}
