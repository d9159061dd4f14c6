//! Routing, and what every handler shares (problem details, JSON bodies, faults). The
//! handlers are in `traversals`, `members` and `reports`. Paths are matched case-insensitively under `/api/v1` and
//! `/api/v2`, as ASP.NET routes are; path values keep their case.

// Handlers return `Result<_, Response>` so an early `return Err(problem(..))` reads like axum's
// own rejections; a response is the error's natural size here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::engine::{CreateError, Outcome, Traversal};
use crate::faults::{Decision, Fault, MalformedToken};
use crate::wire::{MemberCreate, PermanentHistoryItem, RespondItem, Revisit, TraversalCreate};
use crate::{State, hra, identity};

mod members;
mod reports;
mod traversals;

use members::members;
use reports::reports;
use traversals::traversals;

/// An ASP.NET-style problem details response.
pub(crate) fn problem(
    status: StatusCode,
    title: &str,
    detail: Option<String>,
    errors: Option<Value>,
) -> Response {
    let mut body = json!({
        "type": format!("https://tools.ietf.org/html/rfc9110#section-15.{}", match status.as_u16() {
            400 => "5.1", 404 => "5.5", 409 => "5.10", 405 => "5.6", _ => "6.1",
        }),
        "title": title,
        "status": status.as_u16(),
        "traceId": format!("00-{:032x}-{:016x}-00", fastrand::u128(..), fastrand::u64(..)),
    });
    if let Some(d) = detail {
        body["detail"] = d.into();
    }
    if let Some(e) = errors {
        body["errors"] = e;
    }
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    response
}

fn not_found(what: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not Found",
        Some(what.to_owned()),
        None,
    )
}

/// A route the sandbox does not serve: 404 with a plain-text body naming it and where the
/// routes are, rather than the empty body ASP.NET sends, which leaves a caller guessing. Not
/// problem details: those are the APIs' answer for a resource they do not have (an `Option`
/// method's `None`), and a wrong route must not read as one.
pub(crate) fn unknown_route(method: &Method, path: &str) -> Response {
    let text = format!(
        "`{method} {path}` is not a route of the sandbox: the token endpoint is \
         `POST /connect/token`, the APIs are under `/api/v1/{{clientId}}/` and \
         `/api/v2/{{clientId}}/` (Traversals, ChatTraversals, Members, reports), and the \
         controls under `/_sandbox/`"
    );
    (
        StatusCode::NOT_FOUND,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// A body that is not the JSON the endpoint expects: 400 with the complaint in `errors`,
/// keyed by the JSON path of the field at fault (`$.age`, `$[0].questionId`), as ASP.NET
/// model binding reports it, and named in `detail`.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    let plain = match serde_json::from_slice(body) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    // Again, tracking the path, to name the field at fault.
    let mut de = serde_json::Deserializer::from_slice(body);
    let (key, message) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) if e.path().to_string() != "." => (
            format!("$.{}", e.path()).replace(".[", "["),
            e.into_inner().to_string(),
        ),
        _ => ("$".to_owned(), plain.to_string()),
    };
    Err(problem(
        StatusCode::BAD_REQUEST,
        "One or more validation errors occurred.",
        Some(format!("`{key}`: {message}")),
        Some(json!({ key: [message] })),
    ))
}

/// The routes the sandbox knows, parsed from a path.
#[derive(Debug)]
enum Route {
    Token,
    Discovery,
    Jwks,
    /// The online-triage service's algorithm list (no tenant in the path).
    Algos,
    Traversals {
        chat: bool,
        tenant: String,
        rest: Vec<String>,
    },
    Members {
        tenant: String,
        rest: Vec<String>,
    },
    Reports {
        tenant: String,
        rest: Vec<String>,
    },
    Admin(Vec<String>),
    Unknown,
}

fn route(path: &str) -> Route {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    match lower.as_slice() {
        ["connect", "token"] => Route::Token,
        [".well-known", "openid-configuration"] => Route::Discovery,
        [".well-known", "openid-configuration", "jwks"] => Route::Jwks,
        ["algos"] | ["api", "v1", "algos"] => Route::Algos,
        ["_sandbox", ..] => Route::Admin(lower[1..].iter().map(|s| (*s).to_owned()).collect()),
        ["api", "v1" | "v2", _, controller, ..] => {
            let tenant = segments[2].clone();
            let rest = segments[4..].to_vec();
            match *controller {
                "traversals" => Route::Traversals {
                    chat: false,
                    tenant,
                    rest,
                },
                "chattraversals" => Route::Traversals {
                    chat: true,
                    tenant,
                    rest,
                },
                "members" => Route::Members { tenant, rest },
                "reports" => Route::Reports { tenant, rest },
                _ => Route::Unknown,
            }
        }
        _ => Route::Unknown,
    }
}

