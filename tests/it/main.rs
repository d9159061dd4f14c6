//! healthhero's integration tests, in one binary: `cargo test --test it`. Each module says what
//! it covers.

mod fakes;
mod flows;
mod payloads;
mod readme;
mod telemetry;
