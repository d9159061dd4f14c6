//! A fleet sharing tokens through Redis: several real OS processes (this binary, run again as
//! children), a real `redis-server` per case, and hh-sandbox as the identity server and API.
//!
//! `cargo test -p hh-downstream --test it fleet::` (part of `cargo test --workspace`);
//! `-- fleet::f3` runs one case, `--show-output` prints the figure each measured. The cases run
//! one at a time (each is eight processes and a Redis), in real time: what they count is what
//! the fleet logic guarantees while every store operation completes within its bound. F10–F12
//! run the fleet on a Redis Cluster and on a Sentinel-managed primary that fails over, through
//! the connections of [`stores`]. Without `redis-server` and `openssl` on the PATH (and, for
//! F10–F12, `redis-sentinel` and `redis-cli`) the cases pass with a note saying they were
//! skipped, except under CI (`CI` set), where that is a failure: `.ci/run` installs them.

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    missing_docs,
    unreachable_pub
)]

mod groups;
mod procs;
mod redis_groups;
mod redis_server;
mod stores;

use std::future::Future;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hh_sandbox::{Fault, Sandbox};
use procs::{Proc, Spec, Totals};
pub(crate) use redis_server::RedisServer;

const PROCESSES: usize = 8;

/// The children's log for the cases that follow each process's store conversations: a line
/// per fetch (`CONSULTED`), per token request answered, per token the API rejected, and the
/// outage warnings and returns.
const STORE_LOG: &str = "hh_runtime=info,hh_runtime::token=debug";
/// Logged once per fetch, whatever the store said.
const CONSULTED: &str = "consulted the shared token store";
/// Logged once when a process finds the store failing...
const WARNED: &str = "shared token store unavailable";
/// ...and once when it answers again.
const REJOINED: &str = "shared token store reachable again";
/// Logged once for each token the API rejected, as the process drops it.
const DROPPED: &str = "API rejected the cached token; dropping it";
/// Logged as each of a process's own token requests is answered...
const ISSUED: &str = "access token issued";
/// ...or fails.
const REQUEST_FAILED: &str = "token request failed";

/// 8 processes × 100 concurrent calls, all cold at once: one token request in all. Redis then
/// holds no token, no part of one, and no secret.
#[test]
fn f1_cold_fleet() {
    run(async {
        let sandbox = Sandbox::start().await.unwrap();
        let redis = RedisServer::start();
        let spec = Spec::new(&sandbox, Some(&redis.url()))
            .with("FLEET_CALLS", 100)
            .with("FLEET_LOG", "hh_runtime=trace");
        let fleet = spec.go(PROCESSES);
        let t = Totals::of(fleet).await;
        assert_eq!((t.ok, t.failed), (800, 0), "{:?}", t.errors);
        assert_eq!(sandbox.token_requests(), 1);
        // Every process's trace names the store and what it said.
        let outcomes = |o: &str| {
            t.stderr
                .iter()
                .filter(|l| l.contains(&format!("hh.token.store.outcome=\"{o}\"")))
                .count()
        };
        assert_eq!(outcomes("lease won"), 1, "{:?}", t.stderr);
        assert_eq!(outcomes("adopted"), PROCESSES - 1);
        assert!(
            t.stderr
                .iter()
                .all(|l| l.contains("hh.token.store=\"redis\""))
        );
        let keys = assert_no_secret_in_redis(&sandbox, &redis);
        assert_no_secret_in_logs(&sandbox, &t);
        format!(
            "{PROCESSES} processes × 100 cold calls: {} token request, 0 failed, p50 {:?} p99 {:?}; Redis: {keys} key(s), no token, token part or secret",
            sandbox.token_requests(),
            t.quantile(0.5),
            t.quantile(0.99)
        )
    });
}

