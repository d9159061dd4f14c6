//! The fleet side of a fetch: what one process does with a shared [`TokenStore`] before and
//! after it asks the identity server for a token.
//!
//! Only the fetch task comes here (a cache hit never does), so at most one store conversation
//! per process runs at a time. Every store operation goes through [`Fleet::op`], which bounds
//! it, and logs an outage once; a failed operation means "carry on alone", never an error.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt as _;
use tokio::time::Instant;

use super::TokenConfig;
use super::cache::{CachedToken, Outcome};
use super::oauth::ParsedToken;
use super::seal::{KeyName, Sealer};
use crate::store::{
    Bounds, MAX_LEASE, SealingKey, StoreError, StoreStatus, TokenStore, UNAVAILABLE_WARNING_EVERY,
};
use crate::telemetry::{self, StoreOp};

/// How often a process waiting on another's fetch looks for the entry (and the lease).
const POLL: Duration = Duration::from_millis(20);
/// During an outage, how often one background probe asks the store whether it is back (the
/// calls meanwhile do not touch it at all).
const PROBE: Duration = Duration::from_secs(1);

/// What a process does about a token it needs, after asking the store.
pub(crate) enum Acquired {
    /// Another process's token, fresh: use it, no request.
    Adopted(Arc<CachedToken>),
    /// This process holds the lease: fetch, then [`Fleet::publish`].
    Leased(Lease),
    /// No coordination (the store failed, or the wait ran out; the outcome says which):
    /// fetch, then publish anyway.
    Alone(&'static str),
    /// The fetch's deadline (the token timeout) came while another process held the lease:
    /// no time is left for a request of this process's own.
    OutOfTime,
}

/// The lease a process holds while it fetches for the fleet: a random owner value, so that
/// only its holder releases it.
pub(crate) struct Lease {
    owner: [u8; 16],
}

/// One client's view of the shared store.
pub(crate) struct Fleet {
    store: Arc<dyn TokenStore>,
    names: KeyName,
    sealer: Sealer,
    lease_ttl: Duration,
    /// How long a process waits for another's fetch before fetching itself: long enough for
    /// a dead holder's lease to run out and the next holder to fetch.
    wait: Duration,
    refresh_ahead: Duration,
    min_remaining: Duration,
    /// False from the first failed operation of an outage to the next success.
    available: AtomicBool,
    /// The outage in progress, if any: for `status` and the repeated warning. `available`
    /// changes only under its lock.
    outage: Mutex<Option<Outage>>,
    /// The token the API last rejected: never adopted again, whatever the store says.
    rejected: Mutex<Option<Arc<CachedToken>>>,
    /// Set once the store's first connection is made.
    connected: tokio::sync::OnceCell<()>,
    /// The store's name, read once: `TokenStore::name` is the user's code, and the fetch
    /// reads the name while it holds the flight lock.
    name: String,
    /// The client's id, for the store's metrics.
    client_id: String,
    /// The bound on each store operation (`store_operation_timeout`).
    op_timeout: Duration,
    /// How the tokens are sent (`Bearer`, or `DPoP`: the entry's name says to which key).
    scheme: &'static str,
    /// The bound on the first connection (`store_connect_timeout`, at least `op_timeout`).
    connect_timeout: Duration,
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("store", &self.store)
            .field("available", &self.available.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Fleet {
    pub(crate) fn new(
        store: Arc<dyn TokenStore>,
        cfg: &TokenConfig,
        key: Option<&SealingKey>,
        previous_key: Option<&SealingKey>,
        bounds: Bounds,
    ) -> Self {
        let names = KeyName::new(cfg);
        let lease_ttl = cfg.timeout.min(MAX_LEASE);
        Fleet {
            name: store.name().to_owned(),
            client_id: cfg.client_id.clone(),
            store,
            sealer: Sealer::new(&names, &cfg.client_secret, key, previous_key),
            names,
            lease_ttl,
            wait: lease_ttl * 2 + Duration::from_secs(1),
            refresh_ahead: cfg.refresh_ahead,
            min_remaining: cfg.min_remaining,
            available: AtomicBool::new(true),
            outage: Mutex::new(None),
            rejected: Mutex::new(None),
            connected: tokio::sync::OnceCell::new(),
            op_timeout: bounds.operation,
            scheme: cfg.token_scheme(),
            connect_timeout: bounds.first_connection(),
        }
    }

    /// Starts the first connection in the background, if there is a runtime to run it on
    /// (otherwise the first fetch makes it).
    pub(crate) fn warm_up(self: &Arc<Self>) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let fleet = Arc::clone(self);
            runtime.spawn(async move { fleet.connect().await });
        }
    }

