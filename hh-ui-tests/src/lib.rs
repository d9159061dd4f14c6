//! The UI suite of `#[healthhero_api]`: `tests/ui/` holds one case per diagnostic (and the
//! declarations that must compile, in `tests/ui/pass/`), `tests/ui.rs` runs them with trybuild.
//!
//! A crate of its own so that trybuild, which builds the cases' dependencies again in a project
//! of its own, builds only what the cases use (hh-runtime without TLS, serde, tracing) and not
//! hh-runtime's test dependencies (axum, the sandbox, their cryptography). Not published.
