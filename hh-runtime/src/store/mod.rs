//! A token cache shared by every process of a fleet.
//!
//! Each process keeps its own in-process cache in front (a cache hit never leaves the
//! process); the shared store is asked only when a process would otherwise send a token
//! request. Through it the fleet behaves like one client:
//!
//! - **one token for a cold fleet**: the first process to need a token takes a short lease,
//!   fetches and publishes; the others wait for the published entry (for a bounded time, after
//!   which each fetches for itself), so a crashed lease holder never wedges the fleet;
//! - **one refresh per lifetime**: refresh-ahead goes through the same lease, and processes
//!   adopt a newer shared token as soon as they see one;
//! - **fleet-wide invalidation**: a 401 removes the shared entry only if it still holds the
//!   rejected token, so a revoked token costs the fleet one new token;
//! - **sealed entries**: every entry is encrypted and authenticated (XChaCha20-Poly1305) under
//!   a key derived from the client secret (or one you supply), and stored under a hashed name;
//!   the store never holds a token or a secret in the clear, and an entry that fails to open,
//!   is malformed or claims an absurd lifetime is ignored and overwritten;
//! - **expiry across machines**: an entry carries the wall-clock time its token was requested
//!   and its lifetime; each process places it on its own monotonic clock with a margin for
//!   clock skew, so no process uses a shared token later than it would use its own;
//! - **never a dependency**: every store operation is bounded (see [`OPERATION_TIMEOUT`], and
//!   [`CONNECT_TIMEOUT`] for the first connection, made when the client is built);
//!   a store that fails or is slow leaves each process on its own lifecycle, with a warning at
//!   the start of an outage and once a minute while it lasts
//!   ([`Client::token_store_status`](crate::Client::token_store_status) says so too), and the
//!   fleet coordinates again once it answers.
//!
//! Tracing: the `hh.token.fetch` span names the store (`hh.token.store`) and what it said
//! (`hh.token.store.outcome`: `adopted`, `lease won`, `lease lost` when the wait ran out,
//! `unavailable`, `timed out`), with events for `published`, `invalidated` and `sealed entry
//! rejected`; never a token, an entry or a key. With the `metrics` feature, the same outcomes,
//! every operation and whether the store answers are `hh.token.store.outcomes`,
//! `hh.token.store.operations` and `hh.token.store.available`.
//!
//! `RedisStore` (feature `redis`) is the store we ship; [`TokenStore`] is the trait to plug in
//! another.

#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use secrecy::SecretBox;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::RedisStore;
#[cfg(feature = "redis")]
pub(crate) use self::redis::redacted_url;

/// The default bound on every operation on the shared store
/// ([`ClientBuilder::store_operation_timeout`](crate::ClientBuilder::store_operation_timeout)
/// changes it). An operation that takes longer is abandoned and counted as a store failure: a
/// call never waits on the store for more.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(100);

/// Whether a client's shared store is answering, from
/// [`Client::token_store_status`](crate::Client::token_store_status): for a health check or a
/// readiness probe. While the store is unavailable the process fetches its own tokens (calls
/// do not fail), the fleet no longer shares them, and a warning is logged once a minute.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreStatus {
    /// The last operation succeeded (or none has been tried yet).
    Available,
    /// The store has failed every operation since `since` (by the wall clock); `error` is the
    /// latest failure (a wrong password, a refused connection, no answer within the bound).
    Unavailable {
        /// When the outage began.
        since: std::time::SystemTime,
        /// The latest failure, as the store reported it.
        error: String,
    },
}

/// While the store is unavailable, how often the warning is repeated.
pub(crate) const UNAVAILABLE_WARNING_EVERY: Duration = Duration::from_secs(60);

/// The default bound on a client's first connection to the shared store
/// ([`TokenStore::connect`]): long enough for a TLS handshake and authentication with a server
/// in another zone (or the operation bound, if that is longer). Only a fetch that starts
/// before the connection is made can wait for it. Set with
/// [`ClientBuilder::store_connect_timeout`](crate::ClientBuilder::store_connect_timeout).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest first connection a client may be given: a call that needs a token waits for
/// it (within the token timeout), so a store that takes longer is better done without.
pub(crate) const MAX_CONNECT: Duration = Duration::from_secs(30);

/// The bounds on a client's store conversations, checked when the client is built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// Each operation (`store_operation_timeout`).
    pub(crate) operation: Duration,
    /// The first connection (`store_connect_timeout`), never less than `operation`.
    pub(crate) connect: Duration,
}

impl Bounds {
    /// The first connection's bound: the connect bound, or the operation's if longer.
    pub(crate) fn first_connection(&self) -> Duration {
        self.connect.max(self.operation)
    }
}

/// What is wrong with a bound on the store's first connection, if anything (the one rule,
/// for [`ClientBuilder::store_connect_timeout`](crate::ClientBuilder::store_connect_timeout)).
pub(crate) fn connect_timeout_problem(timeout: Duration) -> Option<String> {
    (timeout.is_zero() || timeout > MAX_CONNECT).then(|| {
        format!(
            "the store connect timeout (store_connect_timeout) must be more than zero and at most {} s; it bounds the first connection to the shared store",
            MAX_CONNECT.as_secs()
        )
    })
}

/// The longest lease a fetch takes (`min(token timeout, 5 s)`): a holder that takes longer (or
/// died) lets another process fetch. Also the most a store operation may be given
/// ([`operation_timeout_problem`]): a store is an optimisation, and a call waiting on it longer
/// than a fetch may take would defeat it.
pub(crate) const MAX_LEASE: Duration = Duration::from_secs(5);

