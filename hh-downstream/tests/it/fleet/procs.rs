//! A fleet of real OS processes: this test binary run again with `HH_FLEET_CHILD` set, running
//! only the test [`child`], each one an hh client configured the way a replica would be (`Client::from_env`, so
//! `HH_REDIS_URL` decides whether it shares tokens; or a store built by hand for a Redis
//! Cluster or Sentinel, see [`super::stores`]).
//!
//! A child prints `ready` once its client is built, waits for `go` on stdin, then either fires
//! `FLEET_CALLS` concurrent calls once (`FLEET_MODE=burst`) or keeps `FLEET_CALLS` tasks
//! calling until stdin closes (`FLEET_MODE=run`). It ends with one line:
//! `REPORT ok=.. failed=.. us=<latency of each call, comma-separated> error=<first error>`.
//! `FLEET_TOKEN_TIMEOUT_MS` and `FLEET_STORE_TIMEOUT_MS` set the client's token timeout and
//! store operation bound. The parent reads a child's stderr (its log) as it is written, so that
//! a case can wait for what every process has logged ([`Proc::log`]).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The one call every child makes: a member that does not exist (`404`, so `None`): cheap for
/// the sandbox, and it needs a valid token like any other call.
#[hh_runtime::healthhero_api]
pub trait FleetApi {
    /// `GET /api/v2/{tenant}/Members/{reference}`.
    #[get("/api/v2/<client_id>/Members/<reference>")]
    async fn member(&self, reference: &str) -> hh_runtime::Result<Option<String>>;
}

/// The environment variable that makes this binary a child.
const CHILD: &str = "HH_FLEET_CHILD";

/// The test a child runs, the whole of it: in a child, runs the child and exits. Ignored, so that
/// a test run does not count it as a test it passed; a child runs it with `--include-ignored`.
#[test]
#[ignore = "the entry point of a fleet child process, run only in one"]
fn child() {
    run_child_if_asked();
}

/// If this process is a child, runs it and exits; otherwise returns.
pub fn run_child_if_asked() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let filter = std::env::var("FLEET_LOG").unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(calls());
    println!("{report}");
    std::process::exit(0);
}

