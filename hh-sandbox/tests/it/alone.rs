//! `in_own_process`: the test again, alone, in a process of its own.

use std::time::Duration;

#[test]
fn a_test_runs_again_alone_in_a_process_of_its_own() {
    if !hh_sandbox::in_own_process() {
        return;
    }
    // Only the process started for this test gets here.
    assert!(std::env::var_os("HH_TEST_OWN_PROCESS").is_some());
}

#[test]
#[should_panic(expected = "did not finish within")]
fn a_test_that_runs_past_its_limit_is_killed_and_fails() {
    if !hh_sandbox::in_own_process_within(Duration::from_millis(300)) {
        return;
    }
    std::thread::sleep(Duration::from_secs(600));
}

/// A child that fails fails its parent. (A `should_panic` test that returns normally fails,
/// so the child fails here, and the parent must panic with the child's failure.)
#[test]
#[should_panic(expected = "failed in a process of its own")]
fn a_test_that_fails_alone_fails_its_parent() {
    // In the child, in_own_process returns true and the test returns without a panic.
    let _ = hh_sandbox::in_own_process();
}
