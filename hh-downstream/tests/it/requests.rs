//! Every declared endpoint, called against a loopback server that records the exact request.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use hh_downstream::hygiene::{Shadowed, ShadowedClient};
use hh_downstream::*;

use crate::support;

#[derive(Clone, Debug)]
struct Seen {
    line: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn body(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn record(State(log): State<Log>, request: Request) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let target = parts.uri.path_and_query().unwrap().as_str().to_owned();
    let path = parts.uri.path().to_owned();
    if path == "/connect/token" {
        return support::token_reply();
    }
    log.lock().unwrap().push(Seen {
        line: format!("{} {}", parts.method, target),
        headers: parts.headers,
        body,
    });
    let json = |s: &'static str| ([("content-type", "application/json")], s).into_response();
    match (parts.method.as_str(), path.as_str()) {
        ("DELETE", _) => StatusCode::NO_CONTENT.into_response(),
        (_, p) if p.ends_with("/notes") => "noted".into_response(),
        (_, p) if p.ends_with("/revisit") => vec![0u8, 159, 146, 150].into_response(),
        (_, p) if p.ends_with("/risks") => json(r#"{"risks":[3,1]}"#),
        (_, p) if p.contains("/Members/") || p == "/ping" || p.starts_with("/shadow/") => {
            "text".into_response()
        }
        (_, "/search") | (_, "/shadow") => StatusCode::OK.into_response(),
        _ => (
            [
                ("content-type", "application/json"),
                ("x-request-id", "r-7"),
            ],
            r#"{"traversalId":"t-1","ignored":true}"#,
        )
            .into_response(),
    }
}

async fn server() -> (hh_runtime::Client, Log) {
    let log: Log = Arc::default();
    let app = axum::Router::new().fallback(record).with_state(log.clone());
    let url = support::serve(app).await;
    (support::client(&url, "tenant-1"), log)
}

fn last(log: &Log) -> Seen {
    log.lock().unwrap().last().cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_endpoints_send_exactly_what_is_declared() {
    let (client, log) = server().await;
    let api = TraversalsClient::new(client.clone());

    let created = api
        .create(
            &TraversalCreate {
                product_short_code: "SYMPTOMS".into(),
                age: 42,
            },
            "corr-1",
        )
        .await
        .unwrap();
    assert_eq!(created.traversal_id, "t-1");
    let seen = last(&log);
    assert_eq!(seen.line, "POST /api/v1/tenant-1/Traversals");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("x-api-version"), Some("v3"));
    assert_eq!(seen.header("x-correlation-id"), Some("corr-1"));
    assert_eq!(
        seen.header("authorization"),
        Some("Bearer downstream-token")
    );
    assert_eq!(seen.body(), r#"{"productShortCode":"SYMPTOMS","age":42}"#);

    let response = api.get("a b/c?d").await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-request-id"], "r-7");
    assert_eq!(response.value().traversal_id, "t-1");
    let seen = last(&log);
    assert_eq!(seen.line, "GET /api/v1/tenant-1/Traversals/a%20b%2Fc%3Fd");
    assert_eq!(seen.header("x-api-version"), Some("v3"));
    assert!(seen.body.is_empty());

    api.respond(
        "t-1",
        &[RespondItem {
            question_id: 7,
            value: "yes".into(),
        }],
    )
    .await
    .unwrap();
    let seen = last(&log);
    assert_eq!(seen.line, "POST /api/v1/tenant-1/Traversals/t-1/respond");
    assert_eq!(seen.header("x-static"), Some("fixed value"));
    assert_eq!(seen.body(), r#"[{"questionId":7,"value":"yes"}]"#);

    api.delete(99).await.unwrap();
    assert_eq!(last(&log).line, "DELETE /api/v1/tenant-1/Traversals/99");

    let text = api
        .notes(
            5,
            &Notes {
                text: "a & b".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(text, "noted");
    let seen = last(&log);
    assert_eq!(seen.line, "PUT /api/v1/tenant-1/Traversals/5/notes");
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.body(), "text=a+%26+b");

    let bytes = api.revisit(5, &[]).await.unwrap();
    assert_eq!(&bytes[..], &[0u8, 159, 146, 150]);
    let seen = last(&log);
    assert_eq!(seen.line, "PATCH /api/v1/tenant-1/Traversals/5/revisit");
    assert_eq!(seen.body(), "[]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_queries_and_explicit_client_ids() {
    let (client, log) = server().await;
    let reports = ReportsClient::new(client);
    let filters = Filters {
        page: 2,
        tags: vec!["x".into(), "y z".into()],
        language: None,
    };
    let risks = reports
        .risks("trav/1", &[80, 90], None, &filters)
        .await
        .unwrap();
    assert_eq!(risks.risks, [3, 1]);
    assert_eq!(
        last(&log).line,
        "GET /api/v1/tenant-1/reports/trav%2F1/risks?ages=80&ages=90&page=2&tags=x&tags=y+z"
    );
    reports
        .risks("t", &[], Some(vec![4, 5]), &filters)
        .await
        .unwrap();
    assert_eq!(
        last(&log).line,
        "GET /api/v1/tenant-1/reports/t/risks?conclusions=4&conclusions=5&page=2&tags=x&tags=y+z"
    );

    assert_eq!(reports.member("other-tenant", "m 1").await.unwrap(), "text");
    assert_eq!(last(&log).line, "GET /api/v2/other-tenant/Members/m%201");

    reports.search("triage", Some("chest pain")).await.unwrap();
    assert_eq!(last(&log).line, "GET /search?type=triage&q=chest+pain");
    reports.search("triage", None).await.unwrap();
    assert_eq!(last(&log).line, "GET /search?type=triage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reexported_runtime_and_shadowed_prelude() {
    let (client, log) = server().await;
    assert_eq!(
        ViaReexportClient::new(client.clone()).ping().await.unwrap(),
        "text"
    );
    assert_eq!(last(&log).line, "GET /ping");

    let shadowed = ShadowedClient::new(client);
    assert_eq!(
        shadowed.fetch("s", Some(vec![1, 2]), "tr-1").await.unwrap(),
        "text"
    );
    let seen = last(&log);
    assert_eq!(seen.line, "GET /shadow/s?tags=1&tags=2");
    assert_eq!(seen.header("x-trace"), Some("tr-1"));
    shadowed.send(&[1, 2, 3]).await.unwrap();
    assert_eq!(last(&log).body(), "[1,2,3]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_spawn_on_a_multi_threaded_runtime_through_the_trait() {
    // Generic over the trait: the futures are `Send` by declaration, not by accident.
    async fn fan_out<T: Traversals + Clone + Send + Sync + 'static>(api: T) -> usize {
        let mut handles = Vec::new();
        for i in 0..20u64 {
            let api = api.clone();
            handles.push(tokio::spawn(async move { api.delete(i).await }));
        }
        let mut ok = 0;
        for h in handles {
            h.await.unwrap().unwrap();
            ok += 1;
        }
        ok
    }
    let (client, log) = server().await;
    assert_eq!(fan_out(TraversalsClient::new(client)).await, 20);
    assert_eq!(log.lock().unwrap().len(), 20);
}

/// The trait stays implementable by hand, so users can fake it in their own tests.
#[tokio::test]
async fn the_trait_can_be_faked_by_hand() {
    struct Fake;
    impl Reports for Fake {
        async fn risks(
            &self,
            _: &str,
            ages: &[u32],
            _: Option<Vec<u32>>,
            _: &Filters,
        ) -> hh_runtime::Result<RiskOutput> {
            Ok(RiskOutput {
                risks: ages.to_vec(),
            })
        }
        async fn member(&self, client_id: &str, _: &str) -> hh_runtime::Result<String> {
            Ok(client_id.to_owned())
        }
        async fn search(&self, _: &str, _: Option<&str>) -> hh_runtime::Result<()> {
            Ok(())
        }
    }
    let filters = Filters {
        page: 1,
        tags: vec![],
        language: None,
    };
    assert_eq!(
        Fake.risks("x", &[1], None, &filters).await.unwrap().risks,
        [1]
    );
    assert_eq!(Fake.member("c", "m").await.unwrap(), "c");
}

#[test]
fn generated_clients_are_clone_and_debug_without_secrets() {
    let client = hh_runtime::Client::builder()
        .identity_url("https://id.example")
        .api_url("https://api.example")
        .client_id("c")
        .client_secret("hidden-secret")
        .build()
        .unwrap();
    let api = TraversalsClient::new(client);
    let copy = api.clone();
    let text = format!("{copy:?}");
    assert!(
        text.contains("TraversalsClient") && !text.contains("hidden-secret"),
        "{text}"
    );
    assert_eq!(api.client().client_id(), "c");
}
