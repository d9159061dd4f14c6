//! A fleet sharing tokens through Redis against the same fleet without, side by side in one
//! run:
//!
//! 1. a cold fleet of N = 2, 4, 8 processes, each making 100 concurrent first calls, against
//!    hh-sandbox with a 50 ms token endpoint (an identity server across a network): token
//!    requests, and p50/p99 call latency over all calls, each process alone and sharing;
//! 2. the cache-hit path (a cached token's `Authorization` value) of a client with a shared
//!    store configured against one without: a hit never touches the store, so the ratio should
//!    be 1.
//!
//! `cargo bench -p hh-downstream --bench fleet` (needs `redis-server`; results in
//! BENCHMARKS.md).

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    missing_docs,
    unreachable_pub
)]

// `Proc::kill` is for the tests.
#[allow(dead_code)]
#[path = "../tests/it/fleet/procs.rs"]
mod procs;
// The test's tampering helpers are not used here.
#[allow(dead_code)]
#[path = "../tests/it/fleet/redis_server.rs"]
mod redis_server;
// What a child builds for a Redis Cluster or Sentinel (the tests' F10–F12; not benchmarked).
#[path = "../tests/it/fleet/stores.rs"]
mod stores;

use std::time::{Duration, Instant};

use hh_sandbox::{Fault, Sandbox};
use procs::{Spec, Totals};
use redis_server::RedisServer;

const ROUNDS: usize = 3;
const CALLS: usize = 100;

struct Cold {
    token_requests: u64,
    p50: Duration,
    p99: Duration,
}

async fn cold_fleet(n: usize, shared: bool) -> Cold {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.inject("token", Fault::Latency { ms: 50 });
    let redis = RedisServer::start();
    // The default store bound, as a user runs it (the tests' Spec raises it).
    let spec = Spec::new(&sandbox, shared.then(|| redis.url()).as_deref())
        .with("FLEET_CALLS", CALLS)
        .with(
            "FLEET_STORE_TIMEOUT_MS",
            hh_runtime::store::OPERATION_TIMEOUT.as_millis(),
        );
    let fleet = spec.go(n);
    let t = Totals::of(fleet).await;
    assert_eq!((t.ok, t.failed), ((n * CALLS) as u64, 0), "{:?}", t.errors);
    Cold {
        token_requests: sandbox.token_requests(),
        p50: t.quantile(0.5),
        p99: t.quantile(0.99),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn bench_cold_fleets() {
    println!(
        "## 1. cold fleet: {CALLS} concurrent first calls per process, token endpoint 50 ms, median of {ROUNDS} rounds\n"
    );
    println!(
        "| processes | token requests, alone | token requests, shared | p50 alone | p50 shared | p99 alone | p99 shared |"
    );
    println!("|---|---|---|---|---|---|---|");
    for n in [2, 4, 8] {
        let (mut alone, mut shared) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            // Back to back in each round, so both see the same machine.
            alone.push(cold_fleet(n, false).await);
            shared.push(cold_fleet(n, true).await);
        }
        let tokens = |v: &[Cold]| median(v.iter().map(|c| c.token_requests as f64).collect());
        let p = |v: &[Cold], f: fn(&Cold) -> Duration| median(v.iter().map(|c| ms(f(c))).collect());
        println!(
            "| {n} | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
            tokens(&alone),
            tokens(&shared),
            p(&alone, |c| c.p50),
            p(&shared, |c| c.p50),
            p(&alone, |c| c.p99),
            p(&shared, |c| c.p99),
        );
    }
    println!();
}

async fn hit_cost(client: &hh_runtime::Client, n: u32) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(client.authorization().await.unwrap());
    }
    t.elapsed().as_nanos() as f64 / f64::from(n)
}

async fn bench_hit_path() {
    println!("## 2. cache hit: a client with a shared store against one without\n");
    let sandbox = Sandbox::start().await.unwrap();
    let redis = RedisServer::start();
    let builder = || {
        hh_runtime::Client::builder()
            .identity_url(sandbox.identity_url())
            .api_url(sandbox.api_url())
            .client_id(sandbox.client_id())
            .client_secret(sandbox.client_secret())
    };
    let without = builder().build().unwrap();
    let with = builder().redis_url(redis.url()).build().unwrap();
    hit_cost(&without, 1000).await;
    hit_cost(&with, 1000).await;
    let n = 2_000_000;
    let (mut off, mut on, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..7 {
        // Order rotated each round.
        let (a, b) = if round % 2 == 0 {
            let a = hit_cost(&without, n).await;
            (a, hit_cost(&with, n).await)
        } else {
            let b = hit_cost(&with, n).await;
            (hit_cost(&without, n).await, b)
        };
        off.push(a);
        on.push(b);
        ratios.push(b / a);
    }
    println!("| client | ns per hit (median of 7 × 2,000,000) |");
    println!("|---|---|");
    println!("| without a shared store | {:.1} |", median(off));
    println!("| with Redis configured | {:.1} |", median(on));
    println!(
        "\nratio (with / without, median of paired rounds): {:.3}\n",
        median(ratios)
    );
}

fn main() {
    procs::run_child_if_asked();
    if !redis_server::available() {
        println!("SKIPPED: the fleet benchmark needs redis-server (apt-get install redis-server)");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        bench_hit_path().await;
        bench_cold_fleets().await;
    });
}
