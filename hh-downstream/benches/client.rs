//! Benchmarks, side by side in one run:
//!
//! 1. one call through a `#[healthhero_api]` client against the same call hand-written with
//!    reqwest (bearer header from a fixed token, the connection settings hh uses by default and
//!    a per-request timeout: the fair baseline), on the same loopback server: sequential
//!    latency, and throughput with 1, 32 and 256 concurrent tasks; also hand-written without a
//!    timeout and generated without one;
//! 2. the token hot path (a cached token's `Authorization` value), uncontended and from many
//!    tasks on every core, against a `RwLock` and a `Mutex` holding the same value;
//! 3. cold-start herds of 1,000 and 10,000 first calls: token requests, and p50/p99 latency
//!    against one token round trip.
//!
//! `cargo bench -p hh-downstream --no-default-features --bench client` (results in
//! BENCHMARKS.md): hh-runtime with its default features, as most users build it (the crate's
//! `full` feature adds metrics, middleware and the fleet store). Add `-- calls`, `-- token` or
//! `-- herds` to run only those sections.

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;

/// One way of making the benchmark's call, boxed so that every variant runs through the same
/// loop (each pays the same one allocation per call for it).
type Call = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The variants of section 1, the fair baseline first, each with the short name that
/// `HH_BENCH_PROFILE` takes.
fn call_variants(base: &str) -> Vec<(&'static str, &'static str, Call)> {
    let generated = BenchClient::new(runtime_client(base, None));
    // Without the default 30 s per-attempt timeout (one timer per request less).
    let untimed = BenchClient::new(
        hh_runtime::Client::builder()
            .identity_url(base)
            .api_url(base)
            .client_id(CLIENT_ID)
            .client_secret("bench-secret")
            .no_request_timeout()
            .build()
            .unwrap(),
    );
    // What a careful engineer writes: the settings hh uses by default (5 s connect timeout,
    // no redirects, a user agent) and a 30 s per-request timeout.
    let careful = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("bench/0.1")
        .build()
        .unwrap();
    let plain = reqwest::Client::new();
    vec![
        (
            "hand-written, timeout (baseline)",
            "baseline",
            hand(careful, base, true),
        ),
        (
            "generated (defaults)",
            "generated",
            generated_call(generated),
        ),
        (
            "hand-written, no timeout",
            "hand-untimed",
            hand(plain, base, false),
        ),
        (
            "generated, no request timeout",
            "generated-untimed",
            generated_call(untimed),
        ),
    ]
}

/// The benchmark's call through a generated client.
fn generated_call(client: BenchClient) -> Call {
    Arc::new(move || {
        let c = client.clone();
        Box::pin(async move {
            c.get("4b40e91d").await.unwrap();
        })
    })
}

/// The benchmark's call written by hand, with or without a per-request timeout.
fn hand(http: reqwest::Client, base: &str, timed: bool) -> Call {
    let base = base.to_owned();
    Arc::new(move || {
        let (http, base) = (http.clone(), base.clone());
        Box::pin(async move {
            if timed {
                hand_written_timed(&http, &base, "4b40e91d").await.unwrap();
            } else {
                hand_written(&http, &base, "4b40e91d").await.unwrap();
            }
        })
    })
}

async fn bench_calls(base: &str) {
    println!("## 1. generated client vs hand-written reqwest (same loopback server)\n");
    let variants = call_variants(base);
    let n = variants.len();
    for (_, _, call) in &variants {
        for _ in 0..200 {
            call().await;
        }
    }
    // Many short rounds, the variants back to back in each with the order rotated, so that
    // drift in the machine's speed hits all alike; a ratio is the median of the per-round
    // ratios, shown with its quartiles.
    let mut rows: Vec<String> = Vec::new();
    let (rounds, per_round) = (3_000, 20);
    let (latency, ratio) = rounds_of(&variants, rounds, |call| async move {
        let t = Instant::now();
        for _ in 0..per_round {
            call().await;
        }
        t.elapsed().as_secs_f64() * 1e6 / f64::from(per_round)
    })
    .await;
    rows.push(row(
        &format!("sequential latency, µs ({rounds} rounds × {per_round} calls)"),
        &latency,
        // Latency: the baseline's time over the variant's, so that above 1 is faster.
        &ratio
            .iter()
            .map(|r| r.iter().map(|x| 1.0 / x).collect())
            .collect::<Vec<_>>(),
        1,
    ));
    // Rounds of 200 calls for one task, and of 20 and 10 calls per task for 32 and 256.
    for (tasks, rounds, per_round) in [(1usize, 300, 200), (32, 200, 640), (256, 100, 2_560)] {
        let (rate, ratio) = rounds_of(&variants, rounds, |call| {
            throughput(tasks, per_round, move || call())
        })
        .await;
        rows.push(row(
            &format!("throughput, calls/s, {tasks} tasks ({rounds} rounds × {per_round} calls)"),
            &rate,
            &ratio,
            0,
        ));
    }
    let names: Vec<&str> = variants.iter().map(|(name, _, _)| *name).collect();
    println!(
        "| measure (median; ratio to the baseline: median [quartiles]) | {} |",
        names.join(" | ")
    );
    println!("|---|{}", "---|".repeat(n));
    for row in rows {
        println!("{row}");
    }
    println!();
}

