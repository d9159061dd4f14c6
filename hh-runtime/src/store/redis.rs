//! The shared token store on Redis (or Valkey), through redis-rs.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisFuture, Script, Value};

use super::{StoreFuture, TokenStore};

/// Deletes KEYS[1] only if it holds ARGV[1], atomically on the server.
const DELETE_IF_EQUALS: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
";

/// A [`TokenStore`] on Redis, Valkey or any server that speaks their protocol.
///
/// Built by [`ClientBuilder::redis_url`](crate::ClientBuilder::redis_url), or by hand for
/// Sentinel and Cluster:
///
/// - **A single server or a managed service**: `redis://host:6379/0`; `rediss://` for TLS
///   (rustls, with the platform's root certificates); a password or an ACL user in the URL
///   (`redis://user:password@host/0`). The connection is made on first use and remade in the
///   background after a failure (redis-rs's `ConnectionManager`).
/// - **Cluster**: entry names carry a hash tag, so an entry and its lease live on one slot.
///   Build a `redis::cluster_async::ClusterConnection` (feature `cluster-async` of the `redis`
///   crate, the version hh-runtime uses) and pass it to [`RedisStore::with_connection`]; it
///   routes each command to its slot's node and reconnects on its own. hh-downstream's
///   `fleet::groups::f10_redis_cluster` runs a fleet on a cluster of three primaries this way.
/// - **Sentinel**: a connection to the primary a Sentinel named (from
///   `redis::sentinel::SentinelClient`, feature `sentinel`, or a `ConnectionManager` pointed at
///   it) keeps that server's address: after a failover it reconnects to a dead server, or to
///   the old primary, whose writes fail with `READONLY` once it is a replica, and every process
///   fetches its own tokens from then on. Give [`RedisStore::with_connection`] a connection that
///   asks the Sentinels again when its primary fails: `SentinelPrimary` in hh-downstream's
///   `tests/it/fleet/stores.rs`, under which `fleet::groups::f11_sentinel_failover` and
///   `fleet::groups::f12_sentinel_primary_killed` fail a primary over while a fleet calls. hh ships
///   no such connection itself: that one is an example to copy, proven by those tests, not a
///   published API.
///
/// `Debug` shows the scheme, host, port and database, never the password.
pub struct RedisStore {
    shown: String,
    connection: Connection,
    delete_if_equals: Script,
}

enum Connection {
    /// Made on first use: a `ConnectionManager` spawns tasks, so it needs a runtime, and
    /// `ClientBuilder::build` may run outside one.
    Managed {
        client: Box<redis::Client>,
        /// Made on first use; a failure to make it is not kept, so the next operation tries
        /// again rather than the store failing for the client's life.
        manager: OnceLock<ConnectionManager>,
        /// The response timeout (the operation bound hh applies anyway) and the connection
        /// timeout (the first connection's bound).
        bounds: super::Bounds,
    },
    Given(Arc<dyn Fn() -> Dyn + Send + Sync>),
}

impl RedisStore {
    /// A store at `url` (`redis://`, `rediss://`, `valkey://`, `valkeys://`, `redis+unix://`).
    /// Nothing is connected here: a client built with it connects in the background when it
    /// is built inside a runtime, or else when the first token is needed; an unreachable
    /// server is not an error here or later, only a warning.
    pub fn new(url: &str) -> crate::Result<Self> {
        Self::with_operation_timeout(url, super::OPERATION_TIMEOUT)
    }

    /// As [`new`](Self::new), with the Redis client's response timeout at `timeout` rather
    /// than [`OPERATION_TIMEOUT`](super::OPERATION_TIMEOUT), and its connection timeout at
    /// `timeout` if that is longer than [`CONNECT_TIMEOUT`](super::CONNECT_TIMEOUT): give it
    /// the client's [`store_operation_timeout`](crate::ClientBuilder::store_operation_timeout)
    /// (the builder does, for a store it makes from `redis_url`). `timeout` must be more than
    /// zero and at most 5 s, as for the builder.
    pub fn with_operation_timeout(url: &str, timeout: Duration) -> crate::Result<Self> {
        if let Some(problem) = super::operation_timeout_problem(timeout) {
            return Err(crate::Error::config(problem));
        }
        let bounds = super::Bounds {
            operation: timeout,
            connect: super::CONNECT_TIMEOUT,
        };
        Self::open(url, bounds, "the Redis URL").map_err(crate::Error::config)
    }

