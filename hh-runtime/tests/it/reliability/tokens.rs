//! The token lifecycle against hh-sandbox: coalescing (A), expiry arithmetic (B), failures
//! while the old token is valid (C), 401 from the API (D). The token endpoint's own faults
//! (E, F) are in `token_endpoint`.

use std::time::Duration;

use hh_runtime::Client;
use hh_sandbox::{Fault, Sandbox};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Clock, Env, builder, create, get, h2, patient, register, run, token};

// ---------------------------------------------------------------------------------------------
// A. Coalescing

#[test]
fn a1_cold_herd() {
    run(Clock::Real, async {
        let env = Env::with(Sandbox::builder(), patient).await;
        let id = {
            // A traversal to read, created through a second client so the first starts cold.
            let other = builder(&env.sandbox).build().unwrap();
            create(&other).await.unwrap()["traversalId"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let before = env.sandbox.token_requests();
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..10_000 {
            let client = env.client.clone();
            let id = id.clone();
            tasks.spawn(async move { get(&client, &id).await.map_err(|e| e.to_string()) });
        }
        let mut errors = 0;
        while let Some(r) = tasks.join_next().await {
            if let Err(e) = r.unwrap() {
                if errors < 3 {
                    println!("  error: {e}");
                }
                errors += 1;
            }
        }
        let requests = env.sandbox.token_requests() - before;
        ensure!(
            requests == 1 && errors == 0,
            "{requests} token requests, {errors} errors"
        );
        format!(
            "10,000 concurrent cold calls: 1 token request, 0 errors, {:.1} s",
            started.elapsed().as_secs_f64()
        )
    });
}

#[test]
fn a2_expiry_herd() {
    run(Clock::Paused, async {
        let env = Env::with(Sandbox::builder().clock_skew(Duration::ZERO), |b| {
            b.http_client(h2())
        })
        .await;
        let id = env.create().await.unwrap();
        // An hour's token is used until 30 s before it expires: wait to 20 s before, with no
        // call in the refresh window, so every caller of the herd needs the new token. The
        // herd takes no time on the paused clock, so the new token cannot reach its own
        // refresh window (at least 50 min away) during it: exactly one more request is right.
        tokio::time::sleep(Duration::from_secs(3600 - 20)).await;
        // The old token is still good for the sandbox, so a caller sent it would succeed
        // unseen: revoke it, so that any use of it is a 401 and a replay, counted below.
        env.sandbox.revoke_all_tokens();
        let started = Instant::now();
        let wall = std::time::Instant::now();
        // No timer needs to fire during the herd: the clock is held, so that a loaded
        // machine's slow loopback cannot make it jump to the attempts' timers.
        let held = crate::support::hold_clock();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..10_000 {
            let client = env.client.clone();
            let id = id.clone();
            tasks.spawn(async move { get(&client, &id).await.map_err(|e| e.to_string()) });
        }
        let mut errors = 0;
        while let Some(ok) = tasks.join_next().await {
            if let Err(e) = ok.unwrap() {
                if errors == 0 {
                    println!("  error: {e}");
                }
                errors += 1;
            }
        }
        drop(held);
        let requests = env.sandbox.token_requests();
        ensure!(
            requests == 2 && errors == 0,
            "{requests} token requests in all, {errors} errors"
        );
        ensure!(
            env.sandbox.requests("traversals.get") == 10_000,
            "a call was replayed: it was sent the token past its hard stop"
        );
        format!(
            "10,000 concurrent calls 20 s before expiry: 1 new token request, 0 errors, no replay; {:.1} s on the paused clock, {:.1} s of real time",
            started.elapsed().as_secs_f64(),
            wall.elapsed().as_secs_f64()
        )
    });
}

#[test]
fn a3_key_isolation() {
    run(Clock::Paused, async {
        let sandbox = Sandbox::start().await.unwrap();
        sandbox.inject("token", Fault::Latency { ms: 200 });
        let clients: Vec<Client> = ["traversal.api", "hra.api", "traversal.api hra.api"]
            .iter()
            .map(|s| builder(&sandbox).scope(s).build().unwrap())
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, c) in clients.iter().enumerate() {
            for _ in 0..100 {
                let c = c.clone();
                tasks.spawn(async move { (i, c.access_token().await.unwrap()) });
            }
        }
        while let Some(r) = tasks.join_next().await {
            let (i, t) = r.unwrap();
            let claims = jwt_claims(t.expose_secret());
            let want = [
                vec!["traversal.api"],
                vec!["hra.api"],
                vec!["traversal.api", "hra.api"],
            ];
            ensure!(
                claims["scope"] == json!(want[i]),
                "client {i} got {}",
                claims["scope"]
            );
        }
        let requests = sandbox.token_requests();
        register(&sandbox);
        ensure!(requests == 3, "{requests}");
        "3 scopes × 100 concurrent callers: 3 token requests, each caller got its own scope".into()
    });
}

fn jwt_claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn a4_no_head_of_line_blocking() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        let id = env.create().await.unwrap();
        env.sandbox.inject("token", Fault::Latency { ms: 3_000 });
        let stalled = builder(&env.sandbox).scope("hra.api").build().unwrap();
        let stall = tokio::spawn(async move { token(&stalled).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let mut slowest = Duration::ZERO;
        for _ in 0..200 {
            let t = Instant::now();
            get(&env.client, &id).await.unwrap();
            slowest = slowest.max(t.elapsed());
        }
        let all = started.elapsed();
        ensure!(
            !stall.is_finished(),
            "the other key's fetch should still be stalled"
        );
        // On the paused clock a call that waited behind the stalled fetch would take its
        // remaining 2.9 s; the others take no time at all.
        ensure!(slowest < Duration::from_millis(500), "{slowest:?}");
        stall.await.unwrap().unwrap();
        format!(
            "200 calls while another key's token fetch stalled 3 s: slowest {:.1} ms, all in {:.0} ms (paused clock)",
            slowest.as_secs_f64() * 1e3,
            all.as_secs_f64() * 1e3
        )
    });
}

