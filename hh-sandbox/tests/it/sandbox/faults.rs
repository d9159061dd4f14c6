//! Fault injection (latency, statuses, failures, dropped and hung connections, malformed
//! tokens), the names it accepts, and the admin routes that control a sandbox over HTTP.

use std::time::{Duration, Instant};

use hh_sandbox::{Fault, MalformedToken, Sandbox};
use serde_json::{Value, json};

use super::{Api, request_token};

#[tokio::test]
async fn faults_latency_status_fail_times_and_counters() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    let t = api
        .post("/Traversals", json!({"shortCode": "SYMPTOMS"}))
        .await;
    let get = format!("/Traversals/{}", t["traversalId"].as_str().unwrap());

    sandbox.inject("traversals.get", Fault::Latency { ms: 300 });
    let started = Instant::now();
    api.get(&get).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    sandbox.clear_faults();

    sandbox.inject(
        "traversals",
        Fault::Status {
            status: 429,
            retry_after: Some("7".into()),
            body: None,
        },
    );
    let r = api
        .http
        .get(api.path(&get))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["retry-after"].to_str().unwrap()
        ),
        (429, "7")
    );
    let members = api
        .http
        .get(api.path("/Members/x"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(members.status(), 404, "other groups are untouched");
    sandbox.clear_faults();

    sandbox.inject(
        "api",
        Fault::FailTimes {
            times: 2,
            status: 503,
            retry_after: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
        },
    );
    for _ in 0..2 {
        let r = api
            .http
            .get(api.path(&get))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "Wed, 21 Oct 2015 07:28:00 GMT");
    }
    api.get(&get).await;
    sandbox.clear_faults();

    assert_eq!(sandbox.requests("traversals.get"), 5);
    assert_eq!(sandbox.requests("traversals.create"), 1);
    assert_eq!(sandbox.api_requests(), 7);
    assert_eq!(sandbox.token_requests(), 1);
}

#[tokio::test]
async fn faults_drop_and_hang() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    sandbox.inject("members.get", Fault::DropConnection);
    let r = api
        .http
        .get(api.path("/Members/x"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the status line arrives");
    assert!(r.bytes().await.is_err(), "the body is cut short");
    sandbox.clear_faults();

    sandbox.inject("members.get", Fault::Hang);
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = quick
        .get(api.path("/Members/x"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    // Shutting down releases hung requests.
    sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_token_responses() {
    let sandbox = Sandbox::start().await.unwrap();
    let shapes = [
        (MalformedToken::Html, "text/html"),
        (MalformedToken::Empty, ""),
        (MalformedToken::NotJson, "text/plain"),
        (MalformedToken::MissingAccessToken, "application/json"),
        (MalformedToken::ErrorWith200, "application/json"),
        (MalformedToken::Oversized, "application/json"),
        (MalformedToken::NotUtf8, "application/json"),
        (MalformedToken::MissingTokenType, "application/json"),
    ];
    for (shape, content_type) in shapes {
        sandbox.clear_faults();
        sandbox.inject("token", Fault::MalformedToken { shape });
        let r = request_token(&sandbox, &reqwest::Client::new()).await;
        assert_eq!(r.status(), 200, "{shape:?}");
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(ct.starts_with(content_type), "{shape:?}: {ct}");
        let body = r.bytes().await.unwrap();
        let parsed: Option<Value> = serde_json::from_slice(&body).ok();
        let usable = parsed.as_ref().is_some_and(|v| {
            v["access_token"].is_string() && v["token_type"] == "Bearer" && body.len() < 1024 * 1024
        });
        assert!(!usable, "{shape:?} must not be a usable token response");
    }
}

#[tokio::test]
async fn admin_routes_control_the_sandbox_over_http() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = reqwest::Client::new();
    let admin = |p: &str| format!("{}/_sandbox/{p}", sandbox.url());
    let r = http
        .post(admin("faults"))
        .json(&json!({"endpoint": "token", "fault": {"kind": "failTimes", "times": 1, "status": 503, "retryAfter": "2"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let bad = http
        .post(admin("faults"))
        .json(&json!({"endpoint": "token", "fault": {"kind": "explode"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let failed = request_token(&sandbox, &http).await;
    assert_eq!(failed.status(), 503);
    let api = Api::new(&sandbox).await;
    assert_eq!(
        http.put(admin("token-lifetime"))
            .json(&json!({"seconds": 60}))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let short: Value = request_token(&sandbox, &http).await.json().await.unwrap();
    assert_eq!(short["expires_in"], 60);
    assert_eq!(
        http.post(admin("revoke")).send().await.unwrap().status(),
        204
    );
    let (status, _) = api.send(reqwest::Method::GET, "/Members/x", None).await;
    assert_eq!(status, 401);
    assert_eq!(
        http.delete(admin("faults")).send().await.unwrap().status(),
        204
    );
    let counters: Value = http
        .get(admin("counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["tokenRequests"], 3);
    assert_eq!(counters["apiRequests"], 1);
    assert_eq!(counters["endpoints"]["members.get"], 1);
}

#[tokio::test]
#[should_panic(expected = "unknown endpoint `tokn`; use `*`, `api`, a group (traversals")]
async fn injecting_a_fault_on_an_unknown_endpoint_panics_with_the_valid_names() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.inject(
        "tokn",
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
    );
}

#[tokio::test]
async fn a_fault_on_an_unknown_endpoint_is_refused_over_http() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/_sandbox/faults", sandbox.url()))
        .json(&json!({"endpoint": "tokn", "fault": {"kind": "status", "status": 503}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let problem: Value = r.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("unknown endpoint `tokn`"), "{detail}");
    assert!(detail.contains("traversals.respond"), "{detail}");
    // Every documented form is still accepted.
    for endpoint in [
        "*",
        "api",
        "token",
        "traversals",
        "traversals.respond",
        "algos",
    ] {
        let r = http
            .post(format!("{}/_sandbox/faults", sandbox.url()))
            .json(&json!({"endpoint": endpoint, "fault": {"kind": "latency", "ms": 1}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{endpoint}");
    }
}
