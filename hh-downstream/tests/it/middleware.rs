//! reqwest-middleware both ways, against hh-sandbox. Out: our token lifecycle as a
//! `Middleware` on a hand-written reqwest client keeps the native path's properties (a cold
//! herd during a token outage waits it out with one more token request; a revoked token
//! causes one more and every call succeeds after at most one replay). In: a user's middleware runs on every attempt of a generated
//! client's calls (retries and the 401 replay included), never on token requests, and its
//! own failure fails the call once, with its error kept.
//!
//! On tokio's paused clock, hh-sandbox included: the outage's `Retry-After` and the 1 s floor
//! between token requests are exact, whatever the machine's speed.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use crate::support::{Traversals as _, TraversalsClient, sandbox_builder as builder};
use hh_runtime::ErrorKind;
use hh_runtime::middleware::TokenMiddleware;
use hh_runtime::middleware::reqwest_middleware::{self, ClientWithMiddleware, Middleware, Next};
use hh_sandbox::{Fault, Sandbox};

/// `n` traversals started at once through `http`; the statuses, sorted.
async fn create_many(http: &ClientWithMiddleware, url: &str, n: usize) -> Vec<u16> {
    let calls = (0..n).map(|_| {
        let http = http.clone();
        let url = url.to_owned();
        tokio::spawn(async move {
            http.post(url)
                .header("content-type", "application/json")
                .body(r#"{"shortCode":"SYMPTOMS"}"#)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        statuses.push(call.await.unwrap());
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

#[tokio::test(start_paused = true)]
async fn the_token_middleware_has_the_native_herd_and_401_properties() {
    let sandbox = Sandbox::start().await.unwrap();
    let hh = builder(&sandbox).build().unwrap();
    let middleware = TokenMiddleware::new(&hh);
    let debug = format!("{middleware:?}");
    assert!(!debug.contains(sandbox.client_secret()), "{debug}");
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build();
    let url = format!("{}/api/v1/{}/Traversals", hh.api_url(), hh.client_id());

    // A cold herd during a token outage (one 503, `Retry-After: 1`): 200 calls at once wait
    // it out together, as generated calls do; two token requests in all.
    sandbox.inject(
        "token",
        Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: Some("1".into()),
        },
    );
    assert_eq!(create_many(&http, &url, 200).await, [200]);
    assert_eq!(sandbox.token_requests(), 2);

    // Every token revoked: 100 calls at once, one new token, each call replayed at most once
    // (its JSON body included).
    sandbox.revoke_all_tokens();
    let before = sandbox.api_requests();
    assert_eq!(create_many(&http, &url, 100).await, [200]);
    assert_eq!(sandbox.token_requests(), 3);
    let sent = sandbox.api_requests() - before;
    assert!((101..=200).contains(&sent), "{sent} requests for 100 calls");
    assert_eq!(sandbox.unissued_tokens(), 0);

    // The generated client made from the same `Client` shares the cache: no token request.
    let traversals = TraversalsClient::new(hh);
    traversals
        .create(&serde_json::json!({"shortCode": "SYMPTOMS"}))
        .await
        .unwrap();
    assert_eq!(sandbox.token_requests(), 3);
}

/// A request's path and its `Authorization` header.
type Seen = (String, Option<String>);

/// A user's middleware: records the path of every request it sees and whether it carried a
/// bearer token (and which), and fails requests when
/// told to.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    fail: Arc<Mutex<bool>>,
}

#[derive(Debug)]
struct CircuitOpen;

impl std::fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("circuit open")
    }
}

impl std::error::Error for CircuitOpen {}

#[async_trait::async_trait]
impl Middleware for Recorder {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let bearer = request
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        self.seen
            .lock()
            .unwrap()
            .push((request.url().path().to_owned(), bearer));
        if *self.fail.lock().unwrap() {
            return Err(reqwest_middleware::Error::middleware(CircuitOpen));
        }
        next.run(request, extensions).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_users_middleware_sees_every_attempt_and_never_a_token_request() {
    let sandbox = Sandbox::start().await.unwrap();
    let recorder = Recorder::default();
    let stack = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(recorder.clone())
        .build();
    let traversals = TraversalsClient::new(builder(&sandbox).middleware(stack).build().unwrap());
    let seen = || std::mem::take(&mut *recorder.seen.lock().unwrap());

    let created = traversals
        .create(&serde_json::json!({"shortCode": "SYMPTOMS"}))
        .await
        .unwrap();
    let id = created["traversalId"].as_str().unwrap().to_owned();
    let first = seen();
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].1.as_deref().unwrap().starts_with("Bearer "));

    // A 503 retried by us: the middleware sees both attempts.
    sandbox.inject(
        "traversals.get",
        Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: None,
        },
    );
    traversals.get(&id).await.unwrap();
    assert_eq!(seen().len(), 2);

    // A revoked token: the middleware sees the 401'd attempt and the replay, with a new token.
    sandbox.revoke_all_tokens();
    traversals.get(&id).await.unwrap();
    let replayed = seen();
    assert_eq!(replayed.len(), 2, "{replayed:?}");
    assert_ne!(replayed[0].1, replayed[1].1);
    assert_eq!(sandbox.token_requests(), 2);

    // The middleware's own failure: the call fails once, not retried, with its error kept.
    *recorder.fail.lock().unwrap() = true;
    let error = traversals.get(&id).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Middleware);
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("circuit open"), "{error}");
    assert_eq!(seen().len(), 1);

    // Token requests never went through it (their body carries the client secret).
    let all = recorder.seen.lock().unwrap().clone();
    assert!(all.iter().all(|(path, _)| !path.contains("connect/token")));
}

