//! hh-sandbox's integration tests, in one binary: `cargo test -p hh-sandbox --test it`.

mod alone;
mod binary;
mod sandbox;
