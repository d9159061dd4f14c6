//! The OAuth 2.0 client-credentials token lifecycle: fetch, cache, refresh ahead, coalesce,
//! back off, invalidate.
//!
//! - `config`: what it is configured with (the client authentication method and keys);
//! - `cache`: the state and every decision, as pure functions of the time and the state;
//! - `oauth`: the token endpoint on the wire (request, client authentication, parsing);
//! - `jwt`: reading `exp` from a JWT when the response has no `expires_in`;
//! - `fleet`: the shared store a fetch consults first, when one is configured;
//! - this module: the handle that ties them together with a clock, a lock and a task.
//!
//! How it fits together:
//! - The current token lives in an `ArcSwapOption`, so a cache hit is one atomic load and never
//!   waits on anything a refresh holds.
//! - At most one fetch runs at a time. It runs on its own task, so it belongs to no caller:
//!   dropping any caller's future never cancels or stalls it. Callers that need a token wait on
//!   a `watch` channel for its outcome.
//! - `Flight` (behind a short-lived `std` mutex, never held across an await) records the fetch
//!   in progress, when the last request went out, and the most recent failure with the time
//!   before which no new request may start.

mod cache;
mod config;
#[cfg(feature = "token-store")]
mod fleet;
mod jwt;
mod oauth;
mod public;
#[cfg(feature = "token-store")]
mod seal;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use tokio::sync::watch;
use tokio::time::Instant;
use tracing::Instrument as _;

pub(crate) use cache::CachedToken;
use cache::{Decision, Flight, Outcome};
#[cfg(feature = "private-key-jwt")]
pub(crate) use config::Assertion;
pub use config::ClientAuth;
pub(crate) use config::{DpopAnswer, TokenConfig};
#[cfg(feature = "token-store")]
use fleet::Acquired;
#[cfg(feature = "token-store")]
pub(crate) use fleet::Fleet;
#[cfg(feature = "token-store")]
pub(crate) use oauth::{MAX_LIFETIME, fits_in_a_header};
pub use public::AccessToken;

use crate::error::{Error, TokenFailure};
use crate::telemetry;

struct Shared {
    cfg: TokenConfig,
    http: reqwest::Client,
    current: arc_swap::ArcSwapOption<CachedToken>,
    /// Mirrors `Flight::waiting.is_some()` so the hit path can skip the mutex.
    fetching: AtomicBool,
    flight: Mutex<Flight>,
    /// Told each time a fetch obtains a token, for the calls waiting out a failure.
    obtained: watch::Sender<()>,
    /// The store shared with the rest of the fleet, if one is configured.
    #[cfg(feature = "token-store")]
    fleet: Option<Arc<Fleet>>,
}

impl Shared {
    /// An empty cache: no token, no fetch, no store.
    fn new(cfg: TokenConfig, http: reqwest::Client) -> Self {
        Shared {
            cfg,
            http,
            current: arc_swap::ArcSwapOption::empty(),
            fetching: AtomicBool::new(false),
            flight: Mutex::new(Flight::default()),
            obtained: watch::Sender::new(()),
            #[cfg(feature = "token-store")]
            fleet: None,
        }
    }

    /// The flight lock. Nothing that holds it can panic half way, but a poisoned lock is
    /// recovered, never turned into a panic on every later call.
    fn flight(&self) -> MutexGuard<'_, Flight> {
        self.flight.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The error of a fetch that ended without a result.
    fn aborted(&self) -> Error {
        Error::token(TokenFailure::Aborted).at_token_endpoint(&self.cfg.token_url)
    }

    /// The flight lock if it is free (recovered from poisoning the same way), `None` if
    /// someone holds it.
    fn try_flight(&self) -> Option<MutexGuard<'_, Flight>> {
        match self.flight.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

/// The shared, cloneable handle to one client's token cache.
#[derive(Clone)]
pub(crate) struct TokenSource {
    shared: Arc<Shared>,
}

impl TokenSource {
    pub(crate) fn new(cfg: TokenConfig, http: reqwest::Client) -> Self {
        Self {
            shared: Arc::new(Shared::new(cfg, http)),
        }
    }