/// Another service on loopback: answers 401 to everything (so a replay would show) and
/// records the `Authorization` header of each request it receives.
async fn other_service() -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let record = Arc::clone(&seen);
    let app = axum::Router::new().fallback(move |headers: http::HeaderMap| {
        let record = Arc::clone(&record);
        async move {
            let auth = headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned());
            record.lock().unwrap().push(auth);
            http::StatusCode::UNAUTHORIZED
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test(start_paused = true)]
async fn the_token_middleware_sends_the_token_only_to_the_apis_origin() {
    let sandbox = Sandbox::start().await.unwrap();
    let hh = builder(&sandbox).build().unwrap();
    let (other, seen) = other_service().await;
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TokenMiddleware::new(&hh))
        .build();

    // Another service through the same stack: no token, no replay of its 401, and a header
    // of the caller's own left as it is.
    let answer = http.get(format!("{other}/api/v1/x")).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    http.get(format!("{other}/y"))
        .header("authorization", "Basic theirs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [None, Some("Basic theirs".to_owned())]
    );
    // Not even a token request was made for them.
    assert_eq!(sandbox.token_requests(), 0);

    // The API's origin gets the token (and a trailing path of any shape).
    let url = format!("{}/api/v1/{}/Traversals", hh.api_url(), hh.client_id());
    let created = http
        .post(url)
        .header("content-type", "application/json")
        .body(r#"{"shortCode":"SYMPTOMS"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    assert_eq!(sandbox.token_requests(), 1);

    // An origin listed explicitly gets it too, and its 401 is replayed once.
    let listed = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TokenMiddleware::new(&hh).also_for(&other).unwrap())
        .build();
    seen.lock().unwrap().clear();
    listed.get(format!("{other}/z")).send().await.unwrap();
    let bearer = seen.lock().unwrap().clone();
    assert_eq!(bearer.len(), 2, "{bearer:?}");
    assert!(
        bearer
            .iter()
            .all(|b| b.as_deref().is_some_and(|b| b.starts_with("Bearer ")))
    );

    // Listing is checked as api_url is.
    let refused = TokenMiddleware::new(&hh)
        .also_for("http://reports.example")
        .unwrap_err();
    assert!(refused.is_config(), "{refused}");
}
