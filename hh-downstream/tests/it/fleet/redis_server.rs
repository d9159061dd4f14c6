//! A real `redis-server` for one test: on a free loopback port, persistence off, stopped when
//! dropped. Debian's `redis-server` package provides it; `.ci/run` installs it when missing.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `redis-server` (and `openssl`, for the TLS server's certificates) can be run here.
pub fn available() -> bool {
    runs("redis-server", "--version") && runs("openssl", "version")
}

/// Whether `program arg` runs and succeeds.
pub fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `n` distinct free loopback ports (each held until all are found, so none is given twice).
pub fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free loopback port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("a bound port").port())
        .collect()
}

/// One running server (or a stopped one that can be started again on the same port).
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    tls: Option<Tls>,
    /// Extra configuration (`--maxmemory 1`, say).
    extra: Vec<String>,
}

/// A TLS-only server with an ACL user: its certificates (made with the `openssl` command) and
/// the user's credentials.
pub struct Tls {
    pub dir: std::path::PathBuf,
    pub user: &'static str,
    pub password: String,
}

impl Tls {
    /// The CA that signed the server's certificate, for `SSL_CERT_FILE`.
    pub fn ca(&self) -> std::path::PathBuf {
        self.dir.join("ca.pem")
    }

    fn make(port: u16) -> Tls {
        let dir = std::env::temp_dir().join(format!("hh-fleet-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl runs");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=hh fleet test CA",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ]);
        Tls {
            dir,
            user: "hh-fleet",
            password: format!(
                "pw-{:016x}",
                std::process::id() as u64 * 7919 + u64::from(port)
            ),
        }
    }
}

impl RedisServer {
    /// Starts a server on a free port and waits until it accepts connections.
    pub fn start() -> RedisServer {
        Self::start_with(&[])
    }

    /// Starts a server with extra configuration, given as `redis-server` arguments.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        Self::launch(false, extra)
    }

    /// Starts a server that speaks only TLS and knows only one ACL user (the default user is
    /// off), and waits until it answers.
    pub fn start_tls() -> RedisServer {
        Self::launch(true, &[])
    }

    /// Starts a server on `port` (from [`free_ports`]) with extra configuration.
    pub fn start_on(port: u16, extra: &[&str]) -> RedisServer {
        Self::launch_on(port, false, extra)
    }

    fn launch(tls: bool, extra: &[&str]) -> RedisServer {
        Self::launch_on(free_ports(1)[0], tls, extra)
    }

    fn launch_on(port: u16, tls: bool, extra: &[&str]) -> RedisServer {
        let mut server = RedisServer {
            port,
            child: None,
            tls: tls.then(|| Tls::make(port)),
            extra: extra.iter().map(|a| (*a).to_owned()).collect(),
        };
        server.restart();
        server
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TLS settings, for a server from [`RedisServer::start_tls`].
    pub fn tls(&self) -> Option<&Tls> {
        self.tls.as_ref()
    }

    /// `redis://127.0.0.1:<port>/0`, or `rediss://user:password@127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        match &self.tls {
            None => format!("redis://127.0.0.1:{}/0", self.port),
            Some(tls) => format!(
                "rediss://{}:{}@127.0.0.1:{}/0",
                tls.user, tls.password, self.port
            ),
        }
    }

    /// Kills the server at once (SIGKILL: no goodbye to its clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty, with other extra configuration.
    pub fn restart_with(&mut self, extra: &[&str]) {
        self.extra = extra.iter().map(|a| (*a).to_owned()).collect();
        self.restart();
    }

    /// Starts it (again) on the same port, empty, and waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let mut command = Command::new("redis-server");
        command.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        command.args(&self.extra);
        match &self.tls {
            None => command.args(["--port", &self.port.to_string(), "--protected-mode", "yes"]),
            Some(tls) => {
                let path = |f: &str| tls.dir.join(f).display().to_string();
                command
                    .args(["--port", "0", "--tls-port", &self.port.to_string()])
                    .args(["--tls-cert-file", &path("server.pem")])
                    .args(["--tls-key-file", &path("server.key")])
                    .args([
                        "--tls-ca-cert-file",
                        &path("ca.pem"),
                        "--tls-auth-clients",
                        "no",
                    ])
                    .args(["--user", tls.user, "on", &format!(">{}", tls.password)])
                    .args(["~*", "&*", "+@all", "--user", "default", "off"])
            }
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (apt-get install redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let up = TcpStream::connect(("127.0.0.1", self.port)).is_ok();
            // A TLS server is up once it accepts connections (the test's own connection is
            // plain TCP; the children speak TLS).
            if up && (self.tls.is_some() || self.connection().is_some()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// A plain synchronous connection, for the test to look at and tamper with entries.
    pub fn connection(&self) -> Option<redis::Connection> {
        let mut conn = redis::Client::open(self.url())
            .ok()?
            .get_connection()
            .ok()?;
        redis::cmd("PING").query::<String>(&mut conn).ok()?;
        Some(conn)
    }

    /// How many clients are connected (this query's own connection included), or 0 when the
    /// server does not answer.
    pub fn connected_clients(&self) -> usize {
        let Some(mut conn) = self.connection() else {
            return 0;
        };
        let info: String = redis::cmd("INFO")
            .arg("clients")
            .query(&mut conn)
            .unwrap_or_default();
        info.lines()
            .find_map(|l| l.strip_prefix("connected_clients:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Every key and its value (values as bytes; a key of another type gives an empty value).
    pub fn dump(&self) -> Vec<(String, Vec<u8>)> {
        let mut conn = self.connection().expect("redis answers");
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut conn).unwrap();
        keys.into_iter()
            .map(|k| {
                let v: Option<Vec<u8>> = redis::cmd("GET").arg(&k).query(&mut conn).unwrap_or(None);
                (k, v.unwrap_or_default())
            })
            .collect()
    }

    /// Makes the server answer nothing for `ms` (`DEBUG SLEEP`, which needs
    /// `--enable-debug-command local`), from another thread; returns once the server has
    /// stopped answering (a `PING` gets no answer within 500 ms), however long that takes.
    pub fn stall(&self, ms: u64) {
        let mut conn = self.connection().expect("redis answers");
        std::thread::spawn(move || {
            let _: redis::RedisResult<()> = redis::cmd("DEBUG")
                .arg("SLEEP")
                .arg(ms as f64 / 1000.0)
                .query(&mut conn);
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if !self.answers_within(std::time::Duration::from_millis(500)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("redis-server never stalled");
    }

    /// Whether a plain-text `PING` (no TLS) gets its `+PONG` within `limit`.
    fn answers_within(&self, limit: std::time::Duration) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(limit));
        let mut pong = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut pong).is_ok()
            && &pong == b"+PONG\r\n"
    }

    /// Sets `key` to `value`, keeping its expiry (or none if it had none).
    pub fn set(&self, key: &str, value: &[u8]) {
        let mut conn = self.connection().expect("redis answers");
        let () = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("KEEPTTL")
            .query(&mut conn)
            .unwrap();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(tls) = &self.tls {
            let _ = std::fs::remove_dir_all(&tls.dir);
        }
    }
}