    /// The same, sharing its tokens with the fleet through `fleet`'s store.
    #[cfg(feature = "token-store")]
    pub(crate) fn with_fleet(cfg: TokenConfig, http: reqwest::Client, fleet: Fleet) -> Self {
        let fleet = Arc::new(fleet);
        fleet.warm_up();
        let mut shared = Shared::new(cfg, http);
        shared.fleet = Some(fleet);
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The body without the token it was sent with or the client secret, in case the server
    /// echoed them.
    pub(crate) fn scrub(&self, body: bytes::Bytes, token: &CachedToken) -> bytes::Bytes {
        let forms = self.config().secret_forms();
        let mut secrets: Vec<&[u8]> = forms.iter().map(Vec::as_slice).collect();
        secrets.push(token.secret_bytes());
        crate::body::scrub(body, &secrets)
    }

    /// The headers of an answer kept in an error, each value without the token it was sent
    /// with or the client secret (a server's `WWW-Authenticate` description, a proxy's
    /// debugging header): what `Error::headers`, `Debug` and `Display` show.
    pub(crate) fn scrub_headers(
        &self,
        headers: http::HeaderMap,
        token: &CachedToken,
    ) -> http::HeaderMap {
        crate::body::scrub_headers(headers, |value| self.scrub(value, token))
    }

    pub(crate) fn config(&self) -> &TokenConfig {
        &self.shared.cfg
    }

    /// Puts `token` on `request`: `Authorization`, and with DPoP a new proof for this
    /// request's method and URL, which it returns so that an answer echoing it can be
    /// scrubbed. The one way an API request gets its token.
    pub(crate) fn authorize(
        &self,
        request: &mut reqwest::Request,
        token: &CachedToken,
    ) -> Option<http::HeaderValue> {
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, token.header.clone());
        #[cfg(feature = "dpop")]
        if let Some(dpop) = &self.shared.cfg.dpop {
            match dpop.proof(request.method(), request.url(), Some(token.secret_bytes())) {
                Ok(proof) => {
                    request
                        .headers_mut()
                        .insert(crate::auth::DPOP, proof.clone());
                    return Some(proof);
                }
                // Not expected of a key in process; the server's 401 then says why.
                Err(e) => tracing::warn!(error = %e, "no DPoP proof for this request"),
            }
        }
        None
    }

    /// Reads what an API's answer from `origin` says to DPoP: the nonce it carries is kept
    /// for the next proof to that origin, and a 401 is judged: one asking for a nonce
    /// (`use_dpop_nonce`), which the request answers by going again at once, one refusing the
    /// proof (`invalid_dpop_proof`: its time, its URL; the token is not at fault and is kept),
    /// or one about the token.
    pub(crate) fn dpop_answer(
        &self,
        origin: &url::Origin,
        status: http::StatusCode,
        headers: &http::HeaderMap,
    ) -> DpopAnswer {
        #[cfg(feature = "dpop")]
        if let Some(dpop) = &self.shared.cfg.dpop {
            dpop.observe(origin, headers);
            if status == http::StatusCode::UNAUTHORIZED {
                match crate::auth::dpop_error(headers) {
                    Some("use_dpop_nonce") => return DpopAnswer::Nonce,
                    Some("invalid_dpop_proof") => return DpopAnswer::ProofRefused,
                    _ => {}
                }
            }
        }
        let _ = (origin, status, headers);
        DpopAnswer::Other
    }

    /// The name of the shared store, if one is configured (for `Debug`).
    pub(crate) fn store_name(&self) -> Option<&str> {
        store_name(&self.shared)
    }

    /// Whether the shared store answers, if one is configured.
    #[cfg(feature = "token-store")]
    pub(crate) fn store_status(&self) -> Option<crate::store::StoreStatus> {
        self.shared.fleet.as_deref().map(Fleet::status)
    }

    /// A token with at least the minimum remaining life, fetching one if needed.
    pub(crate) async fn get(&self) -> Result<Arc<CachedToken>, Error> {
        let now = Instant::now();
        if let Some(token) = self.cached(now) {
            return Ok(token);
        }
        let token = self.get_slow().await;
        telemetry::token_cache_miss(now.elapsed());
        token
    }