/// Runs `measure` on every variant in each of `rounds` rounds (order rotated): per variant,
/// every round's figure and its ratio to the baseline's in the same round.
async fn rounds_of<F, Fut>(
    variants: &[(&'static str, &'static str, Call)],
    rounds: usize,
    measure: F,
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>)
where
    F: Fn(Call) -> Fut,
    Fut: Future<Output = f64>,
{
    let n = variants.len();
    let (mut figures, mut ratios) = (vec![Vec::new(); n], vec![Vec::new(); n]);
    for round in 0..rounds {
        let mut this = vec![0.0; n];
        for k in 0..n {
            let i = (round + k) % n;
            this[i] = measure(Arc::clone(&variants[i].2)).await;
        }
        for i in 0..n {
            figures[i].push(this[i]);
            ratios[i].push(this[i] / this[0]);
        }
    }
    (figures, ratios)
}

/// One table row: each variant's median figure and its median ratio with quartiles.
fn row(measure: &str, figures: &[Vec<f64>], ratios: &[Vec<f64>], decimals: usize) -> String {
    let cells: Vec<String> = figures
        .iter()
        .zip(ratios)
        .map(|(f, r)| {
            let (q1, q2, q3) = quartiles(r.clone());
            format!(
                "{:.decimals$} ({q2:.3} [{q1:.3}–{q3:.3}])",
                median(f.clone())
            )
        })
        .collect();
    format!("| {measure} | {} |", cells.join(" | "))
}

fn quartiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

async fn bench_token_hot_path(base: &str) {
    println!("## 2. token hot path: the cached token's Authorization value\n");
    let shared = token_readers(base).await;
    let columns = [
        "hh-runtime (ArcSwap, expiry checked)",
        "RwLock",
        "RwLock, expiry checked",
        "RwLock, expiry checked, entry kept",
        "Mutex",
        "the clock read alone",
    ];
    let uncontended = uncontended_reads(&shared, columns.len()).await;
    // Contended: as many tasks as two per core, all reading at once.
    let tasks = 2 * std::thread::available_parallelism().map_or(2, |n| n.get());
    let contended = contended_reads(&shared, columns.len() - 1, tasks).await;
    println!("| measure | {} |", columns.join(" | "));
    println!("|---|{}", "---|".repeat(columns.len()));
    let row = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.1}"))
            .chain(std::iter::repeat_n("–".to_owned(), columns.len() - v.len()))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    println!("| uncontended, ns per read | {} |", row(&uncontended));
    println!(
        "| {tasks} tasks on every core, ns per read (wall time / reads) | {} |\n",
        row(&contended)
    );
}

/// What a lock-based cache holds: the value and when it stops being usable.
type Cached = Option<(Arc<http::HeaderValue>, Instant)>;

/// What section 2's readers read; shared once per task, not per read.
type Shared = (
    hh_runtime::Client,
    Arc<std::sync::RwLock<Cached>>,
    Arc<std::sync::Mutex<Cached>>,
);

/// A client holding a cached token, and a `RwLock` and a `Mutex` holding its
/// `Authorization` value.
async fn token_readers(base: &str) -> Shared {
    let client = runtime_client(base, None);
    client.authorization().await.unwrap();
    let value = client.authorization().await.unwrap();
    let until = Instant::now() + Duration::from_secs(3600);
    let rwlock = Arc::new(std::sync::RwLock::new(Some((
        Arc::new(value.clone()),
        until,
    ))));
    let mutex = Arc::new(std::sync::Mutex::new(Some((Arc::new(value), until))));
    (client, rwlock, mutex)
}

/// The readers measured, in the order of the table's columns.
async fn read(which: usize, (client, rwlock, mutex): &Shared) -> Option<http::HeaderValue> {
    match which {
        0 => Some(client.authorization().await.unwrap()),
        1 => rwlock.read().unwrap().as_ref().map(|(v, _)| (**v).clone()),
        // As ours does: the expiry checked against the clock on every read.
        2 => rwlock
            .read()
            .unwrap()
            .as_ref()
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(v, _)| (**v).clone()),
        // As a call does: the entry itself is kept (a reference count), then its value
        // cloned.
        3 => {
            let kept = rwlock
                .read()
                .unwrap()
                .as_ref()
                .filter(|(_, until)| Instant::now() < *until)
                .map(|(v, _)| Arc::clone(v));
            kept.map(|v| (*v).clone())
        }
        4 => mutex.lock().unwrap().as_ref().map(|(v, _)| (**v).clone()),
        _ => {
            std::hint::black_box(Instant::now());
            None
        }
    }
}