#[test]
fn a5_failed_fetch_answers_all_waiters() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        env.sandbox.inject("token", Fault::Latency { ms: 300 });
        env.sandbox.inject(
            "token",
            Fault::FailTimes {
                times: 1,
                status: 503,
                retry_after: None,
            },
        );
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..500 {
            let c = env.client.clone();
            tasks.spawn(async move { token(&c).await.unwrap_err() });
        }
        while let Some(e) = tasks.join_next().await {
            let e = e.unwrap();
            ensure!(e.is_token() && e.is_retryable(), "{e}");
        }
        let requests = env.sandbox.token_requests();
        ensure!(requests == 1, "{requests}");
        "500 waiters on a failing fetch: 1 token request, each got the typed retryable error".into()
    });
}

// ---------------------------------------------------------------------------------------------
// B. Expiry arithmetic

#[test]
fn b7_short_lifetimes() {
    run(Clock::Paused, async {
        let env = Env::with(
            Sandbox::builder()
                .token_lifetime(Duration::from_secs(2))
                .clock_skew(Duration::ZERO),
            |b| b,
        )
        .await;
        let id = env.create().await.unwrap();
        let started = Instant::now();
        let mut calls = 0;
        while started.elapsed() < Duration::from_secs(6) {
            get(&env.client, &id).await.unwrap();
            calls += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let requests = env.sandbox.token_requests();
        ensure!((3..=7).contains(&requests), "{requests}");
        format!("2 s tokens, {calls} calls over 6 s: {requests} token requests, 0 errors")
    });
}

#[test]
fn b11_expiry_counts_from_send() {
    run(Clock::Paused, async {
        let env = Env::with(
            Sandbox::builder()
                .token_lifetime(Duration::from_secs(6))
                .clock_skew(Duration::ZERO),
            |b| b,
        )
        .await;
        env.sandbox.inject("token", Fault::Latency { ms: 2_000 });
        let sent = Instant::now();
        token(&env.client).await.unwrap();
        env.sandbox.clear_faults();
        // Usable until 6 s - 1.5 s = 4.5 s after sending (6.5 s if counted from receipt).
        tokio::time::sleep(Duration::from_millis(4_700).saturating_sub(sent.elapsed())).await;
        token(&env.client).await.unwrap();
        let requests = env.sandbox.token_requests();
        ensure!(requests == 2, "{requests}");
        "token answered after 2 s with expires_in 6: replaced at 4.7 s after sending (counted from send)".into()
    });
}

// ---------------------------------------------------------------------------------------------
// C. Failure while the old token is valid

#[test]
fn c12_refresh_failure_is_invisible() {
    run(Clock::Paused, async {
        let env = Env::with(
            Sandbox::builder()
                .token_lifetime(Duration::from_secs(6))
                .clock_skew(Duration::ZERO),
            |b| b,
        )
        .await;
        let id = env.create().await.unwrap();
        env.sandbox.inject(
            "token",
            Fault::Status {
                status: 503,
                retry_after: None,
                body: None,
            },
        );
        // Refresh window: from 3 s; hard stop at 4.5 s.
        tokio::time::sleep(Duration::from_millis(3_100)).await;
        let started = Instant::now();
        let mut calls = 0;
        while started.elapsed() < Duration::from_millis(1_300) {
            get(&env.client, &id).await.unwrap();
            calls += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let attempts = env.sandbox.token_requests() - 1;
        ensure!((1..=2).contains(&attempts), "{attempts}");
        format!(
            "identity down in the refresh window: {calls} calls, 0 errors, {attempts} background attempts"
        )
    });
}

#[test]
fn c13_recovery_after_torn_response() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        env.sandbox.inject("token", Fault::DropConnection);
        let err = token(&env.client).await.unwrap_err();
        ensure!(
            err.is_token() && err.is_retryable() && err.status().is_none(),
            "{err}"
        );
        env.sandbox.clear_faults();
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        token(&env.client).await.unwrap();
        "token response torn mid-body: typed retryable error without a status, then recovery on the next call".into()
    });
}