/// A running fleet whose tokens are revoked: one new token for all of it, no call fails.
#[test]
fn f2_revocation() {
    run(async {
        let sandbox = Sandbox::start().await.unwrap();
        let redis = RedisServer::start();
        let spec = Spec::new(&sandbox, Some(&redis.url()))
            .running(4)
            .with("FLEET_LOG", "hh_runtime=debug");
        let fleet = spec.go(PROCESSES);
        token_requests_reach(&sandbox, 1).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(sandbox.token_requests(), 1);
        sandbox.revoke_all_tokens();
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let t = Totals::of(fleet).await;
        assert_eq!(t.failed, 0, "{:?}", t.errors);
        assert_eq!(
            sandbox.token_requests(),
            2,
            "one token before, one after the revocation"
        );
        assert_no_secret_in_redis(&sandbox, &redis);
        assert_no_secret_in_logs(&sandbox, &t);
        // The rejected entry is removed by compare-and-delete: by one process at most, never by
        // one that would remove the replacement.
        let invalidated: usize = t
            .stderr
            .iter()
            .map(|l| l.matches("outcome=\"invalidated\"").count())
            .sum();
        assert!(
            invalidated <= 1,
            "{invalidated} processes removed the shared entry"
        );
        format!(
            "{PROCESSES} processes, {} calls, tokens revoked mid-run: 1 new token request for the fleet, 0 failed; the rejected entry removed by {invalidated} process",
            t.ok
        )
    });
}

/// Every entry in Redis flipped or replaced by a planted one, then the tokens revoked so that
/// every process must read the store: no request carries a token the identity server did not
/// issue, and no call fails.
#[test]
fn f3_tampering() {
    run(async {
        let sandbox = Sandbox::start().await.unwrap();
        let redis = RedisServer::start();
        let spec = Spec::new(&sandbox, Some(&redis.url())).running(4);
        let fleet = spec.go(PROCESSES);
        tokio::time::sleep(Duration::from_millis(1000)).await;
        // A token of our own, well-formed (a JWT with the right claims, our own signature).
        let planted = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJjbGllbnRfaWQiOiJzYW5kYm94LWNsaWVudCIsImF1ZCI6ImhlYWx0aGhlcm8tYXBpIn0.Zm9yZ2Vk";
        let mut tampered = 0;
        for round in 0..4 {
            for (key, value) in redis.dump() {
                let bad = match round {
                    // One flipped bit somewhere in the sealed bytes.
                    0 | 2 if !value.is_empty() => {
                        let mut v = value.clone();
                        let i = (v.len() / 2 + round) % v.len();
                        v[i] ^= 0x10;
                        v
                    }
                    // The framing of a sealed entry around a token of our own.
                    1 => [&[1u8][..], &[7u8; 24], planted.as_bytes(), &[0u8; 16]].concat(),
                    // The token in the clear.
                    _ => planted.as_bytes().to_vec(),
                };
                redis.set(&key, &bad);
                tampered += 1;
            }
            sandbox.revoke_all_tokens();
            tokio::time::sleep(Duration::from_millis(1200)).await;
        }
        let t = Totals::of(fleet).await;
        assert_eq!(t.failed, 0, "{:?}", t.errors);
        assert_eq!(
            sandbox.unissued_tokens(),
            0,
            "a request carried a token never issued"
        );
        let rejected: usize = t
            .stderr
            .iter()
            .map(|e| e.matches("sealed entry rejected").count())
            .sum();
        assert!(rejected > 0, "no process saw a tampered entry");
        assert_no_secret_in_redis(&sandbox, &redis);
        format!(
            "{tampered} entries tampered over 4 rounds (bit flips, planted framed token, plaintext token), each followed by a revocation: {} calls, 0 failed, 0 requests with an unissued token, {rejected} rejections logged, {} token requests",
            t.ok,
            sandbox.token_requests()
        )
    });
}

