//! hh-downstream's integration tests, in one binary so that reqwest, axum and tokio are linked
//! once: `cargo test -p hh-downstream --test it`, or one module (`-- fleet::`). Each module
//! says what it covers.

pub mod declarations;
pub mod dyn_form;
mod fakes;
#[cfg(feature = "full")]
mod fleet;
#[cfg(feature = "full")]
mod metrics;
#[cfg(feature = "full")]
mod middleware;
mod requests;
pub mod return_types;
mod support;
