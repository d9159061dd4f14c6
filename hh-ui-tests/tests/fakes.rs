//! The diagnostics of the fakes `#[healthhero_api]` writes with hh-runtime's `testing` feature
//! (`<Trait>Fake`, and its `Serve` impl for `#[healthhero_api(serve)]`), one mistake per file,
//! with the compiler's output committed beside it; and cases that must build cleanly with
//! fakes, warnings denied. Run with the feature, which trybuild passes on to its project:
//! `cargo test -p hh-ui-tests --features testing --test fakes` (`TRYBUILD=overwrite` to
//! regenerate; review the diff, never edit a `.stderr` by hand). Made with rustc 1.95, like
//! the `ui` suite, and ignored on another compiler for the same reason.

#[test]
#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the fakes suite's .stderr files were made with rustc 1.95; regenerate them with TRYBUILD=overwrite on this compiler"
)]
fn fakes() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/fakes/*.rs");
    t.pass("tests/fakes/pass/*.rs");
}
