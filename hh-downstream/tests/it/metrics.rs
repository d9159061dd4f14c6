//! The `metrics` feature through a real recorder (metrics-util's debugging recorder, which
//! keeps every sample): one `http.client.request.duration` sample per logical call with the
//! conventions' labels, and the `hh.token.*` metrics, for calls against hh-sandbox.

#![allow(clippy::unwrap_used)]

use crate::support::{Traversals as _, TraversalsClient};
use hh_sandbox::{Fault, Sandbox};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

use crate::support;

/// One metric from the snapshot: name, labels (sorted), unit, value.
#[derive(Debug)]
struct Metric {
    name: String,
    labels: Vec<(String, String)>,
    unit: Option<String>,
    value: DebugValue,
}

impl Metric {
    fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn samples(&self) -> usize {
        match &self.value {
            DebugValue::Histogram(values) => values.len(),
            other => panic!("{} is not a histogram: {other:?}", self.name),
        }
    }

    fn count(&self) -> u64 {
        match &self.value {
            DebugValue::Counter(n) => *n,
            other => panic!("{} is not a counter: {other:?}", self.name),
        }
    }
}

fn client(sandbox: &Sandbox, secret: &str) -> hh_runtime::Client {
    support::sandbox_builder(sandbox)
        .client_secret(secret)
        .build()
        .unwrap()
}

// One thread, whose recorder is this test's own: other tests in this binary make calls too.
#[tokio::test]
async fn calls_and_tokens_are_measured() {
    let sandbox = Sandbox::start().await.unwrap();
    // A call before the recorder is set: the units still reach the recorder set later.
    let before = TraversalsClient::new(client(&sandbox, sandbox.client_secret()));
    before.get("before-the-recorder").await.unwrap_err();

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _recorder = metrics::set_default_local_recorder(&recorder);

    let id = make_the_calls(&sandbox).await;
    let metrics = snapshot(&snapshotter);
    assert_call_durations(&metrics, &sandbox, &id);
    assert_token_requests(&metrics);
    assert_token_cache(&metrics);
}

/// The measured calls: a create, six gets (one through a 503 that is retried), a 404, one to
/// no server at all, and one whose token request fails. The traversal's id.
async fn make_the_calls(sandbox: &Sandbox) -> String {
    let api = TraversalsClient::new(client(sandbox, sandbox.client_secret()));
    let created = api
        .create(&serde_json::json!({"shortCode": "SYMPTOMS"}))
        .await
        .unwrap();
    let id = created["traversalId"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        api.get(&id).await.unwrap();
    }
    // A 503 that is retried is still one call, and one sample.
    sandbox.inject(
        "traversals.get",
        Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: None,
        },
    );
    api.get(&id).await.unwrap();
    api.get("no-such-traversal").await.unwrap_err();
    // No server at all.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = TraversalsClient::new(api.client().with_api_url(&nowhere).unwrap());
    unreachable.get(&id).await.unwrap_err();
    // A wrong secret: a token request that fails.
    let refused = TraversalsClient::new(client(sandbox, "not-the-secret"));
    refused.get(&id).await.unwrap_err();
    id
}

/// Every metric the recorder holds, its labels sorted.
fn snapshot(snapshotter: &Snapshotter) -> Vec<Metric> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, unit, _, value)| {
            let mut labels: Vec<_> = key
                .key()
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            Metric {
                name: key.key().name().to_owned(),
                labels,
                unit: unit.map(|u| u.as_str().to_owned()),
                value,
            }
        })
        .collect()
}

/// The metrics called `name`.
fn named<'a>(metrics: &'a [Metric], name: &'static str) -> impl Iterator<Item = &'a Metric> {
    metrics.iter().filter(move |m| m.name == name)
}

