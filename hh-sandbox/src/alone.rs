//! Running one test alone, in a process of its own.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The environment variable that marks a process started by [`in_own_process`].
const MARK: &str = "HH_TEST_OWN_PROCESS";

/// How long [`in_own_process`] lets the test run before it kills it.
const LIMIT: Duration = Duration::from_secs(600);

/// For a test whose outcome depends on state the whole process shares, which other tests of
/// the same binary disturb: in the test run, runs the calling test again, alone, in a process
/// of its own (this test binary, filtered to this one test), prints what it printed, panics
/// unless it passed, and returns `false`; in that process, returns `true`.
///
/// ```no_run
/// #[test]
/// fn what_my_subscriber_sees() {
///     if !hh_sandbox::in_own_process() {
///         return;
///     }
///     // Alone in this process from here on.
/// }
/// ```
///
/// What needs it: a subscriber set with `tracing::subscriber::set_default` whose output the
/// test asserts (tracing caches per callsite which subscribers want it, and a callsite first
/// reached by another test while this one registers its subscriber can stay disabled for
/// it), a global subscriber or metrics recorder, the process's memory.
///
/// - Call it first thing, on the test's own thread (not in a spawned task or thread): it
///   relies on the test harness naming that thread after the test, as Rust's does.
/// - The child's standard output is printed (the harness shows it for a failure, or with
///   `--show-output`); its standard error is shown only when it fails.
/// - Not for `#[should_panic]` tests: the child's expected panic passes there, and the parent
///   then returns without one.
/// - A test that runs longer than 10 minutes is killed and fails ([`in_own_process_within`]
///   sets another limit); processes it started itself are not killed.
/// - `HH_TEST_OWN_PROCESS` marks the child: set in the environment of a test run, every test
///   would run in place.
pub fn in_own_process() -> bool {
    in_own_process_within(LIMIT)
}

/// [`in_own_process`], killing the test (and failing) if it runs longer than `limit`.
pub fn in_own_process_within(limit: Duration) -> bool {
    if std::env::var_os(MARK).is_some() {
        return true;
    }
    let current = std::thread::current();
    let test = current
        .name()
        .filter(|name| *name != "main")
        .expect("in_own_process is called from a test, on the thread the harness named after it");
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--include-ignored"])
        .args(["--test-threads", "1"])
        .env(MARK, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary starts again");
    // Read both pipes as the test runs, so that a test that prints much never blocks; into
    // buffers kept here, since a process the test started may hold a pipe open after it.
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        let text = Arc::new(Mutex::new(Vec::new()));
        let into = Arc::clone(&text);
        let reader = std::thread::spawn(move || {
            let Some(mut pipe) = pipe else { return };
            let mut chunk = [0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                into.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(&chunk[..n]);
            }
        });
        (reader, text)
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    // What the readers have by now: all of it, unless a process the test started still holds
    // a pipe (it is not killed; a second is long enough for the rest to arrive).
    let grace = Instant::now() + Duration::from_secs(1);
    let taken = |(reader, text): (std::thread::JoinHandle<()>, Arc<Mutex<Vec<u8>>>)| {
        while !reader.is_finished() && Instant::now() < grace {
            std::thread::sleep(Duration::from_millis(10));
        }
        let bytes = text.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let stdout = taken(stdout);
    let stderr = taken(stderr);
    print!("{stdout}");
    match status {
        None => panic!(
            "{test} did not finish within {limit:?} in a process of its own, and was killed:\n{stderr}"
        ),
        Some(status) if status.success() && stdout.contains("1 passed") => false,
        Some(status) if status.success() => panic!(
            "{test} ran no test in a process of its own: call in_own_process first thing on the test's own thread, not from a task or another thread"
        ),
        Some(_) => panic!("{test} failed in a process of its own:\n{stderr}"),
    }
}
