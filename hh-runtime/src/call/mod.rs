//! One API call, step by step: `build` (the request the generated code describes:
//! method, percent-encoded path, query, headers, body), `send` (a token in hand, each attempt
//! sent under its timer and read within its cap), `decide` (what an attempt's outcome leads
//! to: decode, replay a 401, retry, or fail) and `decode` (the answer into the declared
//! return type). The token lifecycle (`crate::token`) is below it; telemetry observes it.

pub(crate) mod build;
mod decide;
pub(crate) mod decode;
mod send;

// The middleware drives its own attempts with the same rules.
#[cfg(feature = "middleware")]
pub(crate) use decide::{Tries, replays_401, token_at_fault};
#[cfg(feature = "middleware")]
pub(crate) use send::token_for_call;
