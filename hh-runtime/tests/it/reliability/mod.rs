//! The reliability and security suite: the runtime against hh-sandbox's fault injection, under
//! load and bad input, each case with every line of its TRACE-level tracing captured and
//! scanned for the client secret and every token its sandboxes issued (G34). See RELIABILITY.md.
//!
//! Each case is a test (`cargo test -p hh-runtime --test it reliability::`; `-- --show-output`
//! prints the figure each one measured) and runs on a runtime of its own:
//!
//! - most on tokio's **paused clock**, on one thread with the sandbox: time moves only when
//!   every task is waiting, so an hour's token life or a 2 s timeout is exact, waits
//!   cost no real time, and no bound depends on how fast the machine is. (That needs every
//!   wait to be a timer or loopback I/O the kernel has ready at once: the herds share one
//!   HTTP/2 connection, where a thousand new connections could queue in the listen backlog
//!   and let the clock run ahead);
//! - the herds whose point is callers racing on several threads (A1, D19) in real time on two
//!   worker threads, with timeouts far beyond any machine's time for the herd, so that what
//!   they count (token requests, errors) is what the code guarantees.
//!
//! Each case runs in a process of its own ([`hh_sandbox::in_own_process`]), with a global
//! subscriber capturing everything: what it checks is process-wide (the memory it measures,
//! and tracing's per-callsite cache of which subscribers want what, which tests registering
//! subscribers side by side can leave stale). The soaks are `#[ignore]`d: `.ci/run` runs LOAD
//! in release; `HH_RELIABILITY_LONG=1` lengthens it, and G37 is run by hand (README,
//! RELIABILITY.md).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use hh_runtime::{Client, ClientBuilder};
use hh_sandbox::{Sandbox, SandboxBuilder};
use serde_json::Value;

use crate::support;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            panic!($($msg)+);
        }
    };
}

mod api;
mod token_endpoint;
mod tokens;

// ---------------------------------------------------------------------------------------------
// Running a case

/// The clock a case runs on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clock {
    /// tokio's paused clock, on the test's own thread, sandbox included.
    Paused,
    /// Real time, the case and the sandbox on two worker threads.
    Real,
}

/// What the case captured: its tracing output, the secrets and tokens of its sandboxes, and
/// the rendering of each error it saw. One per process, as each case has a process of its own.
#[derive(Default)]
struct CaseState {
    trace: Mutex<Vec<u8>>,
    secrets: Mutex<Vec<String>>,
    printed: Mutex<Vec<String>>,
}

fn case() -> &'static CaseState {
    static CASE: OnceLock<CaseState> = OnceLock::new();
    CASE.get_or_init(CaseState::default)
}

struct Writer;

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        case().trace.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything at TRACE, except the HTTP/2 frame codec, whose per-frame lines would be most of
/// the output (and carry no header values: those are HPACK-encoded bytes).
fn capture_everything() {
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace,h2=debug"))
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(|| Writer)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("one case per process");
}

/// Runs one case in a process of its own, with every line of its tracing captured, on a
/// runtime of its own; prints its figure, then checks G34 for it: no secret or token of its
/// sandboxes in its TRACE output, nor in the Display, Debug or body of any error it saw.
fn run(clock: Clock, body: impl Future<Output = String> + Send + 'static) {
    if hh_sandbox::in_own_process() {
        run_here(clock, body);
    }
}

/// [`run`], for a case that may run longer than `in_own_process`'s ten minutes.
fn run_within(clock: Clock, limit: Duration, body: impl Future<Output = String> + Send + 'static) {
    if hh_sandbox::in_own_process_within(limit) {
        run_here(clock, body);
    }
}

/// The case itself, in the process started for it.
fn run_here(clock: Clock, body: impl Future<Output = String> + Send + 'static) {
    capture_everything();
    let rt = match clock {
        Clock::Paused => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build(),
        Clock::Real => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    }
    .unwrap();
    let figure = match clock {
        Clock::Paused => rt.block_on(body),
        Clock::Real => rt
            .block_on(rt.spawn(body))
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())),
    };
    drop(rt);

    let state = case();
    let trace = String::from_utf8_lossy(&state.trace.lock().unwrap()).into_owned();
    let printed = state.printed.lock().unwrap().join("\n");
    let secrets = state.secrets.lock().unwrap().clone();
    assert!(!trace.is_empty(), "G34: nothing was captured");
    assert!(!secrets.is_empty(), "G34: the case registered no secret");
    // Secrets and tokens are long; a short one could match by chance.
    for (i, secret) in secrets.iter().enumerate().filter(|(_, s)| s.len() >= 8) {
        // Never the secret itself in the message: this output is a log too.
        assert!(
            !trace.contains(secret.as_str()),
            "G34: secret or token #{i} is in the case's TRACE output"
        );
        assert!(
            !printed.contains(secret.as_str()),
            "G34: secret or token #{i} is in an error's rendering"
        );
    }
    println!(
        "{figure}\nG34: none of {} secrets and tokens in {} KiB of TRACE output or {} error renderings",
        secrets.len(),
        trace.len() / 1024,
        state.printed.lock().unwrap().len()
    );
}

// ---------------------------------------------------------------------------------------------
// Sandboxes, clients and calls

/// Records an error's Display, Debug and body for the case's scan.
fn keep(err: &hh_runtime::Error) {
    case()
        .printed
        .lock()
        .unwrap()
        .push(format!("{err} | {err:?} | {:?}", err.body_text()));
}

/// Adds a sandbox's client secret and every token it issued to the case's scan list.
fn register(sandbox: &Sandbox) {
    let state = case();
    let mut s = state.secrets.lock().unwrap();
    s.push(sandbox.client_secret().to_owned());
    s.extend(sandbox.issued_tokens());
}

/// A sandbox and a client for it; on drop, its secret and tokens join the case's scan list.
struct Env {
    sandbox: Sandbox,
    client: Client,
}

impl Drop for Env {
    fn drop(&mut self) {
        register(&self.sandbox);
    }
}

fn builder(sandbox: &Sandbox) -> ClientBuilder {
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

/// For the real-time herds: per-attempt and token timeouts no machine's herd comes near, so
/// that a slow or loaded machine changes how long the herd takes and never what it counts.
fn patient(b: ClientBuilder) -> ClientBuilder {
    b.http_client(h2())
        .request_timeout(Duration::from_secs(600))
        .token_timeout(Duration::from_secs(600))
}

impl Env {
    async fn new() -> Env {
        Env::with(Sandbox::builder().clock_skew(Duration::ZERO), |b| b).await
    }

    async fn with(
        sandbox: SandboxBuilder,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
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

/// Resident memory less the case's tracing capture, which lives in this process too.
fn own_kib() -> u64 {
    let captured = case().trace.lock().unwrap().len() as u64 / 1024;
    rss_kib().saturating_sub(captured)
}

fn long() -> bool {
    std::env::var_os("HH_RELIABILITY_LONG").is_some()
}
