//! Redis as a production fleet may run it, for one test each, on free loopback ports with
//! persistence off, stopped when dropped: a Cluster of three primaries ([`RedisCluster`]), and a
//! primary and its replica watched by a Sentinel ([`SentinelGroup`]), which a test fails over.
//! Debian's `redis-server`, `redis-sentinel` and `redis-tools` (`redis-cli`) provide them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redis::{FromRedisValue, Role};

use super::redis_server::{RedisServer, free_ports, runs};

/// The name the Sentinel knows the primary by.
pub const SERVICE: &str = "mymaster";

/// Whether `redis-sentinel` and `redis-cli` can be run here (`redis-server` aside).
pub fn available() -> bool {
    runs("redis-sentinel", "--version") && runs("redis-cli", "--version")
}

/// A directory of its own under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "hh-fleet-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits (blocking, every 20 ms, up to a minute) until `done` gives a value: for servers that
/// are settling while the test has nothing else to do.
fn settle<T>(what: &str, mut done: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = done() {
            return value;
        }
        assert!(Instant::now() < deadline, "not within a minute: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One command on a fresh connection to the server on `port`, or `None` if it does not answer.
fn query<T: FromRedisValue>(port: u16, args: &[&str]) -> Option<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    let mut conn = client
        .get_connection_with_timeout(Duration::from_secs(5))
        .ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query(&mut conn).ok()
}

/// The `ROLE` of the server on `port`, or `None` if it does not answer.
pub fn role(port: u16) -> Option<Role> {
    query(port, &["ROLE"])
}

/// Three primaries, the slots split between them by `redis-cli --cluster create`, no replicas.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
    _dir: TempDir,
}

impl RedisCluster {
    /// Starts three nodes, forms the cluster and waits until every node says it is ok.
    pub fn start() -> RedisCluster {
        let dir = TempDir::new("cluster");
        // Each node's client port, and the port of its cluster bus (by default the client port
        // plus 10,000, which need not be free, nor exist).
        let ports = free_ports(6);
        let nodes: Vec<RedisServer> = ports
            .chunks(2)
            .map(|p| {
                let conf = dir.path().join(format!("nodes-{}.conf", p[0]));
                let args = [
                    "--cluster-enabled".to_owned(),
                    "yes".to_owned(),
                    "--cluster-config-file".to_owned(),
                    conf.display().to_string(),
                    "--cluster-port".to_owned(),
                    p[1].to_string(),
                    "--dir".to_owned(),
                    dir.path().display().to_string(),
                ];
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                RedisServer::start_on(p[0], &args)
            })
            .collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli runs (apt-get install redis-tools)");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        settle("every cluster node says cluster_state:ok", || {
            nodes
                .iter()
                .all(|n| {
                    query::<String>(n.port(), &["CLUSTER", "INFO"])
                        .is_some_and(|info| info.contains("cluster_state:ok"))
                })
                .then_some(())
        });
        RedisCluster { nodes, _dir: dir }
    }

    /// The nodes' URLs, comma-separated (`FLEET_REDIS_CLUSTER`).
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.port()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every key of every node, with the node's port.
    pub fn keys(&self) -> Vec<(u16, String)> {
        self.nodes
            .iter()
            .flat_map(|n| {
                let keys: Vec<String> = query(n.port(), &["KEYS", "*"]).unwrap_or_default();
                keys.into_iter().map(|k| (n.port(), k))
            })
            .collect()
    }

    /// Every key and value of every node.
    pub fn dump(&self) -> Vec<(String, Vec<u8>)> {
        self.nodes.iter().flat_map(RedisServer::dump).collect()
    }

    /// The value of `key` on the node on `port`.
    pub fn get(&self, port: u16, key: &str) -> Option<Vec<u8>> {
        query::<Option<Vec<u8>>>(port, &["GET", key]).flatten()
    }

    /// `CLUSTER KEYSLOT key`, as the cluster computes it.
    pub fn keyslot(&self, key: &str) -> u16 {
        query(self.nodes[0].port(), &["CLUSTER", "KEYSLOT", key]).unwrap()
    }
}

/// A primary and its replica, and a Sentinel watching them (quorum 1, the primary down after
/// 2 s without an answer, failover timeout 5 s): after a failover the replica is the primary.
pub struct SentinelGroup {
    /// The servers, the first primary first.
    pub servers: Vec<RedisServer>,
    /// Their working directories.
    dirs: Vec<String>,
    sentinel: Child,
    sentinel_port: u16,
    dir: TempDir,
}

