//! healthhero's integration tests, in one binary: `cargo test --test it`. Each module says what
//! it covers.

#[cfg(all(feature = "private-key-jwt", feature = "dpop"))]
mod client_key;
mod fakes;
mod flows;
mod payloads;
mod readme;
mod telemetry;
