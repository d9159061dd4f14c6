//! The spans of HealthHero calls as an OpenTelemetry backend receives them: through
//! `tracing-opentelemetry` and the OpenTelemetry SDK (in-memory exporter), the stack a user
//! runs, against hh-sandbox. Names, kinds, attributes, parents and status are checked for a
//! success, a 4xx, a 5xx that is retried, a 401 that is replayed and a refused connection.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use healthhero::models::TraversalCreate;
use healthhero::{HealthHero, Traversals as _, TraversalsClient};
use hh_sandbox::{Fault, Sandbox};
use opentelemetry::trace::{SpanId, SpanKind, Status, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt as _;

/// One exported span, with its attributes by name.
#[derive(Debug)]
struct Exported {
    name: String,
    kind: SpanKind,
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

/// The spans finished since the last call, in the order they ended.
fn take(exporter: &InMemorySpanExporter) -> Vec<Exported> {
    let spans = exporter.get_finished_spans().unwrap();
    exporter.reset();
    spans.into_iter().map(Exported::from).collect()
}

fn calls(spans: &[Exported]) -> Vec<&Exported> {
    spans
        .iter()
        .filter(|s| s.attributes.contains_key("url.template"))
        .collect()
}

fn children<'a>(spans: &'a [Exported], parent: &Exported) -> Vec<&'a Exported> {
    spans.iter().filter(|s| s.parent == parent.id).collect()
}

fn connect(sandbox: &Sandbox, full_url: bool) -> HealthHero {
    let client = healthhero::Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(sandbox.client_id())
        .client_secret(sandbox.client_secret())
        .trace_full_url(full_url)
        .build()
        .unwrap();
    HealthHero::new(client)
}