/// Nanoseconds per read of each of the first `readers` readers, one after another on this
/// task.
async fn uncontended_reads(shared: &Shared, readers: usize) -> Vec<f64> {
    let n = 2_000_000u32;
    let mut uncontended = Vec::new();
    for which in 0..readers {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(read(which, shared).await);
        }
        uncontended.push(t.elapsed().as_nanos() as f64 / f64::from(n));
    }
    uncontended
}

/// Nanoseconds per read (wall time / reads) of each of the first `readers` readers, read by
/// `tasks` tasks at once.
async fn contended_reads(shared: &Shared, readers: usize, tasks: usize) -> Vec<f64> {
    let per_task = 1_000_000u32;
    let mut contended = Vec::new();
    for which in 0..readers {
        let t = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..tasks {
            let shared = shared.clone();
            set.spawn(async move {
                for _ in 0..per_task {
                    drop(std::hint::black_box(read(which, &shared).await));
                }
            });
        }
        while set.join_next().await.is_some() {}
        contended.push(t.elapsed().as_nanos() as f64 / (f64::from(per_task) * tasks as f64));
    }
    contended
}

async fn bench_herds() {
    println!("## 3. cold-start herds (token endpoint answering after 20 ms)\n");
    println!(
        "| herd | token requests | one token round trip | p50 | p99 | p50 / round trip | p99 / round trip |"
    );
    println!("|---|---|---|---|---|---|---|");
    for herd in [1_000usize, 10_000] {
        let (base, server) = start_server(Duration::from_millis(20));
        // One token round trip on its own, for scale.
        let probe = runtime_client(&base, None);
        let t = Instant::now();
        probe.authorization().await.unwrap();
        let round_trip = t.elapsed();
        let before = server.token_requests.load(Ordering::SeqCst);

        let h2 = reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .unwrap();
        let client = BenchClient::new(runtime_client(&base, Some(h2)));
        let started = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..herd {
            let c = client.clone();
            set.spawn(async move {
                c.get("4b40e91d").await.unwrap();
                started.elapsed()
            });
        }
        let mut latencies = Vec::with_capacity(herd);
        while let Some(l) = set.join_next().await {
            latencies.push(l.unwrap());
        }
        latencies.sort();
        let requests = server.token_requests.load(Ordering::SeqCst) - before;
        assert_eq!(requests, 1, "a herd must cause exactly one token request");
        let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "| {herd} | {requests} | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} | {:.2} |",
            ms(round_trip),
            ms(p50),
            ms(p99),
            ms(p50) / ms(round_trip),
            ms(p99) / ms(round_trip)
        );
    }
    println!();
}

/// `HH_BENCH_PROFILE=<variant>[:tasks]` (`baseline`, `generated`, `hand-untimed`,
/// `generated-untimed`): 100,000 calls of that variant alone, for `perf record`.
async fn profile(base: &str, spec: &str) {
    let (which, tasks) = spec.split_once(':').unwrap_or((spec, "1"));
    let tasks: usize = tasks.parse().unwrap_or(1);
    let Some((_, _, call)) = call_variants(base)
        .into_iter()
        .find(|(_, short, _)| *short == which)
    else {
        panic!("HH_BENCH_PROFILE: no variant `{which}`");
    };
    let rate = throughput(tasks, 100_000, move || call()).await;
    println!("{which} with {tasks} tasks: {rate:.0} calls/s");
}

/// The machine's 1, 5 and 15 minute load averages (Linux), to print beside the figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_owned(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn main() {
    // Sections 1 and the profile: client and server on one thread (see `serve_here`), the
    // figures CPU time alone; loopback across threads on this 2-core machine varied by ±15 %
    // from run to run, more than the differences measured.
    let one_thread = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(which) = std::env::var("HH_BENCH_PROFILE") {
        one_thread.block_on(async {
            let (base, _server) = serve_here(Duration::ZERO).await;
            profile(&base, &which).await;
        });
        return;
    }
    println!(
        "# hh benchmarks — {} cores, {}; load average at the start: {}\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        },
        load_average()
    );
    // `cargo bench` passes `--bench`; any other argument names the sections to run.
    let chosen: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |section: &str| chosen.is_empty() || chosen.iter().any(|c| c == section);
    if run("calls") {
        one_thread.block_on(async {
            let (base, _server) = serve_here(Duration::ZERO).await;
            bench_calls(&base).await;
        });
    }
    // Sections 2 and 3 need every core: readers contending, herds of tasks.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if run("token") {
        let (base, _server) = start_server(Duration::ZERO);
        rt.block_on(bench_token_hot_path(&base));
    }
    if run("herds") {
        rt.block_on(bench_herds());
    }
    println!("load average at the end: {}", load_average());
}
