//! The spans of HealthHero calls as an OpenTelemetry backend receives them: through
//! `tracing-opentelemetry` and the OpenTelemetry SDK (in-memory exporter), the stack a user
//! runs, with a subscriber at INFO, against hh-sandbox. Each attempt is an HTTP CLIENT span,
//! the logical call an INTERNAL span around its attempts, token wait and backoffs. Names,
//! kinds, attributes, parents and status are checked for a success, a 4xx, a 5xx that is
//! retried, a 401 that is replayed and a refused connection (`calls`), then for an attempt cut
//! short by the call's deadline, a body cut off, a 404 read as `None`, a refused secret
//! (`edges`); and that the sandbox received, on every attempt, a `traceparent` naming that
//! attempt's span (feature `opentelemetry`), a caller's `tracestate`, and no trace context on
//! token requests unless asked.

#![allow(clippy::unwrap_used)]

mod calls;
mod edges;

use std::collections::HashMap;

use healthhero::HealthHero;
use hh_sandbox::{Sandbox, TraceContext};
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt as _;

/// One exported span, with its attributes by name.
#[derive(Debug)]
struct Exported {
    name: String,
    kind: SpanKind,
    trace: TraceId,
    id: SpanId,
    parent: SpanId,
    links: Vec<SpanId>,
    error: bool,
    attributes: HashMap<String, Value>,
}

impl Exported {
    fn from(span: SpanData) -> Self {
        Exported {
            name: span.name.to_string(),
            kind: span.span_kind,
            trace: span.span_context.trace_id(),
            id: span.span_context.span_id(),
            parent: span.parent_span_id,
            links: span
                .links
                .iter()
                .map(|l| l.span_context.span_id())
                .collect(),
            error: matches!(span.status, Status::Error { .. }),
            attributes: span
                .attributes
                .into_iter()
                .map(|KeyValue { key, value, .. }| (key.to_string(), value))
                .collect(),
        }
    }

    fn text(&self, key: &str) -> Option<String> {
        self.attributes.get(key).map(Value::to_string)
    }

    fn int(&self, key: &str) -> Option<i64> {
        match self.attributes.get(key) {
            Some(Value::I64(v)) => Some(*v),
            _ => None,
        }
    }
}

/// What one scenario left: the spans finished since the last (in the order they ended) and
/// the trace contexts the sandbox received meanwhile.
struct Seen {
    spans: Vec<Exported>,
    received: Vec<TraceContext>,
}

impl Seen {
    /// The one logical call's span.
    fn call(&self) -> &Exported {
        let calls: Vec<_> = self
            .spans
            .iter()
            .filter(|s| s.name.starts_with("Traversals.") || s.name.starts_with("Directory."))
            .collect();
        let [call] = calls[..] else {
            panic!("{:#?}", self.spans)
        };
        call
    }

    /// The children of `parent`, in the order they ended.
    fn children(&self, parent: &Exported) -> Vec<&Exported> {
        self.spans
            .iter()
            .filter(|s| s.parent == parent.id)
            .collect()
    }

    /// The call's attempts.
    fn attempts(&self) -> Vec<&Exported> {
        let call = self.call();
        self.children(call)
            .into_iter()
            .filter(|s| s.kind == SpanKind::Client)
            .collect()
    }

    /// The names of the call's children, in order: its shape.
    fn shape(&self) -> Vec<&str> {
        self.children(self.call())
            .iter()
            .map(|s| s.name.as_str())
            .collect()
    }

    /// The spans called `name`.
    fn named(&self, name: &str) -> Vec<&Exported> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }

    /// The CLIENT spans of requests to the identity server.
    fn token_requests(&self) -> Vec<&Exported> {
        self.named("POST /connect/token")
    }
}

/// Everything one test needs: the exporter, the sandbox and what each step saw.
struct Harness {
    exporter: InMemorySpanExporter,
    sandbox: Sandbox,
    received: usize,
    /// Every span and trace context exported so far, as text, for the privacy checks.
    text: String,
}

