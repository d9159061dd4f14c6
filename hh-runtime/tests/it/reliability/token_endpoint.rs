//! The token endpoint misbehaving, against hh-sandbox: timeouts and cancellation (E),
//! malformed responses and client authentication (F).

use std::time::Duration;

use hh_runtime::{ClientAuth, ErrorKind};
use hh_sandbox::{Fault, MalformedToken, Sandbox};
use tokio::time::Instant;

use super::{Clock, Env, builder, create, register, run, token};

// ---------------------------------------------------------------------------------------------
// E. Timeouts and cancellation

#[test]
fn e23_hung_token_endpoint() {
    run(Clock::Paused, async {
        let env = Env::with(Sandbox::builder(), |b| {
            b.token_timeout(Duration::from_secs(2))
        })
        .await;
        env.sandbox.inject("token", Fault::Hang);
        let started = Instant::now();
        let e = token(&env.client).await.unwrap_err();
        let took = started.elapsed();
        ensure!(e.is_timeout() && e.is_token(), "{e}");
        ensure!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(3),
            "{took:?}"
        );
        env.sandbox.clear_faults();
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        token(&env.client).await.unwrap();
        format!(
            "token endpoint never answers: timeout after {:.2} s, next call starts a fresh fetch and succeeds",
            took.as_secs_f64()
        )
    });
}

#[test]
fn e24_callers_time_out_alone() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        env.sandbox.inject("token", Fault::Latency { ms: 2_000 });
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let c = env.client.clone();
            tasks.spawn(async move {
                tokio::time::timeout(Duration::from_millis(500), token(&c))
                    .await
                    .is_err()
            });
        }
        while let Some(r) = tasks.join_next().await {
            ensure!(r.unwrap(), "a caller's own deadline should fire");
        }
        tokio::time::sleep(Duration::from_millis(1_700)).await;
        let t = Instant::now();
        token(&env.client).await.unwrap();
        ensure!(
            t.elapsed() < Duration::from_millis(50) && env.sandbox.token_requests() == 1,
            "not a cache hit"
        );
        "50 callers with 0.5 s deadlines, fetch takes 2 s: all dropped, the fetch landed, next call a cache hit, 1 request".into()
    });
}

// ---------------------------------------------------------------------------------------------
// F. Response validation and client authentication

/// J2 in real time: four 503s from the identity server while a new call arrives every 200 ms.
/// The call that was waiting from the start wakes with the new token, as the first new call
/// to get it does (within a second, the token schedule's own unit; the bug was a waiter
/// sleeping on to the end of a backoff of its own, seconds later).
#[test]
fn e29_a_waiting_call_wakes_with_the_new_token() {
    run(Clock::Real, async {
        let env = Env::with(Sandbox::builder().clock_skew(Duration::ZERO), |b| {
            b.retry(hh_runtime::RetryPolicy::default().max_attempts(6))
        })
        .await;
        env.sandbox.inject(
            "token",
            Fault::FailTimes {
                times: 4,
                status: 503,
                retry_after: None,
            },
        );
        let t0 = Instant::now();
        let first = {
            let client = env.client.clone();
            tokio::spawn(async move { create(&client).await.map(|_| Instant::now()) })
        };
        let mut later = tokio::task::JoinSet::new();
        for _ in 0..75 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let client = env.client.clone();
            later.spawn(async move { create(&client).await.map(|_| Instant::now()) });
        }
        let first_done = first.await.unwrap().unwrap();
        let mut earliest = None::<Instant>;
        while let Some(done) = later.join_next().await {
            if let Ok(done) = done.unwrap() {
                earliest = Some(earliest.map_or(done, |e| e.min(done)));
            }
        }
        let earliest = earliest.unwrap();
        ensure!(
            first_done <= earliest + Duration::from_secs(1),
            "the first call finished at {:?}, a later one got the token at {:?}",
            first_done - t0,
            earliest - t0
        );
        ensure!(
            env.sandbox.token_requests() == 5,
            "{} token requests",
            env.sandbox.token_requests()
        );
        format!(
            "four 503s, a new call every 200 ms: the first call done at {:.1} s, the first new call to get the token at {:.1} s",
            (first_done - t0).as_secs_f64(),
            (earliest - t0).as_secs_f64()
        )
    });
}

#[test]
fn f29_malformed_token_responses() {
    run(Clock::Paused, async {
        let shapes = [
            MalformedToken::Html,
            MalformedToken::Empty,
            MalformedToken::NotJson,
            MalformedToken::MissingAccessToken,
            MalformedToken::ErrorWith200,
            MalformedToken::Oversized,
            MalformedToken::NotUtf8,
            MalformedToken::MissingTokenType,
        ];
        for shape in shapes {
            let env = Env::new().await;
            env.sandbox.inject("token", Fault::MalformedToken { shape });
            // The call waits out the (retryable) failure within its budget, then reports it.
            let e = env.create().await.unwrap_err();
            ensure!(e.kind() == ErrorKind::Token, "{shape:?}: {e}");
            ensure!(env.sandbox.api_requests() == 0, "{shape:?}");
            let failed = env.sandbox.token_requests();
            env.sandbox.clear_faults();
            tokio::time::sleep(Duration::from_millis(2_050)).await;
            env.create().await.unwrap();
            ensure!(
                env.sandbox.token_requests() == failed + 1,
                "{shape:?}: something was cached"
            );
        }
        "8 malformed token responses: each a typed token error, nothing cached".into()
    });
}

#[test]
fn f30_31_client_authentication() {
    run(Clock::Paused, async {
        for auth in [ClientAuth::Post, ClientAuth::Basic] {
            let sandbox = Sandbox::builder()
                .client("id:1 %+é", "se:cr%et+ é&=")
                .start()
                .await
                .unwrap();
            let good = builder(&sandbox).client_auth(auth).build().unwrap();
            token(&good).await.unwrap();
            let bad = builder(&sandbox)
                .client_auth(auth)
                .client_secret("not-it")
                .build()
                .unwrap();
            let e = token(&bad).await.unwrap_err();
            let expected = if auth == ClientAuth::Basic { 401 } else { 400 };
            ensure!(
                e.status().map(|s| s.as_u16()) == Some(expected),
                "{auth:?}: {e}"
            );
            ensure!(
                e.oauth_error()
                    .is_some_and(|o| o.code == hh_runtime::OAuthErrorCode::InvalidClient),
                "{e}"
            );
            register(&sandbox);
        }
        "credentials with `:`, `%`, `+`, space and non-ASCII accepted via post and Basic; invalid_client as 400 / 401".into()
    });
}
