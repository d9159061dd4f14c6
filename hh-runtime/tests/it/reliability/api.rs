//! The API calls themselves against hh-sandbox's faults, bad input from the caller, and load.

use std::time::Duration;

use hh_runtime::__private::{Json, Raw, Request, Unit};
use hh_runtime::{ErrorKind, Method, RetryPolicy};
use hh_sandbox::{Fault, Sandbox};
use tokio::time::Instant;

use super::{Clock, Env, get, keep, long, own_kib, rss_kib, run, run_within, token};

// ---------------------------------------------------------------------------------------------
// API faults

#[test]
fn api_1_retry_after_seconds_and_date() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        let id = env.create().await.unwrap();
        env.sandbox.inject(
            "traversals.get",
            Fault::FailTimes {
                times: 1,
                status: 429,
                retry_after: Some("1".into()),
            },
        );
        let t = Instant::now();
        get(&env.client, &id).await.unwrap();
        let waited = t.elapsed();
        ensure!(waited >= Duration::from_secs(1), "{waited:?}");
        // One-second resolution: the date as sent. The client waits until it by the wall
        // clock it reads when the answer arrives, which is before `now`: at least
        // `date - now`, whatever the machine's speed.
        let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
        let when = httpdate::parse_http_date(&date).unwrap();
        env.sandbox.inject(
            "traversals.get",
            Fault::FailTimes {
                times: 1,
                status: 503,
                retry_after: Some(date),
            },
        );
        let t = Instant::now();
        get(&env.client, &id).await.unwrap();
        let waited_date = t.elapsed();
        let least = when
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        ensure!(waited_date >= least, "{waited_date:?} < {least:?}");
        format!(
            "429 Retry-After: 1 → retried after {:.2} s; 503 Retry-After: <date +2 s> → retried after {:.2} s",
            waited.as_secs_f64(),
            waited_date.as_secs_f64()
        )
    });
}

#[test]
fn api_2_bursts_of_502_and_504() {
    run(Clock::Paused, async {
        let env = Env::with(Sandbox::builder(), |b| {
            b.retry(RetryPolicy::default().max_attempts(5))
        })
        .await;
        let id = env.create().await.unwrap();
        env.sandbox.inject(
            "traversals.get",
            Fault::FailTimes {
                times: 2,
                status: 502,
                retry_after: None,
            },
        );
        env.sandbox.inject(
            "traversals.get",
            Fault::FailTimes {
                times: 2,
                status: 504,
                retry_after: None,
            },
        );
        get(&env.client, &id).await.unwrap();
        let attempts = env.sandbox.requests("traversals.get");
        ensure!(attempts == 5, "{attempts}");
        "2× 502 then 2× 504 on a GET: succeeded on the 5th attempt".into()
    });
}

#[test]
fn api_3_reset_mid_body() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        let id = env.create().await.unwrap();
        env.sandbox.inject("traversals.get", Fault::DropConnection);
        let e = get(&env.client, &id).await.unwrap_err();
        ensure!(e.kind() == ErrorKind::Transport && e.is_retryable(), "{e}");
        let get_attempts = env.sandbox.requests("traversals.get");
        env.sandbox
            .inject("traversals.create", Fault::DropConnection);
        let e = env.create().await.unwrap_err();
        ensure!(e.kind() == ErrorKind::Transport, "{e}");
        let post_attempts = env.sandbox.requests("traversals.create") - 1;
        ensure!(
            get_attempts == 3 && post_attempts == 1,
            "{get_attempts} {post_attempts}"
        );
        "connection reset mid-body: GET retried (3 attempts, then a transport error), POST sent once"
            .into()
    });
}

#[test]
fn api_4_never_answers() {
    run(Clock::Paused, async {
        let env = Env::with(Sandbox::builder(), |b| {
            b.request_timeout(Duration::from_millis(500))
                .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(10)))
        })
        .await;
        let id = env.create().await.unwrap();
        env.sandbox.inject("traversals.get", Fault::Hang);
        let t = Instant::now();
        let e = get(&env.client, &id).await.unwrap_err();
        let took = t.elapsed();
        ensure!(e.is_timeout(), "{e}");
        ensure!(took < Duration::from_secs(3), "{took:?}");
        env.sandbox.inject("traversals.create", Fault::Hang);
        let e = env.create().await.unwrap_err();
        ensure!(
            e.is_timeout() && env.sandbox.requests("traversals.create") == 2,
            "POST retried after a timeout"
        );
        format!(
            "server accepts and never answers: 0.5 s timeout ×3 attempts, error after {:.2} s; POST not retried",
            took.as_secs_f64()
        )
    });
}