    /// The store at `url`, or what is wrong with the URL, naming it as the user did
    /// (`setting`: `redis_url`, `HH_REDIS_URL`).
    pub(crate) fn open(url: &str, bounds: super::Bounds, setting: &str) -> Result<Self, String> {
        // Redis's TLS is the one the user chose for HTTP (feature `rustls` or `native-tls`),
        // and none without one: said now, rather than as "not a Redis URL".
        let tls = ["rediss:", "valkeys:"]
            .iter()
            .any(|scheme| url.trim_start().to_ascii_lowercase().starts_with(scheme));
        if tls && !crate::config::TLS {
            return Err(format!(
                "{setting} `{}` asks for TLS, but hh-runtime was built without TLS: enable its \
                 `rustls` (default) or `native-tls` feature",
                redacted_url(url)
            ));
        }
        let client = redis::Client::open(url).map_err(|_| {
            // redis-rs's message may quote the URL, password and all.
            format!(
                "{setting} `{}` is not a Redis URL (redis://[user:password@]host[:port][/db], or rediss:// for TLS)",
                redacted_url(url)
            )
        })?;
        Ok(RedisStore {
            shown: redacted_url(url),
            connection: Connection::Managed {
                client: Box::new(client),
                manager: OnceLock::new(),
                bounds,
            },
            delete_if_equals: Script::new(DELETE_IF_EQUALS),
        })
    }

    /// A store on a connection you made: a cluster connection, a connection that follows the
    /// primary Sentinel names, a `ConnectionManager` with your own settings. It is cloned for
    /// each operation (redis-rs connections are cheap handles), and should reconnect on its
    /// own, to the server that is the primary now (see above). hh bounds each operation by
    /// [`store_operation_timeout`](crate::ClientBuilder::store_operation_timeout) whatever the
    /// connection's timeouts. `name` is what `Debug` and logs show for it.
    pub fn with_connection<C>(connection: C, name: impl Into<String>) -> Self
    where
        C: ConnectionLike + Clone + Send + Sync + 'static,
    {
        RedisStore {
            shown: name.into(),
            connection: Connection::Given(Arc::new(move || Dyn(Box::new(connection.clone())))),
            delete_if_equals: Script::new(DELETE_IF_EQUALS),
        }
    }

    fn connection(&self) -> Result<Dyn, String> {
        match &self.connection {
            Connection::Given(make) => Ok(make()),
            Connection::Managed {
                client,
                manager,
                bounds,
            } => {
                if let Some(manager) = manager.get() {
                    return Ok(Dyn(Box::new(manager.clone())));
                }
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(bounds.first_connection()))
                    .set_response_timeout(Some(bounds.operation))
                    .set_number_of_retries(2)
                    .set_max_delay(Duration::from_secs(2));
                let made = ConnectionManager::new_lazy_with_config((**client).clone(), config)
                    .map_err(|e| e.to_string())?;
                // Another operation may have made one meanwhile: either serves.
                let manager = manager.get_or_init(|| made);
                Ok(Dyn(Box::new(manager.clone())))
            }
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RedisStore").field(&self.shown).finish()
    }
}

impl TokenStore for RedisStore {
    fn name(&self) -> &str {
        "redis"
    }

    fn connect(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut conn = self.connection()?;
            let _: String = redis::cmd("PING").query_async(&mut conn).await?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let mut conn = self.connection()?;
            Ok(redis::cmd("GET").arg(key).query_async(&mut conn).await?)
        })
    }

    fn put<'a>(&'a self, key: &'a str, value: &'a [u8], ttl: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.connection()?;
            let () = redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(millis(ttl))
                .query_async(&mut conn)
                .await?;
            Ok(())
        })
    }

    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut conn = self.connection()?;
            // `OK` when set, nil when the key exists.
            let set: Option<String> = redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("NX")
                .arg("PX")
                .arg(millis(ttl))
                .query_async(&mut conn)
                .await?;
            Ok(set.is_some())
        })
    }

    fn delete_if_equals<'a>(&'a self, key: &'a str, expected: &'a [u8]) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut conn = self.connection()?;
            let deleted: i64 = self
                .delete_if_equals
                .key(key)
                .arg(expected)
                .invoke_async(&mut conn)
                .await?;
            Ok(deleted == 1)
        })
    }
}

/// At least a millisecond: `PX 0` is an error in Redis.
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// A connection of any kind, so one store type serves them all.
struct Dyn(Box<dyn ConnectionLike + Send>);

impl ConnectionLike for Dyn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.0.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.0.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }
}

/// A Redis URL without its password, for `Debug`, logs and errors.
/// The URL as the user wrote it, with only its password replaced: the one in the user-info
/// part, and the `pass` or `password` query parameter (where redis-rs reads a Unix socket's
/// password). Parsed when it parses; otherwise whatever follows the first `:` of the part
/// before the last `@`, and those parameters' values, so a typo elsewhere stays visible.
pub(crate) fn redacted_url(url: &str) -> String {
    const HIDDEN: &str = "[redacted]";
    let shown = match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            // Brackets, as elsewhere, once the URL has been written (it would encode them).
            parsed.to_string().replacen(":redacted@", ":[redacted]@", 1)
        }
        Ok(parsed) if parsed.has_host() || parsed.scheme().ends_with("+unix") => parsed.to_string(),
        _ => match url.rsplit_once('@') {
            Some((userinfo, host)) => {
                let (scheme, credentials) = match userinfo.find("://") {
                    Some(at) => userinfo.split_at(at + 3),
                    None => ("", userinfo),
                };
                match credentials.split_once(':') {
                    Some((user, _)) => format!("{scheme}{user}:{HIDDEN}@{host}"),
                    None => url.to_owned(),
                }
            }
            None => url.to_owned(),
        },
    };
    hide_password_parameters(&shown, HIDDEN)
}

