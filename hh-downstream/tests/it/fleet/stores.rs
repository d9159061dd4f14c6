//! The shared stores a fleet child builds by hand, as a service on a Redis Cluster or on a
//! Sentinel-managed primary would: a redis-rs connection given to
//! [`RedisStore::with_connection`] (README.md, "Running a fleet", points here).
//!
//! - **Cluster**: redis-rs's `ClusterConnection` (feature `cluster-async`) as it is: it routes
//!   each command to the node that holds its slot, follows `MOVED` and reconnects. hh's entry
//!   and lease names share a hash tag, so each operation is on one slot.
//! - **Sentinel**: redis-rs (feature `sentinel`) resolves the primary, but a connection to it,
//!   even a `ConnectionManager`, stays with that address: after a failover it reconnects to a
//!   dead server, or to the old primary once Sentinel has made it a replica (whose writes fail
//!   with `READONLY`). [`SentinelPrimary`] asks the Sentinels again when that happens.
//!
//! A child uses them when `FLEET_REDIS_CLUSTER` (node URLs, comma-separated) or
//! `FLEET_REDIS_SENTINEL` (Sentinel URLs, comma-separated, for the primary named
//! `FLEET_REDIS_SERVICE`) is set.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hh_runtime::store::RedisStore;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::sentinel::{SentinelClient, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult,
    ServerErrorKind, Value,
};

/// The store the environment asks for, if any; `timeout` is the client's store operation
/// bound, which each Redis response is given too.
pub async fn from_env(timeout: Duration) -> Option<RedisStore> {
    let list = |name: &str| -> Option<Vec<String>> {
        let value = std::env::var(name).ok()?;
        Some(value.split(',').map(str::to_owned).collect())
    };
    if let Some(nodes) = list("FLEET_REDIS_CLUSTER") {
        return Some(cluster(&nodes, timeout).await.unwrap());
    }
    let sentinels = list("FLEET_REDIS_SENTINEL")?;
    let service = std::env::var("FLEET_REDIS_SERVICE").unwrap();
    // Setting up, not what a case measures: a machine too busy for the first resolution's
    // own 500 ms bounds gets another try.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match SentinelPrimary::connect(&sentinels, &service, timeout).await {
            Ok(primary) => {
                return Some(RedisStore::with_connection(primary, "redis sentinel"));
            }
            Err(e) if Instant::now() < deadline => {
                eprintln!("fleet child: no primary from the Sentinels yet ({e}); retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no primary from the Sentinels: {e}"),
        }
    }
}

/// A store on a Redis Cluster: any of its nodes will do to start with.
pub async fn cluster(nodes: &[String], timeout: Duration) -> RedisResult<RedisStore> {
    let client = redis::cluster::ClusterClientBuilder::new(nodes.to_vec())
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .build()?;
    let connection = client.get_async_connection().await?;
    Ok(RedisStore::with_connection(connection, "redis cluster"))
}

/// A connection to the primary that Redis Sentinel names, which follows a failover: a
/// command whose connection failed, or that a demoted primary refused (`READONLY`), is sent
/// once more, to the primary the Sentinels name now. hh's commands are safe to send twice (a
/// read, a write of the same entry, a compare-and-delete; a lease taken by the first attempt
/// reads as taken by another, which costs a wait, never a wrong token).
///
/// Until Sentinel demotes an old primary that is still up (after `SENTINEL FAILOVER`, say:
/// Sentinel does it within about 10 s), a process still connected to it keeps using it.
#[derive(Clone)]
pub struct SentinelPrimary(Arc<Inner>);

struct Inner {
    sentinel: tokio::sync::Mutex<SentinelClient>,
    config: AsyncConnectionConfig,
    /// The connection in use and its generation (so that a failure seen on an old connection
    /// never discards a newer one).
    current: Mutex<(u64, Option<MultiplexedConnection>)>,
}

impl SentinelPrimary {
    /// Resolves the primary named `service` through `sentinels` (`redis://host:port` each) and
    /// connects to it, each response bounded by `timeout`.
    pub async fn connect(
        sentinels: &[String],
        service: &str,
        timeout: Duration,
    ) -> RedisResult<SentinelPrimary> {
        let client = SentinelClient::build(
            sentinels.to_vec(),
            service,
            None,
            SentinelServerType::Master,
        )?;
        let primary = SentinelPrimary(Arc::new(Inner {
            sentinel: tokio::sync::Mutex::new(client),
            config: AsyncConnectionConfig::new()
                .set_connection_timeout(Some(timeout))
                .set_response_timeout(Some(timeout)),
            current: Mutex::new((0, None)),
        }));
        primary.primary().await?;
        Ok(primary)
    }

    /// The connection to the primary, made if there is none.
    async fn primary(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        if let Some(current) = self.current() {
            return Ok(current);
        }
        let mut sentinel = self.0.sentinel.lock().await;
        // Another operation may have resolved it while this one waited.
        if let Some(current) = self.current() {
            return Ok(current);
        }
        let connection = sentinel
            .get_async_connection_with_config(&self.0.config)
            .await?;
        let mut current = self
            .0
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        current.0 += 1;
        current.1 = Some(connection.clone());
        Ok((current.0, connection))
    }

    fn current(&self) -> Option<(u64, MultiplexedConnection)> {
        let current = self
            .0
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        current.1.clone().map(|c| (current.0, c))
    }

    /// Drops the connection of `generation`, if it is still the one in use.
    fn forget(&self, generation: u64) {
        let mut current = self
            .0
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if current.0 == generation {
            current.1 = None;
        }
    }
}

/// Whether `e` means the connection no longer leads to the primary: it failed, or the server
/// at the other end is a replica now.
fn primary_lost(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_unrecoverable_error()
        || e.kind() == ErrorKind::Server(ServerErrorKind::ReadOnly)
}

impl ConnectionLike for SentinelPrimary {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let (generation, mut connection) = self.primary().await?;
            match connection.req_packed_command(cmd).await {
                Err(e) if primary_lost(&e) => {
                    self.forget(generation);
                    let (_, mut connection) = self.primary().await?;
                    connection.req_packed_command(cmd).await
                }
                answer => answer,
            }
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let (generation, mut connection) = self.primary().await?;
            match connection
                .req_packed_commands(pipeline, offset, count)
                .await
            {
                Err(e) if primary_lost(&e) => {
                    self.forget(generation);
                    let (_, mut connection) = self.primary().await?;
                    connection
                        .req_packed_commands(pipeline, offset, count)
                        .await
                }
                answers => answers,
            }
        })
    }

    fn get_db(&self) -> i64 {
        0
    }
}
