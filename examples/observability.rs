//! A service's observability setup for a fleet: README.md's "Observability" block is this file
//! after these comments, verbatim (`tests/it/readme.rs` checks it), and `tests/observability.rs`
//! runs it: spans reach an OTLP receiver at SIGTERM, `/metrics` renders histograms.
//!
//! - Traces: `tracing` → `tracing-opentelemetry` → OTLP over HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`,
//!   by default `http://localhost:4318`), batched, with the service's name as a resource.
//! - Trace context: the W3C propagator set globally; with healthhero's `opentelemetry` feature
//!   every API attempt carries `traceparent` (and `tracestate`) from its own span.
//! - Metrics: Prometheus histograms (not summaries: replicas add up) with the buckets of
//!   OpenTelemetry's HTTP conventions, `healthhero::metrics::DURATION_BUCKETS`, served at
//!   `/metrics` on the service's own port (`PORT`, default 8080): no second listener for
//!   replicas on one host to collide on.
//! - Shutdown: on SIGTERM or Ctrl-C the server drains, then the tracer provider flushes the
//!   spans still batched.
//!
//! `GET /triage` starts a symptom assessment (one HealthHero call) and answers with its first
//! question. Against a local sandbox (`cargo run -p hh-sandbox` prints its URLs and
//! credentials):
//!
//! ```sh
//! HH_IDENTITY_URL=.. HH_API_URL=.. HH_CLIENT_ID=.. HH_CLIENT_SECRET=.. PORT=8080 \
//!     cargo run --example observability --features metrics,opentelemetry
//! curl localhost:8080/triage; curl localhost:8080/metrics
//! ```
//!
//! With no OTLP collector listening, export errors are logged and the service runs on.

// Cargo.toml: healthhero (features "metrics", "opentelemetry"), opentelemetry 0.33,
// opentelemetry_sdk 0.33, tracing 0.1, tracing-opentelemetry 0.34, tracing-subscriber 0.3
// ("env-filter"), opentelemetry-otlp 0.33 (default-features = false; "http-proto",
// "reqwest-blocking-client", "trace"), metrics-exporter-prometheus 0.18 (default-features =
// false), axum 0.8, tokio 1 ("macros", "rt-multi-thread", "net", "signal", "time").
use std::error::Error;
use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use healthhero::models::TraversalCreate;
use healthhero::{HealthHero, Traversals as _};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tokio::net::TcpListener;
use tracing::Instrument as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

/// What `main` and `run` may fail with.
type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // First: from here on, SIGTERM drains the service instead of killing it.
    let shutdown = shutdown_signal()?;
    let port: u16 = std::env::var("PORT").map_or(Ok(8080), |port| port.parse())?;
    let listener = TcpListener::bind(("0.0.0.0", port)).await?;
    // HealthHero's client from HH_* variables; spans to OTEL_EXPORTER_OTLP_ENDPOINT.
    run(HealthHero::from_env()?, listener, None, shutdown).await
}

/// The service, until `shutdown`: traces, metrics and its routes. (`pub(crate)`, as is
/// `shutdown_signal`, for the test that runs this file.) `otlp` is where spans go
/// (a full URL, `/v1/traces` included), when not OTEL_EXPORTER_OTLP_ENDPOINT (by default
/// http://localhost:4318).
pub(crate) async fn run(
    hh: HealthHero,
    listener: TcpListener,
    otlp: Option<&str>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BoxError> {
    // W3C trace context (`traceparent`), which hh puts on every API attempt.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    // Spans to an OTLP collector over HTTP, batched on the SDK's own thread (hence the blocking
    // HTTP client).
    let mut exporter = opentelemetry_otlp::SpanExporter::builder().with_http();
    if let Some(endpoint) = otlp {
        exporter = exporter.with_endpoint(endpoint);
    }
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("my-service").build())
        .with_batch_exporter(exporter.build()?)
        .build();
    tracing_subscriber::registry()
        .with(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with(tracing_subscriber::fmt::layer())
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("my-service")))
        .init();

    // Prometheus: histograms with explicit buckets (the default, summaries, cannot be added up
    // across replicas) for every `*.duration` metric of hh, named with their unit
    // (`http_client_request_duration_seconds`, counters `_total`), as OpenTelemetry's
    // dashboards expect. No listener of the exporter's: `/metrics` is served below on the
    // service's own port, so upkeep is ours to run.
    let prometheus = PrometheusBuilder::new()
        .with_recommended_naming(true)
        .set_buckets_for_metric(
            Matcher::Suffix("duration".into()),
            &healthhero::metrics::DURATION_BUCKETS,
        )?
        .install_recorder()?;
    let upkeep = prometheus.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });

    // The service's own routes, and Prometheus's.
    let app = routes(hh).route(
        "/metrics",
        get(move || std::future::ready(prometheus.render())),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;

    // Export the spans still batched: without this they are lost at every deploy.
    provider.shutdown()?;
    Ok(())
}

/// SIGTERM (what an orchestrator sends) or Ctrl-C. The handler is installed now, not when
/// the future is first polled, so a SIGTERM once this returns is never a kill.
pub(crate) fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// The service's own routes: here one, which makes one HealthHero call.
fn routes(hh: HealthHero) -> Router {
    Router::new().route("/triage", get(triage)).with_state(hh)
}

/// Starts a symptom assessment and answers with its first question. (Continuing an incoming
/// request's trace, from its `traceparent`, is the server framework's part: for axum, a
/// tower layer such as `tower-http`'s `TraceLayer` with an extractor of the propagator's.)
async fn triage(State(hh): State<HealthHero>) -> Result<String, (StatusCode, String)> {
    let span = tracing::info_span!("GET /triage", otel.kind = "server");
    let page = hh
        .traversals()
        .create(&TraversalCreate::new("SYMPTOMS"))
        .instrument(span)
        .await
        .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;
    let question = page
        .questions()
        .next()
        .and_then(|q| q.display_text.as_deref())
        .unwrap_or("(no question)");
    Ok(format!("{}\n{question}\n", page.traversal_id))
}