    /// The cached token if it is usable at `now` (starting a background refresh when it is
    /// due), without waiting: the hit path, one atomic load and no lock. `now` is the
    /// caller's, so that a call reads the clock once for this and its attempt's timer.
    pub(crate) fn cached(&self, now: Instant) -> Option<Arc<CachedToken>> {
        let current = self.shared.current.load();
        let token = current.as_ref().filter(|t| t.is_usable(now))?;
        if token.wants_refresh(now) {
            self.refresh_in_background(now);
        }
        telemetry::token_cache_hit(token.expires_at.saturating_duration_since(now));
        Some(Arc::clone(token))
    }

    /// Starts a refresh that nobody waits for, unless one is running or a recent failure says
    /// to wait. Never blocks: if the lock is busy, someone else is deciding already.
    fn refresh_in_background(&self, now: Instant) {
        if self.shared.fetching.load(Ordering::Acquire) {
            return;
        }
        let Some(mut flight) = self.shared.try_flight() else {
            return;
        };
        let Some(not_before) = flight.background_refresh(now) else {
            return;
        };
        let (_, fetch) = self.start(&mut flight, not_before);
        drop(flight);
        fetch.spawn();
        tracing::debug!(target: "hh_runtime::token", "token in its refresh window; refreshing in the background");
    }

    async fn get_slow(&self) -> Result<Arc<CachedToken>, Error> {
        let (mut rx, fetch) = {
            let mut flight = self.shared.flight();
            match flight.decide(Instant::now(), self.shared.current.load_full()) {
                Decision::Use(token) => return Ok(token),
                Decision::Fail(error) => return Err(error),
                Decision::Join(rx) => (rx, None),
                Decision::Fetch { not_before } => {
                    let (rx, fetch) = self.start(&mut flight, not_before);
                    (rx, Some(fetch))
                }
            }
        };
        if let Some(fetch) = fetch {
            fetch.spawn();
        }
        loop {
            if let Some(outcome) = rx.borrow_and_update().clone() {
                return outcome;
            }
            if rx.changed().await.is_err() {
                // The sender is gone; it always sends before it goes, but check once more.
                return match rx.borrow().clone() {
                    Some(outcome) => outcome,
                    None => Err(self.shared.aborted()),
                };
            }
        }
    }

    /// Starts the one fetch. The caller holds the flight lock and has decided that none runs;
    /// it spawns the returned fetch once it has released the lock: the fetch's guard takes
    /// that lock when it completes, and at once if `spawn` drops it (no runtime, or one shut
    /// down), which under the lock would deadlock. Nothing here runs a subscriber's code (the
    /// fetch's span is made by `spawn`), so a slow or panicking subscriber never holds up the
    /// callers deciding under the lock.
    fn start(&self, flight: &mut Flight, not_before: Option<Instant>) -> (cache::Waiters, Fetch) {
        let (tx, rx) = watch::channel(None);
        let send_at = flight.start(Instant::now(), not_before, rx.clone());
        self.shared.fetching.store(true, Ordering::Release);
        let guard = FlightGuard {
            shared: Arc::clone(&self.shared),
            tx: Some(tx),
        };
        (rx, Fetch { guard, send_at })
    }

    /// When a call that failed to get a token may ask again (`Flight::next_request_at`, the
    /// rule `get` follows too): all of them together still cause one request.
    pub(crate) fn next_request_at(&self) -> Option<Instant> {
        self.shared.flight().next_request_at()
    }

    /// For a call waiting out a token failure: returns when a fetch obtains a token (told, not
    /// polled) or at `until`, whichever comes first; the call then asks again.
    pub(crate) async fn wait_for_token(&self, until: Instant) {
        // Subscribed before looking, so a token that arrives in between is not missed.
        let mut obtained = self.shared.obtained.subscribe();
        let now = Instant::now();
        if self
            .shared
            .current
            .load()
            .as_ref()
            .is_some_and(|t| t.is_usable(now))
        {
            return;
        }
        let told = std::pin::pin!(obtained.changed());
        let slept = std::pin::pin!(tokio::time::sleep_until(until));
        futures_util::future::select(told, slept).await;
    }

