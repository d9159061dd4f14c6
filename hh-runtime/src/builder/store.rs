//! The builder's part about a shared token store: its setters, and what it collects for
//! `build` (the store itself below it, in `crate::store`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::ClientBuilder;
#[cfg(feature = "redis")]
use crate::store::RedisStore;
use crate::store::{
    Bounds, CONNECT_TIMEOUT, OPERATION_TIMEOUT, SealingKey, TokenStore, connect_timeout_problem,
    operation_timeout_problem,
};

/// What the builder collects about a shared store, turned into a sealer and a store when
/// the client is built.
#[derive(Clone)]
pub(crate) struct StoreOptions {
    pub(crate) store: Option<Arc<dyn TokenStore>>,
    pub(crate) key: Option<SealingKey>,
    pub(crate) previous_key: Option<SealingKey>,
    /// The bound on each operation (and at least the first connection's).
    pub(crate) operation_timeout: Duration,
    /// The bound on the first connection.
    pub(crate) connect_timeout: Duration,
    #[cfg(feature = "redis")]
    pub(crate) redis_url: Option<String>,
    /// What the user called it (`redis_url`, or `HH_REDIS_URL` from the environment), for
    /// messages about it.
    #[cfg(feature = "redis")]
    pub(crate) redis_url_setting: &'static str,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            store: None,
            key: None,
            previous_key: None,
            operation_timeout: OPERATION_TIMEOUT,
            connect_timeout: CONNECT_TIMEOUT,
            #[cfg(feature = "redis")]
            redis_url: None,
            #[cfg(feature = "redis")]
            redis_url_setting: "redis_url",
        }
    }
}

impl StoreOptions {
    /// The store to use, if any: one given, or one built from the Redis URL. A URL that does
    /// not parse is a configuration problem, reported with the others.
    pub(crate) fn store(
        &self,
        problems: &mut Vec<String>,
    ) -> Option<(Arc<dyn TokenStore>, Bounds)> {
        let bounds = self.bounds(problems);
        #[cfg(feature = "redis")]
        if let Some(url) = &self.redis_url {
            if self.store.is_some() {
                problems.push("redis_url and token_store are both set; choose one".into());
                return None;
            }
            return match RedisStore::open(url, bounds, self.redis_url_setting) {
                Ok(store) => Some((Arc::new(store), bounds)),
                Err(problem) => {
                    problems.push(problem);
                    None
                }
            };
        }
        self.store.clone().map(|store| (store, bounds))
    }

    /// The bounds, checked: each problem reported (once, here), and the default used in its
    /// place so that a Redis store is still made for its own checks of the URL.
    fn bounds(&self, problems: &mut Vec<String>) -> Bounds {
        let mut checked = |value: Duration, problem: Option<String>, default: Duration| {
            problem.map_or(value, |problem| {
                problems.push(problem);
                default
            })
        };
        Bounds {
            operation: checked(
                self.operation_timeout,
                operation_timeout_problem(self.operation_timeout),
                OPERATION_TIMEOUT,
            ),
            connect: checked(
                self.connect_timeout,
                connect_timeout_problem(self.connect_timeout),
                CONNECT_TIMEOUT,
            ),
        }
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("StoreOptions");
        d.field("store", &self.store.as_ref().map(|s| s.name().to_owned()));
        #[cfg(feature = "redis")]
        d.field(
            "redis_url",
            &self.redis_url.as_deref().map(crate::store::redacted_url),
        );
        d.field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("operation_timeout", &self.operation_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl ClientBuilder {
    /// Shares tokens with every process that uses the same store and credentials (see the
    /// [`store`](crate::store) module). The store sees only sealed entries under hashed names.
    pub fn token_store(mut self, store: impl TokenStore) -> Self {
        self.store.store = Some(Arc::new(store));
        self
    }

    /// Seals the shared store's entries with this key instead of one derived from the client
    /// secret. Every process of the fleet needs the same key.
    pub fn sealing_key(mut self, key: SealingKey) -> Self {
        self.store.key = Some(key);
        self
    }

    /// The key before [`sealing_key`](Self::sealing_key), during a rotation: entries sealed
    /// with it are still read; every entry this process writes is sealed with the current key.
    pub fn previous_sealing_key(mut self, key: SealingKey) -> Self {
        self.store.previous_key = Some(key);
        self
    }

    /// The bound on each operation on the shared store (default [`OPERATION_TIMEOUT`](crate::store::OPERATION_TIMEOUT),
    /// 100 ms; at most 5 s, the longest lease): an operation that takes longer is abandoned,
    /// and the process fetches its own token as when the store is down. Raise it for a store
    /// that is far away (another region) or a machine too busy to hear from it in time; the
    /// first connection gets at least as long. A call that needs the store may wait a few
    /// bounds for it (a read, the lease, a read): keep it well under the request timeout.
    /// With `redis_url` the Redis client's own response timeout follows it; a `RedisStore`
    /// you make yourself takes it from `RedisStore::with_operation_timeout`.
    pub fn store_operation_timeout(mut self, timeout: Duration) -> Self {
        self.store.operation_timeout = timeout;
        self
    }

    /// The bound on the first connection to the shared store (default [`CONNECT_TIMEOUT`](crate::store::CONNECT_TIMEOUT),
    /// 1 s; never less than the operation bound; at most 30 s): a TLS handshake and `AUTH` with
    /// a store in another region may need longer. Made when the client is built (inside a
    /// runtime), so a call rarely waits for it; one that does waits within its token timeout.
    /// With `redis_url` the Redis client's own connection timeout follows it.
    pub fn store_connect_timeout(mut self, timeout: Duration) -> Self {
        self.store.connect_timeout = timeout;
        self
    }
}

#[cfg(feature = "redis")]
impl ClientBuilder {
    /// Shares tokens with every process that uses the same Redis and credentials: see
    /// [`RedisStore`](crate::store::RedisStore) for the URLs it takes and the [`store`](crate::store) module for what
    /// the fleet does. `Client::from_env` reads it from `HH_REDIS_URL`.
    ///
    /// ```no_run
    /// let client = hh_runtime::Client::builder()
    ///     .identity_url("https://identity.healthhero.com")
    ///     .api_url("https://api.healthhero.com")
    ///     .client_id("my-client")
    ///     .client_secret("my-secret")
    ///     .redis_url("rediss://hh:password@cache.internal:6380/0")
    ///     .build()?;
    /// # Ok::<(), hh_runtime::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.store.redis_url = Some(url.into());
        // Named as set here, even after `from_env` read `HH_REDIS_URL`.
        self.store.redis_url_setting = "redis_url";
        self
    }
}
