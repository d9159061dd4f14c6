//! A `TokenStore` of the user's own (an in-memory one here, shared by clients in one process
//! as if they were replicas) against hh-sandbox: what the fleet logic does with any store,
//! without Redis. The fleet over Redis, in real processes, is `hh-downstream/tests/it/fleet`.
//! On tokio's paused clock (the sandbox included), so the waits for the 1 s floor between
//! token requests and for the once-a-second probe are exact.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hh_runtime::Client;
use hh_runtime::store::{SealingKey, StoreFuture, StoreStatus, TokenStore};
use hh_sandbox::Sandbox;

use crate::support;

/// A map behind a mutex, shared by every clone; `down` makes every operation fail, `panics`
/// makes every operation but `connect` panic: [`IN_THE_FUTURE`] while it runs, [`AT_THE_CALL`]
/// in the call that makes its future.
#[derive(Debug, Clone, Default)]
struct Memory {
    map: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    down: Arc<AtomicBool>,
    panics: Arc<AtomicU8>,
    /// How long every read takes, in milliseconds.
    slow_ms: Arc<AtomicU64>,
    /// How long the first connection takes, in milliseconds.
    connect_ms: Arc<AtomicU64>,
    ops: Arc<AtomicUsize>,
    /// How many operations panicked.
    panicked: Arc<AtomicUsize>,
    /// Another process holds every lease and never publishes (it died holding it).
    held: Arc<AtomicBool>,
}

const IN_THE_FUTURE: u8 = 1;
const AT_THE_CALL: u8 = 2;

impl Memory {
    fn check(&self) -> Result<(), hh_runtime::store::StoreError> {
        self.ops.fetch_add(1, Ordering::SeqCst);
        if self.panics.load(Ordering::SeqCst) == IN_THE_FUTURE {
            self.panicked.fetch_add(1, Ordering::SeqCst);
            panic!("a deliberate panic in a store operation (a test of a store that panics)");
        }
        if self.down.load(Ordering::SeqCst) {
            return Err("store down".into());
        }
        Ok(())
    }

    fn at_the_call(&self) {
        if self.panics.load(Ordering::SeqCst) == AT_THE_CALL {
            self.panicked.fetch_add(1, Ordering::SeqCst);
            panic!("a deliberate panic making a store operation (a test of a store that panics)");
        }
    }

    fn values(&self) -> Vec<Vec<u8>> {
        self.map.lock().unwrap().values().cloned().collect()
    }
}

impl TokenStore for Memory {
    fn name(&self) -> &str {
        "memory"
    }
    fn connect(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let slow = self.connect_ms.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(slow)).await;
            self.check()
        })
    }
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        self.at_the_call();
        Box::pin(async move {
            let slow = self.slow_ms.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(slow)).await;
            self.check()?;
            Ok(self.map.lock().unwrap().get(key).cloned())
        })
    }
    fn put<'a>(&'a self, key: &'a str, value: &'a [u8], _ttl: Duration) -> StoreFuture<'a, ()> {
        self.at_the_call();
        Box::pin(async move {
            self.check()?;
            self.map.lock().unwrap().insert(key.into(), value.into());
            Ok(())
        })
    }
    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        _ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        self.at_the_call();
        Box::pin(async move {
            self.check()?;
            let mut map = self.map.lock().unwrap();
            if map.contains_key(key) || self.held.load(Ordering::SeqCst) {
                return Ok(false);
            }
            map.insert(key.into(), value.into());
            Ok(true)
        })
    }
    fn delete_if_equals<'a>(&'a self, key: &'a str, expected: &'a [u8]) -> StoreFuture<'a, bool> {
        self.at_the_call();
        Box::pin(async move {
            self.check()?;
            let mut map = self.map.lock().unwrap();
            if map.get(key).is_some_and(|v| v == expected) {
                map.remove(key);
                return Ok(true);
            }
            Ok(false)
        })
    }
}

/// One call from every replica at once.
async fn all_call(replicas: &[Client]) {
    let mut calls = tokio::task::JoinSet::new();
    for replica in replicas {
        let replica = replica.clone();
        calls.spawn(async move { support::create_traversal(&replica).await.map(|_| ()) });
    }
    while let Some(result) = calls.join_next().await {
        result.unwrap().unwrap();
    }
}

fn replica(sandbox: &Sandbox, store: &Memory) -> hh_runtime::ClientBuilder {
    Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(sandbox.client_id())
        .client_secret(sandbox.client_secret())
        .token_store(store.clone())
}

