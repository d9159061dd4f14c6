//! The `metrics` feature through a real recorder (metrics-util's debugging recorder, which
//! keeps every sample): one `http.client.request.duration` sample per attempt with the
//! conventions' labels, one `hh.client.call.duration` sample per logical call, the
//! `hh.token.*` metrics for calls against hh-sandbox, the same for a served fake's endpoint, and the `hh.token.store.*` metrics with
//! a real Redis and with none.

#![allow(clippy::unwrap_used)]

use crate::declarations::{Directory as _, DirectoryClient};
use crate::support::{Traversals as _, TraversalsClient};
use hh_downstream::clinic::{Appointments as _, AppointmentsClient, AppointmentsFake};
use hh_runtime::{Error, StatusCode};
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

/// A traversal, declared as the wrong type: its answer cannot be decoded.
#[hh_runtime::healthhero_api(prefix = "/api/v1/<client_id>")]
trait Misread {
    /// A traversal's state, as a list of numbers (which it is not).
    #[get("/Traversals/<traversal_id>")]
    async fn get(&self, traversal_id: &str) -> Result<Vec<u32>, hh_runtime::Error>;
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
    assert_attempt_durations(&metrics, &sandbox, &id);
    assert_call_durations(&metrics, &id);
    assert_token_requests(&metrics);
    assert_token_cache(&metrics);
}

/// The measured calls: a create, six gets (one through a 503 that is retried), a 404, a
/// traversal read as the wrong type, one its caller gave up on, a 404 read as `None`, one to
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
    // A 503 that is retried: one call, two attempts.
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
    // A 200 whose body is not what the declaration says: an answer, and a failed call.
    let misread = MisreadClient::new(api.client().clone());
    misread.get(&id).await.unwrap_err();
    // A call its caller gives up on, against an endpoint that never answers: still a request
    // and a call, both `cancelled`.
    sandbox.inject("traversals.get", Fault::Hang);
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(200), api.get(&id));
    assert!(gave_up.await.is_err());
    sandbox.clear_faults();
    // A 404 that an `Option` method returns as `None`: a failed attempt, not a failed call.
    let directory = DirectoryClient::new(api.client().clone());
    assert!(directory.member("no-such-member").await.unwrap().is_none());
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

/// A served fake's endpoint (the clinic's own, not HealthHero's) is measured as HealthHero's
/// are: a 503 retried is two attempt samples and one call sample, labelled with the route's
/// template and the endpoint's name, never the path's value.
#[tokio::test]
async fn a_served_fakes_calls_are_measured_as_healthheros() {
    let sandbox = Sandbox::start().await.unwrap();
    let fake = AppointmentsFake::new();
    sandbox.serve(&fake);
    let api = AppointmentsClient::new(client(&sandbox, sandbox.client_secret()));
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _recorder = metrics::set_default_local_recorder(&recorder);

    fake.booking
        .returns(Err(Error::from_status(StatusCode::SERVICE_UNAVAILABLE, "")))
        .returns(Ok(None));
    assert_eq!(api.booking(4242).await.unwrap(), None);
    fake.verify();

    let metrics = snapshot(&snapshotter);
    let attempts = count_by(&metrics, "http.client.request.duration");
    assert_eq!(attempts("GET", Some("503"), Some("503")), 1, "{metrics:#?}");
    assert_eq!(attempts("GET", Some("404"), Some("404")), 1, "{metrics:#?}");
    let calls = count_by(&metrics, "hh.client.call.duration");
    assert_eq!(calls("GET", Some("404"), None), 1, "{metrics:#?}");
    for m in named(&metrics, "http.client.request.duration") {
        let template = m.label("url.template").unwrap();
        assert!(
            ["/clinic/v2/bookings/{id}", "/connect/token"].contains(&template),
            "{template}"
        );
    }
    for m in named(&metrics, "hh.client.call.duration") {
        assert_eq!(m.label("hh.endpoint"), Some("Appointments.booking"));
    }
    assert!(
        !metrics
            .iter()
            .any(|m| m.labels.iter().any(|(_, v)| v.contains("4242"))),
        "{metrics:#?}"
    );
}

/// The samples of `name` by method, status and `error.type`.
fn count_by(
    metrics: &[Metric],
    name: &'static str,
) -> impl Fn(&str, Option<&str>, Option<&str>) -> usize {
    // (method, status, error.type, samples)
    type Found = (Option<String>, Option<String>, Option<String>, usize);
    let found: Vec<Found> = named(metrics, name)
        .filter(|m| m.label("url.template") != Some("/connect/token"))
        .map(|m| {
            let label = |k: &str| m.label(k).map(str::to_owned);
            (
                label("http.request.method"),
                label("http.response.status_code"),
                label("error.type"),
                m.samples(),
            )
        })
        .collect();
    move |method, status, error| {
        found
            .iter()
            .filter(|(m, s, e, _)| {
                m.as_deref() == Some(method) && s.as_deref() == status && e.as_deref() == error
            })
            .map(|(.., n)| n)
            .sum()
    }
}