/// The endpoint name (for faults and counters) and the methods it accepts.
fn endpoint(route: &Route) -> Option<(String, &'static [Method])> {
    const GET: &[Method] = &[Method::GET];
    const POST: &[Method] = &[Method::POST];
    Some(match route {
        Route::Token => ("token".into(), POST),
        Route::Discovery => ("discovery".into(), GET),
        Route::Jwks => ("jwks".into(), GET),
        Route::Traversals { chat, rest, .. } => {
            let group = if *chat {
                "chattraversals"
            } else {
                "traversals"
            };
            let action = rest.get(1).map(|a| a.to_ascii_lowercase());
            let (name, methods) = match (rest.len(), action.as_deref()) {
                (0, _) => ("create", POST),
                (1, _) => ("get", GET),
                (2, Some("respond")) => ("respond", POST),
                (2, Some("revisit")) => ("revisit", POST),
                (2, Some("previous")) if !*chat => ("previous", POST),
                (2, Some("conclusions")) => ("conclusions", GET),
                (2, Some("conclusion-report")) => ("conclusion-report", GET),
                (2, Some("questions")) => ("questions", GET),
                (2, Some("summary")) => ("summary", GET),
                (2, Some("history-lines")) => ("history-lines", GET),
                (2, Some("track-file")) => ("track-file", GET),
                _ => return None,
            };
            (format!("{group}.{name}"), methods)
        }
        Route::Members { rest, .. } => match (
            rest.len(),
            rest.get(1).map(|a| a.to_ascii_lowercase()).as_deref(),
        ) {
            (0, _) => ("members.create".into(), POST),
            (1, _) => ("members.get".into(), GET),
            (2, Some("permanent-history")) => ("members.permanent-history".into(), GET),
            _ => return None,
        },
        Route::Reports { rest, .. } => match (
            rest.len(),
            rest.get(1).map(|a| a.to_ascii_lowercase()).as_deref(),
        ) {
            (2, Some("risks")) => ("reports.risks".into(), GET),
            (2, Some("wellness")) => ("reports.wellness".into(), GET),
            (2, Some("previous")) => ("reports.previous".into(), GET),
            (4, Some("compare")) => ("reports.compare".into(), GET),
            _ => return None,
        },
        Route::Algos => ("algos".into(), GET),
        Route::Admin(_) | Route::Unknown => return None,
    })
}

/// Every request comes through here: route, count, inject faults, handle.
pub(crate) async fn dispatch(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    method: Method,
    uri: Uri,
    peer: Option<axum::Extension<crate::tls::PeerCertificate>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let peer = peer.and_then(|axum::Extension(p)| p.0);
    let route = route(uri.path());
    if let Route::Admin(rest) = &route {
        return crate::admin(&state, &method, rest, &body);
    }
    // Users' own endpoints first: a fake of a HealthHero trait answers for it.
    if let Some(answer) = crate::served::dispatch(
        &state,
        &method,
        &uri,
        &headers,
        peer.as_deref(),
        body.clone(),
    )
    .await
    {
        return answer;
    }
    let Some((name, methods)) = endpoint(&route) else {
        let served = crate::served::allowed(&state, uri.path());
        if !served.is_empty() {
            return method_not_allowed(&served);
        }
        return unknown_route(&method, uri.path());
    };
    if !methods.contains(&method) {
        return method_not_allowed(methods);
    }
    if let Some(injected) = admit(&state, &name, &headers).await {
        return injected;
    }
    let seen = identity::Seen {
        method: &method,
        path: uri.path(),
        headers: &headers,
        peer: peer.as_deref().map(Vec::as_slice),
    };
    handle(&state, route, &seen, &body, uri.query().unwrap_or(""))
}

/// 405, with the methods the endpoint accepts in `Allow`, and no body (as the crate docs say).
fn method_not_allowed(methods: &[Method]) -> Response {
    let allow = methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = StatusCode::METHOD_NOT_ALLOWED.into_response();
    if let Ok(v) = header::HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, v);
    }
    response
}

/// What every request for an endpoint goes through before its handler, HealthHero's and served
/// fakes' alike: counted, its trace context kept, then the faults injected for `name`, whose
/// answer (if any) is the response.
pub(crate) async fn admit(state: &State, name: &str, headers: &HeaderMap) -> Option<Response> {
    state.counters.hit(name);
    state.trace_contexts.record(name, headers);
    apply_faults(state, name).await
}

/// Applies the faults injected for the endpoint `name`, in order: a delay waits and goes
/// on; a failure, a dropped connection, a hang or a malformed token is the response.
async fn apply_faults(state: &State, name: &str) -> Option<Response> {
    for decision in state.faults.decide(name) {
        match decision {
            Decision::Delay(d) => tokio::time::sleep(d).await,
            Decision::Fail {
                status,
                retry_after,
                body,
            } => return Some(failure(status, retry_after, body)),
            Decision::Drop => return Some(dropped()),
            Decision::Hang => {
                state.wait_for_shutdown().await;
                return Some(StatusCode::SERVICE_UNAVAILABLE.into_response());
            }
            Decision::Malformed(shape) if name == "token" => return Some(malformed_token(shape)),
            Decision::Malformed(_) => {}
        }
    }
    None
}

