//! The OpenTelemetry spans of a short triage, as a tracing backend would receive them.
//!
//! ```sh
//! cargo run --example telemetry
//! ```
//!
//! hh emits spans through `tracing`; `tracing-opentelemetry` turns them into OpenTelemetry
//! spans: per call an INTERNAL span named for the endpoint (`Traversals.respond`), and under it
//! a CLIENT span per attempt, the wait for a token and the sleep before a retry. Here they go
//! to the SDK's in-memory exporter and are printed as a tree; a service's setup (OTLP,
//! Prometheus, trace context on the wire) is `examples/observability.rs`. Runs against an
//! embedded hh-sandbox, with one 503 injected to show a retry.

use std::error::Error;
use std::time::Duration;

use healthhero::models::TraversalCreate;
use healthhero::{HealthHero, Traversals as _};
use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The setup a service would have: a tracer provider, and the tracing layer that feeds it.
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("triage"))
                // Only the conventions' attributes, for a short printout.
                .with_location(false)
                .with_threads(false)
                .with_target(false)
                .with_tracked_inactivity(false),
        )
        .init();

    let sandbox = hh_sandbox::Sandbox::start().await?;
    let client = healthhero::Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(sandbox.client_id())
        .client_secret(sandbox.client_secret())
        .build()?;
    let hh = HealthHero::new(client);
    let traversals = hh.traversals();

    let page = traversals.create(&TraversalCreate::new("SYMPTOMS")).await?;
    let id = &page.traversal_id;
    let first = page
        .questions()
        .next()
        .ok_or("the first page has no question")?;
    let answer = first
        .answers
        .first()
        .ok_or("the first question has no answer")?;
    traversals.respond(id, &[answer.respond(None)]).await?;
    sandbox.inject(
        "traversals.get",
        hh_sandbox::Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: None,
        },
    );
    traversals.get(id).await?;
    let missing = traversals.get("no-such-traversal").await;
    assert!(missing.is_err_and(|e| e.is_not_found()));

    provider.force_flush()?;
    let spans = exporter.get_finished_spans()?;
    println!("{} spans, as exported:\n", spans.len());
    let mut roots: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.parent_span_id == SpanId::INVALID)
        .collect();
    roots.sort_by_key(|s| s.start_time);
    for root in roots {
        print_tree(&spans, root, 0);
    }
    Ok(())
}

/// One span, its attributes, and its children (in the order they started), indented.
fn print_tree(spans: &[SpanData], span: &SpanData, depth: usize) {
    let indent = "    ".repeat(depth);
    let took = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or(Duration::ZERO);
    println!(
        "{indent}{} [{:?}, {:.1} ms, status {:?}]",
        span.name,
        span.span_kind,
        took.as_secs_f64() * 1e3,
        span.status
    );
    for kv in &span.attributes {
        println!("{indent}    {} = {}", kv.key, kv.value);
    }
    if !span.links.is_empty() {
        println!("{indent}    (linked to the token wait that caused it)");
    }
    let mut children: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.parent_span_id == span.span_context.span_id())
        .collect();
    children.sort_by_key(|s| s.start_time);
    for child in children {
        print_tree(spans, child, depth + 1);
    }
}