/// One sample per attempt (the request a backend counts), by method, route, server, port,
/// scheme and outcome; in seconds. Both `http.response.status_code` and `error.type` exactly
/// when the answer was a 4xx or 5xx. The call whose token request failed sent nothing, so it
/// has none. No label holds the traversal's id.
fn assert_attempt_durations(metrics: &[Metric], sandbox: &Sandbox, id: &str) {
    let port = sandbox.addr().port().to_string();
    let with = count_by(metrics, "http.client.request.duration");
    let durations: Vec<&Metric> = named(metrics, "http.client.request.duration").collect();
    assert_eq!(with("POST", Some("200"), None), 1, "{durations:#?}");
    assert_eq!(with("GET", Some("200"), None), 7, "{durations:#?}");
    assert_eq!(with("GET", Some("503"), Some("503")), 1, "{durations:#?}");
    assert_eq!(with("GET", Some("404"), Some("404")), 2, "{durations:#?}");
    assert_eq!(with("GET", None, Some("connect")), 3, "{durations:#?}");
    assert_eq!(with("GET", None, Some("cancelled")), 1, "{durations:#?}");
    // The token requests are requests too: one issued, one refused.
    let tokens: Vec<&&Metric> = durations
        .iter()
        .filter(|m| m.label("url.template") == Some("/connect/token"))
        .collect();
    let token_statuses: Vec<_> = tokens
        .iter()
        .map(|m| (m.label("http.response.status_code"), m.label("error.type")))
        .collect();
    assert_eq!(tokens.len(), 2, "{tokens:#?}");
    assert!(token_statuses.contains(&(Some("200"), None)), "{tokens:#?}");
    assert_eq!(durations.iter().map(|m| m.samples()).sum::<usize>(), 17);
    for m in &durations {
        assert_eq!(m.unit.as_deref(), Some("seconds"));
        assert_eq!(m.label("server.address"), Some("127.0.0.1"));
        assert_eq!(m.label("url.scheme"), Some("http"));
        // The refused connection went to a port of its own.
        if m.label("error.type") != Some("connect") {
            assert_eq!(m.label("server.port"), Some(port.as_str()), "{m:#?}");
        }
        if m.label("http.response.status_code").is_some() {
            assert_eq!(m.label("network.protocol.version"), Some("1.1"), "{m:#?}");
        }
        let template = m.label("url.template").unwrap();
        assert!(
            [
                "/api/v1/{client_id}/Traversals",
                "/api/v1/{client_id}/Traversals/{traversal_id}",
                "/api/v1/{client_id}/Members/{reference}",
                "/connect/token",
            ]
            .contains(&template),
            "{template}"
        );
        assert!(!m.labels.iter().any(|(_, v)| v.contains(id)));
    }
}

/// One sample per logical call, retries and waits included, by endpoint: the last status the
/// API answered, and `error.type` when the call failed (`token` for the call that never got a
/// token, with no status).
fn assert_call_durations(metrics: &[Metric], id: &str) {
    let with = count_by(metrics, "hh.client.call.duration");
    let calls: Vec<&Metric> = named(metrics, "hh.client.call.duration").collect();
    assert_eq!(with("POST", Some("200"), None), 1, "{calls:#?}");
    assert_eq!(with("GET", Some("200"), None), 6, "{calls:#?}");
    assert_eq!(with("GET", Some("404"), Some("404")), 1, "{calls:#?}");
    assert_eq!(with("GET", Some("404"), None), 1, "{calls:#?}");
    assert_eq!(with("GET", Some("200"), Some("decode")), 1, "{calls:#?}");
    assert_eq!(with("GET", None, Some("connect")), 1, "{calls:#?}");
    assert_eq!(with("GET", None, Some("token")), 1, "{calls:#?}");
    assert_eq!(with("GET", None, Some("cancelled")), 1, "{calls:#?}");
    assert_eq!(calls.iter().map(|m| m.samples()).sum::<usize>(), 13);
    for m in &calls {
        assert_eq!(m.unit.as_deref(), Some("seconds"));
        let endpoint = m.label("hh.endpoint").unwrap();
        assert!(
            [
                "Traversals.create",
                "Traversals.get",
                "Directory.member",
                "Misread.get"
            ]
            .contains(&endpoint),
            "{endpoint}"
        );
        assert!(!m.labels.iter().any(|(_, v)| v.contains(id)));
    }
}