// One thread: the subscriber is this test's own (`set_default`), and the token fetch, which
// runs on a task of its own, must see it too.
#[tokio::test(flavor = "current_thread")]
async fn spans_follow_the_opentelemetry_http_client_conventions() {
    // Alone: tracing caches per callsite which subscribers want it, and a callsite seen for the
    // first time by another test while this one registers its subscriber can be left disabled.
    if !hh_sandbox::in_own_process() {
        return;
    }
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("hh-test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = Sandbox::start().await.unwrap();
    let hh = connect(&sandbox, false);
    let t = hh.traversals();
    let port = i64::from(sandbox.addr().port());
    // Every span exported, as text, for the privacy checks at the end.
    let mut seen = String::new();

    let id = a_success(t, &sandbox, &exporter, port, &mut seen).await;
    a_not_found(t, &exporter, &mut seen).await;
    a_retried_503(t, &sandbox, &exporter, &id, &mut seen).await;
    a_replayed_401(t, &sandbox, &exporter, &id, &mut seen).await;
    a_refused_connection(&hh, &exporter, &id, &mut seen).await;

    // Nothing so far recorded the traversal id (a path value) or a secret; `url.full`, once
    // opted into, does record the path.
    assert!(!seen.contains(&id));
    url_full_once_opted_into(&sandbox, &exporter, &id, &mut seen).await;
    let secrets = [sandbox.client_secret().to_owned()]
        .into_iter()
        .chain(sandbox.issued_tokens());
    for secret in secrets {
        assert!(!seen.contains(&secret));
    }
}

/// A success: the call, its one attempt, and the token request that preceded it. Returns the
/// id of the traversal it created.
async fn a_success(
    t: &TraversalsClient,
    sandbox: &Sandbox,
    exporter: &InMemorySpanExporter,
    port: i64,
    seen: &mut String,
) -> String {
    let page = t.create(&TraversalCreate::new("SYMPTOMS")).await.unwrap();
    let id = page.traversal_id.clone();
    let spans = take(exporter);
    seen.push_str(&format!("{spans:?}"));
    let [call] = calls(&spans)[..] else {
        panic!("{spans:#?}")
    };
    assert_successful_call(call, port);
    let [attempt] = children(&spans, call)[..] else {
        panic!("{spans:#?}")
    };
    assert_eq!(attempt.name, "hh.attempt");
    assert_eq!(attempt.int("http.response.status_code"), Some(200));
    assert_eq!(attempt.int("http.request.resend_count"), None);
    assert_token_request(&spans, call, sandbox, port);
    id
}

/// The span of the successful `create`: name, kind, the conventions' attributes, no error,
/// and no `url.full` unless opted into.
fn assert_successful_call(call: &Exported, port: i64) {
    assert_eq!(call.name, "POST /api/v1/{client_id}/Traversals");
    assert_eq!(call.kind, SpanKind::Client);
    assert_eq!(call.text("http.request.method").as_deref(), Some("POST"));
    assert_eq!(
        call.text("url.template").as_deref(),
        Some("/api/v1/{client_id}/Traversals")
    );
    assert_eq!(call.text("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(call.int("server.port"), Some(port), "{call:#?}");
    assert_eq!(call.int("http.response.status_code"), Some(200));
    assert!(
        !call.error && call.text("error.type").is_none(),
        "{call:#?}"
    );
    assert!(
        call.text("url.full").is_none(),
        "url.full is opt-in: {call:#?}"
    );
}

/// The span of the token request that preceded `call`: a root of its own, linked to `call`.
fn assert_token_request(spans: &[Exported], call: &Exported, sandbox: &Sandbox, port: i64) {
    let token = spans
        .iter()
        .find(|s| s.name == "POST /connect/token")
        .unwrap();
    assert_eq!(token.kind, SpanKind::Client);
    assert_eq!(
        token.parent,
        SpanId::INVALID,
        "a token request belongs to no caller"
    );
    assert_eq!(
        token.links,
        vec![call.id],
        "but it is linked to the call that caused it"
    );
    assert_eq!(token.text("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(token.int("server.port"), Some(port));
    assert_eq!(token.int("http.response.status_code"), Some(200));
    assert_eq!(
        token.text("url.full"),
        Some(format!("{}/connect/token", sandbox.identity_url()))
    );
}

/// A 404: the status, `error.type` and an error status, on the call and its attempt.
async fn a_not_found(t: &TraversalsClient, exporter: &InMemorySpanExporter, seen: &mut String) {
    let missing = t.get("no-such-traversal").await.unwrap_err();
    assert!(missing.is_not_found());
    let spans = take(exporter);
    seen.push_str(&format!("{spans:?}"));
    let [call] = calls(&spans)[..] else {
        panic!("{spans:#?}")
    };
    assert_eq!(
        call.name,
        "GET /api/v1/{client_id}/Traversals/{traversal_id}"
    );
    assert_eq!(call.int("http.response.status_code"), Some(404));
    assert_eq!(call.text("error.type").as_deref(), Some("404"));
    assert!(call.error);
    let [attempt] = children(&spans, call)[..] else {
        panic!("{spans:#?}")
    };
    assert!(attempt.error);
}

/// A 503 that is retried: two attempts, the second with `resend_count` 1; the call succeeds.
async fn a_retried_503(
    t: &TraversalsClient,
    sandbox: &Sandbox,
    exporter: &InMemorySpanExporter,
    id: &str,
    seen: &mut String,
) {
    sandbox.inject(
        "traversals.get",
        Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: None,
        },
    );
    t.get(id).await.unwrap();
    let spans = take(exporter);
    seen.push_str(&format!("{spans:?}"));
    let [call] = calls(&spans)[..] else {
        panic!("{spans:#?}")
    };
    assert_eq!(call.int("http.response.status_code"), Some(200));
    assert!(!call.error);
    let attempts = children(&spans, call);
    let statuses: Vec<_> = attempts
        .iter()
        .map(|a| {
            (
                a.int("http.response.status_code"),
                a.int("http.request.resend_count"),
                a.error,
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [(Some(503), None, true), (Some(200), Some(1), false)]
    );
    assert_eq!(attempts[0].text("error.type").as_deref(), Some("503"));
}

/// A revoked token: a 401, a new token request, and the replay.
async fn a_replayed_401(
    t: &TraversalsClient,
    sandbox: &Sandbox,
    exporter: &InMemorySpanExporter,
    id: &str,
    seen: &mut String,
) {
    sandbox.revoke_all_tokens();
    t.get(id).await.unwrap();
    let spans = take(exporter);
    seen.push_str(&format!("{spans:?}"));
    let [call] = calls(&spans)[..] else {
        panic!("{spans:#?}")
    };
    let statuses: Vec<_> = children(&spans, call)
        .iter()
        .map(|a| {
            (
                a.int("http.response.status_code"),
                a.int("http.request.resend_count"),
            )
        })
        .collect();
    assert_eq!(statuses, [(Some(401), None), (Some(200), Some(1))]);
    assert_eq!(
        spans
            .iter()
            .filter(|s| s.name == "POST /connect/token")
            .count(),
        1
    );
}

/// No server at all: every attempt (connect errors are resent) and the call say `connect`.
async fn a_refused_connection(
    hh: &HealthHero,
    exporter: &InMemorySpanExporter,
    id: &str,
    seen: &mut String,
) {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = HealthHero::new(hh.client().with_api_url(&nowhere).unwrap());
    let error = unreachable.traversals().get(id).await.unwrap_err();
    assert!(error.is_connect(), "{error}");
    let spans = take(exporter);
    seen.push_str(&format!("{spans:?}"));
    let [call] = calls(&spans)[..] else {
        panic!("{spans:#?}")
    };
    assert_eq!(call.text("error.type").as_deref(), Some("connect"));
    assert!(call.error && call.int("http.response.status_code").is_none());
    let attempts = children(&spans, call);
    assert_eq!(attempts.len(), 3, "{attempts:#?}");
    assert!(
        attempts
            .iter()
            .all(|a| a.text("error.type").as_deref() == Some("connect"))
    );
    assert_eq!(attempts[2].int("http.request.resend_count"), Some(2));
}

/// A client that opted into `url.full`: the call's span records the full URL, path and all.
async fn url_full_once_opted_into(
    sandbox: &Sandbox,
    exporter: &InMemorySpanExporter,
    id: &str,
    seen: &mut String,
) {
    let opted = connect(sandbox, true);
    opted.traversals().get(id).await.unwrap();
    let spans = take(exporter);
    seen.push_str(&format!("{spans:?}"));
    let [call] = calls(&spans)[..] else {
        panic!("{spans:#?}")
    };
    assert_eq!(
        call.text("url.full"),
        Some(format!(
            "{}/api/v1/{}/Traversals/{id}",
            sandbox.api_url(),
            sandbox.client_id()
        ))
    );
}