/// What is wrong with a bound on store operations, if anything: the one rule for
/// [`ClientBuilder::store_operation_timeout`](crate::ClientBuilder::store_operation_timeout)
/// and `RedisStore::with_operation_timeout`.
pub(crate) fn operation_timeout_problem(timeout: Duration) -> Option<String> {
    (timeout.is_zero() || timeout > MAX_LEASE).then(|| {
        format!(
            "the store operation timeout (store_operation_timeout) must be more than zero and at most {} s, the longest lease; it bounds each operation on the shared store",
            MAX_LEASE.as_secs()
        )
    })
}

/// The error a [`TokenStore`] operation returns: any error, since hh only logs it (without
/// its detail reaching a caller) and carries on without the store.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// The future a [`TokenStore`] operation returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A key-value store shared by the processes of a fleet, holding opaque sealed entries.
///
/// hh decides everything (when to lease, what to publish, what to trust); a store only keeps
/// bytes under names, with expiry, and offers two atomic operations. Values are sealed before
/// they reach the store and names are hashes, so a store needs no protection of its own for
/// the tokens' sake. Every operation is bounded on hh's side (by default [`OPERATION_TIMEOUT`]);
/// a store may bound its own too.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use hh_runtime::store::{StoreFuture, TokenStore};
///
/// /// A store shared by the clients of one process (a test double, say).
/// #[derive(Debug, Default)]
/// struct Memory(Mutex<HashMap<String, Vec<u8>>>);
///
/// impl TokenStore for Memory {
///     fn name(&self) -> &str { "memory" }
///     fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
///         Box::pin(async move { Ok(self.0.lock().unwrap().get(key).cloned()) })
///     }
///     fn put<'a>(&'a self, key: &'a str, value: &'a [u8], _ttl: Duration) -> StoreFuture<'a, ()> {
///         Box::pin(async move { self.0.lock().unwrap().insert(key.into(), value.into()); Ok(()) })
///     }
///     fn put_if_absent<'a>(&'a self, key: &'a str, value: &'a [u8], _ttl: Duration) -> StoreFuture<'a, bool> {
///         Box::pin(async move {
///             let mut map = self.0.lock().unwrap();
///             if map.contains_key(key) { return Ok(false) }
///             map.insert(key.into(), value.into());
///             Ok(true)
///         })
///     }
///     fn delete_if_equals<'a>(&'a self, key: &'a str, expected: &'a [u8]) -> StoreFuture<'a, bool> {
///         Box::pin(async move {
///             let mut map = self.0.lock().unwrap();
///             if map.get(key).is_some_and(|v| v == expected) { map.remove(key); return Ok(true) }
///             Ok(false)
///         })
///     }
/// }
///
/// let client = hh_runtime::Client::builder()
///     .identity_url("https://identity.example.com")
///     .api_url("https://api.example.com")
///     .client_id("my-client")
///     .client_secret("my-secret")
///     .token_store(Memory::default())
///     .build()?;
/// # Ok::<(), hh_runtime::Error>(())
/// ```
pub trait TokenStore: fmt::Debug + Send + Sync + 'static {
    /// A short name for logs, spans and `Debug` (`"redis"`), read once, when the client is
    /// built.
    fn name(&self) -> &str;

    /// The value under `key`, if there is one.
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>>;

    /// Sets `key` to `value`, expiring after `ttl`, whatever it held.
    fn put<'a>(&'a self, key: &'a str, value: &'a [u8], ttl: Duration) -> StoreFuture<'a, ()>;

    /// Sets `key` to `value`, expiring after `ttl`, only if `key` holds nothing; `true` if it
    /// was set. Atomic: of any number of concurrent callers, one gets `true` (Redis:
    /// `SET key value NX PX ttl`). This is the lease.
    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Deletes `key` only if it holds exactly `expected`; `true` if it was deleted. Atomic on
    /// the store's side (Redis: a Lua script), so it never deletes a value written meanwhile.
    fn delete_if_equals<'a>(&'a self, key: &'a str, expected: &'a [u8]) -> StoreFuture<'a, bool>;

    /// Makes the first connection (a TLS handshake, authentication), so that later operations
    /// only send commands. hh calls it once per client, when the client is built inside a
    /// runtime or else before the first operation, and gives it the client's
    /// `store_connect_timeout` (default [`CONNECT_TIMEOUT`]; never less than the operation
    /// bound) rather than the operation bound. The default does nothing.
    fn connect(&self) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// A 256-bit key that seals the entries of a shared token store.
///
/// By default hh derives the key from the client secret (HKDF-SHA256), so every process with
/// the credentials can open entries and nothing else has to be deployed. Supply your own with
/// [`ClientBuilder::sealing_key`](crate::ClientBuilder::sealing_key) to make the store's
/// protection independent of the client secret; to rotate it, deploy the new key with the old
/// one as [`previous_sealing_key`](crate::ClientBuilder::previous_sealing_key), then drop the
/// old one once every process has the new key.
pub struct SealingKey(SecretBox<[u8; 32]>);

impl SealingKey {
    /// A key from 32 bytes (from your secret manager; never a constant in code).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SealingKey(SecretBox::new(Box::new(bytes)))
    }

    /// A key from its standard base64 form (44 characters, `openssl rand -base64 32`).
    /// The error never contains the text given.
    pub fn from_base64(text: &str) -> crate::Result<Self> {
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| crate::Error::config("the sealing key is not valid base64"))?;
        let bytes: [u8; 32] = decoded.try_into().map_err(|d: Vec<u8>| {
            crate::Error::config(format!(
                "the sealing key is {} bytes long; it must be 32",
                d.len()
            ))
        })?;
        Ok(Self::from_bytes(bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }
}

impl Clone for SealingKey {
    fn clone(&self) -> Self {
        Self::from_bytes(*self.bytes())
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey([redacted])")
    }
}