#[test]
fn c14_expired_while_down_fails_fast() {
    run(Clock::Paused, async {
        let env = Env::with(
            Sandbox::builder()
                .token_lifetime(Duration::from_secs(3))
                .clock_skew(Duration::ZERO),
            |b| b,
        )
        .await;
        token(&env.client).await.unwrap();
        env.sandbox.inject(
            "token",
            Fault::Status {
                status: 503,
                retry_after: None,
                body: None,
            },
        );
        tokio::time::sleep(Duration::from_millis(3_100)).await;
        let first = token(&env.client).await.unwrap_err();
        ensure!(first.is_retryable(), "{first}");
        let before = env.sandbox.token_requests();
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..1_000 {
            let c = env.client.clone();
            tasks.spawn(async move { token(&c).await.is_err() });
        }
        while let Some(r) = tasks.join_next().await {
            ensure!(r.unwrap(), "an expired token was handed out");
        }
        let took = started.elapsed();
        let more = env.sandbox.token_requests() - before;
        ensure!(
            more == 0 && took < Duration::from_millis(500),
            "{more} requests, {took:?}"
        );
        format!(
            "token expired, identity down: 1,000 callers got the shared error in {:.1} ms, 0 extra requests",
            took.as_secs_f64() * 1e3
        )
    });
}

