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
//! `cargo bench -p hh-downstream --bench client` (results in BENCHMARKS.md).

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

/// The variants of section 1, the fair baseline first.
fn call_variants(base: &str) -> Vec<(&'static str, Call)> {
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
    let b = base.to_owned();
    vec![
        ("hand-written, timeout (baseline)", {
            let b = b.clone();
            Arc::new(move || {
                let (http, b) = (careful.clone(), b.clone());
                Box::pin(async move {
                    hand_written_timed(&http, &b, "4b40e91d").await.unwrap();
                })
            })
        }),
        ("generated (defaults)", {
            Arc::new(move || {
                let c = generated.clone();
                Box::pin(async move {
                    c.get("4b40e91d").await.unwrap();
                })
            })
        }),
        ("hand-written, no timeout", {
            let b = b.clone();
            Arc::new(move || {
                let (http, b) = (plain.clone(), b.clone());
                Box::pin(async move {
                    hand_written(&http, &b, "4b40e91d").await.unwrap();
                })
            })
        }),
        ("generated, no request timeout", {
            Arc::new(move || {
                let c = untimed.clone();
                Box::pin(async move {
                    c.get("4b40e91d").await.unwrap();
                })
            })
        }),
    ]
}

async fn bench_calls(base: &str) {
    println!("## 1. generated client vs hand-written reqwest (same loopback server)\n");
    let variants = call_variants(base);
    let n = variants.len();
    for (_, call) in &variants {
        for _ in 0..200 {
            call().await;
        }
    }
    let mut rows: Vec<String> = Vec::new();
    // Sequential latency: many short rounds, the variants back to back in each (order
    // rotated), so drift and noise hit all alike; ratios are medians of per-round ratios.
    let (rounds, per_round) = (40, 500);
    let mut latency = vec![Vec::new(); n];
    let mut latency_ratio = vec![Vec::new(); n];
    for round in 0..rounds {
        let mut this = vec![0.0; n];
        for k in 0..n {
            let i = (round + k) % n;
            let t = Instant::now();
            for _ in 0..per_round {
                variants[i].1().await;
            }
            this[i] = t.elapsed().as_secs_f64() * 1e6 / per_round as f64;
        }
        for i in 0..n {
            latency[i].push(this[i]);
            latency_ratio[i].push(this[0] / this[i]);
        }
    }
    rows.push(format!(
        "| sequential latency ({rounds} rounds × {per_round}) | {} |",
        (0..n)
            .map(|i| format!(
                "{:.1} µs ({:.3})",
                median(latency[i].clone()),
                median(latency_ratio[i].clone())
            ))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    for tasks in [1usize, 32, 256] {
        let (total, reps) = (20_000, 5);
        let mut rate = vec![Vec::new(); n];
        let mut rate_ratio = vec![Vec::new(); n];
        for rep in 0..reps {
            let mut this = vec![0.0; n];
            // Rotate the order each repetition so no variant always runs first or last.
            for k in 0..n {
                let i = (rep + k) % n;
                let call = Arc::clone(&variants[i].1);
                this[i] = throughput(tasks, total, move || call()).await;
            }
            for i in 0..n {
                rate[i].push(this[i]);
                rate_ratio[i].push(this[i] / this[0]);
            }
        }
        rows.push(format!(
            "| throughput, {tasks} tasks ({reps} × {total} calls) | {} |",
            (0..n)
                .map(|i| format!(
                    "{:.0}/s ({:.3})",
                    median(rate[i].clone()),
                    median(rate_ratio[i].clone())
                ))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    let names: Vec<&str> = variants.iter().map(|(name, _)| *name).collect();
    println!(
        "| measure (median; ratio to the baseline) | {} |",
        names.join(" | ")
    );
    println!("|---|{}", "---|".repeat(n));
    for row in rows {
        println!("{row}");
    }
    println!();
}

async fn bench_token_hot_path(base: &str) {
    println!("## 2. token hot path: the cached token's Authorization value\n");
    let client = runtime_client(base, None);
    hh_runtime::__private::bearer(&client).await.unwrap();
    let value = hh_runtime::__private::bearer(&client).await.unwrap();
    let rwlock = Arc::new(std::sync::RwLock::new(Some(Arc::new(value.clone()))));
    let mutex = Arc::new(std::sync::Mutex::new(Some(Arc::new(value))));
    let n = 2_000_000u32;

    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(hh_runtime::__private::bearer(&client).await.unwrap());
    }
    let ours = t.elapsed().as_nanos() as f64 / f64::from(n);
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(rwlock.read().unwrap().as_ref().map(|v| (**v).clone()));
    }
    let rw = t.elapsed().as_nanos() as f64 / f64::from(n);
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(mutex.lock().unwrap().as_ref().map(|v| (**v).clone()));
    }
    let mx = t.elapsed().as_nanos() as f64 / f64::from(n);
    println!("| measure | hh-runtime (ArcSwap) | RwLock | Mutex |");
    println!("|---|---|---|---|");
    println!("| uncontended, ns per call | {ours:.1} | {rw:.1} | {mx:.1} |");

    // Contended: as many tasks as two per core, all reading at once.
    let tasks = 2 * std::thread::available_parallelism().map_or(2, |n| n.get());
    let per_task = 1_000_000u32;
    let contended = |which: u8| {
        let (client, rwlock, mutex) = (client.clone(), Arc::clone(&rwlock), Arc::clone(&mutex));
        async move {
            let t = Instant::now();
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..tasks {
                let (client, rwlock, mutex) =
                    (client.clone(), Arc::clone(&rwlock), Arc::clone(&mutex));
                set.spawn(async move {
                    for _ in 0..per_task {
                        match which {
                            0 => drop(std::hint::black_box(
                                hh_runtime::__private::bearer(&client).await.unwrap(),
                            )),
                            1 => drop(std::hint::black_box(
                                rwlock.read().unwrap().as_ref().map(|v| (**v).clone()),
                            )),
                            _ => drop(std::hint::black_box(
                                mutex.lock().unwrap().as_ref().map(|v| (**v).clone()),
                            )),
                        }
                    }
                });
            }
            while set.join_next().await.is_some() {}
            t.elapsed().as_nanos() as f64 / (f64::from(per_task) * tasks as f64)
        }
    };
    let (a, b, c) = (contended(0).await, contended(1).await, contended(2).await);
    println!(
        "| {tasks} tasks on every core, ns per call (wall time / calls) | {a:.1} | {b:.1} | {c:.1} |\n"
    );
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
        hh_runtime::__private::bearer(&probe).await.unwrap();
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

/// `HH_BENCH_PROFILE=generated|hand[:tasks]`: only that client, for `perf record`.
async fn profile(base: &str, spec: &str) {
    let (which, tasks) = spec.split_once(':').unwrap_or((spec, "1"));
    let tasks: usize = tasks.parse().unwrap_or(1);
    let generated = BenchClient::new(runtime_client(base, None));
    let http = reqwest::Client::new();
    let total = 100_000;
    let rate = if which == "hand" {
        let b = base.to_owned();
        throughput(tasks, total, move || {
            let (hc, b) = (http.clone(), b.clone());
            async move {
                hand_written(&hc, &b, "4b40e91d").await.unwrap();
            }
        })
        .await
    } else {
        throughput(tasks, total, move || {
            let c = generated.clone();
            async move {
                c.get("4b40e91d").await.unwrap();
            }
        })
        .await
    };
    println!("{which} with {tasks} tasks: {rate:.0} calls/s");
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (base, _server) = start_server(Duration::ZERO);
    if let Ok(which) = std::env::var("HH_BENCH_PROFILE") {
        rt.block_on(profile(&base, &which));
        return;
    }
    println!(
        "# hh benchmarks — {} cores, {}\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        }
    );
    rt.block_on(async {
        bench_calls(&base).await;
        bench_token_hot_path(&base).await;
        bench_herds().await;
    });
}
