//! What telemetry costs a call: the same `#[healthhero_api]` call under four subscribers, in
//! one run, in rotated short batches:
//!
//! - **none**: no subscriber at all;
//! - **not interested**: a `fmt` subscriber at WARN (a production filter that does not want
//!   hh's INFO spans): every span's interest check runs and says no;
//! - **fmt at INFO**: the call spans recorded and formatted (to a sink);
//! - **OpenTelemetry**: `tracing-opentelemetry` with the SDK's tracer (spans built, sampled and
//!   ended; no exporter, so the figure is the layer's cost, not a network's).
//!
//! The API's answer comes from a reqwest-middleware at the end of the client's stack (the
//! `middleware` feature), in process: no socket, no other thread, so the figures are CPU
//! time alone and the noise of loopback networking (±10 % on this machine, more than the
//! effect measured) stays out. The token comes from a real loopback token endpoint once and
//! is then cached. A call over a network costs tens of µs more, so telemetry's share of a
//! real call is smaller than shown here. The hand-written reqwest call, answered by the same
//! middleware, runs under "none" and "not interested" as a reference.
//!
//! `cargo bench -p hh-downstream --bench telemetry` (results in BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

mod common;

use std::time::Instant;

use common::*;
use hh_runtime::middleware::reqwest_middleware::ClientWithMiddleware;
use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::layer::SubscriberExt as _;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    None,
    NotInterested,
    FmtInfo,
    OpenTelemetry,
    /// Hand-written reqwest, no subscriber.
    HandNone,
    /// Hand-written reqwest, the WARN subscriber.
    HandNotInterested,
}

const VARIANTS: [Variant; 6] = [
    Variant::None,
    Variant::NotInterested,
    Variant::FmtInfo,
    Variant::OpenTelemetry,
    Variant::HandNone,
    Variant::HandNotInterested,
];

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::None => "hh, no subscriber",
            Variant::NotInterested => "hh, subscriber at WARN (not interested)",
            Variant::FmtInfo => "hh, fmt subscriber at INFO (to a sink)",
            Variant::OpenTelemetry => "hh, tracing-opentelemetry + SDK tracer",
            Variant::HandNone => "hand-written reqwest, no subscriber",
            Variant::HandNotInterested => "hand-written reqwest, subscriber at WARN",
        }
    }

    fn dispatch(self) -> tracing::Dispatch {
        match self {
            Variant::None | Variant::HandNone => tracing::Dispatch::none(),
            Variant::NotInterested | Variant::HandNotInterested => tracing::Dispatch::new(
                tracing_subscriber::fmt()
                    .with_max_level(tracing::Level::WARN)
                    .with_writer(std::io::sink)
                    .finish(),
            ),
            Variant::FmtInfo => tracing::Dispatch::new(
                tracing_subscriber::fmt()
                    .with_max_level(tracing::Level::INFO)
                    .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
                    .with_writer(std::io::sink)
                    .finish(),
            ),
            Variant::OpenTelemetry => {
                let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
                tracing::Dispatch::new(
                    tracing_subscriber::registry()
                        .with(tracing_subscriber::filter::LevelFilter::INFO)
                        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))),
                )
            }
        }
    }

    fn hand_written(self) -> bool {
        matches!(self, Variant::HandNone | Variant::HandNotInterested)
    }
}

