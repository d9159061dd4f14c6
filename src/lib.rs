//! Typed, async clients for HealthHero's health APIs.
//!
//! This crate will declare HealthHero's documented endpoints (Traversals, ChatTraversals,
//! Members, Health Risk Assessment reports) with hh's `#[healthhero_api]` macro. Until then it
//! re-exports the runtime those clients are built on, so the configuration a team writes today
//! stays valid:
//!
//! ```
//! let client = healthhero::Client::builder()
//!     .identity_url("https://identity.example")
//!     .api_url("https://traversal.example")
//!     .client_id("my-client")
//!     .client_secret("s3cret")
//!     .build()?;
//! assert_eq!(client.client_id(), "my-client");
//! # Ok::<(), healthhero::Error>(())
//! ```

pub use hh_runtime::{Client, ClientBuilder, Error, Result};
