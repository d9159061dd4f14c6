//! healthhero's integration tests, in one binary: `cargo test --test it`. Each module says what
//! it covers.

mod flows;
mod payloads;
mod telemetry;

/// The environment variable that marks a process started by [`in_own_process`].
const OWN_PROCESS: &str = "HH_TEST_OWN_PROCESS";

/// In the test run, runs the calling test again, alone, in a process of its own, checks that it
/// passed, and returns false; in that process, returns true. (hh-runtime's test support has the
/// same helper, with the reasons a test needs it.)
fn in_own_process() -> bool {
    if std::env::var_os(OWN_PROCESS).is_some() {
        return true;
    }
    let current = std::thread::current();
    let test = current.name().expect("called from a test");
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env(OWN_PROCESS, "1")
        .output()
        .expect("the test binary runs");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "{test} failed alone:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    false
}