/// The hand-written call, through the same in-process answer.
async fn hand_written_answered(http: &ClientWithMiddleware, id: &str) -> Page {
    http.get(format!(
        "https://api.example/api/v1/{CLIENT_ID}/Traversals/{id}"
    ))
    .bearer_auth(TOKEN)
    .header("accept", "application/json")
    .send()
    .await
    .unwrap()
    .error_for_status()
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// `calls` sequential calls under `variant`'s subscriber, on the runtime `rt`: ns per call.
fn measure(
    rt: &tokio::runtime::Runtime,
    variant: Variant,
    dispatch: &tracing::Dispatch,
    generated: &BenchClient,
    http: &ClientWithMiddleware,
    calls: usize,
) -> f64 {
    tracing::dispatcher::with_default(dispatch, || {
        rt.block_on(async {
            let started = Instant::now();
            for _ in 0..calls {
                if variant.hand_written() {
                    hand_written_answered(http, "4b40e91d").await;
                } else {
                    generated.get("4b40e91d").await.unwrap();
                }
            }
            started.elapsed().as_secs_f64() * 1e9 / calls as f64
        })
    })
}

/// The tracing work of one successful call when no subscriber wants it, alone: the call
/// span and the attempt span created with hh's exact fields (a replica of
/// `hh_runtime::telemetry`, which is private), and the status recorded on both. ns per call.
fn disabled_spans(dispatch: &tracing::Dispatch, calls: usize) -> f64 {
    use tracing::field::Empty;
    tracing::dispatcher::with_default(dispatch, || {
        let started = Instant::now();
        for i in 0..calls {
            let (method, template) = ("GET", "/api/v1/{client_id}/Traversals/{id}");
            let call = tracing::info_span!(
                target: "hh_runtime::call",
                "hh.call",
                otel.name = "Traversals.get",
                otel.kind = "internal",
                url.template = template,
                hh.client_id = "clinic",
                hh.attempts = Empty,
                hh.absent = Empty,
                error.type = Empty,
                otel.status_code = Empty,
            );
            let attempt = call.in_scope(|| {
                tracing::info_span!(
                    target: "hh_runtime::call",
                    "hh.attempt",
                    otel.name = %format_args!("{method} {template}"),
                    otel.kind = "client",
                    http.request.method = method,
                    server.address = "api.example",
                    server.port = 443i64,
                    url.scheme = "https",
                    url.template = template,
                    url.full = Empty,
                    http.request.resend_count = Empty,
                    http.response.status_code = Empty,
                    network.protocol.version = Empty,
                    error.type = Empty,
                    otel.status_code = Empty,
                )
            });
            if !attempt.is_disabled() {
                attempt.record("http.response.status_code", 200i64);
                attempt.record("network.protocol.version", "1.1");
            }
            if !call.is_disabled() {
                call.record("hh.attempts", 1i64);
            }
            std::hint::black_box((&call, &attempt, i));
        }
        started.elapsed().as_secs_f64() * 1e9 / calls as f64
    })
}

fn main() {
    let (base, _server) = start_server(std::time::Duration::ZERO);
    println!(
        "# telemetry cost — {} cores, {}\n",
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
    let dispatches: Vec<tracing::Dispatch> = VARIANTS.iter().map(|v| v.dispatch()).collect();
    let client = hh_runtime::Client::builder()
        .identity_url(&base)
        .api_url("https://api.example")
        .client_id(CLIENT_ID)
        .client_secret("bench-secret")
        .middleware(answered())
        .build()
        .unwrap();
    let generated = BenchClient::new(client);
    let http = answered();
    // Warm-up: the token, the allocator, the branch predictors.
    for (variant, dispatch) in VARIANTS.iter().zip(&dispatches) {
        measure(&rt, *variant, dispatch, &generated, &http, 20_000);
    }
    let rounds = 41;
    let calls = 20_000;
    let n = VARIANTS.len();
    let mut cost = vec![Vec::new(); n];
    // Per round, each variant's time over its reference's ("none" for hh, "hand-written,
    // none" for the reference rows): the throughput ratio.
    let mut ratio = vec![Vec::new(); n];
    for round in 0..rounds {
        let mut this = vec![0.0; n];
        for k in 0..n {
            let i = (round + k) % n;
            this[i] = measure(&rt, VARIANTS[i], &dispatches[i], &generated, &http, calls);
        }
        for (i, variant) in VARIANTS.iter().enumerate() {
            let reference = if variant.hand_written() { 4 } else { 0 };
            cost[i].push(this[i]);
            ratio[i].push(this[reference] / this[i]);
        }
    }
    println!("| subscriber | time per call | throughput vs none |");
    println!("|---|---|---|");
    for (i, variant) in VARIANTS.iter().enumerate() {
        println!(
            "| {} | {:.0} ns | {:.3} |",
            variant.name(),
            median(cost[i].clone()),
            median(ratio[i].clone()),
        );
    }
    let spans: Vec<f64> = (0..rounds)
        .map(|_| disabled_spans(&dispatches[1], 1_000_000))
        .collect();
    let spans = median(spans);
    let call = median(cost[0].clone());
    println!(
        "| hh's spans alone, subscriber at WARN (replica, 10^6 calls × {rounds}) | {spans:.1} ns | {:.2} % of a call |",
        100.0 * spans / call
    );
    println!(
        "\n{rounds} rounds of {calls} sequential calls per variant, in rotated order, on one \
         core, answered in process; each time is the median over rounds, each ratio the median \
         of the per-round ratios to the row's reference."
    );
}
