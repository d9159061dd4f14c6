//! Routing and the API handlers. Paths are matched case-insensitively under `/api/v1` and
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

/// A route the sandbox does not serve: 404 problem details naming it and where the routes are,
/// rather than an empty body that leaves a caller guessing.
pub(crate) fn unknown_route(method: &Method, path: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not Found",
        Some(format!(
            "`{method} {path}` is not a route of the sandbox: the token endpoint is \
             `POST /connect/token`, the APIs are under `/api/v1/{{clientId}}/` and \
             `/api/v2/{{clientId}}/` (Traversals, ChatTraversals, Members, reports), and the \
             controls under `/_sandbox/`"
        )),
        None,
    )
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
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = route(uri.path());
    if let Route::Admin(rest) = &route {
        return crate::admin(&state, &method, rest, &body);
    }
    let Some((name, methods)) = endpoint(&route) else {
        return unknown_route(&method, uri.path());
    };
    if !methods.contains(&method) {
        let allow = methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let mut response = StatusCode::METHOD_NOT_ALLOWED.into_response();
        if let Ok(v) = header::HeaderValue::from_str(&allow) {
            response.headers_mut().insert(header::ALLOW, v);
        }
        return response;
    }
    state.counters.hit(&name);
    for decision in state.faults.decide(&name) {
        match decision {
            Decision::Delay(d) => tokio::time::sleep(d).await,
            Decision::Fail {
                status,
                retry_after,
                body,
            } => return failure(status, retry_after, body),
            Decision::Drop => return dropped(),
            Decision::Hang => {
                state.wait_for_shutdown().await;
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            Decision::Malformed(shape) if name == "token" => return malformed_token(shape),
            Decision::Malformed(_) => {}
        }
    }
    let query = uri.query().unwrap_or("");
    match route {
        Route::Token => identity::token(&state, &headers, &body),
        Route::Discovery => identity::discovery(&state),
        Route::Jwks => identity::jwks(&state),
        Route::Traversals { chat, tenant, rest } => {
            if let Err(e) = identity::authorize(&state, &headers, &tenant) {
                return e.into_response();
            }
            traversals(&state, chat, &tenant, &rest, &headers, &body)
        }
        Route::Members { tenant, rest } => {
            if let Err(e) = identity::authorize(&state, &headers, &tenant) {
                return e.into_response();
            }
            members(&state, &tenant, &rest, &body)
        }
        Route::Reports { tenant, rest } => {
            if let Err(e) = identity::authorize(&state, &headers, &tenant) {
                return e.into_response();
            }
            reports(&state, &tenant, &rest, query)
        }
        Route::Algos => {
            // No tenant in the path: any valid token of any registered client will do.
            if let Err(e) = identity::authorize_any(&state, &headers) {
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
        Route::Admin(_) | Route::Unknown => StatusCode::NOT_FOUND.into_response(),
    }
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
fn dropped() -> Response {
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

fn traversals(
    state: &State,
    chat: bool,
    tenant: &str,
    rest: &[String],
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let v3 = is_v3(headers);
    if rest.is_empty() {
        return create_traversal(state, chat, tenant, v3, body);
    }
    let Some(entry) = state.traversal(&rest[0]) else {
        return not_found(&format!("Traversal {} was not found", rest[0]));
    };
    let mut t = entry
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !t.tenant.eq_ignore_ascii_case(tenant) || t.chat != chat {
        return not_found(&format!("Traversal {} was not found", rest[0]));
    }
    let content = &state.content;
    let action = rest.get(1).map(|a| a.to_ascii_lowercase());
    match action.as_deref() {
        None => ok_json(&t.response(content, v3, Vec::new(), &HashMap::new())),
        Some("respond") => {
            let items: Vec<RespondItem> = match parse_json(body) {
                Ok(i) => i,
                Err(r) => return r,
            };
            match t.respond(content, &items) {
                Outcome::Moved { permanent } => {
                    if let Some(member) = t.member.clone() {
                        state.record_permanent(tenant, &member, &t.id, permanent);
                    }
                    ok_json(&t.response(content, v3, Vec::new(), &HashMap::new()))
                }
                Outcome::Invalid {
                    errors,
                    node_errors,
                } => ok_json(&t.response(content, v3, errors, &node_errors)),
            }
        }
        Some("previous") => {
            let errors = if t.previous() {
                Vec::new()
            } else {
                vec!["There is no previous page to go back to".to_owned()]
            };
            ok_json(&t.response(content, v3, errors, &HashMap::new()))
        }
        Some("revisit") => {
            let revisit: Revisit = match parse_json(body) {
                Ok(r) => r,
                Err(r) => return r,
            };
            let _ = revisit.algo_id;
            let question = if chat { revisit.asset_id } else { None };
            let errors = if t.revisit(content, revisit.node_id, question) {
                Vec::new()
            } else {
                vec![format!(
                    "Node {} has not been answered in this traversal",
                    revisit.node_id
                )]
            };
            ok_json(&t.response(content, v3, errors, &HashMap::new()))
        }
        Some("conclusions") => ok_json(&conclusions(state, &t)),
        Some("conclusion-report") => {
            if t.assessment_type != 1 {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "Conclusion reports are only available for symptom assessments",
                    Some(format!("{} is not an online triage product", t.short_code)),
                    None,
                );
            }
            ok_json(&conclusion_report(state, &t))
        }
        Some("questions") => ok_json(&question_summary(state, &t)),
        Some("summary") => ok_json(&json!({
            "traversalId": t.id,
            "shortCode": t.short_code,
            "assessmentType": t.assessment_type,
            "completed": t.is_complete(),
            "language": t.language,
            "questions": question_summary(state, &t),
            "conclusions": conclusions(state, &t),
        })),
        Some("history-lines") => ok_json(&history_lines(state, &t)),
        Some("track-file") => {
            let lines: Vec<String> = t
                .answered()
                .iter()
                .flat_map(|(q, g)| {
                    g.items.iter().map(move |(a, v)| {
                        format!(
                            "{},{},{},{},{}",
                            g.page,
                            g.node_id,
                            q,
                            a,
                            v.clone().unwrap_or_default()
                        )
                    })
                })
                .collect();
            // "A string": sent as text, not as a JSON string.
            (
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                lines.join("\n"),
            )
                .into_response()
        }
        Some(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn create_traversal(state: &State, chat: bool, tenant: &str, v3: bool, body: &[u8]) -> Response {
    let request: TraversalCreate = match parse_json(body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if request.short_code.trim().is_empty() {
        return problem(
            StatusCode::BAD_REQUEST,
            "One or more validation errors occurred.",
            None,
            Some(json!({"ShortCode": ["The ShortCode field is required."]})),
        );
    }
    let mut injected = request.injected_history.unwrap_or_default();
    if let Some(member) = &request.member_reference {
        match state.permanent_history(tenant, member) {
            // A member's permanent answers are injected silently, unless the caller sent them.
            Some(items) => {
                for item in items {
                    if !injected.iter().any(|i| i.asset_id == item.asset_id)
                        && let Some(answer) = item.answer_id
                    {
                        injected.push(crate::wire::InjectedHistory {
                            traversal_id: Some(item.traversal_id.clone()),
                            asset_id: item.asset_id,
                            answer_id: answer,
                            value: item.value.clone(),
                            injected_history_type: crate::wire::InjectedType::PreAnswer,
                            is_answered: true,
                        });
                    }
                }
            }
            None => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "Unknown member",
                    Some(format!(
                        "Member {member} does not exist; create it with POST .../Members first"
                    )),
                    None,
                );
            }
        }
    }
    let created = Traversal::create(
        &state.content,
        tenant,
        chat,
        &request.short_code,
        request.language.as_deref(),
        (request.algo_id, request.node_id),
        request.member_reference.clone(),
        injected,
    );
    let traversal = match created {
        Ok(t) => t,
        Err(CreateError::UnknownProduct(p)) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Unknown product",
                Some(format!("No product has the short code {p}")),
                None,
            );
        }
        Err(CreateError::UnknownLanguage(l)) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Unknown language",
                Some(format!("The product has no {l} content")),
                None,
            );
        }
        Err(CreateError::UnknownStart(s)) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Unknown start",
                Some(format!("There is no {s} in this product")),
                None,
            );
        }
        Err(CreateError::BadInjection(m)) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Invalid injected history",
                Some(m),
                None,
            );
        }
    };
    if let Some(member) = &request.member_reference {
        state.add_member_traversal(tenant, member, &traversal.id);
    }
    let response = traversal.response(&state.content, v3, Vec::new(), &HashMap::new());
    state
        .traversals
        .insert(traversal.id.clone(), Arc::new(Mutex::new(traversal)));
    ok_json(&response)
}