    /// Drops the cached token if it is still the one the API rejected. A token fetched since
    /// (by another caller that saw the same 401) is kept.
    pub(crate) fn invalidate(&self, rejected: &Arc<CachedToken>) {
        {
            let _flight = self.shared.flight();
            let current = self.shared.current.load();
            if !current.as_ref().is_some_and(|c| Arc::ptr_eq(c, rejected)) {
                return;
            }
            self.shared.current.store(None);
            // Under the lock, so that no fetch decided after this adopts the rejected token.
            #[cfg(feature = "token-store")]
            if let Some(fleet) = &self.shared.fleet {
                fleet.remember_rejected(rejected);
            }
        }
        // The subscriber's code and a task of the store's, outside the lock.
        tracing::debug!(target: "hh_runtime::token", "API rejected the cached token; dropping it");
        #[cfg(feature = "token-store")]
        if let Some(fleet) = &self.shared.fleet {
            fleet.remove_rejected(rejected);
        }
    }
}

/// A fetch with a shared store: adopt what the fleet published, or fetch under the lease (or
/// alone) and publish.
#[cfg(feature = "token-store")]
async fn fetch_for_the_fleet(
    guard: FlightGuard,
    shared: &Shared,
    fleet: &Arc<Fleet>,
    deadline: Instant,
) {
    // The store's part (its first connection, a wait for another process's fetch) counts
    // against the token timeout: the fetch as a whole is bounded by it.
    let lease = match fleet.acquire(deadline).await {
        Acquired::OutOfTime => {
            fleet.record_outcome("timed out");
            let outcome = timed_out(&shared.cfg);
            if let Err(error) = &outcome {
                telemetry::fetch_failed(error);
            }
            guard.finish(outcome);
            return;
        }
        Acquired::Adopted(token) => {
            fleet.record_outcome("adopted");
            guard.adopted(token);
            return;
        }
        Acquired::Leased(lease) => {
            fleet.record_outcome("lease won");
            Some(lease)
        }
        Acquired::Alone(outcome) => {
            fleet.record_outcome(outcome);
            None
        }
    };
    let outcome = fetch(shared, deadline).await;
    // The waiters first: publishing is the fleet's business, not theirs (and is bounded by
    // the store operation bound).
    guard.finish(outcome.clone());
    fleet.finish(&outcome, lease).await;
}

/// The failure of a fetch that did not end within the token timeout.
fn timed_out(cfg: &TokenConfig) -> Outcome {
    Err(Error::token(TokenFailure::Timeout(cfg.timeout)).at_token_endpoint(&cfg.token_url))
}

/// The name of the shared store, if one is configured.
fn store_name(shared: &Shared) -> Option<&str> {
    #[cfg(not(feature = "token-store"))]
    return {
        let _ = shared;
        None
    };
    #[cfg(feature = "token-store")]
    shared.fleet.as_deref().map(Fleet::store_name)
}

/// One token request, ending by `deadline` (the token timeout from the fetch's start), with
/// its outcome logged (never the token).
async fn fetch(shared: &Shared, deadline: Instant) -> Outcome {
    let cfg = &shared.cfg;
    let sent_at = Instant::now();
    let issued = std::time::SystemTime::now();
    let request = telemetry::TokenRequest::start(&cfg.token_url);
    let sending = oauth::request_token(&shared.http, cfg, &request.answered);
    let outcome =
        match tokio::time::timeout_at(deadline, sending.instrument(request.span.clone())).await {
            Ok(Ok(parsed)) => Ok(Arc::new(CachedToken::new(
                parsed,
                sent_at,
                issued,
                cache::spread(cfg.refresh_ahead, fastrand::f64()),
                cfg.min_remaining,
            ))),
            Ok(Err(error)) => Err(error.at_token_endpoint(&cfg.token_url)),
            Err(_) => timed_out(cfg),
        };
    request.finish(outcome.as_ref().map(|_| ()));
    match &outcome {
        Ok(token) => tracing::debug!(
            lifetime_s = token
                .expires_at
                .saturating_duration_since(sent_at)
                .as_secs(),
            "access token issued"
        ),
        Err(e) => tracing::warn!(error = %e, "token request failed"),
    }
    outcome
}

/// A fetch decided under the flight lock, spawned once the lock is released.
struct Fetch {
    guard: FlightGuard,
    send_at: Instant,
}

impl Fetch {
    /// Runs the fetch on a task of its own, in its span. Outside a runtime this panics as
    /// `tokio::spawn` does, and so may a subscriber making the span: either way the guard,
    /// dropped, answers the waiters and clears the flight.
    fn spawn(self) {
        let Fetch { guard, send_at } = self;
        let shared = &guard.shared;
        let span = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            telemetry::fetch_span(&shared.cfg.client_id, store_name(shared))
        }));
        let span = match span {
            Ok(span) => span,
            // The subscriber's panic is the caller's, but the fetch never began: nothing is
            // recorded against the token endpoint.
            Err(panic) => {
                guard.abandon();
                std::panic::resume_unwind(panic);
            }
        };
        tokio::spawn(
            async move {
                tokio::time::sleep_until(send_at).await;
                let shared = Arc::clone(&guard.shared);
                // The token timeout bounds the whole fetch, the shared store's part included.
                let deadline = Instant::now() + shared.cfg.timeout;
                #[cfg(feature = "token-store")]
                if let Some(fleet) = &shared.fleet {
                    fetch_for_the_fleet(guard, &shared, fleet, deadline).await;
                    return;
                }
                guard.finish(fetch(&shared, deadline).await);
            }
            .instrument(span),
        );
    }
}