#[tokio::test(start_paused = true)]
async fn replicas_on_one_store_share_one_token_and_one_replacement() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    let replicas: Vec<Client> = (0..4)
        .map(|_| replica(&sandbox, &store).build().unwrap())
        .collect();
    all_call(&replicas).await;
    assert_eq!(sandbox.token_requests(), 1);
    let token = replicas[0].access_token().await.unwrap();
    for replica in &replicas[1..] {
        let theirs = replica.access_token().await.unwrap();
        assert_eq!(theirs.expose_secret(), token.expose_secret());
    }
    // The store holds the token sealed, never in the clear.
    for value in store.values() {
        let needle = &token.expose_secret().as_bytes()[..16];
        assert!(!value.windows(16).any(|w| w == needle));
    }

    sandbox.revoke_all_tokens();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    all_call(&replicas).await;
    assert_eq!(
        sandbox.token_requests(),
        2,
        "one replacement for every replica"
    );
}

#[tokio::test(start_paused = true)]
async fn a_store_that_fails_is_no_error_and_each_replica_fetches_its_own() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    store.down.store(true, Ordering::SeqCst);
    let a = replica(&sandbox, &store).build().unwrap();
    let b = replica(&sandbox, &store).build().unwrap();
    support::create_traversal(&a).await.unwrap();
    support::create_traversal(&b).await.unwrap();
    assert_eq!(sandbox.token_requests(), 2);
    // During the outage a fetch does not even ask the store (one probe a second does).
    let before = store.ops.load(Ordering::SeqCst);
    sandbox.revoke_all_tokens();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let probes = store.ops.load(Ordering::SeqCst) - before;
    support::create_traversal(&a).await.unwrap();
    assert!(probes <= 4, "{probes} store operations during the outage");
}

#[tokio::test(start_paused = true)]
async fn keys_rotate_with_the_previous_key_and_a_wrong_key_shares_nothing() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    let (old, new) = (
        SealingKey::from_bytes([1; 32]),
        SealingKey::from_bytes([2; 32]),
    );
    let before = replica(&sandbox, &store)
        .sealing_key(old.clone())
        .build()
        .unwrap();
    let during = replica(&sandbox, &store)
        .sealing_key(new.clone())
        .previous_sealing_key(old)
        .build()
        .unwrap();
    support::create_traversal(&before).await.unwrap();
    support::create_traversal(&during).await.unwrap();
    assert_eq!(
        sandbox.token_requests(),
        1,
        "the rotating replica reads the old key's entry"
    );

    // A replica with another key cannot open the entry: it fetches its own and overwrites it.
    let stranger = replica(&sandbox, &store)
        .sealing_key(SealingKey::from_bytes([3; 32]))
        .build()
        .unwrap();
    support::create_traversal(&stranger).await.unwrap();
    assert_eq!(sandbox.token_requests(), 2);
    assert_eq!(sandbox.unissued_tokens(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_store_down_at_start_is_joined_once_it_comes_up() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    store.down.store(true, Ordering::SeqCst);
    let replicas: Vec<Client> = (0..3)
        .map(|_| replica(&sandbox, &store).build().unwrap())
        .collect();
    all_call(&replicas).await;
    assert_eq!(
        sandbox.token_requests(),
        3,
        "each replica alone while the store is down"
    );

    // Up again: each replica's probe connects within a second; the fleet then coordinates.
    store.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sandbox.revoke_all_tokens();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    all_call(&replicas).await;
    assert_eq!(
        sandbox.token_requests(),
        4,
        "one token for the fleet once the store is up"
    );
}

/// E27: a store of the user's own is user code inside the token fetch. One that panics, while
/// an operation runs or in the call that makes it, is a store that failed: no call fails, each
/// replica fetches its own token, and once the store behaves the probes find it again.
#[tokio::test(start_paused = true)]
async fn a_store_that_panics_is_a_store_that_failed() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    let replicas: Vec<Client> = (0..2)
        .map(|_| replica(&sandbox, &store).build().unwrap())
        .collect();
    // Each kind of panic while the store is thought available, so that a fetch asks it.
    let mut requests = 0;
    for (panics, kind) in [
        (AT_THE_CALL, "at the call"),
        (IN_THE_FUTURE, "in the future"),
    ] {
        store.panics.store(panics, Ordering::SeqCst);
        store.panicked.store(0, Ordering::SeqCst);
        sandbox.revoke_all_tokens();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        all_call(&replicas).await;
        assert!(
            store.panicked.load(Ordering::SeqCst) > 0,
            "{kind}: no panic"
        );
        requests += 2;
        assert_eq!(sandbox.token_requests(), requests, "{kind}: each alone");
        // The store behaves again: within a second the probes find it.
        store.panics.store(0, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    // The probes found it: the fleet coordinates again, and a revocation costs one token.
    // (Nothing was published while the store panicked, so no replica holds a token another
    // might adopt.)
    sandbox.revoke_all_tokens();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    all_call(&replicas).await;
    assert_eq!(sandbox.token_requests(), requests + 1, "one token for both");
}

/// `store_connect_timeout` gives a slow first connection (a store in another region) the time
/// it needs, with the default operation bound; out of range it is a configuration error.
#[tokio::test(start_paused = true)]
async fn the_first_connections_bound_is_configurable() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    store.connect_ms.store(2_500, Ordering::SeqCst);
    let replicas: Vec<Client> = (0..2)
        .map(|_| {
            replica(&sandbox, &store)
                .store_connect_timeout(Duration::from_secs(3))
                .build()
                .unwrap()
        })
        .collect();
    all_call(&replicas).await;
    assert_eq!(sandbox.token_requests(), 1, "one token for both");
    for bad in [Duration::ZERO, Duration::from_secs(31)] {
        let error = replica(&sandbox, &store)
            .store_connect_timeout(bad)
            .build()
            .unwrap_err()
            .to_string();
        assert!(error.contains("store_connect_timeout"), "{error}");
    }
}

/// The first connection is bounded apart from the operations (at 1 s, or the operation bound
/// if longer): a handshake slower than one operation's bound still joins the fleet.
#[tokio::test(start_paused = true)]
async fn the_first_connection_has_a_bound_of_its_own() {
    for (connect, bound) in [(500, None), (1_500, Some(Duration::from_secs(2)))] {
        let sandbox = Sandbox::start().await.unwrap();
        let store = Memory::default();
        store.connect_ms.store(connect, Ordering::SeqCst);
        let replicas: Vec<Client> = (0..2)
            .map(|_| {
                let b = replica(&sandbox, &store);
                bound
                    .map_or(b.clone(), |d| b.store_operation_timeout(d))
                    .build()
                    .unwrap()
            })
            .collect();
        all_call(&replicas).await;
        assert_eq!(
            sandbox.token_requests(),
            1,
            "a {connect} ms connection: one token for both"
        );
    }
}

/// Every operation is bounded: by default at 100 ms, past which a replica fetches alone; a
/// store that answers in 300 ms is shared once `store_operation_timeout` allows it.
#[tokio::test(start_paused = true)]
async fn the_operation_bound_decides_whether_a_slow_store_is_shared() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    store.slow_ms.store(300, Ordering::SeqCst);
    let hasty: Vec<Client> = (0..2)
        .map(|_| replica(&sandbox, &store).build().unwrap())
        .collect();
    all_call(&hasty).await;
    assert_eq!(sandbox.token_requests(), 2, "each replica alone");

    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    store.slow_ms.store(300, Ordering::SeqCst);
    let patient: Vec<Client> = (0..2)
        .map(|_| {
            replica(&sandbox, &store)
                .store_operation_timeout(Duration::from_secs(1))
                .build()
                .unwrap()
        })
        .collect();
    for replica in &patient {
        support::create_traversal(replica).await.unwrap();
    }
    assert_eq!(sandbox.token_requests(), 1, "one token for both");

    for bad in [Duration::ZERO, Duration::from_secs(6)] {
        let err = replica(&sandbox, &store)
            .store_operation_timeout(bad)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("store_operation_timeout"), "{err}");
    }
}