/// Redis killed mid-run (tokens revoked while it is down), then restarted on the same port
/// and the tokens revoked again: no call fails, one warning per process for the outage, and
/// the fleet coordinates again (one token for the second revocation).
#[test]
fn f4_redis_outage() {
    run(async {
        let sandbox = Sandbox::start().await.unwrap();
        let mut redis = RedisServer::start();
        let spec = Spec::new(&sandbox, Some(&redis.url()))
            .running(4)
            .with("FLEET_LOG", "hh_runtime=info");
        let fleet = spec.go(PROCESSES);
        tokio::time::sleep(Duration::from_millis(1000)).await;
        redis.kill();
        sandbox.revoke_all_tokens();
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let during = sandbox.token_requests() - 1;
        redis.restart();
        // Each process's probe (one a second) reconnects, and the operation it reconnected
        // for tells it Redis is back: wait until all eight are connected, and a probe interval
        // more, rather than a fixed time a loaded machine might need more than.
        wait_until("the fleet reconnected", || {
            redis.connected_clients() > PROCESSES
        })
        .await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let before = sandbox.token_requests();
        sandbox.revoke_all_tokens();
        token_requests_reach(&sandbox, before + 1).await;
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let after = sandbox.token_requests() - before;
        let t = Totals::of(fleet).await;
        assert_eq!(t.failed, 0, "{:?}", t.errors);
        for log in &t.stderr {
            assert_eq!(
                log.matches("shared token store unavailable").count(),
                1,
                "one warning per outage:\n{log}"
            );
            assert!(log.contains("reachable again"), "{log}");
        }
        assert_eq!(after, 1, "the fleet coordinates again once Redis is back");
        format!(
            "{} calls, 0 failed; Redis down: {during} token requests (each process alone), 1 warning per process; back: 1 token request for the fleet",
            t.ok
        )
    });
}

/// The lease holder is killed (SIGKILL) while its token request hangs: the others wait for its
/// lease to run out, then one of them fetches, and all of them succeed.
#[test]
fn f5_lease_holder_killed() {
    run(async {
        const TOKEN_TIMEOUT_MS: u64 = 3000; // the lease lasts as long: min(token timeout, 5 s)
        let sandbox = Sandbox::start().await.unwrap();
        let redis = RedisServer::start();
        let spec = Spec::new(&sandbox, Some(&redis.url()))
            .with("FLEET_CALLS", 10)
            .with("FLEET_TOKEN_TIMEOUT_MS", TOKEN_TIMEOUT_MS);
        sandbox.inject("token", Fault::Latency { ms: 60_000 });
        let mut holder = spec.spawn();
        holder.go();
        let leased = Instant::now();
        token_requests_reach(&sandbox, 1).await;
        let others = spec.go(PROCESSES - 1);
        tokio::time::sleep(Duration::from_millis(300)).await;
        holder.kill();
        let killed = Instant::now();
        sandbox.clear_faults();
        let t = Totals::of(others).await;
        let recovered = killed.elapsed();
        assert_eq!((t.ok, t.failed), (70, 0), "{:?}", t.errors);
        assert_eq!(
            sandbox.token_requests(),
            2,
            "the dead holder's, and one more"
        );
        // Served only once the dead holder's lease ran out; and by one process's fetch, not by
        // the fallback that lets each fetch alone (that would be 7 more token requests, where
        // the count above allows one): the code's own quantities, whatever the machine's speed.
        let lease = Duration::from_millis(TOKEN_TIMEOUT_MS);
        let served = leased.elapsed();
        assert!(
            served >= lease,
            "recovered {served:?} after the lease was taken"
        );
        format!(
            "holder killed {:?} after taking a {lease:?} lease: the other {} processes all served {recovered:?} after the kill ({:?} after the lease was taken), 1 more token request",
            killed - leased,
            PROCESSES - 1,
            leased.elapsed()
        )
    });
}

/// Tokens living 6 s, a fleet calling for 15 s: the fleet refreshes about as often as one
/// process would, not once per process.
#[test]
fn f6_short_lifetimes() {
    run(async {
        let sandbox = Sandbox::builder()
            .token_lifetime(Duration::from_secs(6))
            .start()
            .await
            .unwrap();
        let redis = RedisServer::start();
        let spec = Spec::new(&sandbox, Some(&redis.url())).running(2);
        let fleet = spec.go(PROCESSES);
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(15)).await;
        let t = Totals::of(fleet).await;
        let run = started.elapsed();
        assert_eq!(t.failed, 0, "{:?}", t.errors);
        // A token is refreshed from its half-life (refresh-ahead is capped at 50 %), less a tenth
        // of its life for clock skew when adopted: every 2.4 s at most, as for one process.
        let one_process = 1 + (run.as_secs_f64() / 2.4).floor() as u64;
        let requests = sandbox.token_requests();
        // No spare: with store operations bounded at 5 s here, no process gives up on the store
        // and fetches alone, however loaded the machine.
        assert!(
            requests <= one_process,
            "{requests} token requests; one process would make {one_process} at most"
        );
        format!(
            "6 s tokens, {PROCESSES} processes calling for {run:.1?} ({} calls, 0 failed): {requests} token requests for the fleet (one process: at most {one_process}; unshared fleet: about {})",
            t.ok,
            one_process * PROCESSES as u64
        )
    });
}