/// The reached conclusions as the API serves them: the content's fields plus where each was
/// reached.
fn conclusions(state: &State, t: &Traversal) -> Vec<Value> {
    t.conclusions()
        .into_iter()
        .enumerate()
        .filter_map(|(i, (id, node))| {
            let mut c = state.content.conclusion(id)?.clone();
            let algo = state.content.node(node).map_or(0, |n| n.algo_id);
            c.insert("algoId".into(), algo.into());
            c.insert("nodeId".into(), node.into());
            c.insert("groupId".into(), 0.into());
            c.insert("counter".into(), (i + 1).into());
            c.insert("nextNodeId".into(), 0.into());
            c.insert("data".into(), json!({}));
            if let Some(Value::Array(bullets)) = c.get_mut("bullets") {
                for b in bullets.iter_mut() {
                    let bullet_id = b["bulletId"].as_i64().unwrap_or(0);
                    b["conclusionId"] = id.into();
                    b["bulletUniqueId"] = (i64::from(id) * 1000 + bullet_id).into();
                    b["data"] = json!({});
                }
            }
            Some(Value::Object(c))
        })
        .collect()
}

fn conclusion_report(state: &State, t: &Traversal) -> Value {
    let all = conclusions(state, t);
    let visible: Vec<&Value> = all.iter().filter(|c| c["silent"] != true).collect();
    let mut symptom: Vec<&Value> = visible
        .iter()
        .copied()
        .filter(|c| c["information"] != true)
        .collect();
    symptom.sort_by_key(|c| c["priority"].as_i64().unwrap_or(i64::MAX));
    let information: Vec<&Value> = visible
        .iter()
        .copied()
        .filter(|c| c["information"] == true)
        .collect();
    let reason = symptom.first().copied();
    let bullets = |list: &[&Value], kind: &str| -> Vec<Value> {
        list.iter()
            .flat_map(|c| c["bullets"].as_array().cloned().unwrap_or_default())
            .filter(|b| kind.is_empty() || b["category2"] == kind)
            .collect()
    };
    let title = reason
        .and_then(|r| r["title"].as_str())
        .map(|t| t.split('|').next().unwrap_or(t).to_owned());
    json!({
        "highestPriority": reason.map(|r| r["priority"].clone()).unwrap_or(Value::Null),
        "symptomConclusions": symptom,
        "reasonConclusionTitle": "Why we made this recommendation",
        "reasonConclusions": reason.into_iter().collect::<Vec<_>>(),
        "otherConclusionTitle": "Other things we considered",
        "otherConclusions": symptom.iter().skip(1).collect::<Vec<_>>(),
        "informationConclusionTitle": "Information for you",
        "informationConclusions": information,
        "contactBulletTitle": "Who to contact",
        "contactBullets": bullets(&symptom, "contact"),
        "dangerBulletTitle": "Get help urgently if",
        "dangerBullets": bullets(&symptom, "danger"),
        "reasonBulletTitle": "What you can do",
        "reasonBullets": bullets(&symptom, "reason"),
        "mainBullets": bullets(&reason.into_iter().collect::<Vec<_>>(), ""),
        "reasonCategory": reason.map(|r| r["category1"].clone()).unwrap_or(Value::Null),
        "reasonSubCat1": reason.map(|r| r["subCategory"].clone()).unwrap_or(Value::Null),
        "reasonDisposition": reason.map(|r| r["displayText"].clone()).unwrap_or(Value::Null),
        "messageTitle": title,
        "messageLevel": reason.and_then(|r| r["priority"].as_i64()).map_or(0, message_level),
        "messageDescription": reason.map(|r| r["explanation"].clone()).unwrap_or(Value::Null),
        "reasonTimeInMinutes": reason.and_then(|r| r["priority"].as_i64()).map_or(0, minutes_to_act),
    })
}