/// The route's handler, after the bearer token is checked for the APIs.
fn handle(
    state: &State,
    route: Route,
    seen: &identity::Seen<'_>,
    body: &[u8],
    query: &str,
) -> Response {
    let headers = seen.headers;
    match route {
        Route::Token => identity::token(state, seen, body),
        Route::Discovery => identity::discovery(state),
        Route::Jwks => identity::jwks(state),
        Route::Traversals { chat, tenant, rest } => {
            if let Err(e) = crate::resource::authorize(state, seen, &tenant) {
                return e.into_response();
            }
            traversals(state, chat, &tenant, &rest, headers, body)
        }
        Route::Members { tenant, rest } => {
            if let Err(e) = crate::resource::authorize(state, seen, &tenant) {
                return e.into_response();
            }
            members(state, &tenant, &rest, body)
        }
        Route::Reports { tenant, rest } => {
            if let Err(e) = crate::resource::authorize(state, seen, &tenant) {
                return e.into_response();
            }
            reports(state, &tenant, &rest, query)
        }
        Route::Algos => algos(state, seen),
        Route::Admin(_) | Route::Unknown => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The online-triage service's algorithm list.
fn algos(state: &State, seen: &identity::Seen<'_>) -> Response {
    // No tenant in the path: any valid token of any registered client will do.
    if let Err(e) = crate::resource::authorize_any(state, seen) {
        return e.into_response();
    }
    let list: Vec<Value> = state
        .content
        .algos()
        .into_iter()
        .map(|a| json!({"algoName": a.algo_name, "assetId": a.algo_id, "keywords": a.keywords}))
        .collect();
    ok_json(&list)
}

fn failure(status: u16, retry_after: Option<String>, body: Option<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match body {
        Some(b) => (status, b).into_response(),
        None => problem(
            status,
            status.canonical_reason().unwrap_or("Error"),
            Some("injected by hh-sandbox".into()),
            None,
        ),
    };
    if let Some(v) = retry_after.and_then(|r| header::HeaderValue::from_str(&r).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// Status line, headers and the start of a body, then the connection is cut.
pub(crate) fn dropped() -> Response {
    use futures_util::StreamExt as _;
    let start =
        futures_util::stream::once(async { Ok(Bytes::from_static(b"{\"traversalId\":\"")) });
    // A pause first, so the status line and headers are on the wire before the cut.
    let cut = futures_util::stream::once(async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "hh-sandbox dropped the connection",
        ))
    });
    let mut response = Response::new(Body::from_stream(start.chain(cut)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        header::CONTENT_LENGTH,
        header::HeaderValue::from_static("4096"),
    );
    response
}

fn malformed_token(shape: MalformedToken) -> Response {
    let json = |v: Value| axum::Json(v).into_response();
    match shape {
        MalformedToken::Html => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response(),
        MalformedToken::Empty => StatusCode::OK.into_response(),
        MalformedToken::NotJson => (
            [(header::CONTENT_TYPE, "text/plain")],
            "access_token=abc&token_type=Bearer",
        )
            .into_response(),
        MalformedToken::MissingAccessToken => {
            json(json!({"token_type": "Bearer", "expires_in": 3600}))
        }
        MalformedToken::ErrorWith200 => json(
            json!({"error": "temporarily_unavailable", "error_description": "try again later"}),
        ),
        MalformedToken::Oversized => json(json!({
            "access_token": "x".repeat(1024 * 1024 + 1),
            "token_type": "Bearer",
            "expires_in": 3600
        })),
        MalformedToken::NotUtf8 => (
            [(header::CONTENT_TYPE, "application/json")],
            Bytes::from_static(b"{\"access_token\":\"\xff\xfe\",\"token_type\":\"Bearer\"}"),
        )
            .into_response(),
        MalformedToken::MissingTokenType => {
            json(json!({"access_token": "abc", "expires_in": 3600}))
        }
    }
}

/// `x-api-version: v3` turns on v3 content (the `Textarea` control).
fn is_v3(headers: &HeaderMap) -> bool {
    headers
        .get("x-api-version")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("v3"))
}

fn ok_json<T: serde::Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

/// Kept for the admin route: the faults it accepts are `Fault`'s JSON form.
pub(crate) fn parse_fault(body: &[u8]) -> Result<(String, Fault), String> {
    #[derive(serde::Deserialize)]
    struct Request {
        endpoint: String,
        fault: Fault,
    }
    let r: Request = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok((r.endpoint, r.fault))
}
