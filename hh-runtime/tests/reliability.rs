//! The reliability and security suite: the runtime against hh-sandbox's fault injection, under
//! load and bad input, with every line of TRACE-level tracing captured and scanned at the end
//! for the client secret and every token the sandboxes issued.
//!
//! A custom harness (`harness = false`) so that the final scan runs after every case. Each case
//! prints the figure it measured; `HH_RELIABILITY_LONG=1` runs the long variants (a million
//! sequential API calls, a soak with short tokens and injected token failures). See
//! RELIABILITY.md.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hh_runtime::__private::{Json, Raw, Request, Unit};
use hh_runtime::{Client, ClientAuth, ErrorKind, Method, RetryPolicy};
use hh_sandbox::{Fault, MalformedToken, Sandbox};
use serde_json::{Value, json};

mod support;

// ---------------------------------------------------------------------------------------------
// Capture and secrets

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(Capture::default)
}

/// Client secrets and issued tokens of every sandbox, and the Debug/Display of every error.
fn secrets() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(Mutex::default)
}

fn printed() -> &'static Mutex<Vec<String>> {
    static PRINTED: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    PRINTED.get_or_init(Mutex::default)
}

/// Records an error's Display and Debug for the final scan.
fn keep(err: &hh_runtime::Error) {
    printed()
        .lock()
        .unwrap()
        .push(format!("{err} | {err:?} | {:?}", err.body_text()));
}

/// A sandbox and a client for it; on drop, its secret and tokens join the scan list.
struct Env {
    sandbox: Sandbox,
    client: Client,
}

impl Drop for Env {
    fn drop(&mut self) {
        let mut s = secrets().lock().unwrap();
        s.push(self.sandbox.client_secret().to_owned());
        s.extend(self.sandbox.issued_tokens());
    }
}

fn builder(sandbox: &Sandbox) -> hh_runtime::ClientBuilder {
    Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(sandbox.client_id())
        .client_secret(sandbox.client_secret())
}

/// HTTP/2 over plain TCP, so ten thousand concurrent calls share a few connections.
fn h2() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap()
}

impl Env {
    async fn new() -> Env {
        Env::with(Sandbox::builder().clock_skew(Duration::ZERO), |b| b).await
    }

    async fn with(
        sandbox: hh_sandbox::SandboxBuilder,
        configure: impl FnOnce(hh_runtime::ClientBuilder) -> hh_runtime::ClientBuilder,
    ) -> Env {
        let sandbox = sandbox.start().await.unwrap();
        let client = configure(builder(&sandbox)).build().unwrap();
        Env { sandbox, client }
    }

    async fn create(&self) -> hh_runtime::Result<String> {
        let v = create(&self.client).await?;
        Ok(v["traversalId"].as_str().unwrap_or_default().to_owned())
    }
}

async fn create(client: &Client) -> hh_runtime::Result<Value> {
    support::create_traversal(client).await.inspect_err(keep)
}

async fn get(client: &Client, id: &str) -> hh_runtime::Result<Value> {
    support::get_traversal(client, id).await.inspect_err(keep)
}

async fn token(client: &Client) -> hh_runtime::Result<()> {
    client.access_token().await.map(drop).inspect_err(keep)
}

/// Resident memory of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4)
}

/// Bytes captured so far, in KiB: the capture lives in this process, so memory checks take it
/// out of the resident size.
fn captured_kib() -> u64 {
    capture().0.lock().unwrap().len() as u64 / 1024
}

/// Resident memory less the tracing capture.
fn own_kib() -> u64 {
    rss_kib().saturating_sub(captured_kib())
}

fn long() -> bool {
    std::env::var_os("HH_RELIABILITY_LONG").is_some()
}

type CaseFuture = Pin<Box<dyn Future<Output = String> + Send>>;
/// Id (A1–G37: the token-lifecycle properties RELIABILITY.md lists; API/IN/LOAD: the API calls), name, runner.
type Case = (&'static str, &'static str, fn() -> CaseFuture);

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            panic!($($msg)+);
        }
    };
}