/// `text` with the values of its `pass=` and `password=` query parameters hidden.
fn hide_password_parameters(text: &str, hidden: &str) -> String {
    let Some((base, query)) = text.split_once('?') else {
        return text.to_owned();
    };
    let parameters: Vec<String> = query
        .split('&')
        .map(|parameter| match parameter.split_once('=') {
            Some((name, _))
                if name.eq_ignore_ascii_case("pass") || name.eq_ignore_ascii_case("password") =>
            {
                format!("{name}={hidden}")
            }
            _ => parameter.to_owned(),
        })
        .collect();
    format!("{base}?{}", parameters.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        let store = RedisStore::new("redis://hh:hunter2@cache.internal:6380/3").unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("cache.internal:6380/3"), "{shown}");
        assert!(RedisStore::new("rediss://cache.internal/0").is_ok());
        let error = RedisStore::new("http://:hunter2@cache/0")
            .err()
            .unwrap()
            .to_string();
        assert!(
            !error.contains("hunter2")
                && error.contains("the Redis URL `http://:[redacted]@cache/0`"),
            "{error}"
        );
        assert_eq!(redacted_url("redis//garbage"), "redis//garbage");
        assert_eq!(redacted_url("cache.internal:6379"), "cache.internal:6379");
        assert_eq!(
            redacted_url("redis://hh:p@ss@[bad"),
            "redis://hh:[redacted]@[bad"
        );
        // A Unix socket's password, in the query as redis-rs reads it.
        let socket = RedisStore::new("redis+unix:///run/redis.sock?db=0&pass=hunter2").unwrap();
        let shown = format!("{socket:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("pass=[redacted]"),
            "{shown}"
        );
        assert_eq!(
            redacted_url("redis+unix:///run/redis.sock?password=hunter2&db=1"),
            "redis+unix:///run/redis.sock?password=[redacted]&db=1"
        );
        assert_eq!(
            redacted_url("redis+unix//bad?pass=hunter2"),
            "redis+unix//bad?pass=[redacted]"
        );
    }

    /// Run both ways by `.ci/run` (filtered on `redis_url`): Redis's TLS follows the user's
    /// TLS feature, and none without one.
    #[test]
    fn a_rediss_url_needs_a_tls_feature_redis_url() {
        let result = RedisStore::new("rediss://hh:hunter2@cache.internal:6380/0");
        if crate::config::TLS {
            assert!(result.is_ok());
        } else {
            let error = result.err().unwrap().to_string();
            assert!(
                error.contains("built without TLS") && !error.contains("hunter2"),
                "{error}"
            );
        }
    }

    #[test]
    fn an_operation_timeout_out_of_bounds_is_refused() {
        let error = RedisStore::with_operation_timeout("redis://cache.internal/0", Duration::ZERO)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("more than zero"), "{error}");
        let store =
            RedisStore::with_operation_timeout("redis://cache.internal/0", Duration::from_secs(5));
        assert!(store.is_ok());
        let over =
            RedisStore::with_operation_timeout("redis://cache.internal/0", Duration::from_secs(6));
        assert!(over.is_err());
    }

    #[test]
    fn builder_and_client_name_the_store_but_not_its_password() {
        let builder = crate::Client::builder()
            .identity_url("https://identity.example.com")
            .api_url("https://api.example.com")
            .client_id("clinic")
            .client_secret("s3cret")
            .redis_url("redis://hh:hunter2@cache.internal/0")
            .sealing_key(crate::store::SealingKey::from_bytes([9; 32]));
        let shown = format!("{builder:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert!(
            shown.contains("cache.internal") && shown.contains("key: Some(\"[redacted]\")"),
            "{shown}"
        );
        let client = format!("{:?}", builder.build().unwrap());
        assert!(client.contains("token_store: Some(\"redis\")"), "{client}");
        assert!(!client.contains("hunter2"), "{client}");
    }

    #[test]
    fn a_bad_redis_url_is_a_configuration_problem_reported_with_the_others() {
        let error = crate::Client::builder()
            .identity_url("https://identity.example.com")
            .api_url("https://api.example.com")
            .client_secret("s3cret")
            .redis_url("cache.internal:6379")
            .build()
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("client_id is required") && error.contains("redis_url"),
            "{error}"
        );
    }
}