    /// The store's name, for spans.
    pub(crate) fn store_name(&self) -> &str {
        &self.name
    }

    /// What the store said before a fetch, recorded (on the fetch's span, in the metrics).
    pub(crate) fn record_outcome(&self, outcome: &'static str) {
        telemetry::store_outcome(&self.client_id, &self.name, outcome);
    }

    /// How one operation ended, recorded (`hh.token.store.operations` and `.available`).
    fn record_op(&self, operation: &'static str, op: StoreOp) {
        telemetry::store_operation(&self.client_id, &self.name, operation, op);
    }

    /// Asks the store before a fetch: adopt a fresh shared token, take the lease, or wait for
    /// the holder's token (polling the entry and retrying the lease) until `wait` runs out, or
    /// the fetch's own `deadline` comes. Never abandoned half way (a lease taken is always
    /// returned, to be released), so the caller does not cut it short.
    pub(crate) async fn acquire(self: &Arc<Self>, fetch_deadline: Instant) -> Acquired {
        if !self.available.load(Ordering::Relaxed) {
            return Acquired::Alone("unavailable");
        }
        let deadline = (Instant::now() + self.wait).min(fetch_deadline);
        let owner: [u8; 16] = fastrand::u128(..).to_be_bytes();
        loop {
            match self.read().await {
                Err(()) => return Acquired::Alone("unavailable"),
                Ok(Some(token)) => return Acquired::Adopted(token),
                Ok(None) => {}
            }
            let leased = self.op("put_if_absent", || {
                self.store
                    .put_if_absent(&self.names.lease, &owner, self.lease_ttl)
            });
            match leased.await {
                None => return Acquired::Alone("unavailable"),
                Some(true) => {
                    // The holder before us may have published between our read and our lease.
                    let lease = Lease { owner };
                    if let Ok(Some(token)) = self.read().await {
                        self.release(lease).await;
                        return Acquired::Adopted(token);
                    }
                    return Acquired::Leased(lease);
                }
                Some(false) => {}
            }
            let now = Instant::now();
            if now >= fetch_deadline {
                return Acquired::OutOfTime;
            }
            if now >= deadline {
                return Acquired::Alone("lease lost");
            }
            tokio::time::sleep_until((now + POLL).min(deadline)).await;
        }
    }

    /// After this process's own fetch: a token is published (sealed, expiring with the
    /// token); then the lease, if it holds one, is released either way, so another process
    /// may try at once after a failure.
    pub(crate) async fn finish(self: &Arc<Self>, outcome: &Outcome, lease: Option<Lease>) {
        if let Ok(token) = outcome {
            self.publish(token).await;
        }
        if let Some(lease) = lease {
            self.release(lease).await;
        }
    }

    async fn publish(self: &Arc<Self>, token: &CachedToken) {
        let entry = self
            .sealer
            .seal(token.secret_bytes(), token.issued, token.lifetime);
        let ttl = (token.issued + token.lifetime)
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        if !ttl.is_zero()
            && self
                .op("put", || self.store.put(&self.names.entry, &entry, ttl))
                .await
                .is_some()
        {
            let _ = token.sealed.set(entry);
            tracing::debug!(
                store = self.store_name(),
                outcome = "published",
                "token shared with the fleet"
            );
        }
    }

    async fn release(self: &Arc<Self>, lease: Lease) {
        self.op("delete_if_equals", || {
            self.store.delete_if_equals(&self.names.lease, &lease.owner)
        })
        .await;
    }

    /// The API rejected `token`: never adopt it again.
    pub(crate) fn remember_rejected(&self, token: &Arc<CachedToken>) {
        *self.rejected.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(token));
    }

    /// Removes the shared entry if (and only if) it still holds the rejected `token`, so the
    /// fleet fetches one replacement.
    pub(crate) fn remove_rejected(self: &Arc<Self>, token: &Arc<CachedToken>) {
        let Some(entry) = token.sealed.get().cloned() else {
            return;
        };
        let fleet = Arc::clone(self);
        tokio::spawn(async move {
            let deleted = fleet.op("delete_if_equals", || {
                fleet.store.delete_if_equals(&fleet.names.entry, &entry)
            });
            if deleted.await == Some(true) {
                tracing::debug!(target: "hh_runtime::token", store = fleet.store_name(), outcome = "invalidated", "removed the rejected token from the shared store");
            }
        });
    }

