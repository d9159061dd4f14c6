//! Every diagnostic of `#[healthhero_api]`, one mistake per file, with the compiler's output
//! committed beside it. Regenerate with `TRYBUILD=overwrite cargo test -p hh-runtime --test ui`
//! and review the diff; never edit a `.stderr` by hand.
//!
//! The cases live here, beside the runtime, rather than in `hh-macros`: they compile against
//! `hh_runtime`, and a dev-dependency of the macro crate on the runtime (which depends on the
//! macro crate) would make neither publishable. thiserror keeps its UI tests the same way.

/// The compiler the committed `.stderr` files were produced with. Another compiler words its
/// own errors differently, so on any other the suite is skipped with a message saying so;
/// under CI (`CI` set) a mismatch fails instead, so that the suite can never be skipped silently
/// where it is meant to run.
const STDERR_RUSTC: &str = "rustc 1.95.";

#[test]
fn ui() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if !version.starts_with(STDERR_RUSTC) {
        let message = format!(
            "skipping the UI suite: its .stderr files were made with {STDERR_RUSTC}x and this is \
             `{version}`; to run it here, regenerate them with TRYBUILD=overwrite, review the \
             diff, and update STDERR_RUSTC"
        );
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("{message}");
        return;
    }
    let t = trybuild::TestCases::new();
    for group in [
        "template",
        "route",
        "args",
        "signature",
        "trait",
        "types",
        "options",
        "many",
    ] {
        t.compile_fail(format!("tests/ui/{group}/*.rs"));
    }
    t.pass("tests/ui/pass/*.rs");
}
