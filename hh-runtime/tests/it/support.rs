//! A purpose-built identity server and API on loopback, scripted per test, that records every
//! request it receives. Handlers sleep on tokio's clock, so tests on paused time run instantly.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hh_runtime::__private::{Json, Request as Call};
use hh_runtime::{Client, ClientBuilder, Method};
use tokio::time::Instant;

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "s3cr3t-Value-never-logged";

/// What one handler answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn json(status: u16, value: serde_json::Value) -> Self {
        Self::new(status, value.to_string()).header("content-type", "application/json")
    }

    /// A token response such as IdentityServer sends.
    pub fn token(token: &str, expires_in: u64) -> Self {
        Self::json(
            200,
            serde_json::json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": expires_in,
                "scope": "api"
            }),
        )
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::from_u16(self.status).unwrap(), self.body).into_response();
        for (name, value) in self.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
            let value = HeaderValue::from_str(&value).unwrap();
            // A scripted content type replaces axum's `application/octet-stream` for bytes.
            if name == http::header::CONTENT_TYPE {
                response.headers_mut().insert(name, value);
            } else {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// The raw request target: path and query exactly as sent.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

type TokenScript = dyn Fn(usize, &Seen) -> Reply + Send + Sync;
type ApiScript = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

pub struct Inner {
    token_script: Mutex<Arc<TokenScript>>,
    api_script: Mutex<Arc<ApiScript>>,
    token_count: AtomicUsize,
    api_count: AtomicUsize,
    pub token_log: Mutex<Vec<Seen>>,
    pub api_log: Mutex<Vec<Seen>>,
    /// Every token the default script issued, so redaction checks can look for each.
    pub issued: Mutex<Vec<String>>,
}

#[derive(Clone)]
pub struct Server {
    pub url: String,
    pub inner: Arc<Inner>,
}

impl Server {
    /// Starts the server on 127.0.0.1 with an ephemeral port. By default the token endpoint
    /// issues `tok-1`, `tok-2`, … valid for an hour, and the API answers 200 with a JSON echo
    /// of the request when the bearer token is the latest one issued, 401 otherwise.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner {
            token_script: Mutex::new(Arc::new(|n, _: &Seen| {
                Reply::token(&format!("tok-{n}"), 3600)
            })),
            api_script: Mutex::new(Arc::new(|_, _: &Seen| Reply::new(500, "unset"))),
            token_count: AtomicUsize::new(0),
            api_count: AtomicUsize::new(0),
            token_log: Mutex::new(Vec::new()),
            api_log: Mutex::new(Vec::new()),
            issued: Mutex::new(Vec::new()),
        });
        let server_inner = Arc::clone(&inner);
        *inner.api_script.lock().unwrap() = Arc::new(move |_, seen: &Seen| {
            let latest = server_inner.issued.lock().unwrap().last().cloned();
            let expected = latest.map(|t| format!("Bearer {t}"));
            if seen.header("authorization") != expected.as_deref() {
                return Reply::new(401, "")
                    .header("www-authenticate", "Bearer error=\"invalid_token\"");
            }
            Reply::json(
                200,
                serde_json::json!({"method": seen.method, "target": seen.target, "ok": true}),
            )
        });
        let app = axum::Router::new()
            .route("/connect/token", axum::routing::any(token_handler))
            .fallback(api_handler)
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, inner }
    }

    /// Replaces the token endpoint's script; `n` counts token requests from 1.
    pub fn on_token(&self, script: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) {
        *self.inner.token_script.lock().unwrap() = Arc::new(script);
    }

    /// Replaces the API's script; `n` counts API requests from 1.
    pub fn on_api(&self, script: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) {
        *self.inner.api_script.lock().unwrap() = Arc::new(script);
    }

    /// Issues tokens `tok-N` with the given lifetime.
    pub fn issue_tokens(&self, expires_in: u64) {
        self.on_token(move |n, _| Reply::token(&format!("tok-{n}"), expires_in));
    }

    pub fn token_requests(&self) -> usize {
        self.inner.token_count.load(Ordering::SeqCst)
    }

    pub fn api_requests(&self) -> usize {
        self.inner.api_count.load(Ordering::SeqCst)
    }

    pub fn token_log(&self) -> Vec<Seen> {
        self.inner.token_log.lock().unwrap().clone()
    }

    pub fn api_log(&self) -> Vec<Seen> {
        self.inner.api_log.lock().unwrap().clone()
    }

    pub fn issued(&self) -> Vec<String> {
        self.inner.issued.lock().unwrap().clone()
    }

    /// A builder aimed at this server with the test credentials.
    pub fn builder(&self) -> ClientBuilder {
        Client::builder()
            .identity_url(&self.url)
            .api_url(&self.url)
            .client_id(CLIENT_ID)
            .client_secret(CLIENT_SECRET)
    }

    pub fn client(&self) -> Client {
        self.builder().build().unwrap()
    }
}

