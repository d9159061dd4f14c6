//! The common paths: a success, a 404, a 503 retried, a 401 replayed, a refused connection,
//! and `url.full` once opted into.

use healthhero::models::TraversalCreate;
use healthhero::{HealthHero, Traversals as _, TraversalsClient};
use hh_sandbox::{Fault, Sandbox};
use opentelemetry::Value;
use opentelemetry::trace::{SpanId, SpanKind};

use super::{Exported, Harness, Seen, assert_propagated};

/// A success: the call, its token wait (the first call has no token), the token request
/// linked to that wait, and one attempt. Returns the id of the traversal it created.
pub(super) async fn a_success(t: &TraversalsClient, h: &mut Harness) -> String {
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

/// The token fetch a call waited for: an INTERNAL root span of its own (it serves every waiting
/// caller), linked to the wait that caused it, around the one CLIENT span of its request to the
/// identity server.
pub(super) fn assert_token_request(seen: &Seen, wait: &Exported, sandbox: &Sandbox) {
    let [fetch] = seen.named("hh.token.fetch")[..] else {
        panic!("{:#?}", seen.spans)
    };
    assert_eq!(fetch.kind, SpanKind::Internal);
    assert_eq!(
        fetch.parent,
        SpanId::INVALID,
        "a token fetch belongs to no caller"
    );
    assert_eq!(
        fetch.links,
        vec![wait.id],
        "but it is linked to the wait it ended"
    );
    assert_eq!(
        fetch.text("hh.client_id").as_deref(),
        Some(sandbox.client_id())
    );
    let [request] = seen.token_requests()[..] else {
        panic!("{:#?}", seen.spans)
    };
    assert_eq!(request.kind, SpanKind::Client);
    assert_eq!(request.parent, fetch.id);
    assert_eq!(request.text("http.request.method").as_deref(), Some("POST"));
    assert_eq!(request.text("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(
        request.int("server.port"),
        Some(i64::from(sandbox.addr().port()))
    );
    assert_eq!(request.int("http.response.status_code"), Some(200));
    assert_eq!(
        request.text("url.template").as_deref(),
        Some("/connect/token")
    );
    assert_eq!(
        request.text("url.full"),
        Some(format!("{}/connect/token", sandbox.identity_url()))
    );
}

/// A 404: the attempt is a failed CLIENT span with both the status and `error.type`; the call
/// returns the error, so its span fails too.
pub(super) async fn a_not_found(t: &TraversalsClient, h: &mut Harness) {
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
pub(super) async fn a_retried_503(t: &TraversalsClient, h: &mut Harness, id: &str) {
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
    assert_eq!(
        outcomes(&attempts),
        [
            (Some(503), None, Some("503".into()), true),
            (Some(200), Some(1), None, false)
        ]
    );
    let backoff = seen.children(call)[1];
    assert_eq!(backoff.kind, SpanKind::Internal);
    assert_eq!(backoff.int("http.request.resend_count"), Some(1));
    assert!(matches!(backoff.attributes.get("hh.backoff.delay"), Some(Value::F64(d)) if *d >= 0.0));
    assert_propagated(&seen, &attempts);
}

/// A revoked token: a 401, a wait for the new token (one request), and the replay.
pub(super) async fn a_replayed_401(t: &TraversalsClient, h: &mut Harness, id: &str) {
    h.sandbox.revoke_all_tokens();
    t.get(id).await.unwrap();
    let seen = h.take();
    let route = "GET /api/v1/{client_id}/Traversals/{traversal_id}";
    assert_eq!(seen.shape(), [route, "hh.token.wait", route]);
    let attempts = seen.attempts();
    assert_eq!(
        outcomes(&attempts),
        [
            (Some(401), None, Some("401".into()), true),
            (Some(200), Some(1), None, false)
        ]
    );
    let wait = seen.children(seen.call())[1];
    assert_token_request(&seen, wait, &h.sandbox);
    assert_propagated(&seen, &attempts);
}

/// No server at all: every attempt (connect errors are resent) and the call say `connect`,
/// with no status.
pub(super) async fn a_refused_connection(hh: &HealthHero, h: &mut Harness, id: &str) {
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
pub(super) async fn url_full_once_opted_into(h: &mut Harness, id: &str) {
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

/// An attempt's status, `http.request.resend_count`, `error.type` and whether it failed.
type Outcome = (Option<i64>, Option<i64>, Option<String>, bool);

/// Each attempt's [`Outcome`].
fn outcomes(attempts: &[&Exported]) -> Vec<Outcome> {
    attempts
        .iter()
        .map(|a| {
            (
                a.int("http.response.status_code"),
                a.int("http.request.resend_count"),
                a.text("error.type"),
                a.error,
            )
        })
        .collect()
}