/// A TLS-only Redis whose default user is off: the URL's scheme, user and password are what
/// the fleet connects with (the CA through `SSL_CERT_FILE`, as a platform's roots would be).
#[test]
fn f7_tls_and_acl() {
    run(async {
        let sandbox = Sandbox::start().await.unwrap();
        let redis = RedisServer::start_tls();
        let tls = redis.tls().unwrap();
        let spec = Spec::new(&sandbox, Some(&redis.url()))
            .with("FLEET_CALLS", 50)
            .with("SSL_CERT_FILE", tls.ca().display())
            .with("FLEET_LOG", "hh_runtime=debug");
        let fleet = spec.go(4);
        let t = Totals::of(fleet).await;
        assert_eq!((t.ok, t.failed), (200, 0), "{:?}", t.errors);
        assert_eq!(sandbox.token_requests(), 1, "{:?}", t.stderr);
        for log in &t.stderr {
            assert!(
                !log.contains(&tls.password),
                "the Redis password is in a log"
            );
            assert!(!log.contains("unavailable"), "{log}");
        }
        "rediss:// with user and password, 4 processes × 50 cold calls: 1 token request, 0 failed, the password in no log".to_owned()
    });
}

/// Redis answers nothing for 6 s (`DEBUG SLEEP`) while the fleet must replace a revoked token:
/// no call fails, and none waits on Redis beyond the operation bound.
#[test]
fn f8_redis_stalled() {
    run(async {
        let sandbox = Sandbox::start().await.unwrap();
        let redis = RedisServer::start_with(&["--enable-debug-command", "local"]);
        // A 1 s bound against a 6 s stall: what this case shows is that a call waits for the
        // bound, never for the stall (and 1 s, not the default 100 ms, so that on a loaded
        // machine no operation outside the stall outlasts it).
        let spec = Spec::new(&sandbox, Some(&redis.url()))
            .with("FLEET_STORE_TIMEOUT_MS", 1000)
            .running(4)
            .with("FLEET_LOG", "hh_runtime=info");
        let fleet = spec.go(PROCESSES);
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let stall = Duration::from_secs(6);
        redis.stall(stall.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(100)).await;
        sandbox.revoke_all_tokens();
        tokio::time::sleep(stall + Duration::from_millis(500)).await;
        let t = Totals::of(fleet).await;
        assert_eq!(t.failed, 0, "{:?}", t.errors);
        // A call that waited on the stalled Redis would take the stall's 6 s; one that waited
        // for the bound takes about 1 s: half the stall tells the two apart on any machine.
        let slowest = t.quantile(1.0);
        assert!(slowest < stall / 2, "a call took {slowest:?}");
        for log in &t.stderr {
            assert_eq!(
                log.matches("shared token store unavailable").count(),
                1,
                "{log}"
            );
        }
        format!(
            "Redis stalled 6 s across a revocation: {} calls, 0 failed, slowest call {slowest:?} (401, a store operation abandoned at the 1 s bound, a token of its own, the replay), 1 warning per process",
            t.ok
        )
    });
}