/// 1 (emergency) to 4 (routine), from the disposition's priority.
fn message_level(priority: i64) -> i64 {
    match priority {
        ..=50014 => 1,
        50015..=50019 => 2,
        50020..=50025 => 3,
        _ => 4,
    }
}

/// How soon to act on the disposition, in minutes (0: now).
fn minutes_to_act(priority: i64) -> i64 {
    match priority {
        50015..=50016 => 240,
        50017..=50019 => 480,
        50020..=50025 => 20_160,
        50026..=50030 => 1_440,
        _ => 0,
    }
}

fn question_summary(state: &State, t: &Traversal) -> Vec<Value> {
    let content = &state.content;
    t.answered()
        .into_iter()
        .filter_map(|(question_id, given)| {
            let (node, question) = content.question(question_id)?;
            let answers: Vec<Value> = given
                .items
                .iter()
                .map(|(answer_id, value)| {
                    let label = question
                        .answers
                        .iter()
                        .find(|a| a.answer_id == *answer_id)
                        .and_then(|a| a.display_text.clone());
                    json!({
                        "id": format!("{}-{}-{}", t.id, question_id, answer_id),
                        "traversalId": t.id,
                        "algoId": node.algo_id,
                        "groupId": 0,
                        "nodeId": given.node_id,
                        "assetId": question_id,
                        "nodeType": "Question",
                        "nodeTypeId": 1,
                        "answerId": answer_id,
                        "nextNodeId": 0,
                        "value": value,
                        "counter": given.counter,
                        "previousCounter": given.counter.saturating_sub(1),
                        "createdDateTime": given.at,
                        "displayText": label,
                        "summaryText": label,
                        "clinicalText": label,
                        "isAnswered": true,
                    })
                })
                .collect();
            Some(json!({
                "algoId": node.algo_id,
                "nodeId": given.node_id,
                "assetId": question_id,
                "groupId": 0,
                "displayText": question.display_text,
                "summaryText": question.display_text,
                "clinicalText": question.display_text,
                "nodeType": "Question",
                "nodeTypeId": 1,
                "answers": answers,
            }))
        })
        .collect()
}