    /// Until the store answers again, asks it once per [`PROBE`] (which also lets a client
    /// such as redis-rs's connection manager reconnect), so that the fleet coordinates again
    /// as soon as it is back rather than at the next fetch.
    fn probe(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let fleet = Arc::downgrade(self);
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(PROBE).await;
                // The client is gone: so is the reason to probe.
                let Some(fleet) = fleet.upgrade() else { return };
                if fleet.available.load(Ordering::Relaxed) {
                    return;
                }
                // Through `op`, which connects first if need be and logs the return.
                if fleet
                    .op("get", || fleet.store.get(&fleet.names.lease))
                    .await
                    .is_some()
                {
                    return;
                }
            }
        });
    }

    /// The shared entry as a token this process may adopt: `Ok(None)` when there is none, or
    /// it is stale, due for refresh, rejected or not to be trusted; `Err` when the store failed.
    async fn read(self: &Arc<Self>) -> Result<Option<Arc<CachedToken>>, ()> {
        let Some(entry) = self.op("get", || self.store.get(&self.names.entry)).await else {
            return Err(());
        };
        let Some(entry) = entry else { return Ok(None) };
        let (now, wall) = (Instant::now(), SystemTime::now());
        let opened = match self.sealer.open(&entry, wall) {
            Ok(opened) => opened,
            Err(why) => {
                tracing::warn!(
                    target: "hh_runtime::token",
                    store = self.store_name(),
                    outcome = "sealed entry rejected",
                    reason = why.as_str(),
                    "ignoring a shared token entry that cannot be trusted; it will be overwritten"
                );
                return Ok(None);
            }
        };
        let token = ParsedToken::with_scheme(opened.token, opened.lifetime, self.scheme).and_then(
            |parsed| {
                CachedToken::shared(
                    parsed,
                    opened.issued,
                    (now, wall),
                    super::cache::spread(self.refresh_ahead, fastrand::f64()),
                    self.min_remaining,
                )
            },
        );
        let Some(token) = token else { return Ok(None) };
        let fresh = token.is_usable(now) && !token.wants_refresh(now);
        let rejected = self
            .rejected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|r| r.same_token(&token));
        if !fresh || rejected {
            return Ok(None);
        }
        let _ = token.sealed.set(entry);
        Ok(Some(Arc::new(token)))
    }

    /// Runs one store operation within the operation bound (after the first connection, see
    /// [`Fleet::connect`]): its result, or `None` if it failed, panicked or took too long.
    /// `name` is the operation's, for the metrics (`hh.token.store.operations`).
    async fn op<T, F>(
        self: &Arc<Self>,
        name: &'static str,
        operation: impl FnOnce() -> F,
    ) -> Option<T>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        if !self.connect().await {
            return None;
        }
        let result = tokio::time::timeout(self.op_timeout, contained(operation)).await;
        self.record_op(name, op_of(&result));
        match result {
            Ok(Ok(value)) => {
                self.answered();
                Some(value)
            }
            Ok(Err((e, _))) => self.failed(&e),
            Err(_) => self.failed(&format!(
                "no answer within {} ms",
                self.op_timeout.as_millis()
            )),
        }
    }

    /// Makes the store's first connection, once per client, within its own bound
    /// (`store_connect_timeout`, 1 s by default, or the operation bound if longer): a TLS handshake and `AUTH` to a remote server take longer
    /// than one operation's bound, and counting them against it would leave every process of
    /// a cold fleet on its own. Started when the client is built (inside a runtime), so a call
    /// rarely waits for it at all; `true` once connected.
    pub(crate) async fn connect(self: &Arc<Self>) -> bool {
        if self.connected.initialized() {
            return true;
        }
        let connected = self
            .connected
            .get_or_try_init(|| async {
                let bound = self.connect_timeout;
                let result = tokio::time::timeout(bound, contained(|| self.store.connect())).await;
                self.record_op("connect", op_of(&result));
                match result {
                    Ok(result) => result.map_err(|(e, _)| e),
                    Err(_) => Err(format!("no connection within {} ms", bound.as_millis())),
                }
            })
            .await;
        match connected {
            Ok(()) => {
                self.answered();
                true
            }
            Err(error) => self.failed::<()>(&error).is_some(),
        }
    }

    /// Whether the store is answering.
    pub(crate) fn status(&self) -> StoreStatus {
        match &*self.outage.lock().unwrap_or_else(PoisonError::into_inner) {
            None => StoreStatus::Available,
            Some(outage) => StoreStatus::Unavailable {
                since: outage.since,
                error: outage.error.clone(),
            },
        }
    }

    /// The store answered: the first answer after an outage is news. The outage and
    /// `available` change together, under the outage's lock, so that a success and a failure
    /// racing cannot leave the status saying "unavailable" of a store that answers.
    fn answered(&self) {
        let back = {
            let mut outage = self.outage.lock().unwrap_or_else(PoisonError::into_inner);
            let back = outage.take().is_some();
            self.available.store(true, Ordering::Relaxed);
            // Under the lock, so the gauge ends as `available` does when answers and failures
            // race.
            telemetry::store_available(&self.client_id, &self.name, true);
            back
        };
        if back {
            tracing::info!(target: "hh_runtime::token", store = self.store_name(), "shared token store reachable again; coordinating with the fleet");
        }
    }

    /// The store failed: the first failure of an outage is a warning and starts the probe;
    /// while it lasts, the warning is repeated once per `UNAVAILABLE_WARNING_EVERY` (a wrong
    /// password never heals, and one line at start-up is easy to miss), the rest at debug.
    fn failed<T>(self: &Arc<Self>, error: &str) -> Option<T> {
        let now = Instant::now();
        let (first, warn) = {
            let mut outage = self.outage.lock().unwrap_or_else(PoisonError::into_inner);
            let first = outage.is_none();
            self.available.store(false, Ordering::Relaxed);
            telemetry::store_available(&self.client_id, &self.name, false);
            let outage = outage.get_or_insert_with(|| Outage {
                since: SystemTime::now(),
                started: now,
                error: String::new(),
                warned: None,
            });
            outage.error = error.to_owned();
            let due = outage
                .warned
                .is_none_or(|at| now.duration_since(at) >= UNAVAILABLE_WARNING_EVERY);
            if due {
                outage.warned = Some(now);
            }
            (first, due.then(|| now.duration_since(outage.started)))
        };
        if first {
            self.probe();
        }
        match warn {
            Some(down) if first || down.is_zero() => {
                tracing::warn!(target: "hh_runtime::token", store = self.store_name(), %error, "shared token store unavailable; each process fetches its own tokens until it is back");
            }
            Some(down) => {
                tracing::warn!(target: "hh_runtime::token", store = self.store_name(), %error, down_s = down.as_secs(), "shared token store still unavailable; each process fetches its own tokens");
            }
            None => {
                tracing::debug!(target: "hh_runtime::token", store = self.store_name(), %error, "shared token store still unavailable");
            }
        }
        None
    }
}