/// The token timeout bounds a fetch end to end, the store's part included: a replica waiting
/// on a lease that another (dead) replica holds gives up when the token timeout says (2 s
/// here), not when its wait for the lease would (2 leases and a second: 5 s), and the next
/// fetch, once the lease is free, succeeds.
#[tokio::test(start_paused = true)]
async fn the_token_timeout_bounds_a_fetch_waiting_on_the_store() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    store.held.store(true, Ordering::SeqCst);
    let client = replica(&sandbox, &store)
        .token_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let error = client.access_token().await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_secs(2), "{error}");
    assert!(error.is_token() && error.is_timeout(), "{error}");
    assert_eq!(sandbox.token_requests(), 0);

    store.held.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    support::create_traversal(&client).await.unwrap();
    assert_eq!(sandbox.token_requests(), 1);
}

/// A store that stays down (a wrong password, say) is not silent: `token_store_status` says
/// so with the latest error, and the warning is repeated once a minute while it lasts (the
/// probe meanwhile asks once a second, at debug), until the store answers again.
#[tokio::test(start_paused = true)]
async fn an_unavailable_store_is_reported_and_warned_about_once_a_minute() {
    // Alone: the warnings are counted through a subscriber of this test's own.
    if !hh_sandbox::in_own_process() {
        return;
    }
    let lines = support::Capture::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    store.down.store(true, Ordering::SeqCst);
    let client = replica(&sandbox, &store).build().unwrap();
    assert_eq!(client.token_store_status(), Some(StoreStatus::Available));
    support::create_traversal(&client).await.unwrap();
    match client.token_store_status() {
        Some(StoreStatus::Unavailable { error, .. }) => assert_eq!(error, "store down"),
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_secs(150)).await;
    let warnings = |lines: &support::Capture| {
        lines
            .text()
            .lines()
            .filter(|l| l.contains("WARN") && l.contains("shared token store"))
            .count()
    };
    // At 0 s, 60 s and 120 s: three in 150 s, where the probe failed 150 times.
    assert_eq!(warnings(&lines), 3);
    assert!(store.ops.load(Ordering::SeqCst) >= 150);

    store.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(client.token_store_status(), Some(StoreStatus::Available));
    assert_eq!(warnings(&lines), 3);
}

