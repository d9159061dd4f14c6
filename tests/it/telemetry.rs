//! The spans of HealthHero calls as an OpenTelemetry backend receives them: through
//! `tracing-opentelemetry` and the OpenTelemetry SDK (in-memory exporter), the stack a user
//! runs, against hh-sandbox. Each attempt is an HTTP CLIENT span, the logical call an INTERNAL
//! span around its attempts, token wait and backoffs. Names, kinds, attributes, parents and
//! status are checked for a success, a 4xx, a 5xx that is retried, a 401 that is replayed and
//! a refused connection; and that the sandbox received, on every attempt, a `traceparent`
//! naming that attempt's span (feature `opentelemetry`), and none on token requests unless
//! asked.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use healthhero::models::TraversalCreate;
use healthhero::{HealthHero, Traversals as _, TraversalsClient};
use hh_sandbox::{Fault, Sandbox, TraceContext};
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
            .filter(|s| s.name.starts_with("Traversals."))
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

    fn token_requests(&self) -> Vec<&Exported> {
        self.spans
            .iter()
            .filter(|s| s.name == "POST /connect/token")
            .collect()
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
    let subscriber = tracing_subscriber::registry()
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

    let id = a_success(t, &mut h).await;
    a_not_found(t, &mut h).await;
    a_retried_503(t, &mut h, &id).await;
    a_replayed_401(t, &mut h, &id).await;
    a_refused_connection(&hh, &mut h, &id).await;

    // Nothing so far recorded the traversal id (a path value) or a secret; `url.full`, once
    // opted into, does record the path.
    assert!(!h.text.contains(&id));
    url_full_once_opted_into(&mut h, &id).await;
    propagation_as_configured(&mut h).await;
    let secrets = [h.sandbox.client_secret().to_owned()]
        .into_iter()
        .chain(h.sandbox.issued_tokens());
    for secret in secrets {
        assert!(!h.text.contains(&secret));
    }
}

/// A success: the call, its token wait (the first call has no token), the token request
/// linked to that wait, and one attempt. Returns the id of the traversal it created.
async fn a_success(t: &TraversalsClient, h: &mut Harness) -> String {
    let page = t.create(&TraversalCreate::new("SYMPTOMS")).await.unwrap();
    let seen = h.take();
    let call = seen.call();
    assert_eq!(call.name, "Traversals.create");
    assert_eq!(call.kind, SpanKind::Internal);
    assert_eq!(
        call.text("url.template").as_deref(),
        Some("/api/v1/{client_id}/Traversals")
    );
    assert_eq!(
        call.text("hh.client_id").as_deref(),
        Some(h.sandbox.client_id())
    );
    assert_eq!(call.int("hh.attempts"), Some(1));
    assert!(
        !call.error && call.text("error.type").is_none(),
        "{call:#?}"
    );
    assert_eq!(
        seen.shape(),
        ["hh.token.wait", "POST /api/v1/{client_id}/Traversals"]
    );
    let [attempt] = seen.attempts()[..] else {
        panic!("{:#?}", seen.spans)
    };
    assert_successful_attempt(attempt, i64::from(h.sandbox.addr().port()));
    let wait = seen.children(call)[0];
    assert_eq!(wait.kind, SpanKind::Internal);
    assert_token_request(&seen, wait, &h.sandbox);
    assert_propagated(&seen, &[attempt]);
    page.traversal_id
}

