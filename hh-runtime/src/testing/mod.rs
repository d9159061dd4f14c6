//! Test doubles generated from the trait: with the `testing` feature on, `#[healthhero_api]`
//! writes a `<Trait>Fake` next to `<Trait>Client`, which implements the trait with scripted
//! replies and records every call, typed.
//!
//! Turn the feature on where tests are built, and nowhere else:
//!
//! ```toml
//! [dev-dependencies]
//! hh-runtime = { version = "0.1", features = ["testing"] }
//! ```
//!
//! Cargo turns on a dev-dependency's features only when it builds tests, examples and
//! benchmarks, so a release build neither compiles the fakes nor the code that writes them.
//!
//! ```
//! # #[derive(Clone, Debug, serde::Deserialize, serde::Serialize, PartialEq)] pub struct Receipt { pub id: String }
//! use hh_runtime::{Error, StatusCode, healthhero_api};
//!
//! #[healthhero_api]
//! pub trait Payments {
//!     #[post("/payments/<account>/charge")]
//!     async fn charge(&self, account: &str, #[query] cents: u64) -> Result<Receipt, Error>;
//! }
//!
//! // The code under test: generic over the trait, as production code is.
//! async fn pay(api: &impl Payments) -> Result<String, Error> {
//!     match api.charge("acct/7", 1250).await {
//!         Ok(receipt) => Ok(receipt.id),
//!         Err(e) if e.status() == Some(StatusCode::PAYMENT_REQUIRED) => Ok("declined".into()),
//!         Err(e) => Err(e),
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let fake = PaymentsFake::new();
//! fake.charge
//!     .returns(Ok(Receipt { id: "r-1".into() }))
//!     .returns(Err(Error::from_status(StatusCode::PAYMENT_REQUIRED, "")));
//!
//! assert_eq!(pay(&fake).await.unwrap(), "r-1");
//! assert_eq!(pay(&fake).await.unwrap(), "declined");
//!
//! let calls = fake.charge.calls();
//! assert_eq!(calls[0].account, "acct/7");
//! assert_eq!(calls[1].cents, 1250);
//! fake.verify();
//! # }
//! ```
//!
//! What the fake is:
//!
//! - **One public field per endpoint**, an [`Endpoint`] named like the method, so a renamed
//!   method or a changed argument type breaks the test at compile time. Its replies are queued
//!   ([`Endpoint::returns`], [`Endpoint::returns_with`], a closure over the call's arguments)
//!   or standing ([`Endpoint::always`]); [`Endpoint::calls`] gives every call received, in
//!   order, as `<Trait><Method>Call` structs whose fields are the arguments, owned (`&str`
//!   becomes `String`, `&[T]` a `Vec`, `&T` a `T`, which must be `Clone`).
//! - **Strict**: a call with nothing scripted panics, naming the endpoint and the arguments,
//!   and so does an `Err` reply with a 2xx status (one the client never returns);
//!   [`verify`](FakeCore::verify) panics on those, and on replies queued that no call used.
//!   The same check runs when the last clone of the fake is dropped (unless the test is
//!   already failing), on whatever no `verify` reported, so a forgotten `verify`, or a reply
//!   queued after it, is still caught.
//! - **Time and failures**: [`Endpoint::delay`] waits on tokio's clock (instant under paused
//!   time); [`Faults`] fails a share of calls from a seed, the same calls on every run.
//! - **Both forms**: the fake implements the trait as declared, so it works generically
//!   (`&impl Payments`) and, for a `#[healthhero_api(dyn)]` trait, as
//!   `Arc<dyn Payments + Send + Sync>`. Clones share the script.
//!
//! Features are shared by a whole build: with `testing` on, every `#[healthhero_api]` trait in
//! it gets a fake. A trait that should not (its arguments are not `Clone`, say) is declared
//! with `#[healthhero_api(fake = false)]`.
//!
//! With `#[healthhero_api(serve)]`, the fake also implements [`Serve`]: hh-sandbox's
//! `Sandbox::serve` answers HTTP requests for the trait's endpoints with it, beside
//! HealthHero's, behind its identity server and its faults, so the generated client runs its
//! whole stack (tokens, the replay after a 401, retries, timeouts, telemetry) against the
//! same script. The arguments are read back from each request by their declared roles, which
//! needs more of their types (`FromStr` for a path, a header or a text body, `Deserialize`
//! for a JSON body, a query or a form) and of the return type (`Serialize`): those bounds are
//! asked only of a trait declared with `serve`. The runtime stays serverless: the server is
//! hh-sandbox's, which depends on the feature `testing-server` (this contract alone: it
//! writes no fakes).

mod faults;
mod read;
mod script;
mod wire;

#[cfg(test)]
mod tests;

pub use faults::Faults;
pub use script::{Endpoint, FakeCore};
pub use wire::{Piece, Route, Serve, ServedReply, ServedRequest, find};

/// What generated fakes call. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use super::read::{FromBytes, FromText, FromWire, Reader};
    pub use super::script::Outcome;
    pub use super::wire::{Encode, SendJson, read_call, reply, reply_as, unreadable};

    /// A value a fake keeps a copy of: the generated `…Call` struct holds each argument owned.
    #[diagnostic::on_unimplemented(
        message = "a fake records `{Self}` as an owned copy, which needs `Clone`",
        label = "not `Clone`",
        note = "with hh-runtime's `testing` feature on, `<Trait>Fake` keeps every argument of every call (`&T` as a `T`); derive `Clone` for this type, or declare the trait with `#[healthhero_api(fake = false)]` to write no fake for it"
    )]
    pub trait Record {
        /// The copy.
        fn record(&self) -> Self;
    }

    impl<T: Clone> Record for T {
        fn record(&self) -> Self {
            self.clone()
        }
    }

    /// An argument shown in a fake's messages: with `Debug` when it has it, else by its type's
    /// name (`(&Show(&value)).hh_show(f)`, the first trait applying where method lookup
    /// looks first).
    pub struct Show<'a, T: ?Sized>(pub &'a T);

    /// [`Show`] with `Debug`.
    pub trait ShowDebug {
        /// Writes the value.
        fn hh_show(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result;
    }

    impl<T: std::fmt::Debug + ?Sized> ShowDebug for Show<'_, T> {
        fn hh_show(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            std::fmt::Debug::fmt(self.0, f)
        }
    }

    /// [`Show`] without `Debug`: the type's name.
    pub trait ShowOpaque {
        /// Writes the type's name.
        fn hh_show(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result;
    }

    impl<T: ?Sized> ShowOpaque for &Show<'_, T> {
        fn hh_show(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "<{}>", std::any::type_name::<T>())
        }
    }
}
