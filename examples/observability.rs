//! A service's observability setup for a fleet: README.md's "Observability" snippet, line for
//! line (`tests/it/readme.rs` checks it), in a service that runs.
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
// opentelemetry_sdk 0.33, tracing-opentelemetry 0.34, tracing-subscriber 0.3 ("env-filter"),
// opentelemetry-otlp 0.33 (default-features = false; "http-proto", "reqwest-blocking-client",
// "trace"), metrics-exporter-prometheus 0.18 (default-features = false), axum 0.8,
// tokio 1 ("macros", "rt-multi-thread", "net", "signal", "time").
use std::error::Error;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use healthhero::models::TraversalCreate;
use healthhero::{HealthHero, Traversals as _};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Instrument as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // W3C trace context (`traceparent`), which hh puts on every API attempt.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    // Spans to an OTLP collector over HTTP, batched on the SDK's own thread (hence the blocking
    // HTTP client): OTEL_EXPORTER_OTLP_ENDPOINT, by default http://localhost:4318.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("my-service").build())
        .with_batch_exporter(exporter)
        .build();
    tracing_subscriber::registry()
        .with(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with(tracing_subscriber::fmt::layer())
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("my-service")))
        .init();

    // Prometheus: histograms with explicit buckets (the default, summaries, cannot be added up
    // across replicas), for every `*.duration` metric of hh. No listener of the exporter's:
    // `/metrics` is served below on the service's own port, so upkeep is ours to run.
    let prometheus = PrometheusBuilder::new()
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

    // The service's own routes (HealthHero's client from HH_* variables), and Prometheus's.
    let hh = healthhero::HealthHero::from_env()?;
    let app = routes(hh).route(
        "/metrics",
        get(move || std::future::ready(prometheus.render())),
    );
    let port: u16 = std::env::var("PORT").map_or(Ok(8080), |port| port.parse())?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;

    // Export the spans still batched: without this they are lost at every deploy.
    provider.shutdown()?;
    Ok(())
}

/// SIGTERM (what an orchestrator sends) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => _ = sigterm.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        () = terminate => {}
    }
}

/// The service's own routes: here one, which makes one HealthHero call.
fn routes(hh: HealthHero) -> Router {
    Router::new().route("/triage", get(triage)).with_state(hh)
}

/// Starts a symptom assessment and answers with its first question.
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
