//! Every diagnostic of `#[healthhero_api]`, one mistake per file, with the compiler's output
//! committed beside it. Regenerate with `TRYBUILD=overwrite cargo test -p hh-macros --test ui`
//! and review the diff; never edit a `.stderr` by hand.

#[test]
fn ui() {
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