async fn calls() -> String {
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let calls: usize = env("FLEET_CALLS").parse().unwrap_or(1);
    let mut builder = hh_runtime::ClientBuilder::from_env().unwrap();
    if let Ok(ms) = env("FLEET_TOKEN_TIMEOUT_MS").parse() {
        builder = builder.token_timeout(Duration::from_millis(ms));
    }
    if let Ok(ms) = env("FLEET_STORE_TIMEOUT_MS").parse() {
        builder = builder.store_operation_timeout(Duration::from_millis(ms));
    }
    let store_timeout = Duration::from_millis(env("FLEET_STORE_TIMEOUT_MS").parse().unwrap_or(100));
    if let Some(store) = super::stores::from_env(store_timeout).await {
        builder = builder.token_store(store);
    }
    let api = FleetApiClient::new(builder.build().unwrap());
    println!("ready");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();

    // Closing stdin (or the parent dying) stops a `run`.
    let stop = Arc::new(AtomicBool::new(env("FLEET_MODE") != "run"));
    let watcher = Arc::clone(&stop);
    std::thread::spawn(move || {
        let mut rest = String::new();
        while std::io::stdin().read_line(&mut rest).is_ok_and(|n| n > 0) {}
        watcher.store(true, Ordering::SeqCst);
    });
    let tasks: Vec<_> = (0..calls)
        .map(|i| {
            let api = api.clone();
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut results = Vec::new();
                loop {
                    let started = Instant::now();
                    let result = api.member(&format!("m-{i}")).await;
                    results.push((started.elapsed(), result.err().map(|e| e.to_string())));
                    if stop.load(Ordering::SeqCst) {
                        return results;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    let (mut ok, mut failed, mut us, mut error) = (0, 0, Vec::new(), String::new());
    for task in tasks {
        for (took, result) in task.await.unwrap() {
            us.push(took.as_micros().to_string());
            match result {
                None => ok += 1,
                Some(e) => {
                    failed += 1;
                    if error.is_empty() {
                        error = e.replace('\n', " ");
                    }
                }
            }
        }
    }
    format!(
        "REPORT ok={ok} failed={failed} us={} error={error}",
        us.join(",")
    )
}

/// What one child reported, and what it logged.
#[derive(Debug, Default)]
pub struct Report {
    pub ok: u64,
    pub failed: u64,
    pub latencies: Vec<Duration>,
    pub error: String,
    pub stderr: String,
}

/// A child process, ready for `go`.
pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// Its stderr so far, read by a thread of its own as the child writes it.
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
}

/// How to start children.
#[derive(Clone)]
pub struct Spec {
    pub env: Vec<(String, String)>,
}

impl Spec {
    /// Children of a client of `sandbox`, sharing tokens through `redis` if given.
    pub fn new(sandbox: &hh_sandbox::Sandbox, redis: Option<&str>) -> Spec {
        let mut env = vec![
            ("HH_IDENTITY_URL".into(), sandbox.identity_url()),
            ("HH_API_URL".into(), sandbox.api_url()),
            ("HH_CLIENT_ID".into(), sandbox.client_id().to_owned()),
            (
                "HH_CLIENT_SECRET".into(),
                sandbox.client_secret().to_owned(),
            ),
        ];
        if let Some(url) = redis {
            env.push(("HH_REDIS_URL".into(), url.to_owned()));
        }
        // Store operations bounded at 5 s rather than 100 ms: eight processes on a slow or
        // loaded machine may take longer than 100 ms to hear from Redis, and a process that
        // gives up fetches alone, which would change what the cases count. A case about the
        // bound itself (F8) sets its own.
        env.push(("FLEET_STORE_TIMEOUT_MS".into(), "5000".into()));
        Spec { env }
    }

    pub fn with(mut self, name: &str, value: impl ToString) -> Spec {
        self.env.push((name.into(), value.to_string()));
        self
    }

    /// Without the variable `name` (the client secret, for a client with a key instead).
    pub fn without(mut self, name: &str) -> Spec {
        self.env.retain(|(n, _)| n != name);
        self
    }

    /// Starts one child and waits until its client is built.
    pub fn spawn(&self) -> Proc {
        let mut command = Command::new(std::env::current_exe().unwrap());
        // The test harness of this binary runs the one test `child`, quietly, its output uncaptured.
        let test = format!(
            "{}::child",
            module_path!().split_once("::").map_or("", |m| m.1)
        );
        command
            .args([
                test.as_str(),
                "--exact",
                "--nocapture",
                "--quiet",
                "--include-ignored",
            ])
            .args(["--test-threads", "1"])
            .env(CHILD, "1")
            .env_remove("HH_REDIS_URL")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let stdin = child.stdin.take();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut from_child = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            let mut line = String::new();
            while from_child.read_line(&mut line).is_ok_and(|n| n > 0) {
                log.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_str(&line);
                line.clear();
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // The harness announces the test first: the child's own output starts at `ready`.
        let mut line = String::new();
        while line.trim() != "ready" {
            line.clear();
            let read = stdout.read_line(&mut line).unwrap();
            if read == 0 {
                let _ = child.wait();
                let _ = stderr_reader.join();
                panic!(
                    "a child failed to start; stderr:\n{}",
                    stderr.lock().unwrap_or_else(PoisonError::into_inner)
                );
            }
        }
        Proc {
            child,
            stdin,
            stdout,
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    /// Children that keep `tasks` tasks calling until they are finished (`FLEET_MODE=run`).
    pub fn running(self, tasks: usize) -> Spec {
        self.with("FLEET_MODE", "run").with("FLEET_CALLS", tasks)
    }

    /// Starts `n` children, and once all are ready, sets them going at once.
    pub fn go(&self, n: usize) -> Vec<Proc> {
        let mut procs: Vec<Proc> = (0..n).map(|_| self.spawn()).collect();
        procs.iter_mut().for_each(Proc::go);
        procs
    }
}

impl Proc {
    /// Starts its calls.
    pub fn go(&mut self) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").unwrap();
        stdin.flush().unwrap();
    }

    /// What the child has logged so far.
    pub fn log(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops a `run` (closes stdin), waits for the report.
    pub fn finish(mut self) -> Report {
        drop(self.stdin.take());
        let mut out = String::new();
        let mut line = String::new();
        while self.stdout.read_line(&mut line).is_ok_and(|n| n > 0) {
            out.push_str(&line);
            line.clear();
        }
        let _ = self.child.wait();
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        let stderr = self.log();
        let report = out
            .lines()
            .find_map(|l| l.strip_prefix("REPORT "))
            .unwrap_or_else(|| panic!("a child ended without a report; stderr:\n{stderr}"));
        let mut r = Report {
            stderr,
            ..Report::default()
        };
        for field in report.splitn(4, ' ') {
            match field.split_once('=') {
                Some(("ok", v)) => r.ok = v.parse().unwrap(),
                Some(("failed", v)) => r.failed = v.parse().unwrap(),
                Some(("us", v)) => {
                    r.latencies = v
                        .split(',')
                        .filter_map(|n| n.parse().ok())
                        .map(Duration::from_micros)
                        .collect();
                }
                Some(("error", v)) => r.error = v.to_owned(),
                _ => {}
            }
        }
        r
    }
}

/// Reports of several children, summed.
#[derive(Debug, Default)]
pub struct Totals {
    pub ok: u64,
    pub failed: u64,
    pub latencies: Vec<Duration>,
    pub errors: Vec<String>,
    pub stderr: Vec<String>,
}

impl Totals {
    /// Waits for every child's report (in parallel, off the async runtime).
    pub async fn of(procs: Vec<Proc>) -> Totals {
        let reports = tokio::task::spawn_blocking(move || {
            let handles: Vec<_> = procs
                .into_iter()
                .map(|p| std::thread::spawn(move || p.finish()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        let mut t = Totals::default();
        for r in reports {
            t.ok += r.ok;
            t.failed += r.failed;
            t.latencies.extend(r.latencies);
            if !r.error.is_empty() {
                t.errors.push(r.error);
            }
            t.stderr.push(r.stderr);
        }
        t.latencies.sort();
        t
    }

    /// The latency at quantile `q` (0..=1).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[i]
    }
}
