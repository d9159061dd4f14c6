//! What sender-constrained tokens and client assertions cost, each against its baseline in
//! the same run, in rotated short batches:
//!
//! - **per call**: the same `#[healthhero_api]` call with a bearer token, and with a DPoP
//!   token and a new proof (ES256, EdDSA) on every call; answered in process by a
//!   reqwest-middleware at the end of the client's stack (no socket, so the figure is CPU time
//!   and the noise of loopback networking stays out), the token fetched once;
//! - **per token request**: a fresh client's first token with a client secret, and with a
//!   private_key_jwt assertion signed by ES256, EdDSA, RS256 and PS256 keys (and with a DPoP
//!   proof besides), from a token endpoint on loopback served by the same thread.
//!
//! `cargo bench -p hh-downstream --bench dpop` (results in BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::*;
use hh_runtime::auth::{Algorithm, SigningKey};
use hh_runtime::middleware::reqwest_middleware::ClientWithMiddleware;

/// A token endpoint that issues a DPoP token to a request with a proof, a bearer one
/// otherwise; it checks nothing (the cost measured is the client's).
async fn token(headers: axum::http::HeaderMap) -> impl axum::response::IntoResponse {
    let kind = if headers.contains_key("dpop") {
        "DPoP"
    } else {
        "Bearer"
    };
    (
        [("content-type", "application/json")],
        format!(r#"{{"access_token":"{TOKEN}","token_type":"{kind}","expires_in":3600}}"#),
    )
}

async fn token_endpoint() -> String {
    let app = axum::Router::new().route("/connect/token", axum::routing::post(token));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// How a client authenticates and binds its tokens.
#[derive(Clone, Copy, Debug)]
enum Auth {
    Secret,
    Jwt(Algorithm),
    SecretDpop(Algorithm),
}

impl Auth {
    fn name(self) -> String {
        match self {
            Auth::Secret => "client secret, bearer".into(),
            Auth::Jwt(a) => format!("private_key_jwt {a}, bearer"),
            Auth::SecretDpop(a) => format!("client secret, DPoP {a}"),
        }
    }
}

/// A client of `base` authenticating as `auth` with `keys` (made once: generating an RSA key
/// takes longer than anything measured here), its HTTP clients shared so building it is cheap.
fn client(
    base: &str,
    auth: Auth,
    keys: &Keys,
    http: &ClientWithMiddleware,
    token_http: &reqwest::Client,
) -> hh_runtime::Client {
    let b = hh_runtime::Client::builder()
        .identity_url(base)
        .api_url("https://api.example")
        .client_id(CLIENT_ID)
        .middleware(http.clone())
        .token_http_client(token_http.clone());
    match auth {
        Auth::Secret => b.client_secret("bench-secret"),
        Auth::Jwt(a) => b.private_key_jwt(Arc::clone(keys.of(a))),
        Auth::SecretDpop(a) => b.client_secret("bench-secret").dpop(Arc::clone(keys.of(a))),
    }
    .build()
    .unwrap()
}

struct Keys(Vec<(Algorithm, Arc<SigningKey>)>);

impl Keys {
    fn new() -> Keys {
        let algorithms = [
            Algorithm::ES256,
            Algorithm::EdDSA,
            Algorithm::RS256,
            Algorithm::PS256,
        ];
        Keys(
            algorithms
                .into_iter()
                .map(|a| {
                    (
                        a,
                        Arc::new(SigningKey::generate(a).unwrap().with_key_id("bench")),
                    )
                })
                .collect(),
        )
    }

    fn of(&self, algorithm: Algorithm) -> &Arc<SigningKey> {
        &self.0.iter().find(|(a, _)| *a == algorithm).unwrap().1
    }
}

fn main() {
    println!(
        "# DPoP and client assertions — {} cores, {}\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        }
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let base = rt.block_on(token_endpoint());
    let keys = Keys::new();
    let http = answered();
    let token_http = reqwest::Client::new();

    // Per call: one client per variant, its token fetched before timing.
    let call_variants = [
        Auth::Secret,
        Auth::SecretDpop(Algorithm::ES256),
        Auth::SecretDpop(Algorithm::EdDSA),
    ];
    let clients: Vec<BenchClient> = call_variants
        .iter()
        .map(|auth| BenchClient::new(client(&base, *auth, &keys, &http, &token_http)))
        .collect();
    let calls = |c: &BenchClient, n: usize| {
        rt.block_on(async {
            let started = Instant::now();
            for _ in 0..n {
                c.get("4b40e91d").await.unwrap();
            }
            started.elapsed().as_secs_f64() * 1e9 / n as f64
        })
    };
    for c in &clients {
        calls(c, 5_000);
    }
    let (rounds, n) = (31, 10_000);
    let table = rotated(rounds, clients.len(), |i| calls(&clients[i], n));
    println!("| per call | time per call | throughput vs bearer |");
    println!("|---|---|---|");
    for (i, auth) in call_variants.iter().enumerate() {
        println!(
            "| {} | {:.0} ns | {:.3} |",
            auth.name(),
            table.time[i],
            table.ratio[i]
        );
    }
    println!(
        "\n{rounds} rounds of {n} sequential calls per variant, rotated, answered in process.\n"
    );

    // Per token request: a fresh client's first token.
    let fetch_variants = [
        Auth::Secret,
        Auth::Jwt(Algorithm::ES256),
        Auth::Jwt(Algorithm::EdDSA),
        Auth::Jwt(Algorithm::RS256),
        Auth::Jwt(Algorithm::PS256),
        Auth::SecretDpop(Algorithm::ES256),
    ];
    let fetches = |auth: Auth, n: usize| {
        rt.block_on(async {
            let started = Instant::now();
            for _ in 0..n {
                let c = client(&base, auth, &keys, &http, &token_http);
                c.access_token().await.unwrap();
            }
            started.elapsed().as_secs_f64() * 1e9 / n as f64
        })
    };
    for auth in fetch_variants {
        fetches(auth, 100);
    }
    let (rounds, n) = (31, 200);
    let table = rotated(rounds, fetch_variants.len(), |i| {
        fetches(fetch_variants[i], n)
    });
    println!(
        "| per token request (a new client's first token) | time | throughput vs secret | added |"
    );
    println!("|---|---|---|---|");
    for (i, auth) in fetch_variants.iter().enumerate() {
        println!(
            "| {} | {:.1} µs | {:.3} | {:+.1} µs |",
            auth.name(),
            table.time[i] / 1e3,
            table.ratio[i],
            (table.time[i] - table.time[0]) / 1e3
        );
    }
    println!(
        "\n{rounds} rounds of {n} token requests per variant, rotated, over loopback to a token \
         endpoint served by the same thread; each time the median over rounds, each ratio the \
         median of the per-round ratios to the first row."
    );
}

/// Medians over `rounds` of each variant's time and its ratio to variant 0's in that round.
struct Table {
    time: Vec<f64>,
    ratio: Vec<f64>,
}

fn rotated(rounds: usize, variants: usize, mut measure: impl FnMut(usize) -> f64) -> Table {
    let mut times = vec![Vec::new(); variants];
    let mut ratios = vec![Vec::new(); variants];
    for round in 0..rounds {
        let mut this = vec![0.0; variants];
        for k in 0..variants {
            let i = (round + k) % variants;
            this[i] = measure(i);
        }
        for i in 0..variants {
            times[i].push(this[i]);
            ratios[i].push(this[0] / this[i]);
        }
    }
    Table {
        time: times.into_iter().map(median).collect(),
        ratio: ratios.into_iter().map(median).collect(),
    }
}