impl SentinelGroup {
    /// Starts the primary, the replica and the Sentinel, and waits until the Sentinel knows
    /// the replica and its link to the primary is up (a failover needs both).
    pub fn start() -> SentinelGroup {
        let dir = TempDir::new("sentinel");
        // A directory each, for the copy of the data a replica receives (`dump.rdb`).
        let dirs: Vec<String> = ["a", "b"]
            .iter()
            .map(|d| {
                let d = dir.path().join(d);
                std::fs::create_dir_all(&d).unwrap();
                d.display().to_string()
            })
            .collect();
        let primary = RedisServer::start_with(&["--dir", &dirs[0]]);
        let replica = RedisServer::start_with(&[
            "--replicaof",
            "127.0.0.1",
            &primary.port().to_string(),
            "--dir",
            &dirs[1],
        ]);
        let sentinel_port = free_ports(1)[0];
        let conf = dir.path().join("sentinel.conf");
        // 2 s without an answer before the primary is thought down: short enough for a test,
        // long enough that a loaded machine's slow PING does not fail it over unasked.
        std::fs::write(
            &conf,
            format!(
                "port {sentinel_port}\nbind 127.0.0.1\ndir {dir}\nlogfile {dir}/sentinel.log\n\
                 sentinel monitor {SERVICE} 127.0.0.1 {primary} 1\n\
                 sentinel down-after-milliseconds {SERVICE} 2000\n\
                 sentinel failover-timeout {SERVICE} 5000\n",
                dir = dir.path().display(),
                primary = primary.port(),
            ),
        )
        .unwrap();
        let sentinel = Command::new("redis-sentinel")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-sentinel starts (apt-get install redis-sentinel)");
        let group = SentinelGroup {
            servers: vec![primary, replica],
            dirs,
            sentinel,
            sentinel_port,
            dir,
        };
        let replica = group.servers[1].port();
        settle(
            "the Sentinel knows the replica, linked to the primary",
            || group.knows_linked_replica(replica).then_some(()),
        );
        group
    }

    /// Whether the Sentinel knows the server on `port` as a replica, up, with its link to the
    /// primary up: one it can promote.
    pub fn knows_linked_replica(&self, port: u16) -> bool {
        self.replicas().iter().any(|r| {
            r.get("port") == Some(&port.to_string())
                && r.get("flags").map(String::as_str) == Some("slave")
                && r.get("master-link-status").map(String::as_str) == Some("ok")
        })
    }

    /// The Sentinel's URL (`FLEET_REDIS_SENTINEL`).
    pub fn sentinel_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.sentinel_port)
    }

    /// The port of the primary the Sentinel names now, once a failover is over: as redis-rs
    /// resolves it, from `SENTINEL MASTER`, and not while it is flagged down. (From the
    /// replica's promotion to the end of the failover, `GET-MASTER-ADDR-BY-NAME` names the new
    /// primary already, while `SENTINEL MASTER` still shows the old one, down.)
    pub fn primary_port(&self) -> Option<u16> {
        let primary: HashMap<String, String> =
            query(self.sentinel_port, &["SENTINEL", "MASTER", SERVICE])?;
        let flags = primary.get("flags")?;
        if flags.contains("s_down") || flags.contains("o_down") {
            return None;
        }
        primary.get("port")?.parse().ok()
    }

    /// What the Sentinel knows of the replicas (`SENTINEL REPLICAS`).
    fn replicas(&self) -> Vec<HashMap<String, String>> {
        query(self.sentinel_port, &["SENTINEL", "REPLICAS", SERVICE]).unwrap_or_default()
    }

    /// Asks the Sentinel for a failover now (`SENTINEL FAILOVER`), with the primary up.
    pub fn failover(&self) {
        let ok: Option<String> = query(self.sentinel_port, &["SENTINEL", "FAILOVER", SERVICE]);
        assert_eq!(ok.as_deref(), Some("OK"), "{}", self.log());
    }

    /// The server on `port`.
    pub fn server(&mut self, port: u16) -> &mut RedisServer {
        self.servers.iter_mut().find(|s| s.port() == port).unwrap()
    }

    /// Starts the server on `port` again, empty, as a replica of the one on `primary`.
    pub fn restart_as_replica(&mut self, port: u16, primary: u16) {
        let i = self.servers.iter().position(|s| s.port() == port).unwrap();
        let (primary, dir) = (primary.to_string(), self.dirs[i].clone());
        self.servers[i].restart_with(&["--replicaof", "127.0.0.1", &primary, "--dir", &dir]);
    }

    /// The Sentinel's log, for a failure's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sentinel.log")).unwrap_or_default()
    }
}

impl Drop for SentinelGroup {
    fn drop(&mut self) {
        let _ = self.sentinel.kill();
        let _ = self.sentinel.wait();
    }
}