/// Redis refuses every write (`maxmemory` 1 byte, `noeviction`): no call fails, each process
/// fetches its own token, and nothing is stored.
#[test]
fn f9_redis_full() {
    run(async {
        let sandbox = Sandbox::start().await.unwrap();
        let redis =
            RedisServer::start_with(&["--maxmemory", "1", "--maxmemory-policy", "noeviction"]);
        let spec = Spec::new(&sandbox, Some(&redis.url())).with("FLEET_CALLS", 50);
        let fleet = spec.go(PROCESSES);
        let t = Totals::of(fleet).await;
        assert_eq!(
            (t.ok, t.failed),
            (50 * PROCESSES as u64, 0),
            "{:?}",
            t.errors
        );
        let requests = sandbox.token_requests();
        assert!(requests <= PROCESSES as u64, "{requests} token requests");
        assert_eq!(redis.dump().len(), 0);
        format!(
            "Redis refusing writes (OOM), {PROCESSES} processes × 50 cold calls: 0 failed, {requests} token requests (each process alone), nothing stored"
        )
    });
}

/// DPoP through Redis, with private_key_jwt and no secret, all from `HH_*` settings: eight
/// processes authenticating with one client key (`HH_CLIENT_KEY`, the store sealed with
/// `HH_SEALING_KEY`), four holding one DPoP key and four another (`HH_DPOP_KEY`; PEMs made by
/// openssl). The sandbox requires DPoP and
/// refuses a token presented without a proof of the key it is bound to, so a process that
/// adopted a token bound to the other key would see its calls refused, drop the token and
/// fetch again. One token per key, no call failed, no token dropped: no process adopted a
/// token it could not use. Then a revocation: one new token per key. Redis holds no key.
#[test]
fn f13_dpop_fleet() {
    run(async {
        let client_key = ec_key_pem();
        let public = hh_runtime::auth::SigningKey::from_pem(&client_key)
            .unwrap()
            .with_key_id("fleet");
        let sandbox = Sandbox::builder()
            .client_key("keyed-fleet", &public.public_jwk())
            .require_dpop()
            .start()
            .await
            .unwrap();
        let redis = RedisServer::start();
        let keys = [ec_key_pem(), ec_key_pem()];
        let base = Spec::new(&sandbox, Some(&redis.url()))
            .without("HH_CLIENT_SECRET")
            .with("HH_CLIENT_ID", "keyed-fleet")
            .with("HH_CLIENT_KEY", &client_key)
            .with("HH_CLIENT_KEY_ID", "fleet")
            .with(
                "HH_SEALING_KEY",
                "c2FuZGJveC1mbGVldC1zZWFsaW5nLWtleS0zMmJ5dGU=",
            )
            .running(4)
            .with("FLEET_LOG", "hh_runtime=trace");
        let specs = keys
            .iter()
            .map(|pem| base.clone().with("HH_DPOP_KEY", pem))
            .collect::<Vec<_>>();
        let mut fleet: Vec<Proc> = (0..PROCESSES).map(|i| specs[i % 2].spawn()).collect();
        fleet.iter_mut().for_each(Proc::go);
        token_requests_reach(&sandbox, 2).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(sandbox.token_requests(), 2, "one token per key");
        sandbox.revoke_all_tokens();
        token_requests_reach(&sandbox, 4).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let t = Totals::of(fleet).await;
        assert_eq!(t.failed, 0, "{:?}", t.errors);
        assert_eq!(
            sandbox.token_requests(),
            4,
            "one new token per key after the revocation"
        );
        let dropped: usize = t.stderr.iter().map(|l| l.matches(DROPPED).count()).sum();
        // Each key's token dropped once after the revocation (by one process or a few that saw
        // the 401 at once), never a token bound to the other key: those would be refused all
        // along and dropped again and again.
        assert!(dropped <= PROCESSES, "{dropped} tokens dropped");
        for (_, value) in redis.dump() {
            for pem in keys.iter().chain([&client_key]) {
                let body = pem.lines().nth(1).unwrap();
                assert!(!contains(&value, body.as_bytes()), "a DPoP key in Redis");
            }
        }
        assert_no_secret_in_redis(&sandbox, &redis);
        assert_no_secret_in_logs(&sandbox, &t);
        format!(
            "{PROCESSES} processes with private_key_jwt (no secret) and DPoP, two DPoP keys, {} calls, tokens revoked mid-run: 2 token requests per token generation (one per key), 0 failed",
            t.ok
        )
    });
}

