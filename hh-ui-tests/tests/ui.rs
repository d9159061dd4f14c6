//! Every diagnostic of `#[healthhero_api]`, one mistake per file, with the compiler's output
//! committed beside it. Regenerate with `TRYBUILD=overwrite cargo test -p hh-ui-tests` and
//! review the diff; never edit a `.stderr` by hand.
//!
//! The cases live in this crate rather than in `hh-macros`: they compile against `hh_runtime`,
//! and a dev-dependency of the macro crate on the runtime (which depends on the macro crate)
//! would make neither publishable. thiserror keeps its UI tests the same way.
//!
//! The committed `.stderr` files were produced with rustc 1.95, and another compiler words its
//! errors differently: on any other the test is reported as ignored (with the reason), never as
//! passed. `.ci/run` fails when it finds the suite ignored, so it cannot be skipped where it is
//! meant to run. When the toolchain moves, regenerate the files and change the version in the
//! attribute below.

#[test]
#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the UI suite's .stderr files were made with rustc 1.95; regenerate them with TRYBUILD=overwrite on this compiler"
)]
fn ui() {
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
        "surface",
    ] {
        t.compile_fail(format!("tests/ui/{group}/*.rs"));
    }
    t.pass("tests/ui/pass/*.rs");
}
