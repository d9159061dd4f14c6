//! hh-runtime's integration tests, in one binary so that reqwest, axum and tokio are linked
//! once: `cargo test -p hh-runtime --test it`, or a module (`-- reliability::`) or a case
//! (`-- reliability::tokens::a1`) of it. Each module says what it covers.

mod against_sandbox;
mod call_waits;
mod calls;
#[cfg(all(feature = "private-key-jwt", feature = "dpop"))]
mod interop;
#[cfg(all(feature = "private-key-jwt", feature = "dpop"))]
mod key_auth;
#[cfg(any(feature = "rustls", feature = "native-tls"))]
mod mtls;
mod redaction;
mod reliability;
mod support;
mod token_lifecycle;
#[cfg(feature = "token-store")]
mod token_store;