// ---------------------------------------------------------------------------------------------
// A. Coalescing

async fn a1_cold_herd() -> String {
    let env = Env::with(Sandbox::builder(), |b| b.http_client(h2())).await;
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
}

async fn a2_expiry_herd() -> String {
    let env = Env::with(
        Sandbox::builder()
            .token_lifetime(Duration::from_secs(12))
            .clock_skew(Duration::ZERO),
        |b| b.http_client(h2()),
    )
    .await;
    let id = env.create().await.unwrap();
    // 12 s tokens are used until 3 s before expiry: wait past that with no call in between, so
    // every caller of the herd needs the new token (which then outlives the herd).
    tokio::time::sleep(Duration::from_millis(9_200)).await;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10_000 {
        let client = env.client.clone();
        let id = id.clone();
        tasks.spawn(async move { get(&client, &id).await.is_ok() });
    }
    let mut errors = 0;
    while let Some(ok) = tasks.join_next().await {
        errors += usize::from(!ok.unwrap());
    }
    let requests = env.sandbox.token_requests();
    ensure!(
        requests == 2 && errors == 0,
        "{requests} token requests in all, {errors} errors"
    );
    format!(
        "10,000 concurrent calls across expiry: 1 new token request, 0 errors, {:.1} s",
        started.elapsed().as_secs_f64()
    )
}

async fn a3_key_isolation() -> String {
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
        let claims = jwt_claims(secrecy::ExposeSecret::expose_secret(&t));
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
    let mut s = secrets().lock().unwrap();
    s.push(sandbox.client_secret().to_owned());
    s.extend(sandbox.issued_tokens());
    ensure!(requests == 3, "{requests}");
    "3 scopes × 100 concurrent callers: 3 token requests, each caller got its own scope".into()
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

async fn a4_no_head_of_line_blocking() -> String {
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
    ensure!(
        !stall.is_finished(),
        "the other key's fetch should still be stalled"
    );
    ensure!(slowest < Duration::from_millis(500), "{slowest:?}");
    stall.await.unwrap().unwrap();
    format!(
        "200 calls while another key's token fetch stalled 3 s: slowest {:.1} ms, all in {:.0} ms",
        slowest.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    )
}

async fn a5_failed_fetch_answers_all_waiters() -> String {
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
}

// ---------------------------------------------------------------------------------------------
// B. Expiry arithmetic

async fn b7_short_lifetimes() -> String {
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
}

async fn b11_expiry_counts_from_send() -> String {
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
}

// ---------------------------------------------------------------------------------------------
// C. Failure while the old token is valid

async fn c12_refresh_failure_is_invisible() -> String {
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
}

async fn c13_recovery_after_torn_response() -> String {
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
}

async fn c14_expired_while_down_fails_fast() -> String {
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
}

async fn c15_permanent_error_not_looped() -> String {
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
    secrets()
        .lock()
        .unwrap()
        .push(sandbox.client_secret().to_owned());
    ensure!(requests == 1, "{requests}");
    format!("invalid_client: {calls} calls over 3 s, 1 token request")
}

async fn c16_token_retry_after() -> String {
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
}

// ---------------------------------------------------------------------------------------------
// D. 401 from the API

async fn d17_one_401() -> String {
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
}

async fn d18_401_forever() -> String {
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
}

async fn d19_many_401s_one_token() -> String {
    let env = Env::with(Sandbox::builder(), |b| b.http_client(h2())).await;
    let id = env.create().await.unwrap();
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
    "1,000 concurrent calls rejected with the revoked token: 1 new token request, 0 errors".into()
}

async fn d22_403_final() -> String {
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
}

// ---------------------------------------------------------------------------------------------
// E. Timeouts and cancellation

async fn e23_hung_token_endpoint() -> String {
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
}

async fn e24_callers_time_out_alone() -> String {
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
}

// ---------------------------------------------------------------------------------------------
// F. Response validation and client authentication

async fn f29_malformed_token_responses() -> String {
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
}

async fn f30_31_client_authentication() -> String {
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
        let mut s = secrets().lock().unwrap();
        s.push(sandbox.client_secret().to_owned());
        s.extend(sandbox.issued_tokens());
    }
    "credentials with `:`, `%`, `+`, space and non-ASCII accepted via post and Basic; invalid_client as 400 / 401".into()
}

