//! Declarations a new user writes on day one, each doing what it says: `Option<T>` returns,
//! optional and typed headers, optional, raw and text bodies, helper methods, a chosen client
//! name. Called against a loopback server that records the exact request.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use hh_runtime::{Error, healthhero_api};
use serde::{Deserialize, Serialize};

use crate::support;

/// A thing the API stores.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thing {
    /// Its name.
    pub name: String,
}

/// Things, declared with every day-one form.
#[healthhero_api(prefix = "/api/v1", client = "ThingsApi")]
#[header("X-Api-Version", "3 (beta)")]
pub trait Things {
    /// `None` when there is no such thing.
    #[get("/things/<id>")]
    async fn find(&self, id: &str) -> Result<Option<Thing>, Error>;

    /// `None` for a 204.
    #[get("/things/<id>/latest")]
    async fn latest(&self, id: &str) -> Result<Option<Thing>, Error>;

    /// Stores a thing (or nothing), with optional and typed headers.
    #[post("/things")]
    async fn create(
        &self,
        #[body] thing: Option<&Thing>,
        #[header("x-correlation-id")] correlation: Option<&str>,
        #[header("x-trace")] trace: &hh_runtime::HeaderValue,
    ) -> Result<(), Error>;

    /// Optional headers held by reference, as a caller keeping them in a struct has them.
    #[get("/tags/<id>")]
    async fn tags(
        &self,
        id: &str,
        #[header("x-tag")] tag: &Option<String>,
        #[header("x-trace")] trace: &Option<hh_runtime::HeaderValue>,
    ) -> Result<(), Error>;

