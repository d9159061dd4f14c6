//! Every diagnostic of `#[healthhero_api]`, one mistake per file, with the compiler's output
//! committed beside it. Regenerate with `TRYBUILD=overwrite cargo test -p hh-macros --test ui`
//! and review the diff; never edit a `.stderr` by hand.

/// The compiler the committed `.stderr` files were produced with. Another compiler words its
/// own errors differently; this test then fails saying so rather than with a wall of diffs.
const STDERR_RUSTC: &str = "rustc 1.95.";

#[test]
fn ui() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        version.starts_with(STDERR_RUSTC),
        "the UI .stderr files were made with {STDERR_RUSTC}x but this is {version}; regenerate them \
         with TRYBUILD=overwrite, review the diff, and update STDERR_RUSTC"
    );
    let t = trybuild::TestCases::new();
    for group in [
        "template",
        "route",
        "args",
        "signature",
        "trait",
        "types",
        "many",
    ] {
        t.compile_fail(format!("tests/ui/{group}/*.rs"));
    }
    t.pass("tests/ui/pass/*.rs");
}