async fn record(request: Request) -> Seen {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    Seen {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        headers: parts.headers,
        body,
        at: Instant::now(),
    }
}

async fn token_handler(State(inner): State<Arc<Inner>>, request: Request) -> Reply {
    let seen = record(request).await;
    let n = inner.token_count.fetch_add(1, Ordering::SeqCst) + 1;
    inner.token_log.lock().unwrap().push(seen.clone());
    let script = Arc::clone(&inner.token_script.lock().unwrap());
    let reply = script(n, &seen);
    if let Some(token) = issued_token(&reply) {
        let mut issued = inner.issued.lock().unwrap();
        if !issued.contains(&token) {
            issued.push(token);
        }
    }
    tokio::time::sleep(reply.delay).await;
    reply
}

fn issued_token(reply: &Reply) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(&reply.body).ok()?;
    Some(value.get("access_token")?.as_str()?.to_owned())
}

async fn api_handler(State(inner): State<Arc<Inner>>, request: Request) -> Reply {
    let seen = record(request).await;
    let n = inner.api_count.fetch_add(1, Ordering::SeqCst) + 1;
    inner.api_log.lock().unwrap().push(seen.clone());
    let script = Arc::clone(&inner.api_script.lock().unwrap());
    let reply = script(n, &seen);
    tokio::time::sleep(reply.delay).await;
    reply
}

/// `GET path` through the generated-code surface, decoded as JSON.
pub async fn get_json(
    client: &Client,
    path: &'static str,
) -> hh_runtime::Result<serde_json::Value> {
    Call::new(client, Method::GET, path)
        .literal(path)
        .send::<Json<serde_json::Value>>()
        .await
}

/// `POST path` with a JSON body, decoded as JSON.
pub async fn post_json(
    client: &Client,
    path: &'static str,
    body: &serde_json::Value,
) -> hh_runtime::Result<serde_json::Value> {
    Call::new(client, Method::POST, path)
        .literal(path)
        .json(body)
        .send::<Json<serde_json::Value>>()
        .await
}

/// `POST /api/v1/<client_id>/Traversals` for a `SYMPTOMS` traversal, as hh-sandbox serves it.
pub async fn create_traversal(client: &Client) -> hh_runtime::Result<serde_json::Value> {
    Call::new(client, Method::POST, "/api/v1/<client_id>/Traversals")
        .literal("/api/v1/")
        .client_id()
        .literal("/Traversals")
        .json(&serde_json::json!({"shortCode": "SYMPTOMS"}))
        .send::<Json<serde_json::Value>>()
        .await
}

/// `GET /api/v1/<client_id>/Traversals/<id>`.
pub async fn get_traversal(client: &Client, id: &str) -> hh_runtime::Result<serde_json::Value> {
    Call::new(client, Method::GET, "/api/v1/<client_id>/Traversals/<id>")
        .literal("/api/v1/")
        .client_id()
        .literal("/Traversals/")
        .segment("id", id)
        .send::<Json<serde_json::Value>>()
        .await
}

/// A new traversal on the sandbox, by its id.
pub async fn new_traversal(client: &Client) -> String {
    create_traversal(client).await.unwrap()["traversalId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Revokes every token `sandbox` issued, waits out the token request rate (one a second),
/// then makes `n` calls at once for traversal `id`, each of which must succeed.
pub async fn gets_after_revocation(
    sandbox: &hh_sandbox::Sandbox,
    client: &Client,
    id: &str,
    n: usize,
) {
    sandbox.revoke_all_tokens();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let calls = (0..n).map(|_| get_traversal(client, id));
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
}

/// What a test's tracing subscriber wrote, shared by every clone: give the subscriber
/// `move || capture.clone()` as its writer.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Holds tokio's paused clock still until dropped. With the clock paused, a runtime with
/// nothing to run jumps to its next timer, even while a loopback request is in flight: on a
/// loaded machine, a herd of thousands of calls waiting on their I/O could see an attempt's
/// 30 s timer fire in no real time. A blocking task in progress stops those jumps (tokio's
/// `test-util` does so for a current-thread runtime), so a herd that needs no timer to fire
/// runs on the clock it started with, whatever the machine's load.
pub struct HeldClock(Option<std::sync::mpsc::Sender<()>>);

pub fn hold_clock() -> HeldClock {
    let (release, held) = std::sync::mpsc::channel::<()>();
    tokio::task::spawn_blocking(move || {
        let _ = held.recv();
    });
    HeldClock(Some(release))
}

impl Drop for HeldClock {
    fn drop(&mut self) {
        // Dropping the sender ends the blocking task, and with it the hold.
        self.0.take();
    }
}
