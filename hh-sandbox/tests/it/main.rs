//! hh-sandbox's integration tests, in one binary: `cargo test -p hh-sandbox --test it`.

mod binary;
mod sandbox;
