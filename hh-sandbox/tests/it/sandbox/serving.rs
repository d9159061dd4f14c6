//! How requests are served: routes (their case, versions and methods), what a route or a
//! body the sandbox does not know gets, and many requests at once.

use std::time::{Duration, Instant};

use hh_sandbox::{Fault, Sandbox};
use serde_json::json;

use super::Api;

#[tokio::test]
async fn routes_are_case_insensitive_under_v1_and_v2() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    let t = api
        .post("/traversals", json!({"shortCode": "SYMPTOMS"}))
        .await;
    let id = t["traversalId"].as_str().unwrap();
    for path in [
        format!(
            "{}/api/v1/{}/Traversals/{id}",
            sandbox.url(),
            sandbox.client_id()
        ),
        format!(
            "{}/API/V2/{}/TRAVERSALS/{id}",
            sandbox.url(),
            sandbox.client_id()
        ),
        format!(
            "{}/api/v2/{}/traversals/{id}/QUESTIONS",
            sandbox.url(),
            sandbox.client_id()
        ),
    ] {
        let r = api
            .http
            .get(&path)
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    bad_requests_get_problem_details(&api, id).await;
    wrong_methods_and_unknown_routes(&sandbox, &api, id).await;
}

/// An unknown traversal, a missing field, a body that is not JSON, an unknown product.
async fn bad_requests_get_problem_details(api: &Api, id: &str) {
    let (status, problem) = api
        .send(
            reqwest::Method::GET,
            "/Traversals/00000000-0000-0000-0000-000000000000",
            None,
        )
        .await;
    assert_eq!(
        (
            status.as_u16(),
            problem["title"].as_str(),
            problem["traceId"].is_string()
        ),
        (404, Some("Not Found"), true)
    );
    let (status, problem) = api
        .send(
            reqwest::Method::POST,
            "/Traversals",
            Some(json!({"language": "EN"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        problem["errors"]["$"][0]
            .as_str()
            .unwrap()
            .contains("shortCode")
    );
    let raw = api
        .http
        .post(api.path(&format!("/Traversals/{id}/respond")))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(raw.headers()["content-type"], "application/problem+json");
    let (status, problem) = api
        .send(
            reqwest::Method::POST,
            "/Traversals",
            Some(json!({"shortCode": "NOPE"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["title"].as_str()),
        (400, Some("Unknown product"))
    );
}

/// A known route with the wrong method is a bodiless 405; an unknown route, a 404.
async fn wrong_methods_and_unknown_routes(sandbox: &Sandbox, api: &Api, id: &str) {
    let wrong_method = api
        .http
        .delete(api.path(&format!("/Traversals/{id}")))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            wrong_method.status().as_u16(),
            wrong_method.headers()["allow"].to_str().unwrap()
        ),
        (405, "GET")
    );
    // As the crate docs say: no body, unlike the unknown route below.
    assert!(wrong_method.bytes().await.unwrap().is_empty());
    let unknown = api
        .http
        .get(format!("{}/nothing/here", sandbox.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn unknown_routes_and_wrong_fields_are_named() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = reqwest::Client::new();
    for (method, path) in [
        (reqwest::Method::GET, "/api/v3/x/Traversals"),
        (reqwest::Method::POST, "/conect/token"),
        (reqwest::Method::GET, "/_sandbox/nothing"),
    ] {
        let r = http
            .request(method.clone(), format!("{}{path}", sandbox.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        // Plain text, not problem details (the APIs' answer for a resource they lack).
        assert_eq!(
            r.headers()["content-type"],
            "text/plain; charset=utf-8",
            "{path}"
        );
        let detail = r.text().await.unwrap();
        assert!(detail.contains(&format!("`{method} {path}`")), "{detail}");
        assert!(detail.contains("/api/v1/{clientId}/"), "{detail}");
    }

    let api = Api::new(&sandbox).await;
    let (status, problem) = api
        .send(
            reqwest::Method::POST,
            "/Traversals",
            Some(json!({"shortCode": 5})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(problem["errors"]["$.shortCode"][0].is_string(), "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("`$.shortCode`: invalid type"),
        "{detail}"
    );
}

// Real time on two threads: on the paused clock the listen backlog's real-time SYN retries
// would let the clock run ahead while connections queue in the kernel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_concurrent_requests_are_served_in_parallel() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = std::sync::Arc::new(Api::new(&sandbox).await);
    let t = api
        .post("/Traversals", json!({"shortCode": "SYMPTOMS"}))
        .await;
    let path = format!("/Traversals/{}", t["traversalId"].as_str().unwrap());
    // Every 1,000 GETs wait 500 ms inside the server: served one at a time, they alone would
    // take 500 s; served together, about one wait. The bound is an eighth of the serial time,
    // so it tells the two apart on any machine that can run this suite at all.
    sandbox.inject("traversals.get", Fault::Latency { ms: 500 });
    let serial = Duration::from_millis(500) * 1_000;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..2_000 {
        let api = api.clone();
        let path = path.clone();
        tasks.spawn(async move {
            if i % 2 == 0 {
                api.get(&path).await;
            } else {
                api.post("/Traversals", json!({"shortCode": "HRA"})).await;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert!(started.elapsed() < serial / 8, "{:?}", started.elapsed());
    assert_eq!(sandbox.requests("traversals.get"), 1_000);
    assert_eq!(sandbox.requests("traversals.create"), 1_001);
}