impl Harness {
    /// What happened since the last call.
    fn take(&mut self) -> Seen {
        let spans = self.exporter.get_finished_spans().unwrap();
        self.exporter.reset();
        let spans: Vec<_> = spans.into_iter().map(Exported::from).collect();
        let received = self.sandbox.trace_contexts()[self.received..].to_vec();
        self.received += received.len();
        self.text.push_str(&format!("{spans:?}{received:?}"));
        Seen { spans, received }
    }

    fn client(
        &self,
        configure: impl FnOnce(hh_runtime::ClientBuilder) -> hh_runtime::ClientBuilder,
    ) -> HealthHero {
        let builder = healthhero::Client::builder()
            .identity_url(self.sandbox.identity_url())
            .api_url(self.sandbox.api_url())
            .client_id(self.sandbox.client_id())
            .client_secret(self.sandbox.client_secret());
        HealthHero::new(configure(builder).build().unwrap())
    }
}

/// Every attempt that reached the server sent its own span as the parent, in its trace; no
/// token request sent one.
fn assert_propagated(seen: &Seen, attempts: &[&Exported]) {
    let api: Vec<_> = seen
        .received
        .iter()
        .filter(|r| r.endpoint != "token")
        .map(|r| {
            (
                r.trace_id().unwrap().to_owned(),
                r.parent_id().unwrap().to_owned(),
            )
        })
        .collect();
    let sent: Vec<_> = attempts
        .iter()
        .map(|a| (a.trace.to_string(), a.id.to_string()))
        .collect();
    assert_eq!(api, sent, "{:#?}", seen.received);
    assert!(
        seen.received.iter().all(|r| r.endpoint != "token"),
        "token requests carry no trace context unless asked: {:#?}",
        seen.received
    );
    // No caller's trace state here, and an empty `tracestate` is not sent.
    assert!(seen.received.iter().all(|r| r.tracestate.is_none()));
}

// One thread: the subscriber is this test's own (`set_default`), and the token fetch, which
// runs on a task of its own, must see it too.
#[tokio::test(flavor = "current_thread")]
async fn spans_follow_the_opentelemetry_http_client_conventions() {
    // Alone: tracing caches per callsite which subscribers want it, and a callsite seen for the
    // first time by another test while this one registers its subscriber can be left disabled;
    // and the propagator installed here is global.
    if !hh_sandbox::in_own_process() {
        return;
    }
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    // At INFO, as a service runs: every span checked here must be at INFO or above.
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::INFO)
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("hh-test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut h = Harness {
        exporter,
        sandbox: Sandbox::start().await.unwrap(),
        received: 0,
        text: String::new(),
    };
    let hh = h.client(|b| b);
    let t = hh.traversals();

    let id = calls::a_success(t, &mut h).await;
    calls::a_not_found(t, &mut h).await;
    calls::a_retried_503(t, &mut h, &id).await;
    calls::a_replayed_401(t, &mut h, &id).await;
    calls::a_refused_connection(&hh, &mut h, &id).await;
    edges::an_attempt_cut_short(&hh, &mut h, &id).await;
    edges::a_body_cut_off(t, &mut h, &id).await;
    edges::a_404_read_as_none(&hh, &mut h).await;
    edges::a_refused_secret(&mut h, &id).await;
    edges::a_token_answer_that_is_no_token(&mut h, &id).await;
    edges::a_callers_tracestate(&mut h, &id).await;

    // Nothing so far recorded the traversal id (a path value) or a secret; `url.full`, once
    // opted into, does record the path.
    assert!(!h.text.contains(&id));
    calls::url_full_once_opted_into(&mut h, &id).await;
    edges::propagation_as_configured(&mut h).await;
    let secrets = [h.sandbox.client_secret().to_owned()]
        .into_iter()
        .chain(h.sandbox.issued_tokens());
    for secret in secrets {
        assert!(!h.text.contains(&secret));
    }
}