/// A store outage in progress.
struct Outage {
    /// When it began, by the wall clock (for `StoreStatus`) and by tokio's.
    since: SystemTime,
    started: Instant,
    /// The latest failure.
    error: String,
    /// When it was last warned about.
    warned: Option<Instant>,
}

/// How a store operation bounded by a timer ended, for telemetry.
fn op_of<T, E>(result: &Result<Result<T, (String, StoreOp)>, E>) -> StoreOp {
    match result {
        Ok(Ok(_)) => StoreOp::Succeeded,
        Ok(Err((_, op))) => *op,
        Err(_) => StoreOp::TimedOut,
    }
}

/// Runs store code, which for a store of the user's own is the user's code, with a panic in it
/// contained: a store that panics is a store that failed (the process fetches its own token),
/// never a call that fails or a fetch left half done. A failure says how it failed.
async fn contained<T, F>(operation: impl FnOnce() -> F) -> Result<T, (String, StoreOp)>
where
    F: Future<Output = Result<T, StoreError>>,
{
    let panicked = || ("the store panicked".to_owned(), StoreOp::Panicked);
    let future = std::panic::catch_unwind(AssertUnwindSafe(operation)).map_err(|_| panicked())?;
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result.map_err(|e| (e.to_string(), StoreOp::Failed)),
        Err(_) => Err(panicked()),
    }
}