// ---------------------------------------------------------------------------------------------
// API faults

async fn api_retry_after_seconds_and_date() -> String {
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
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
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
    ensure!(waited_date >= Duration::from_millis(900), "{waited_date:?}");
    format!(
        "429 Retry-After: 1 → retried after {:.2} s; 503 Retry-After: <date +2 s> → retried after {:.2} s",
        waited.as_secs_f64(),
        waited_date.as_secs_f64()
    )
}

async fn api_bursts_of_502_and_504() -> String {
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
}

async fn api_reset_mid_body() -> String {
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
}

async fn api_never_answers() -> String {
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
}

async fn api_ten_mib_error_body() -> String {
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
            e.is_body_truncated() && e.body().unwrap().len() == hh_runtime::Error::MAX_BODY_BYTES,
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
}

async fn api_invalid_and_wrong_shape_json() -> String {
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
}

async fn api_post_not_retried() -> String {
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
}

// ---------------------------------------------------------------------------------------------
// Bad input from the caller

async fn input_path_values() -> String {
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
}

async fn input_header_line_breaks() -> String {
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
}

async fn input_long_query_lists() -> String {
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
    "a 2,000-value query list: sent and parsed by the server (404 for the unknown traversal)".into()
}

// ---------------------------------------------------------------------------------------------
// Load

async fn load_memory_flat() -> String {
    let env = Env::new().await;
    let id = env.create().await.unwrap();
    for _ in 0..10_000 {
        token(&env.client).await.unwrap();
    }
    let before = own_kib();
    let started = Instant::now();
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
    let started = Instant::now();
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
}