/// Two replicas whose tokens diverged (one fetched alone while the store was down; the entry
/// holds the other's), then a revocation that kills both: the replica with its own token is
/// rejected, adopts the entry (revoked too, which it cannot know), is rejected again, and
/// replays once more with a token it fetches itself. No call fails. (Before, the one replay
/// used the adopted token and the call failed with a 401.)
#[tokio::test(start_paused = true)]
async fn a_revocation_after_the_fleet_diverged_fails_no_call() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = Memory::default();
    let a = replica(&sandbox, &store).build().unwrap();
    let b = replica(&sandbox, &store).build().unwrap();
    // A publishes its token.
    support::create_traversal(&a).await.unwrap();
    // The store down, B fetches one of its own, which it cannot publish.
    store.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    support::create_traversal(&b).await.unwrap();
    assert_eq!(sandbox.token_requests(), 2, "B fetched alone");
    store.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(b.token_store_status(), Some(StoreStatus::Available));

    sandbox.revoke_all_tokens();
    let before = sandbox.api_requests();
    // B: 401 on its own token, adopts A's (revoked), 401 again, fetches: three attempts.
    support::create_traversal(&b).await.unwrap();
    assert_eq!(sandbox.api_requests() - before, 3);
    // A: 401 on its token, adopts B's new one: two attempts, no request of its own.
    support::create_traversal(&a).await.unwrap();
    assert_eq!(sandbox.token_requests(), 3);
    assert_eq!(sandbox.unissued_tokens(), 0);
}

#[cfg(feature = "dpop")]
#[tokio::test(start_paused = true)]
async fn dpop_replicas_share_tokens_only_with_replicas_holding_their_key() {
    use hh_runtime::auth::{Algorithm, SigningKey};
    use std::sync::Arc;
    let sandbox = Sandbox::builder().require_dpop().start().await.unwrap();
    let store = Memory::default();
    let keys = [
        Arc::new(SigningKey::generate(Algorithm::ES256).unwrap()),
        Arc::new(SigningKey::generate(Algorithm::EdDSA).unwrap()),
    ];
    // Two replicas hold each key, as processes given the same HH_DPOP_KEY would.
    let replicas: Vec<Client> = (0..4)
        .map(|i| {
            replica(&sandbox, &store)
                .dpop(Arc::clone(&keys[i % 2]))
                .build()
                .unwrap()
        })
        .collect();
    // Every call passes the sandbox's check of the token's binding: no replica used a token
    // bound to the other key.
    all_call(&replicas).await;
    assert_eq!(sandbox.token_requests(), 2, "one token per key");
    let mut tokens = Vec::new();
    for replica in &replicas {
        tokens.push(
            replica
                .access_token()
                .await
                .unwrap()
                .expose_secret()
                .to_owned(),
        );
    }
    assert_eq!(tokens[0], tokens[2]);
    assert_eq!(tokens[1], tokens[3]);
    assert_ne!(tokens[0], tokens[1]);

    sandbox.revoke_all_tokens();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    all_call(&replicas).await;
    assert_eq!(sandbox.token_requests(), 4, "one replacement per key");
}

#[cfg(feature = "rustls")]
#[tokio::test]
async fn certificate_bound_tokens_are_shared_only_with_replicas_presenting_the_certificate() {
    let sandbox = Sandbox::builder().tls().start().await.unwrap();
    let store = Memory::default();
    let certificates = [
        sandbox.issue_client_certificate("cert-fleet").unwrap(),
        sandbox.issue_client_certificate("cert-fleet").unwrap(),
    ];
    let replicas: Vec<Client> = (0..4)
        .map(|i| {
            let (cert, key) = &certificates[i % 2];
            Client::builder()
                .identity_url(sandbox.identity_url())
                .api_url(sandbox.api_url())
                .client_id("cert-fleet")
                .client_auth(hh_runtime::ClientAuth::TlsClientAuth)
                .client_certificate(cert, key)
                .root_certificate(sandbox.ca_certificate_pem().unwrap())
                .token_store(store.clone())
                .sealing_key(hh_runtime::store::SealingKey::from_bytes([7; 32]))
                .build()
                .unwrap()
        })
        .collect();
    // Every call passes the sandbox's check that the token is bound to the connection's
    // certificate: no replica used a token bound to the other certificate.
    all_call(&replicas).await;
    assert_eq!(sandbox.token_requests(), 2, "one token per certificate");
}