#[test]
fn api_5_ten_mib_error_body() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        let id = env.create().await.unwrap();
        env.sandbox.inject(
            "traversals.get",
            Fault::Status {
                status: 500,
                retry_after: None,
                body: Some("x".repeat(10 * 1024 * 1024)),
            },
        );
        let before = own_kib();
        let mut kept = Vec::new();
        for _ in 0..20 {
            let e = get(&env.client, &id).await.unwrap_err();
            ensure!(
                e.is_body_truncated()
                    && e.body().unwrap().len() == hh_runtime::Error::MAX_BODY_BYTES,
                "{e}"
            );
            kept.push(e);
        }
        let grew = own_kib().saturating_sub(before);
        ensure!(grew < 32 * 1024, "grew {grew} KiB");
        format!(
            "20 errors with a 10 MiB body: each keeps 64 KiB and stops reading; process RSS (client, and the in-process sandbox building each 10 MiB body) grew {:.1} MiB",
            grew as f64 / 1024.0
        )
    });
}

#[test]
fn api_6_invalid_and_wrong_shape_json() {
    run(Clock::Paused, async {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Page {
            nodes: Vec<NodeShape>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct NodeShape {
            #[serde(rename = "nodeId")]
            node_id: u32,
        }
        let env = Env::new().await;
        let id = env.create().await.unwrap();
        env.sandbox.inject(
            "traversals.get",
            Fault::Status {
                status: 200,
                retry_after: None,
                body: Some("{\"nodes\": [{\"nodeId\": \"one\"".into()),
            },
        );
        let e = get(&env.client, &id).await.unwrap_err();
        ensure!(
            e.is_decode() && e.body_text().unwrap().starts_with("{\"nodes\""),
            "{e}"
        );
        env.sandbox.clear_faults();
        env.sandbox.inject(
            "traversals.get",
            Fault::Status {
                status: 200,
                retry_after: None,
                body: Some("{\"nodes\": [{\"nodeId\": 1}, {\"nodeId\": \"two\"}]}".into()),
            },
        );
        let e = Request::new(
            &env.client,
            Method::GET,
            "/api/v1/<client_id>/Traversals/<id>",
        )
        .literal("/api/v1/")
        .client_id()
        .literal("/Traversals/")
        .segment("id", &id)
        .send::<Json<Page>>()
        .await
        .unwrap_err();
        keep(&e);
        ensure!(
            e.decode_path() == Some("nodes[1].nodeId"),
            "{:?}",
            e.decode_path()
        );
        "invalid JSON and wrong-shape JSON: decode errors keeping the bytes and the path `nodes[1].nodeId`".into()
    });
}

#[test]
fn api_7_post_not_retried() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        env.sandbox.inject(
            "traversals.create",
            Fault::FailTimes {
                times: 1,
                status: 503,
                retry_after: Some("0".into()),
            },
        );
        let e = env.create().await.unwrap_err();
        ensure!(e.status().map(|s| s.as_u16()) == Some(503), "{e}");
        ensure!(env.sandbox.requests("traversals.create") == 1, "retried");
        "POST answered 503: not retried (1 request)".into()
    });
}

// ---------------------------------------------------------------------------------------------
// Bad input from the caller

#[test]
fn in_1_path_values() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        env.create().await.unwrap();
        let awkward = "a/b?c=1#d%2F e ü";
        let e = get(&env.client, awkward).await.unwrap_err();
        ensure!(e.is_not_found(), "{e}");
        let detail = e
            .problem()
            .and_then(|p| p.detail.clone())
            .unwrap_or_default();
        ensure!(
            detail == format!("Traversal {awkward} was not found"),
            "the server saw `{detail}`"
        );
        let before = env.sandbox.api_requests();
        for bad in ["..", ".", ""] {
            let e = get(&env.client, bad).await.unwrap_err();
            ensure!(e.is_invalid_input(), "{e}");
        }
        ensure!(
            env.sandbox.api_requests() == before,
            "a refused value was sent"
        );
        "path value with / ? # % space ü arrived as one segment; `..`, `.` and empty refused before sending".into()
    });
}

#[test]
fn in_2_header_line_breaks() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        for value in ["v\r\nx-injected: 1", "v\nx", "v\rx"] {
            let e = Request::new(&env.client, Method::GET, "/api/v1/<client_id>/Members/x")
                .literal("/api/v1/")
                .client_id()
                .literal("/Members/x")
                .header("x-correlation-id", value)
                .send::<Unit>()
                .await
                .unwrap_err();
            keep(&e);
            ensure!(e.is_invalid_input(), "{e}");
        }
        ensure!(
            env.sandbox.api_requests() == 0 && env.sandbox.token_requests() == 0,
            "sent"
        );
        "header values with CR or LF refused before any request".into()
    });
}