fn history_lines(state: &State, t: &Traversal) -> Vec<String> {
    t.answered()
        .into_iter()
        .filter_map(|(question_id, given)| {
            let (_, question) = state.content.question(question_id)?;
            let text = question.display_text.clone()?;
            let answers: Vec<String> = given
                .items
                .iter()
                .map(|(a, v)| {
                    let label = question
                        .answers
                        .iter()
                        .find(|x| x.answer_id == *a)
                        .and_then(|x| x.display_text.clone())
                        .unwrap_or_default();
                    match v {
                        Some(v) if label.is_empty() => v.clone(),
                        Some(v) => format!("{v} {label}"),
                        None => label,
                    }
                })
                .collect();
            Some(format!("{text} {}", answers.join(", ")))
        })
        .collect()
}

fn members(state: &State, tenant: &str, rest: &[String], body: &[u8]) -> Response {
    match rest {
        [] => {
            let request: MemberCreate = match parse_json(body) {
                Ok(r) => r,
                Err(r) => return r,
            };
            if request.member_reference.trim().is_empty() {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "One or more validation errors occurred.",
                    None,
                    Some(json!({"MemberReference": ["The MemberReference field is required."]})),
                );
            }
            match state.create_member(tenant, &request.member_reference) {
                Some(member) => ok_json(&member),
                None => problem(
                    StatusCode::CONFLICT,
                    "Member already exists",
                    Some(format!(
                        "Member {} already exists",
                        request.member_reference
                    )),
                    None,
                ),
            }
        }
        [reference] => match state.member(tenant, reference) {
            Some(m) => ok_json(&m),
            None => not_found(&format!("Member {reference} was not found")),
        },
        [reference, _] => match state.permanent_history(tenant, reference) {
            Some(items) => ok_json::<Vec<PermanentHistoryItem>>(&items),
            None => not_found(&format!("Member {reference} was not found")),
        },
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn query_ints(query: &str, key: &str) -> Result<Vec<i32>, Response> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| {
            v.trim().parse::<i32>().map_err(|_| {
                problem(
                    StatusCode::BAD_REQUEST,
                    "One or more validation errors occurred.",
                    None,
                    Some(json!({ key: [format!("The value '{v}' is not valid.")] })),
                )
            })
        })
        .collect()
}

