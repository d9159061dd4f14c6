//! The edges: an attempt cut short by the call's deadline, a body cut off after its head, a
//! 404 read as `None`, a refused secret, a caller's `tracestate`, and where trace context goes
//! as configured.

use std::time::Duration;

use healthhero::models::TraversalCreate;
use healthhero::{HealthHero, Traversals as _, TraversalsClient};
use hh_sandbox::Fault;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::{Harness, assert_propagated};

/// Members, declared as a user would, with `Option` for "no such member"; and a traversal's
/// state with a short limit on the whole call.
#[hh_runtime::healthhero_api]
pub(super) trait Directory {
    /// `None` when there is no such member.
    #[get("/api/v1/<client_id>/Members/<reference>")]
    async fn member(&self, reference: &str)
    -> Result<Option<serde_json::Value>, hh_runtime::Error>;

    /// A traversal's state, within 300 ms.
    #[get("/api/v1/<client_id>/Traversals/<traversal_id>")]
    #[call_timeout("300ms")]
    async fn traversal(&self, traversal_id: &str) -> Result<serde_json::Value, hh_runtime::Error>;
}

/// A call whose deadline ends it while its attempt waits for an answer that never comes (the
/// client's token is warm, so the deadline falls on the attempt): the attempt is still a
/// request, failed with `timeout`, and so is the call. Then the same, dropped by its caller:
/// `cancelled`.
pub(super) async fn an_attempt_cut_short(hh: &HealthHero, h: &mut Harness, id: &str) {
    h.sandbox.inject("traversals.get", Fault::Hang);
    let directory = DirectoryClient::new(hh.client().clone());
    let error = directory.traversal(id).await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    let by_deadline = h.take();
    let gave_up = tokio::time::timeout(Duration::from_millis(300), hh.traversals().get(id)).await;
    assert!(gave_up.is_err());
    h.sandbox.clear_faults();
    let by_caller = h.take();
    for (seen, why) in [(by_deadline, "timeout"), (by_caller, "cancelled")] {
        let call = seen.call();
        assert_eq!(call.text("error.type").as_deref(), Some(why));
        assert!(call.error);
        let [attempt] = seen.attempts()[..] else {
            panic!("{:#?}", seen.spans)
        };
        assert_eq!(attempt.text("error.type").as_deref(), Some(why));
        assert!(attempt.error && attempt.int("http.response.status_code").is_none());
        assert_propagated(&seen, &[attempt]);
    }
}

/// An answer whose head arrived and whose body was cut off: each attempt records the status
/// it received and fails with `body`.
pub(super) async fn a_body_cut_off(t: &TraversalsClient, h: &mut Harness, id: &str) {
    h.sandbox.inject("traversals.get", Fault::DropConnection);
    let error = t.get(id).await.unwrap_err();
    h.sandbox.clear_faults();
    let seen = h.take();
    assert_eq!(
        seen.call().text("error.type").as_deref(),
        Some("body"),
        "{error}"
    );
    let attempts = seen.attempts();
    assert!(!attempts.is_empty());
    for attempt in &attempts {
        assert_eq!(attempt.int("http.response.status_code"), Some(200));
        assert_eq!(attempt.text("error.type").as_deref(), Some("body"));
        assert!(attempt.error);
    }
    assert_propagated(&seen, &attempts);
}

/// A 404 an `Option` method returns as `None`: the attempt failed (a 4xx, for a client span),
/// the call did not, and says the resource was absent.
pub(super) async fn a_404_read_as_none(hh: &HealthHero, h: &mut Harness) {
    let directory = DirectoryClient::new(hh.client().clone());
    assert!(directory.member("no-such-member").await.unwrap().is_none());
    let seen = h.take();
    let call = seen.call();
    assert_eq!(call.name, "Directory.member");
    assert!(matches!(
        call.attributes.get("hh.absent"),
        Some(opentelemetry::Value::Bool(true))
    ));
    assert!(
        !call.error && call.text("error.type").is_none(),
        "{call:#?}"
    );
    let [attempt] = seen.attempts()[..] else {
        panic!("{:#?}", seen.spans)
    };
    assert_eq!(attempt.name, "GET /api/v1/{client_id}/Members/{reference}");
    assert_eq!(attempt.int("http.response.status_code"), Some(404));
    assert_eq!(attempt.text("error.type").as_deref(), Some("404"));
    assert!(attempt.error);
}