#[test]
fn c15_permanent_error_not_looped() {
    run(Clock::Paused, async {
        let sandbox = Sandbox::start().await.unwrap();
        let client = builder(&sandbox)
            .client_secret("wrong-secret-value")
            .build()
            .unwrap();
        let started = Instant::now();
        let mut calls = 0;
        while started.elapsed() < Duration::from_secs(3) {
            let e = token(&client).await.unwrap_err();
            ensure!(!e.is_retryable() && e.oauth_error().is_some(), "{e}");
            calls += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let requests = sandbox.token_requests();
        register(&sandbox);
        ensure!(requests == 1, "{requests}");
        format!("invalid_client: {calls} calls over 3 s, 1 token request")
    });
}

#[test]
fn c16_token_retry_after() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        env.sandbox.inject(
            "token",
            Fault::FailTimes {
                times: 1,
                status: 429,
                retry_after: Some("2".into()),
            },
        );
        let e = token(&env.client).await.unwrap_err();
        ensure!(e.retry_after() == Some(Duration::from_secs(2)), "{e:?}");
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(1_800) {
            ensure!(
                token(&env.client).await.is_err(),
                "a request went out before Retry-After"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ensure!(
            env.sandbox.token_requests() == 1,
            "{}",
            env.sandbox.token_requests()
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        token(&env.client).await.unwrap();
        "429 with Retry-After: 2 on the token endpoint: no request for 2 s, then success".into()
    });
}

// ---------------------------------------------------------------------------------------------
// D. 401 from the API

#[test]
fn d17_one_401() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        let id = env.create().await.unwrap();
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        env.sandbox.revoke_all_tokens();
        let before = env.sandbox.requests("traversals.get");
        get(&env.client, &id).await.unwrap();
        let attempts = env.sandbox.requests("traversals.get") - before;
        ensure!(
            attempts == 2 && env.sandbox.token_requests() == 2,
            "{attempts}"
        );
        "token revoked server-side: 1 new token, 1 replay, caller saw success".into()
    });
}

#[test]
fn d18_401_forever() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        let id = env.create().await.unwrap();
        env.sandbox.inject(
            "traversals.get",
            Fault::Status {
                status: 401,
                retry_after: None,
                body: None,
            },
        );
        let e = get(&env.client, &id).await.unwrap_err();
        ensure!(e.is_unauthorized(), "{e}");
        let attempts = env.sandbox.requests("traversals.get");
        ensure!(
            attempts == 2 && env.sandbox.token_requests() == 2,
            "{attempts}"
        );
        "401 forever: exactly 2 API attempts and 1 forced token request".into()
    });
}

#[test]
fn d19_many_401s_one_token() {
    run(Clock::Real, async {
        let env = Env::with(Sandbox::builder(), patient).await;
        let id = env.create().await.unwrap();
        // Past the 1 s floor between token requests, so the forced refresh may go at once.
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        env.sandbox.revoke_all_tokens();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..1_000 {
            let c = env.client.clone();
            let id = id.clone();
            tasks.spawn(async move { get(&c, &id).await.is_ok() });
        }
        let mut errors = 0;
        while let Some(ok) = tasks.join_next().await {
            errors += usize::from(!ok.unwrap());
        }
        let requests = env.sandbox.token_requests();
        ensure!(
            requests == 2 && errors == 0,
            "{requests} token requests, {errors} errors"
        );
        "1,000 concurrent calls rejected with the revoked token: 1 new token request, 0 errors"
            .into()
    });
}

#[test]
fn d22_403_final() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        let id = env.create().await.unwrap();
        env.sandbox.inject(
            "traversals.get",
            Fault::Status {
                status: 403,
                retry_after: None,
                body: None,
            },
        );
        let e = get(&env.client, &id).await.unwrap_err();
        ensure!(e.status().map(|s| s.as_u16()) == Some(403), "{e}");
        ensure!(
            env.sandbox.requests("traversals.get") == 1 && env.sandbox.token_requests() == 1,
            "retried"
        );
        "403: 1 attempt, no refresh, no replay".into()
    });
}