/// A new P-256 private key, as PKCS#8 PEM, from openssl (which the fleet's Redis TLS needs
/// already).
fn ec_key_pem() -> String {
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Waits until every process has logged `line` at least `n` times.
async fn every_log_has(fleet: &[Proc], line: &str, n: usize) {
    wait_until(
        &format!("every process logged {line:?} {n} time(s)"),
        || fleet.iter().all(|p| p.log().matches(line).count() >= n),
    )
    .await;
}

/// Waits until every token request the sandbox has had is answered in a process's log: none
/// is still in flight to be counted later.
async fn every_token_request_answered(fleet: &[Proc], sandbox: &Sandbox) {
    wait_until("every token request answered", || {
        let answered: usize = fleet
            .iter()
            .map(|p| {
                let log = p.log();
                log.matches(ISSUED).count() + log.matches(REQUEST_FAILED).count()
            })
            .sum();
        answered as u64 == sandbox.token_requests()
    })
    .await;
}

/// Waits until the sandbox has had `n` token requests.
async fn token_requests_reach(sandbox: &Sandbox, n: u64) {
    wait_until("the fleet asked for a token", || {
        sandbox.token_requests() >= n
    })
    .await;
}

/// Waits until `done`, however long a loaded machine takes (up to a minute, then fails with
/// what never happened), rather than for a fixed time.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    wait_for(what, || done().then_some(())).await;
}

/// Waits until `done` gives a value, and returns it (up to a minute, as [`wait_until`]).
async fn wait_for<T>(what: &str, done: impl FnMut() -> Option<T>) -> T {
    wait_for_within(what, Duration::from_secs(60), done).await
}

/// Waits until `done` gives a value, up to `limit`.
async fn wait_for_within<T>(what: &str, limit: Duration, mut done: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = done() {
            return value;
        }
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Scans every key and value: no issued token, no 12-byte piece of one, no client secret.
fn assert_no_secret_in_redis(sandbox: &Sandbox, redis: &RedisServer) -> usize {
    assert_no_secret_in(sandbox, redis.dump())
}

/// [`assert_no_secret_in_redis`] on keys and values from anywhere (every node of a cluster).
fn assert_no_secret_in(sandbox: &Sandbox, dump: Vec<(String, Vec<u8>)>) -> usize {
    let secret = sandbox.client_secret().as_bytes();
    for (key, value) in &dump {
        for hay in [key.as_bytes(), value.as_slice()] {
            assert!(
                !contains(hay, secret),
                "the client secret is in Redis under {key}"
            );
            for token in sandbox.issued_tokens() {
                for piece in token.as_bytes().chunks(12).filter(|p| p.len() == 12) {
                    assert!(
                        !contains(hay, piece),
                        "part of a token is in Redis under {key}"
                    );
                }
            }
        }
    }
    dump.len()
}

/// The children's logs name no token and no secret.
fn assert_no_secret_in_logs(sandbox: &Sandbox, t: &Totals) {
    for log in &t.stderr {
        assert!(!log.contains(sandbox.client_secret()));
        for token in sandbox.issued_tokens() {
            assert!(!log.contains(&token));
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Runs one case, after any other has finished, on a runtime of its own, and prints its
/// figure; or says why it is skipped.
fn run(case: impl Future<Output = String> + Send + 'static) {
    run_with(redis_server::available(), "redis-server and openssl", case);
}

fn run_with(available: bool, needs: &str, case: impl Future<Output = String> + Send + 'static) {
    // One at a time: each case is eight processes and a Redis of its own.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "this case needs {needs} (apt-get install redis-server redis-sentinel redis-tools openssl); .ci/run installs them"
        );
        // Straight to the process's stderr: the harness captures what `println!` prints and
        // shows it only for a failure, and this note must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {}: this case needs {needs} on the PATH (apt-get install redis-server redis-sentinel redis-tools openssl)",
            std::thread::current().name().unwrap_or("a fleet case")
        );
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let figure = rt
        .block_on(rt.spawn(case))
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    println!("{figure} [{:.1} s]", started.elapsed().as_secs_f64());
}