/// A token endpoint that answers 200 with something that is not a token: the request has its
/// status, and fails with what was wrong with the answer, not with the status.
pub(super) async fn a_token_answer_that_is_no_token(h: &mut Harness, id: &str) {
    let hh = h.client(|b| b.retry(hh_runtime::RetryPolicy::none()));
    h.sandbox.inject(
        "token",
        Fault::MalformedToken {
            shape: hh_sandbox::MalformedToken::Html,
        },
    );
    let error = hh.traversals().get(id).await.unwrap_err();
    h.sandbox.clear_faults();
    assert!(error.is_token(), "{error}");
    let seen = h.take();
    let [request] = seen.token_requests()[..] else {
        panic!("{:#?}", seen.spans)
    };
    assert_eq!(request.int("http.response.status_code"), Some(200));
    assert_eq!(
        request.text("error.type").as_deref(),
        Some("malformed_response")
    );
    assert!(request.error);
}

/// A secret the identity server refuses: no attempt at all; the wait, the fetch and its
/// request fail with the status the token endpoint answered, the call with `token`.
pub(super) async fn a_refused_secret(h: &mut Harness, id: &str) {
    let hh = h.client(|b| b.client_secret("not-the-secret"));
    let error = hh.traversals().get(id).await.unwrap_err();
    assert!(error.is_token(), "{error}");
    let seen = h.take();
    let call = seen.call();
    assert_eq!(call.text("error.type").as_deref(), Some("token"));
    assert_eq!(seen.shape(), ["hh.token.wait"]);
    let [request] = seen.token_requests()[..] else {
        panic!("{:#?}", seen.spans)
    };
    let status = request.int("http.response.status_code").unwrap();
    assert!((400..500).contains(&status), "{request:#?}");
    let [fetch] = seen.named("hh.token.fetch")[..] else {
        panic!("{:#?}", seen.spans)
    };
    let wait = seen.children(call)[0];
    for failed in [request, fetch, wait] {
        assert_eq!(
            failed.text("error.type"),
            Some(status.to_string()),
            "{failed:#?}"
        );
        assert!(failed.error);
    }
    assert!(seen.received.is_empty());
}

/// A call made while handling a request that came with trace context: the attempt continues
/// that trace, and passes the caller's `tracestate` on, in place of a stale one the client's
/// default headers carried.
pub(super) async fn a_callers_tracestate(h: &mut Harness, id: &str) {
    let stale = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let hh = h.client(|b| {
        b.default_header("traceparent", stale)
            .default_header("tracestate", "stale=1")
    });
    // A token first, so that the trace below holds the attempt alone.
    hh.traversals()
        .create(&TraversalCreate::new("SYMPTOMS"))
        .await
        .unwrap();
    h.take();
    let trace = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let caller = SpanContext::new(
        trace,
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "value")]).unwrap(),
    );
    let incoming = tracing::info_span!("incoming request");
    incoming
        .set_parent(opentelemetry::Context::new().with_remote_span_context(caller))
        .unwrap();
    hh.traversals().get(id).instrument(incoming).await.unwrap();
    let seen = h.take();
    let [attempt] = seen.attempts()[..] else {
        panic!("{:#?}", seen.spans)
    };
    assert_eq!(attempt.trace, trace);
    assert_eq!(attempt.kind, SpanKind::Client);
    let [received] = &seen.received[..] else {
        panic!("{:#?}", seen.received)
    };
    assert_eq!(received.trace_id(), Some(trace.to_string().as_str()));
    assert_eq!(received.parent_id(), Some(attempt.id.to_string().as_str()));
    assert_eq!(received.tracestate.as_deref(), Some("vendor=value"));
    // With no caller: this trace has no state, and the stale one is not sent either.
    hh.traversals().get(id).await.unwrap();
    let seen = h.take();
    assert_propagated(&seen, &seen.attempts());
}

/// Trace context off for the API, and on for the identity server: the token request then
/// carries its own span's context, and the API attempts none.
pub(super) async fn propagation_as_configured(h: &mut Harness) {
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
