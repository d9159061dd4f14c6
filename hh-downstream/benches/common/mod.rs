//! What the benches share: the loopback server (token endpoint and one API route), the
//! declared client and its hand-written twin, and the timing helpers.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde::Deserialize;

pub const CLIENT_ID: &str = "bench-client";
pub const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJjbGllbnRfaWQiOiJiZW5jaC1jbGllbnQifQ.c2lnbmF0dXJl";
/// What the API answers: a small traversal page, decoded by both clients.
pub const PAGE: &str = r#"{"traversalId":"4b40e91d-be60-44c1-99c5-43a3befdaa93","algoId":100,"algoName":"Age & Gender","assessmentType":1,"nodes":[{"nodeId":1,"questions":[{"questionId":13045,"displayText":"Who are you answering for?","answers":[{"answerId":7527,"controlType":"Radio","displayText":"Myself"},{"answerId":7528,"controlType":"Radio","displayText":"Someone else"}]}]}],"errors":[],"previousDisabled":true,"nextDisabled":false,"language":"DEFAULT"}"#;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct Page {
    traversal_id: String,
    algo_id: i32,
    nodes: Vec<serde_json::Value>,
}

#[hh_runtime::healthhero_api(prefix = "/api/v1/<client_id>")]
pub trait Bench {
    /// The call both clients make.
    #[get("/Traversals/<id>")]
    async fn get(&self, id: &str) -> hh_runtime::Result<Page>;
}

pub async fn hand_written(http: &reqwest::Client, base: &str, id: &str) -> reqwest::Result<Page> {
    send(http.get(format!("{base}/api/v1/{CLIENT_ID}/Traversals/{id}"))).await
}

/// The same call with a per-request timeout, as hh arms one per attempt by default (30 s).
pub async fn hand_written_timed(
    http: &reqwest::Client,
    base: &str,
    id: &str,
) -> reqwest::Result<Page> {
    let url = format!("{base}/api/v1/{CLIENT_ID}/Traversals/{id}");
    send(http.get(url).timeout(Duration::from_secs(30))).await
}

/// The rest of the hand-written call: the token, the `Accept` header, the status, the JSON.
async fn send(request: reqwest::RequestBuilder) -> reqwest::Result<Page> {
    request
        .bearer_auth(TOKEN)
        .header("accept", "application/json")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

pub struct Server {
    pub token_requests: AtomicUsize,
    pub token_delay: Duration,
}

async fn token_endpoint(State(s): State<Arc<Server>>) -> impl IntoResponse {
    s.token_requests.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(s.token_delay).await;
    (
        [("content-type", "application/json")],
        format!(r#"{{"access_token":"{TOKEN}","token_type":"Bearer","expires_in":3600}}"#),
    )
}

async fn api(
    Path((_tenant, _id)): Path<(String, String)>,
    headers: HeaderMap,
) -> impl IntoResponse {
    let ok = headers
        .get("authorization")
        .is_some_and(|v| v.as_bytes() == format!("Bearer {TOKEN}").as_bytes());
    if !ok {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            [("content-type", "text/plain")],
            "",
        )
            .into_response();
    }
    ([("content-type", "application/json")], PAGE).into_response()
}

/// The server runs on its own single-threaded runtime and thread, as a separate process would.
pub fn start_server(token_delay: Duration) -> (String, Arc<Server>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            tx.send(serve_here(token_delay).await).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

/// The server as a task of the current runtime: with a current-thread runtime, client and
/// server take turns on one thread, so a call's time is its CPU time alone, with no thread
/// scheduling in it.
pub async fn serve_here(token_delay: Duration) -> (String, Arc<Server>) {
    let state = Arc::new(Server {
        token_requests: AtomicUsize::new(0),
        token_delay,
    });
    let app = axum::Router::new()
        .route("/connect/token", axum::routing::post(token_endpoint))
        .route("/api/v1/{tenant}/Traversals/{id}", axum::routing::get(api))
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, state)
}

pub fn runtime_client(base: &str, http: Option<reqwest::Client>) -> hh_runtime::Client {
    let mut b = hh_runtime::Client::builder()
        .identity_url(base)
        .api_url(base)
        .client_id(CLIENT_ID)
        .client_secret("bench-secret");
    if let Some(h) = http {
        b = b.http_client(h).token_http_client(
            reqwest::Client::builder()
                .http2_prior_knowledge()
                .build()
                .unwrap(),
        );
    }
    b.build().unwrap()
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Calls per second with `tasks` concurrent tasks making `total` calls between them.
pub async fn throughput<F, Fut>(tasks: usize, total: usize, call: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let call = call.clone();
        let n = total / tasks;
        set.spawn(async move {
            for _ in 0..n {
                call().await;
            }
        });
    }
    while set.join_next().await.is_some() {}
    (total / tasks * tasks) as f64 / started.elapsed().as_secs_f64()
}

/// Answers every API request with the traversal page, in process: at the end of a client's
/// middleware stack (the `middleware` feature), so a call's time is CPU time alone, with no
/// socket and no other thread.
#[cfg(feature = "full")]
pub struct Answer;

#[cfg(feature = "full")]
#[async_trait::async_trait]
impl hh_runtime::middleware::reqwest_middleware::Middleware for Answer {
    async fn handle(
        &self,
        _request: reqwest::Request,
        _extensions: &mut http::Extensions,
        _next: hh_runtime::middleware::reqwest_middleware::Next<'_>,
    ) -> hh_runtime::middleware::reqwest_middleware::Result<reqwest::Response> {
        let response = http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(PAGE)
            .unwrap();
        Ok(reqwest::Response::from(response))
    }
}

/// A client whose every request [`Answer`] answers.
#[cfg(feature = "full")]
pub fn answered() -> hh_runtime::middleware::reqwest_middleware::ClientWithMiddleware {
    hh_runtime::middleware::reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(Answer)
        .build()
}