#[test]
fn in_3_long_query_lists() {
    run(Clock::Paused, async {
        let env = Env::new().await;
        let ages: Vec<u32> = (0..2_000).collect();
        let e = Request::new(
            &env.client,
            Method::GET,
            "/api/v1/<client_id>/reports/<id>/risks",
        )
        .literal("/api/v1/")
        .client_id()
        .literal("/reports/")
        .segment("id", "missing")
        .literal("/risks")
        .query("ages", &ages)
        .send::<Raw>()
        .await
        .unwrap_err();
        keep(&e);
        ensure!(e.is_not_found(), "{e}");
        ensure!(env.sandbox.requests("reports.risks") == 1, "not received");
        "a 2,000-value query list: sent and parsed by the server (404 for the unknown traversal)"
            .into()
    });
}

// ---------------------------------------------------------------------------------------------
// Load

#[test]
#[ignore = "a soak: .ci/run runs it in release (cargo test --release -p hh-runtime --test it -- --ignored load_memory_flat)"]
fn load_memory_flat() {
    // About memory, not time: in real time.
    run(Clock::Real, async {
        let env = Env::new().await;
        let id = env.create().await.unwrap();
        for _ in 0..10_000 {
            token(&env.client).await.unwrap();
        }
        let before = own_kib();
        let started = std::time::Instant::now();
        for _ in 0..1_000_000 {
            token(&env.client).await.unwrap();
        }
        let hits = started.elapsed();
        let after_hits = own_kib();
        let api_calls = if long() { 1_000_000 } else { 20_000 };
        for _ in 0..2_000 {
            get(&env.client, &id).await.unwrap();
        }
        let before_api = own_kib();
        let started = std::time::Instant::now();
        for _ in 0..api_calls {
            get(&env.client, &id).await.unwrap();
        }
        let api_time = started.elapsed();
        let after_api = own_kib();
        let grew_hits = after_hits.saturating_sub(before);
        let grew_api = after_api.saturating_sub(before_api);
        ensure!(
            grew_hits < 2 * 1024 && grew_api < 16 * 1024,
            "grew {grew_hits} / {grew_api} KiB"
        );
        ensure!(
            env.sandbox.token_requests() == 1,
            "{}",
            env.sandbox.token_requests()
        );
        format!(
            "1,000,000 sequential token-cache hits in {:.2} s ({:.0} ns each): RSS +{} KiB; {api_calls} sequential API calls in {:.1} s: RSS +{} KiB",
            hits.as_secs_f64(),
            hits.as_nanos() as f64 / 1e6,
            grew_hits,
            api_time.as_secs_f64(),
            grew_api
        )
    });
}

#[test]
#[ignore = "a soak of HH_SOAK_MINUTES (10) minutes in real time: run it by hand (RELIABILITY.md)"]
fn g37_soak() {
    // Long only: 60 s tokens, one token request in ten failing, latency spikes.
    let minutes = std::env::var("HH_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10u64);
    let limit = Duration::from_secs(minutes * 60 + 300);
    run_within(Clock::Real, limit, async move {
        let env = Env::with(
            Sandbox::builder()
                .token_lifetime(Duration::from_secs(60))
                .clock_skew(Duration::ZERO),
            |b| b,
        )
        .await;
        let id = env.create().await.unwrap();
        let started = Instant::now();
        let mut calls = 0u64;
        let mut errors = 0u64;
        let rss_start = rss_kib();
        while started.elapsed() < Duration::from_secs(minutes * 60) {
            if calls.is_multiple_of(500) {
                env.sandbox.clear_faults();
                if fastrand::u8(..10) == 0 {
                    env.sandbox.inject(
                        "token",
                        Fault::FailTimes {
                            times: 1,
                            status: 503,
                            retry_after: None,
                        },
                    );
                }
                if fastrand::u8(..10) == 0 {
                    env.sandbox.inject("token", Fault::Latency { ms: 1_500 });
                }
            }
            errors += u64::from(get(&env.client, &id).await.is_err());
            calls += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let tokens = env.sandbox.token_requests();
        let grew = rss_kib().saturating_sub(rss_start);
        ensure!(errors == 0, "{errors} caller-visible errors");
        format!(
            "soak {minutes} min: {calls} calls, 0 errors, {tokens} token requests, RSS +{grew} KiB"
        )
    });
}
