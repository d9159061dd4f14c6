//! README.md's code that no doctest compiles is taken from an example CI builds: the
//! Observability section's setup is `examples/observability.rs`, line for line.

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

#[test]
fn readme_observability_setup_is_the_example() {
    let readme = read("README.md");
    let example = read("examples/observability.rs");
    let block = rust_block(&readme, "## Observability");
    let mut remaining = example.lines().map(str::trim);
    let mut checked = 0;
    for line in block.iter().map(|line| line.trim()) {
        if line.is_empty() {
            continue;
        }
        assert!(
            remaining.any(|theirs| theirs == line),
            "README.md's Observability block has `{line}`, which examples/observability.rs does \
             not have (after the block's {checked} lines before it): copy the line from the \
             example, or change both"
        );
        checked += 1;
    }
    assert!(checked > 0, "README.md's Observability block is empty");
}
