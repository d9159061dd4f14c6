//! README.md's code that no doctest compiles is an example CI builds and runs: the
//! Observability section's setup is `examples/observability.rs` after its `//!` comments,
//! verbatim (`tests/observability.rs` runs it).

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of the first ```rust block in the `## ` section titled `heading`.
fn rust_block<'a>(markdown: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = markdown
        .lines()
        .skip_while(|line| line.trim_end() != heading)
        .skip(1)
        .take_while(|line| !line.starts_with("## "));
    lines
        .by_ref()
        .find(|line| line.trim_end() == "```rust")
        .unwrap_or_else(|| panic!("README.md has no ```rust block under `{heading}`"));
    lines.take_while(|line| line.trim_end() != "```").collect()
}

/// The example's code: its lines after the leading `//!` comments.
fn code_of(example: &str) -> Vec<&str> {
    example
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.trim().is_empty())
        .collect()
}

#[test]
fn readme_observability_setup_is_the_example() {
    let readme = read("README.md");
    let example = read("examples/observability.rs");
    let block = rust_block(&readme, "## Observability");
    let code = code_of(&example);
    assert!(
        !block.is_empty(),
        "README.md's Observability block is empty"
    );
    for (i, (ours, theirs)) in block.iter().zip(&code).enumerate() {
        assert_eq!(
            ours,
            theirs,
            "line {} of README.md's Observability block is not the example's: copy \
             examples/observability.rs after its `//!` comments",
            i + 1
        );
    }
    assert_eq!(
        block.len(),
        code.len(),
        "README.md's Observability block and examples/observability.rs differ in length"
    );
}