async fn g37_soak() -> String {
    // Long only: 60 s tokens, one token request in ten failing, latency spikes.
    let minutes = std::env::var("HH_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10u64);
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
    format!("soak {minutes} min: {calls} calls, 0 errors, {tokens} token requests, RSS +{grew} KiB")
}

// ---------------------------------------------------------------------------------------------

fn cases() -> Vec<Case> {
    let mut list: Vec<Case> = vec![
        ("A1", "cold herd", || Box::pin(a1_cold_herd())),
        ("A2", "expiry herd", || Box::pin(a2_expiry_herd())),
        ("A3", "key isolation", || Box::pin(a3_key_isolation())),
        ("A4", "no head-of-line blocking", || {
            Box::pin(a4_no_head_of_line_blocking())
        }),
        ("A5", "fetch failure with waiters", || {
            Box::pin(a5_failed_fetch_answers_all_waiters())
        }),
        ("B7", "short lifetimes", || Box::pin(b7_short_lifetimes())),
        ("B11", "expiry from send time", || {
            Box::pin(b11_expiry_counts_from_send())
        }),
        ("C12", "refresh failure invisible", || {
            Box::pin(c12_refresh_failure_is_invisible())
        }),
        ("C13", "recovery after torn body", || {
            Box::pin(c13_recovery_after_torn_response())
        }),
        ("C14", "expired while down", || {
            Box::pin(c14_expired_while_down_fails_fast())
        }),
        ("C15", "permanent errors", || {
            Box::pin(c15_permanent_error_not_looped())
        }),
        ("C16", "token Retry-After", || {
            Box::pin(c16_token_retry_after())
        }),
        ("D17", "one 401", || Box::pin(d17_one_401())),
        ("D18", "401 forever", || Box::pin(d18_401_forever())),
        ("D19", "1,000 concurrent 401s", || {
            Box::pin(d19_many_401s_one_token())
        }),
        ("D22", "403", || Box::pin(d22_403_final())),
        ("E23", "hung token endpoint", || {
            Box::pin(e23_hung_token_endpoint())
        }),
        ("E24", "callers time out alone", || {
            Box::pin(e24_callers_time_out_alone())
        }),
        ("F29", "malformed token responses", || {
            Box::pin(f29_malformed_token_responses())
        }),
        ("F30/31", "client authentication", || {
            Box::pin(f30_31_client_authentication())
        }),
        ("API-1", "429/503 Retry-After", || {
            Box::pin(api_retry_after_seconds_and_date())
        }),
        ("API-2", "502/504 bursts", || {
            Box::pin(api_bursts_of_502_and_504())
        }),
        ("API-3", "reset mid-body", || Box::pin(api_reset_mid_body())),
        ("API-4", "server never answers", || {
            Box::pin(api_never_answers())
        }),
        ("API-5", "10 MiB error body", || {
            Box::pin(api_ten_mib_error_body())
        }),
        ("API-6", "invalid and wrong-shape JSON", || {
            Box::pin(api_invalid_and_wrong_shape_json())
        }),
        ("API-7", "POST not retried", || {
            Box::pin(api_post_not_retried())
        }),
        ("IN-1", "path values", || Box::pin(input_path_values())),
        ("IN-2", "header line breaks", || {
            Box::pin(input_header_line_breaks())
        }),
        ("IN-3", "long query lists", || {
            Box::pin(input_long_query_lists())
        }),
        ("LOAD", "memory flat", || Box::pin(load_memory_flat())),
    ];
    if long() {
        list.push(("G37", "soak", || Box::pin(g37_soak())));
    }
    list
}

fn main() {
    let writer = capture().clone();
    // Everything at TRACE, except the HTTP/2 frame codec, whose per-frame lines would be most
    // of the output (and carry no header values: those are HPACK-encoded bytes).
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace,h2=debug"))
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut passed = 0;
    let mut failed = Vec::new();
    for (id, name, run) in cases() {
        if filter
            .as_deref()
            .is_some_and(|f| !id.contains(f) && !name.contains(f))
        {
            continue;
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let started = Instant::now();
        let result = rt.block_on(async { tokio::spawn(run()).await });
        drop(rt);
        match result {
            Ok(figure) => {
                passed += 1;
                println!(
                    "ok     {id:<7} {name}: {figure} [{:.1} s]",
                    started.elapsed().as_secs_f64()
                );
            }
            Err(e) => {
                let why = e.try_into_panic().ok().and_then(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                });
                println!(
                    "FAILED {id:<7} {name}: {}",
                    why.unwrap_or_else(|| "cancelled".into())
                );
                failed.push(id);
            }
        }
    }

    // G34: nothing captured at TRACE, nor any error's Display/Debug, contains a secret.
    let output = String::from_utf8_lossy(&capture().0.lock().unwrap()).into_owned();
    let everything = format!("{output}\n{}", printed().lock().unwrap().join("\n"));
    let secrets = secrets().lock().unwrap().clone();
    let leaked: Vec<&String> = secrets
        .iter()
        .filter(|s| s.len() >= 8 && everything.contains(s.as_str()))
        .collect();
    if leaked.is_empty() && !output.is_empty() {
        passed += 1;
        println!(
            "ok     G34     redaction: {} secrets and tokens, none in {:.1} MiB of TRACE output and {} error renderings",
            secrets.len(),
            output.len() as f64 / (1024.0 * 1024.0),
            printed().lock().unwrap().len()
        );
    } else {
        println!(
            "FAILED G34     redaction: {} secrets leaked (or nothing was captured)",
            leaked.len()
        );
        failed.push("G34");
    }
    println!("\n{passed} passed, {} failed", failed.len());
    if !failed.is_empty() {
        std::process::exit(1);
    }
}