/// One sample per call, by method, route, server and outcome; in seconds. No label holds the
/// traversal's id or the server's port.
fn assert_call_durations(metrics: &[Metric], sandbox: &Sandbox, id: &str) {
    let port = sandbox.addr().port().to_string();
    let durations: Vec<&Metric> = named(metrics, "http.client.request.duration").collect();
    let with = |method: &str, status: Option<&str>, error: Option<&str>| {
        durations
            .iter()
            .filter(|m| {
                m.label("http.request.method") == Some(method)
                    && m.label("http.response.status_code") == status
                    && m.label("error.type") == error
            })
            .map(|m| m.samples())
            .sum::<usize>()
    };
    assert_eq!(with("POST", Some("200"), None), 1, "{durations:#?}");
    assert_eq!(with("GET", Some("200"), None), 6, "{durations:#?}");
    assert_eq!(with("GET", Some("404"), Some("404")), 1, "{durations:#?}");
    assert_eq!(with("GET", None, Some("connect")), 1, "{durations:#?}");
    assert_eq!(with("GET", None, Some("token")), 1, "{durations:#?}");
    assert_eq!(durations.iter().map(|m| m.samples()).sum::<usize>(), 10);
    for m in &durations {
        assert_eq!(m.unit.as_deref(), Some("seconds"));
        assert_eq!(m.label("server.address"), Some("127.0.0.1"));
        let template = m.label("url.template").unwrap();
        assert!(
            template == "/api/v1/{client_id}/Traversals"
                || template == "/api/v1/{client_id}/Traversals/{traversal_id}",
            "{template}"
        );
        assert!(!m.labels.iter().any(|(_, v)| v.contains(id) || v == &port));
    }
}

/// Token requests by outcome: the two clients that share nothing fetched one each.
fn assert_token_requests(metrics: &[Metric]) {
    let requests: Vec<&Metric> = named(metrics, "hh.token.requests").collect();
    let outcome = |o: &str| {
        requests
            .iter()
            .filter(|m| m.label("outcome") == Some(o))
            .map(|m| m.count())
            .sum::<u64>()
    };
    assert_eq!(outcome("success"), 1, "{requests:#?}");
    assert!(outcome("error") >= 1, "{requests:#?}");
    let refused = requests
        .iter()
        .find(|m| m.label("outcome") == Some("error"))
        .unwrap();
    assert!(refused.label("error.type").is_some(), "{refused:#?}");
}

/// Every attempt looked in the cache (13: the 503 and the unreachable server add 1 and 2);
/// the first call of each of the two token caches missed. Then the waits, the fetches and the
/// remaining lifetime of the token.
fn assert_token_cache(metrics: &[Metric]) {
    let hits: u64 = named(metrics, "hh.token.cache.hits")
        .map(Metric::count)
        .sum();
    let misses: u64 = named(metrics, "hh.token.cache.misses")
        .map(Metric::count)
        .sum();
    assert_eq!((hits, misses), (11, 2));
    let waits: usize = named(metrics, "hh.token.wait.duration")
        .map(Metric::samples)
        .sum();
    assert_eq!(waits as u64, misses);
    let fetches: usize = named(metrics, "hh.token.request.duration")
        .map(Metric::samples)
        .sum();
    assert!(fetches >= 2);
    let [remaining] = named(metrics, "hh.token.remaining_lifetime").collect::<Vec<_>>()[..] else {
        panic!("{metrics:#?}")
    };
    assert_eq!(remaining.unit.as_deref(), Some("seconds"));
    let DebugValue::Gauge(left) = remaining.value else {
        panic!("{remaining:#?}")
    };
    assert!(left.0 > 3000.0 && left.0 <= 3600.0, "{left}");
}

/// A store that does not answer shows as `hh.token.store.available` 0 (and the client's
/// `token_store_status` says why), while calls go on without it.
#[tokio::test]
async fn an_unavailable_store_is_a_gauge_at_zero() {
    let sandbox = Sandbox::start().await.unwrap();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _recorder = metrics::set_default_local_recorder(&recorder);
    // A port with nothing listening: every store operation fails at once.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere = format!("redis://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = support::sandbox_builder(&sandbox)
        .redis_url(nowhere)
        .build()
        .unwrap();
    TraversalsClient::new(client.clone())
        .create(&serde_json::json!({"shortCode": "SYMPTOMS"}))
        .await
        .unwrap();
    assert!(matches!(
        client.token_store_status(),
        Some(hh_runtime::store::StoreStatus::Unavailable { .. })
    ));
    let gauge = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .find(|(key, ..)| key.key().name() == "hh.token.store.available")
        .map(|(.., value)| value);
    match gauge {
        Some(DebugValue::Gauge(value)) => assert_eq!(value.into_inner(), 0.0),
        other => panic!("{other:?}"),
    }
}