/// Owned by the fetch task. Whatever way the task ends (result, panic, runtime shutdown) the
/// flight is cleared and the waiters are answered.
struct FlightGuard {
    shared: Arc<Shared>,
    tx: Option<watch::Sender<Option<Outcome>>>,
}

/// How a fetch ended, as the flight records it.
enum Ended {
    /// After a request of its own: a token, or the failure to get one.
    Requested(Outcome),
    /// With the fleet's token, without a request.
    #[cfg(feature = "token-store")]
    Adopted(Arc<CachedToken>),
    /// Before it began (a subscriber panicked making its span): nothing to record.
    NeverBegan,
    /// Without a result (it panicked, or its runtime shut down): a transient failure.
    Aborted,
}

impl FlightGuard {
    fn finish(mut self, outcome: Outcome) {
        self.end(Ended::Requested(outcome));
    }

    /// The fetch ended with the fleet's token, without a request of its own.
    #[cfg(feature = "token-store")]
    fn adopted(mut self, token: Arc<CachedToken>) {
        self.end(Ended::Adopted(token));
    }

    /// The fetch never began: the flight is cleared as if it had not been decided, and its
    /// waiters are told it ended without a result.
    fn abandon(mut self) {
        self.end(Ended::NeverBegan);
    }

    /// The one way a fetch ends: the flight updated under its lock, then the waiters answered
    /// and, for a token, the calls waiting out a failure told.
    fn end(&mut self, ended: Ended) {
        let Some(tx) = self.tx.take() else { return };
        let outcome = {
            let mut flight = self.shared.flight();
            let outcome = match ended {
                Ended::Requested(Ok(token)) => {
                    flight.succeeded();
                    Ok(token)
                }
                #[cfg(feature = "token-store")]
                Ended::Adopted(token) => {
                    flight.adopted();
                    Ok(token)
                }
                Ended::Requested(Err(error)) => {
                    flight.failed(Instant::now(), error.clone(), fastrand::f64());
                    Err(error)
                }
                Ended::NeverBegan => {
                    flight.abandoned();
                    Err(self.shared.aborted())
                }
                Ended::Aborted => {
                    let aborted = self.shared.aborted();
                    flight.failed(Instant::now(), aborted.clone(), fastrand::f64());
                    Err(aborted)
                }
            };
            if let Ok(token) = &outcome {
                self.shared.current.store(Some(Arc::clone(token)));
            }
            self.shared.fetching.store(false, Ordering::Release);
            outcome
        };
        let obtained = outcome.is_ok();
        tx.send_replace(Some(outcome));
        if obtained {
            self.shared.obtained.send_replace(());
        }
    }
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        self.end(Ended::Aborted);
    }
}