/// The attempt of the successful `create`: name, kind, the conventions' attributes, no
/// error, and no `url.full` unless opted into.
fn assert_successful_attempt(attempt: &Exported, port: i64) {
    assert_eq!(attempt.name, "POST /api/v1/{client_id}/Traversals");
    assert_eq!(attempt.kind, SpanKind::Client);
    assert_eq!(attempt.text("http.request.method").as_deref(), Some("POST"));
    assert_eq!(
        attempt.text("url.template").as_deref(),
        Some("/api/v1/{client_id}/Traversals")
    );
    assert_eq!(attempt.text("url.scheme").as_deref(), Some("http"));
    assert_eq!(attempt.text("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(attempt.int("server.port"), Some(port), "{attempt:#?}");
    assert_eq!(attempt.int("http.response.status_code"), Some(200));
    assert_eq!(
        attempt.text("network.protocol.version").as_deref(),
        Some("1.1")
    );
    assert_eq!(attempt.int("http.request.resend_count"), None);
    assert!(
        !attempt.error && attempt.text("error.type").is_none(),
        "{attempt:#?}"
    );
    assert!(
        attempt.text("url.full").is_none(),
        "url.full is opt-in: {attempt:#?}"
    );
}

/// The token request a call waited for: a root of its own (it serves every waiting caller),
/// linked to the wait that caused it.
fn assert_token_request(seen: &Seen, wait: &Exported, sandbox: &Sandbox) {
    let [token] = seen.token_requests()[..] else {
        panic!("{:#?}", seen.spans)
    };
    assert_eq!(token.kind, SpanKind::Client);
    assert_eq!(
        token.parent,
        SpanId::INVALID,
        "a token request belongs to no caller"
    );
    assert_eq!(
        token.links,
        vec![wait.id],
        "but it is linked to the wait it ended"
    );
    assert_eq!(token.text("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(
        token.int("server.port"),
        Some(i64::from(sandbox.addr().port()))
    );
    assert_eq!(token.int("http.response.status_code"), Some(200));
    assert_eq!(
        token.text("hh.client_id").as_deref(),
        Some(sandbox.client_id())
    );
    assert_eq!(
        token.text("url.full"),
        Some(format!("{}/connect/token", sandbox.identity_url()))
    );
}

/// A 404: the attempt is a failed CLIENT span with both the status and `error.type`; the call
/// returns the error, so its span fails too.
async fn a_not_found(t: &TraversalsClient, h: &mut Harness) {
    let missing = t.get("no-such-traversal").await.unwrap_err();
    assert!(missing.is_not_found());
    let seen = h.take();
    let call = seen.call();
    assert_eq!(call.name, "Traversals.get");
    assert_eq!(call.text("error.type").as_deref(), Some("404"));
    assert!(call.error);
    let [attempt] = seen.attempts()[..] else {
        panic!("{:#?}", seen.spans)
    };
    assert_eq!(
        attempt.name,
        "GET /api/v1/{client_id}/Traversals/{traversal_id}"
    );
    assert_eq!(attempt.int("http.response.status_code"), Some(404));
    assert_eq!(attempt.text("error.type").as_deref(), Some("404"));
    assert!(attempt.error);
    assert_propagated(&seen, &[attempt]);
}

/// A 503 that is retried: a failed attempt, the backoff, and the second attempt with
/// `resend_count` 1; the call succeeds.
async fn a_retried_503(t: &TraversalsClient, h: &mut Harness, id: &str) {
    h.sandbox.inject(
        "traversals.get",
        Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: None,
        },
    );
    t.get(id).await.unwrap();
    let seen = h.take();
    let call = seen.call();
    assert!(!call.error);
    assert_eq!(call.int("hh.attempts"), Some(2));
    let route = "GET /api/v1/{client_id}/Traversals/{traversal_id}";
    assert_eq!(seen.shape(), [route, "hh.backoff", route]);
    let attempts = seen.attempts();
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
    let backoff = seen.children(call)[1];
    assert_eq!(backoff.kind, SpanKind::Internal);
    assert_eq!(backoff.int("http.request.resend_count"), Some(1));
    assert!(matches!(backoff.attributes.get("hh.backoff.delay"), Some(Value::F64(d)) if *d >= 0.0));
    assert_propagated(&seen, &attempts);
}

/// A revoked token: a 401, a wait for the new token (one request), and the replay.
async fn a_replayed_401(t: &TraversalsClient, h: &mut Harness, id: &str) {
    h.sandbox.revoke_all_tokens();
    t.get(id).await.unwrap();
    let seen = h.take();
    let route = "GET /api/v1/{client_id}/Traversals/{traversal_id}";
    assert_eq!(seen.shape(), [route, "hh.token.wait", route]);
    let attempts = seen.attempts();
    let statuses: Vec<_> = attempts
        .iter()
        .map(|a| {
            (
                a.int("http.response.status_code"),
                a.int("http.request.resend_count"),
                a.text("error.type"),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (Some(401), None, Some("401".into())),
            (Some(200), Some(1), None)
        ]
    );
    let wait = seen.children(seen.call())[1];
    assert_token_request(&seen, wait, &h.sandbox);
    assert_propagated(&seen, &attempts);
}

/// No server at all: every attempt (connect errors are resent) and the call say `connect`,
/// with no status.
async fn a_refused_connection(hh: &HealthHero, h: &mut Harness, id: &str) {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = HealthHero::new(hh.client().with_api_url(&nowhere).unwrap());
    let error = unreachable.traversals().get(id).await.unwrap_err();
    assert!(error.is_connect(), "{error}");
    let seen = h.take();
    let call = seen.call();
    assert_eq!(call.text("error.type").as_deref(), Some("connect"));
    assert!(call.error);
    let route = "GET /api/v1/{client_id}/Traversals/{traversal_id}";
    assert_eq!(
        seen.shape(),
        [route, "hh.backoff", route, "hh.backoff", route]
    );
    let attempts = seen.attempts();
    for attempt in &attempts {
        assert_eq!(attempt.text("error.type").as_deref(), Some("connect"));
        assert!(attempt.error && attempt.int("http.response.status_code").is_none());
    }
    assert_eq!(attempts[2].int("http.request.resend_count"), Some(2));
    assert!(seen.received.is_empty());
}

/// A client that opted into `url.full`: the attempt's span records the full URL, path and
/// all.
async fn url_full_once_opted_into(h: &mut Harness, id: &str) {
    let opted = h.client(|b| b.trace_full_url(true));
    opted.traversals().get(id).await.unwrap();
    let seen = h.take();
    let [attempt] = seen.attempts()[..] else {
        panic!("{:#?}", seen.spans)
    };
    assert_eq!(
        attempt.text("url.full"),
        Some(format!(
            "{}/api/v1/{}/Traversals/{id}",
            h.sandbox.api_url(),
            h.sandbox.client_id()
        ))
    );
}

/// Trace context off for the API, and on for the identity server: the token request then
/// carries its own span's context, and the API attempts none.
async fn propagation_as_configured(h: &mut Harness) {
    let client = h.client(|b| {
        b.propagate_trace_context(false)
            .propagate_trace_context_to_identity(true)
    });
    client
        .traversals()
        .create(&TraversalCreate::new("SYMPTOMS"))
        .await
        .unwrap();
    let seen = h.take();
    let [token] = seen.token_requests()[..] else {
        panic!("{:#?}", seen.spans)
    };
    let [received] = &seen.received[..] else {
        panic!("{:#?}", seen.received)
    };
    assert_eq!(received.endpoint, "token");
    assert_eq!(received.trace_id(), Some(token.trace.to_string().as_str()));
    assert_eq!(received.parent_id(), Some(token.id.to_string().as_str()));
}