/// Token requests by outcome: the two clients that share nothing fetched one each.
fn assert_token_requests(metrics: &[Metric]) {
    let requests: Vec<&Metric> = named(metrics, "hh.token.requests").collect();
    let outcome = |o: &str| {
        requests
            .iter()
            .filter(|m| m.label("hh.outcome") == Some(o))
            .map(|m| m.count())
            .sum::<u64>()
    };
    assert_eq!(outcome("success"), 1, "{requests:#?}");
    assert!(outcome("error") >= 1, "{requests:#?}");
    let refused = requests
        .iter()
        .find(|m| m.label("hh.outcome") == Some("error"))
        .unwrap();
    assert!(refused.label("error.type").is_some(), "{refused:#?}");
}

/// Every attempt looked in the cache (16: the 503 and the unreachable server add 1 and 2);
/// the first call of each of the two token caches missed. Then the waits, the fetches and the
/// remaining lifetime of the token.
fn assert_token_cache(metrics: &[Metric]) {
    let hits: u64 = named(metrics, "hh.token.cache.hits")
        .map(Metric::count)
        .sum();
    let misses: u64 = named(metrics, "hh.token.cache.misses")
        .map(Metric::count)
        .sum();
    assert_eq!((hits, misses), (14, 2));
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
/// `token_store_status` says why), its failed operations and the fetches made alone are
/// counted, while calls go on without it.
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
    let metrics = snapshot(&snapshotter);
    assert_eq!(store_available(&metrics), 0.0);
    let failed = store_operations(&metrics, "error");
    assert!(
        failed.iter().any(|(operation, _)| operation == "connect"),
        "{failed:?}"
    );
    assert_eq!(store_outcomes(&metrics), [("unavailable".to_owned(), 1)]);
}

/// With a real Redis: the gauge at 1, every operation a success, and the one fetch made under
/// the fleet's lease.
#[tokio::test]
async fn a_store_that_answers_is_a_gauge_at_one() {
    let sandbox = Sandbox::start().await.unwrap();
    let redis = crate::fleet::RedisServer::start();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _recorder = metrics::set_default_local_recorder(&recorder);
    let client = support::sandbox_builder(&sandbox)
        .redis_url(redis.url())
        // Bounds far beyond what a loaded machine needs: this test is about the metrics, and
        // one slow operation would read as an outage.
        .store_operation_timeout(std::time::Duration::from_secs(5))
        .store_connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    TraversalsClient::new(client)
        .create(&serde_json::json!({"shortCode": "SYMPTOMS"}))
        .await
        .unwrap();
    // The call returns once it has its token; the lease is released after (the waiters
    // first), within the store's operation bound: until then, snapshots are gathered (each
    // takes what was recorded since the last).
    let first = snapshot(&snapshotter);
    assert_eq!(store_available(&first), 1.0);
    assert_eq!(store_outcomes(&first), [("lease won".to_owned(), 1)]);
    let mut done = Vec::new();
    let mut failed = Vec::new();
    let mut metrics = first;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        failed.extend(store_operations(&metrics, "error"));
        done.extend(
            store_operations(&metrics, "success")
                .into_iter()
                .map(|(o, _)| o),
        );
        if done.iter().any(|o| o == "delete_if_equals") || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        metrics = snapshot(&snapshotter);
    }
    assert_eq!(failed, []);
    for operation in ["connect", "get", "put_if_absent", "put", "delete_if_equals"] {
        assert!(done.iter().any(|o| o == operation), "{operation}: {done:?}");
    }
}

/// `hh.token.store.available`, for the store named `redis`.
fn store_available(metrics: &[Metric]) -> f64 {
    let [gauge] = named(metrics, "hh.token.store.available").collect::<Vec<_>>()[..] else {
        panic!("{metrics:#?}")
    };
    assert_eq!(gauge.label("hh.token.store"), Some("redis"));
    assert_eq!(gauge.label("hh.client_id"), Some("sandbox-client"));
    match gauge.value {
        DebugValue::Gauge(value) => value.into_inner(),
        ref other => panic!("{other:?}"),
    }
}

/// The store operations that ended with `outcome`, with their counts.
fn store_operations(metrics: &[Metric], outcome: &str) -> Vec<(String, u64)> {
    named(metrics, "hh.token.store.operations")
        .filter(|m| m.label("hh.outcome") == Some(outcome))
        .map(|m| {
            assert_eq!(m.label("hh.token.store"), Some("redis"));
            let operation = m.label("hh.token.store.operation").unwrap().to_owned();
            (operation, m.count())
        })
        .collect()
}

/// What the store said before each fetch, with counts.
fn store_outcomes(metrics: &[Metric]) -> Vec<(String, u64)> {
    named(metrics, "hh.token.store.outcomes")
        .map(|m| {
            let outcome = m.label("hh.token.store.outcome").unwrap().to_owned();
            (outcome, m.count())
        })
        .collect()
}