fn reports(state: &State, tenant: &str, rest: &[String], query: &str) -> Response {
    let content = &state.content;
    let Some(entry) = state.traversal(&rest[0]) else {
        return not_found(&format!("Traversal {} was not found", rest[0]));
    };
    let t = entry
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !t.tenant.eq_ignore_ascii_case(tenant) {
        return not_found(&format!("Traversal {} was not found", rest[0]));
    }
    if t.assessment_type != 2 {
        return problem(
            StatusCode::BAD_REQUEST,
            "Not a health risk assessment",
            Some(format!(
                "Traversal {} is a {} traversal; reports need an HRA traversal",
                t.id, t.short_code
            )),
            None,
        );
    }
    if !t.is_complete() {
        return problem(
            StatusCode::BAD_REQUEST,
            "Health risk assessment not complete",
            Some(format!("Traversal {} has questions left to answer", t.id)),
            None,
        );
    }
    let conclusions_param = match query_ints(query, "conclusions") {
        Ok(c) => c,
        Err(r) => return r,
    };
    match rest[1].to_ascii_lowercase().as_str() {
        "risks" => {
            let ages = match query_ints(query, "ages") {
                Ok(a) => a,
                Err(r) => return r,
            };
            ok_json(&hra::risks(content, &t, &ages, &conclusions_param))
        }
        "wellness" => ok_json(&hra::wellness(content, &t, &conclusions_param)),
        "previous" => {
            let others = state.member_hra_traversals(&t, Some(&t.id));
            let snapshots: Vec<Value> = others
                .iter()
                .enumerate()
                .filter_map(|(i, other)| {
                    let o = other.lock().ok()?;
                    Some(hra::snapshot(
                        content,
                        &o,
                        i + 1,
                        90,
                        conclusions(state, &o),
                    ))
                })
                .collect();
            ok_json(&snapshots)
        }
        _ => {
            let Ok(age) = rest[3].parse::<i32>() else {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "Invalid age",
                    Some(format!("`{}` is not an age", rest[3])),
                    None,
                );
            };
            let Some(other) = state.traversal(&rest[2]) else {
                return not_found(&format!("Traversal {} was not found", rest[2]));
            };
            if Arc::ptr_eq(&other, &entry) {
                let snap = hra::snapshot(content, &t, 1, age, conclusions(state, &t));
                return ok_json(&hra::compare(snap.clone(), snap));
            }
            let o = other
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !o.tenant.eq_ignore_ascii_case(tenant) || o.assessment_type != 2 || !o.is_complete()
            {
                return not_found(&format!(
                    "No completed HRA traversal {} for this tenant",
                    rest[2]
                ));
            }
            let current = hra::snapshot(content, &t, 2, age, conclusions(state, &t));
            let previous = hra::snapshot(content, &o, 1, age, conclusions(state, &o));
            ok_json(&hra::compare(current, previous))
        }
    }
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