    /// A photo, as raw bytes.
    #[put("/things/<id>/photo")]
    #[header("content-type", "image/png")]
    async fn photo(&self, id: &str, #[body(bytes)] png: &[u8]) -> Result<(), Error>;

    /// A note, as text.
    #[put("/things/<id>/note")]
    async fn note(&self, id: &str, #[body(text)] note: &str) -> Result<(), Error>;

    /// A helper built on the endpoints: kept as an ordinary default method.
    #[allow(async_fn_in_trait)]
    async fn find_or_default(&self, id: &str) -> Result<Thing, Error> {
        Ok(self.find(id).await?.unwrap_or_default())
    }
}

/// Jobs, declared with per-call options: a trait-wide timeout, one method's own, a GET that
/// is never resent, and a POST that is safe to resend.
#[healthhero_api(prefix = "/api/v1", client = "JobsApi")]
#[timeout("300ms")]
pub trait Jobs {
    /// Slower than the trait's timeout.
    #[get("/jobs/slow")]
    async fn slow(&self) -> Result<(), Error>;

    /// The same endpoint with its own, longer timeout.
    #[get("/jobs/slow")]
    #[timeout("5s")]
    async fn patient(&self) -> Result<(), Error>;

    /// A GET sent once whatever happens.
    #[get("/jobs/unavailable")]
    #[retry(false)]
    async fn once(&self) -> Result<(), Error>;

    /// A POST that may be sent twice.
    #[post("/jobs/unavailable")]
    #[idempotent]
    async fn cancel(&self) -> Result<(), Error>;

    /// A POST that may not.
    #[post("/jobs/unavailable")]
    async fn start(&self) -> Result<(), Error>;
}

/// Exports, one of them declared with a limit on the whole call.
#[healthhero_api(prefix = "/api/v1", client = "ExportsApi")]
pub trait Exports {
    /// Given 1 s in all, against an endpoint that takes 3 s.
    #[get("/exports/slow")]
    #[call_timeout("1s")]
    async fn hurried(&self) -> Result<(), Error>;

    /// The same endpoint, with no limit of its own.
    #[get("/exports/slow")]
    async fn unhurried(&self) -> Result<(), Error>;
}

#[derive(Clone, Debug)]
struct Seen {
    line: String,
    headers: HeaderMap,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn record(State(log): State<Log>, request: Request) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let path = parts.uri.path().to_owned();
    if path == "/connect/token" {
        return support::token_reply();
    }
    log.lock().unwrap().push(Seen {
        line: format!("{} {}", parts.method, path),
        headers: parts.headers,
        body,
    });
    match path.as_str() {
        "/api/v1/things/known" => {
            ([("content-type", "application/json")], r#"{"name":"lamp"}"#).into_response()
        }
        "/api/v1/things/known/latest" => StatusCode::NO_CONTENT.into_response(),
        "/api/v1/things/broken" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "/api/v1/jobs/slow" => {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            StatusCode::NO_CONTENT.into_response()
        }
        "/api/v1/jobs/unavailable" => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        "/api/v1/exports/slow" => {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            StatusCode::NO_CONTENT.into_response()
        }
        // The API's "no such thing": problem details, as ASP.NET's `NotFound()` sends.
        "/api/v1/things/missing" => (
            StatusCode::NOT_FOUND,
            [("content-type", "application/problem+json")],
            r#"{"title":"Not Found","status":404}"#,
        )
            .into_response(),
        // A gateway's own JSON for a route it does not have: not problem details.
        "/api/v1/things/gateway" => (
            StatusCode::NOT_FOUND,
            [("content-type", "application/json")],
            r#"{"statusCode":404,"message":"Resource not found"}"#,
        )
            .into_response(),
        // Another server's page, or a server without the route (an empty 404).
        "/api/v1/things/elsewhere" => (
            StatusCode::NOT_FOUND,
            [("content-type", "text/html")],
            "<html><body><h1>404 Not Found</h1></body></html>",
        )
            .into_response(),
        p if p.starts_with("/api/v1/things/") && parts.method == "GET" => {
            StatusCode::NOT_FOUND.into_response()
        }
        _ => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn api() -> (ThingsApi, Log) {
    let log: Log = Arc::default();
    let app = axum::Router::new().fallback(record).with_state(log.clone());
    let url = support::serve(app).await;
    (ThingsApi::new(support::client(&url, "c")), log)
}

fn last(log: &Log) -> Seen {
    log.lock().unwrap().last().cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn option_returns_mean_absent_is_not_an_error() {
    let (api, _) = api().await;
    assert_eq!(
        api.find("known").await.unwrap(),
        Some(Thing {
            name: "lamp".into()
        })
    );
    assert_eq!(api.find("missing").await.unwrap(), None, "404");
    assert_eq!(api.latest("known").await.unwrap(), None, "204");
    // Everything else is an error as for `T`.
    let err = api.find("broken").await.unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 500);
    // A 404 that is not the API's answer (a page, or no body: a server without the route, a
    // wrong deploy) is not "none": it stays an error.
    for id in ["elsewhere", "unrouted", "gateway"] {
        let err = api.find(id).await.unwrap_err();
        assert!(err.is_not_found(), "{id}: {err}");
    }
    // And the helper on top of them works as a default method.
    assert_eq!(
        api.find_or_default("missing").await.unwrap(),
        Thing::default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_and_typed_headers_and_an_optional_body() {
    let (api, log) = api().await;
    let trace = hh_runtime::HeaderValue::from_static("abc; sampled=1");
    api.create(
        Some(&Thing {
            name: "lamp".into(),
        }),
        Some("c-1"),
        &trace,
    )
    .await
    .unwrap();
    let seen = last(&log);
    assert_eq!(seen.line, "POST /api/v1/things");
    assert_eq!(seen.headers["x-correlation-id"], "c-1");
    assert_eq!(seen.headers["x-trace"], "abc; sampled=1");
    assert_eq!(&seen.body[..], br#"{"name":"lamp"}"#);
    assert_eq!(seen.headers["content-type"], "application/json");

    api.create(None, None, &trace).await.unwrap();
    let seen = last(&log);
    assert!(
        seen.headers.get("x-correlation-id").is_none(),
        "None sends no header"
    );
    assert!(seen.body.is_empty(), "None sends no body, not `null`");
    assert!(seen.headers.get("content-type").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_to_optional_headers_send_some_and_omit_none() {
    let (api, log) = api().await;
    let trace = Some(hh_runtime::HeaderValue::from_static("abc; sampled=1"));
    api.tags("t-1", &Some("blue".to_owned()), &trace)
        .await
        .unwrap();
    let seen = last(&log);
    assert_eq!(seen.line, "GET /api/v1/tags/t-1");
    assert_eq!(seen.headers["x-tag"], "blue");
    assert_eq!(seen.headers["x-trace"], "abc; sampled=1");

    api.tags("t-1", &None, &None).await.unwrap();
    let seen = last(&log);
    assert!(seen.headers.get("x-tag").is_none(), "None sends no header");
    assert!(
        seen.headers.get("x-trace").is_none(),
        "None sends no header"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_and_text_bodies() {
    let (api, log) = api().await;
    api.photo("known", &[0x89, b'P', b'N', b'G', 0, 255])
        .await
        .unwrap();
    let seen = last(&log);
    assert_eq!(&seen.body[..], &[0x89, b'P', b'N', b'G', 0, 255]);
    assert_eq!(
        seen.headers["content-type"], "image/png",
        "the declared type wins"
    );
    // Fixed headers of the trait and the method, sent once each.
    let versions: Vec<_> = seen.headers.get_all("x-api-version").iter().collect();
    assert_eq!(versions, ["3 (beta)"]);
    assert_eq!(seen.headers.get_all("content-type").iter().count(), 1);

    api.note("known", "first line\nsecond, ü").await.unwrap();
    let seen = last(&log);
    assert_eq!(&seen.body[..], "first line\nsecond, ü".as_bytes());
    assert_eq!(seen.headers["content-type"], "text/plain; charset=utf-8");
}

// On the paused clock, with the server in the same runtime: the timeouts are exact.
#[tokio::test(start_paused = true)]
async fn per_call_options_change_timeouts_and_retries() {
    let log: Log = Arc::default();
    let app = axum::Router::new().fallback(record).with_state(log.clone());
    let url = support::serve(app).await;
    let jobs = JobsApi::new(support::client(&url, "c"));
    let sent = |line: &str| {
        log.lock()
            .unwrap()
            .iter()
            .filter(|s| s.line == line)
            .count()
    };

    // The trait's 300 ms, then the method's own 5 s, against an endpoint that takes 1 s.
    let started = tokio::time::Instant::now();
    let error = jobs.slow().await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(error.to_string().contains("300ms"), "{error}");
    // Three attempts (a GET is retried) of 300 ms each, and their backoffs, on the paused
    // clock: exact. An attempt that waited out the endpoint's 1 s would have succeeded.
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(900) && took < std::time::Duration::from_secs(3),
        "{took:?}"
    );
    jobs.patient().await.unwrap();

    // A 503: the `#[retry(false)]` GET once, the `#[idempotent]` POST as often as the policy
    // allows (3 attempts), the plain POST once.
    assert_eq!(
        jobs.once().await.unwrap_err().status(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(sent("GET /api/v1/jobs/unavailable"), 1);
    jobs.cancel().await.unwrap_err();
    assert_eq!(sent("POST /api/v1/jobs/unavailable"), 3);
    jobs.start().await.unwrap_err();
    assert_eq!(sent("POST /api/v1/jobs/unavailable"), 4);
}

// On the paused clock, as above: the server's 3 s and the method's 1 s are exact, and both are
// far below the client's 30 s per-attempt timeout.
#[tokio::test(start_paused = true)]
async fn a_methods_call_timeout_limits_that_method_only() {
    let log: Log = Arc::default();
    let app = axum::Router::new().fallback(record).with_state(log.clone());
    let url = support::serve(app).await;
    let exports = ExportsApi::new(support::client(&url, "c"));

    // The method's 1 s fires while the endpoint's 3 s answer is still on its way.
    let started = tokio::time::Instant::now();
    let error = exports.hurried().await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.kind(), hh_runtime::ErrorKind::Deadline, "{error}");
    assert!(error.to_string().contains("`call_timeout`"), "{error}");
    assert!(error.to_string().contains("1s"), "{error}");
    assert!(
        took >= std::time::Duration::from_secs(1) && took < std::time::Duration::from_secs(3),
        "{took:?}"
    );

    // The same client's other method waits the endpoint's 3 s out and gets its answer.
    let started = tokio::time::Instant::now();
    exports.unhurried().await.unwrap();
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        log.lock()
            .unwrap()
            .iter()
            .filter(|s| s.line == "GET /api/v1/exports/slow")
            .count(),
        2
    );
}

/// Members, as a user declares them, with one route mistyped (`Membrs`).
#[healthhero_api]
pub trait Directory {
    /// `None` when there is no such member.
    #[get("/api/v1/<client_id>/Members/<reference>")]
    async fn member(&self, reference: &str) -> Result<Option<serde_json::Value>, Error>;
    /// The same, on a route the server does not have.
    #[get("/api/v1/<client_id>/Membrs/<reference>")]
    async fn misrouted(&self, reference: &str) -> Result<Option<serde_json::Value>, Error>;
}

/// Against hh-sandbox: an unknown member is `None` (the API's problem details), while the
/// same call on a mistyped route fails, naming the route, instead of reading as "no member".
#[tokio::test(start_paused = true)]
async fn a_wrong_route_is_not_an_absent_resource() {
    let sandbox = hh_sandbox::Sandbox::start().await.unwrap();
    let directory = DirectoryClient::new(support::sandbox_builder(&sandbox).build().unwrap());
    assert_eq!(directory.member("no-such-member").await.unwrap(), None);
    let error = directory.misrouted("no-such-member").await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(
        error
            .body_text()
            .unwrap()
            .contains("is not a route of the sandbox"),
        "{error:?}"
    );
}
