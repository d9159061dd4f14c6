//! The runtime behind hh's generated HealthHero clients.
//!
//! A [`Client`] holds what every call needs: the API base URL, the OAuth 2.0 client
//! credentials, a connection pool and a token cache. Generated clients (from the
//! `#[healthhero_api]` macro) call into it; you build it once and share it.
//!
//! ```no_run
//! # async fn run() -> hh_runtime::Result<()> {
//! let client = hh_runtime::Client::builder()
//!     .identity_url("https://identity.example")   // tokens from {identity_url}/connect/token
//!     .api_url("https://traversal.example")
//!     .client_id("my-client")
//!     .client_secret("s3cret")
//!     .default_header("x-api-version", "v3")
//!     .build()?;
//!
//! // Or from HH_IDENTITY_URL, HH_API_URL, HH_CLIENT_ID, HH_CLIENT_SECRET
//! // (and optionally HH_TOKEN_URL, HH_SCOPE):
//! let from_env = hh_runtime::Client::from_env()?;
//! assert_eq!(from_env.client_id(), std::env::var("HH_CLIENT_ID").unwrap());
//!
//! // A token for a call of your own; generated clients fetch and attach it themselves.
//! let token = client.access_token().await?;
//! # let _ = token;
//! # Ok(())
//! # }
//! ```
//!
//! # Tokens
//!
//! Tokens come from the client-credentials grant (`client_secret_post` by default, as
//! HealthHero documents; [`ClientAuth::Basic`] for `client_secret_basic`). The runtime:
//!
//! - caches the token against a monotonic clock, from when the request was sent;
//! - refreshes it in the background from `min(5 min, 50% of lifetime)` before expiry while
//!   callers keep using it, and never uses a token with less than `min(30 s, 25% of lifetime)`
//!   left; without `expires_in` it reads the JWT `exp` claim (unverified), else assumes 5 min;
//! - makes one token request however many calls need a token at once; a cache hit is one
//!   atomic load and never waits for a refresh;
//! - hides a failed background refresh while the current token is valid and tries again with
//!   jittered backoff (from 1 s, doubling, up to 30 s, each wait between half its step and the
//!   step); once no valid token is left, callers within 2 s of a failure get that failure at
//!   once instead of each starting a request; never more than one token request per second;
//!   permanent errors (`invalid_request`, `invalid_client`, `unauthorized_client`,
//!   `invalid_scope`, `unsupported_grant_type`, `invalid_grant`) hold for the whole backoff (15 to 30 s,
//!   jittered so that a fleet does not retry in step), and so does a `Retry-After` from the
//!   token endpoint, believed up to 30 s;
//! - runs each fetch on its own task under its own timeout (10 s, end to end: with a shared
//!   store, its wait for the store counts too), so no caller's cancellation can stall or
//!   cancel it, and never follows a redirect from the token endpoint;
//! - makes an API call that finds no token after a transient failure wait, whatever its
//!   method, until a fetch obtains a token (it is told) or the lifecycle may send its next
//!   request (by the same rule a new caller follows), so the call that came first never
//!   finishes after a later one, and all of them share one request. These waits are bounded
//!   by the [`RetryPolicy`]'s time (`max_elapsed`, 30 s), the wait for a token request in
//!   flight included, and are not counted as attempts: `max_attempts` bounds requests to the
//!   API, and none was sent. Permanent errors, a spent budget and
//!   [`RetryPolicy::none`] fail the call at once ([`Client::access_token`] never waits);
//! - with [`ClientBuilder::call_timeout`], bounds each call as a whole (token wait, attempts,
//!   backoffs) and says which limit fired ([`ErrorKind::Deadline`]);
//! - on a 401 from an API, drops the token only if it is still the one rejected, fetches one
//!   new token however many calls saw the 401, and replays each call once (twice when the
//!   token of the first replay came from the fleet's store and was rejected too: another
//!   process's token, revoked with its own). A 403 is final.
//!
//! # A fleet
//!
//! Processes that share a `store::TokenStore` (features `token-store`, or `redis` for Redis
//! and `ClientBuilder::redis_url`) behave like one client: one token request for a cold fleet,
//! one refresh per token, one new token after a revocation, with sealed entries and Redis never
//! a dependency. The `store` module says how.
//!
//! # Features
//!
//! - TLS, one of (as reqwest offers them): `rustls` (on by default: rustls with its default
//!   crypto provider, aws-lc-rs, which builds a C library), `rustls-no-provider` (rustls
//!   with no provider compiled in: install one, say `ring`, with
//!   `rustls::crypto::CryptoProvider::install_default` before building a client), or
//!   `native-tls` (the platform's library). With none (`default-features = false`), https
//!   URLs are a configuration error unless you bring TLS-capable clients
//!   ([`ClientBuilder::http_client`], [`ClientBuilder::token_http_client`]).
//! - `token-store` (off): the `store` module (a token cache shared by a fleet through a
//!   `TokenStore` of your own, entries sealed with XChaCha20-Poly1305) and
//!   `ClientBuilder::token_store`, `sealing_key`, `previous_sealing_key`. Without it no
//!   cryptography is compiled.
//! - `redis` (off; implies `token-store`): `store::RedisStore`, `ClientBuilder::redis_url` and
//!   `HH_REDIS_URL`. Without it nothing Redis-related is compiled.
//! - `metrics` (off): `http.client.request.duration` (seconds, one sample per attempt,
//!   labelled as the conventions say: `http.request.method`, `server.address`, `server.port`,
//!   `url.scheme`, `url.template`, and `http.response.status_code` and
//!   `network.protocol.version` when answered, `error.type` when failed),
//!   `hh.client.call.duration` (seconds, one per logical call, by `hh.endpoint`), the token
//!   metrics `hh.token.requests` (by `hh.outcome`), `hh.token.request.duration` (s),
//!   `hh.token.cache.hits`, `hh.token.cache.misses`, `hh.token.wait.duration` (s) and
//!   `hh.token.remaining_lifetime` (gauge, s), and with a shared store
//!   `hh.token.store.available`, `hh.token.store.operations` and `hh.token.store.outcomes`,
//!   through the `metrics` facade: install any exporter (Prometheus, OpenTelemetry) as the
//!   recorder, with `metrics::DURATION_BUCKETS` for histograms. The names are in the
//!   `metrics` module.
//! - `private-key-jwt` (off; on in `healthhero`): client authentication with a JWT signed by
//!   the client's key instead of a secret, see the `auth` module,
//!   `ClientBuilder::private_key_jwt` and `HH_CLIENT_KEY`. Signs with aws-lc-rs.
//! - `dpop` (off; on in `healthhero`): DPoP-bound tokens and a proof on every request,
//!   `ClientBuilder::dpop` and `HH_DPOP`. Signs with aws-lc-rs.
//! - TLS client certificates (RFC 8705, `ClientBuilder::client_certificate`,
//!   [`ClientAuth::TlsClientAuth`]) need no feature beyond a TLS one.
//! - `middleware` (off): reqwest-middleware both ways, see the `middleware` module.
//! - `opentelemetry` (off): W3C trace context (`traceparent`, `tracestate`) on every API
//!   attempt, from the attempt's span through OpenTelemetry's global propagator. Tracks the
//!   current opentelemetry / tracing-opentelemetry pair (0.33 / 0.34); without it, no
//!   OpenTelemetry crate is built.
//! - `prettyplease` (off): `HH_MACROS_DEBUG` prints what the macro writes formatted, rather
//!   than as one line of tokens (the macro then compiles prettyplease).
//!
//! # Tracing
//!
//! Spans are shaped as OpenTelemetry's HTTP client conventions count requests, so
//! `tracing-opentelemetry` exports them as they are: each attempt (the first, every retry, the
//! replay after a 401) is an INFO CLIENT span, `otel.name` = `"GET /things/{id}"`, with
//! `http.request.method`, `server.address`, `server.port`, `url.scheme`, `url.template`,
//! `http.response.status_code`, `network.protocol.version`, `http.request.resend_count` from
//! the second attempt, and on failure `error.type` and `otel.status_code` = ERROR (a 4xx or
//! 5xx is a failure of the attempt). The logical call is an INFO INTERNAL span named for the
//! endpoint (`Things.get`), with `url.template` and our own `hh.*` attributes, parenting its
//! attempts, its wait for a token (`hh.token.wait`) and its backoff sleeps (`hh.backoff`).
//! Each token fetch is an INFO INTERNAL root span (`hh.token.fetch`) linked to the wait that
//! caused it, around the CLIENT span of its request to the identity server
//! (`POST /connect/token`), if it sends one. Path and query values appear only in `url.full`, recorded only with
//! [`ClientBuilder::trace_full_url`], a deliberate departure from the conventions. With the
//! `opentelemetry` feature, each attempt carries W3C trace context from its own span, through
//! OpenTelemetry's global propagator (`ClientBuilder::propagate_trace_context`).
//!
//! # Calls
//!
//! Retries follow [`RetryPolicy`]: by default only idempotent methods, on connect errors,
//! timeouts, 408, 429, 502, 503 and 504, with jittered backoff, `Retry-After` honoured, at most
//! 3 attempts within 30 s. A non-2xx answer becomes an [`Error`] that keeps the status, the
//! headers and the body (and its JSON or [`ProblemDetails`] form).
//!
//! # Security
//!
//! Base URLs must be `https`, except for loopback hosts. The client secret and tokens are
//! kept as secrets, zeroed on drop; `Debug` of the client, the builder and every error prints
//! `[redacted]` in their place, `Authorization` header values are marked sensitive, and error bodies that
//! echo a token or the secret are scrubbed. No span or event carries a token, the secret or an
//! `Authorization` header.
//!
//! # Other crates in hh's public API
//!
//! A type of another crate in our API is a promise: when that crate makes a breaking release,
//! so must hh. We name only `http` 1 (`HeaderMap`, `HeaderValue`, `Method`, `StatusCode`,
//! re-exported here), `bytes` 1 (`Bytes`) and `serde_json` 1 (`Error::json`,
//! `ProblemDetails::extensions`), which are stable; `redis` 1 (`RedisStore::with_connection`,
//! feature `redis`); and `reqwest` 0.13
//! (`ClientBuilder::http_client`, `token_http_client`) and, with the `middleware` feature,
//! `reqwest-middleware` 0.5: they are the transport you may bring, so they cannot be hidden,
//! and a new major of either is a major of hh. The token is our own [`AccessToken`], not
//! `secrecy`'s `SecretString` (0.10, which we use inside): re-exporting it would tie hh's
//! major versions to a crate that still changes its API, for a type whose whole surface is one
//! method.

// docs.rs builds with `--cfg docsrs` on nightly, to label feature-gated items.
#![cfg_attr(docsrs, feature(doc_cfg))]

// Layers, lowest first; a module names only those below it (`.ci/module-graph` checks):
// the rules and facts (`config`, `retry`, `body`), the one error type, what observes
// (`telemetry`) and the shared store, the token lifecycle, the configured `client`, one
// call's pipeline (`call`: build, send, decide, decode), the `builder` that makes a client,
// and the `middleware` for a reqwest client of the user's.
mod body;
mod config;
mod retry;

mod error;

#[cfg(feature = "token-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "token-store")))]
pub mod store;

#[cfg(any(feature = "private-key-jwt", feature = "dpop"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "private-key-jwt", feature = "dpop"))))]
pub mod auth;
mod telemetry;

mod token;

mod client;

mod call;

mod builder;

#[cfg(feature = "middleware")]
#[cfg_attr(docsrs, doc(cfg(feature = "middleware")))]
pub mod middleware;

#[cfg(any(feature = "testing", feature = "testing-server"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "testing", feature = "testing-server"))))]
pub mod testing;

/// The names of the metrics the `metrics` feature emits, and the bucket boundaries
/// OpenTelemetry's HTTP conventions give their durations: for an exporter's configuration, a
/// dashboard's queries and a test's assertions.
///
/// ```
/// // Prometheus, through metrics-exporter-prometheus: histograms, not summaries, so that
/// // replicas add up.
/// # fn buckets(_: &str, _: &[f64]) {}
/// buckets("duration", &hh_runtime::metrics::DURATION_BUCKETS);
/// assert_eq!(hh_runtime::metrics::REQUEST_DURATION, "http.client.request.duration");
/// ```
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics {
    pub use crate::telemetry::metrics::{
        CALL_DURATION, DURATION_BUCKETS, REQUEST_DURATION, STORE_AVAILABLE, STORE_OPERATIONS,
        STORE_OUTCOMES, TOKEN_CACHE_HITS, TOKEN_CACHE_MISSES, TOKEN_REMAINING,
        TOKEN_REQUEST_DURATION, TOKEN_REQUESTS, TOKEN_WAIT_DURATION,
    };
}

pub use builder::ClientBuilder;
pub use bytes::Bytes;
pub use call::decode::Response;
pub use client::Client;
pub use config::defaults;
pub use error::{Error, ErrorKind, OAuthError, OAuthErrorCode, ProblemDetails, Result};
pub use http::{HeaderMap, HeaderValue, Method, StatusCode};
pub use retry::RetryPolicy;
pub use token::{AccessToken, ClientAuth};

/// Declares HealthHero endpoints as an annotated trait and generates a client for them.
///
/// ```no_run
/// use hh_runtime::{healthhero_api, Error};
/// # #[derive(serde::Deserialize)] pub struct RiskOutput {}
/// # #[derive(serde::Deserialize)] pub struct TraversalResponse {}
/// # #[derive(Clone, serde::Serialize)] pub struct RespondItem {}
///
/// #[healthhero_api]
/// pub trait Reports {
///     /// Doc comments are kept on the trait and on the generated client.
///     #[get("/api/v1/<client_id>/reports/<traversal_id>/risks")]
///     async fn risks(&self, traversal_id: &str,
///                    #[query] ages: &[u32],
///                    #[query("conclusions")] picked: Option<Vec<u32>>) -> Result<RiskOutput, Error>;
///
///     #[post("/api/v1/<client_id>/Traversals/<id>/respond")]
///     #[header("x-api-version", "v3")]
///     async fn respond(&self, id: u64, #[body] answers: &[RespondItem],
///                      #[header("x-correlation-id")] correlation: &str) -> Result<TraversalResponse, Error>;
/// }
///
/// # async fn run() -> hh_runtime::Result<()> {
/// let client = hh_runtime::Client::from_env()?;
/// let reports = ReportsClient::new(client);
/// let risks = reports.risks("abc", &[80, 90], None).await?;
/// # Ok(()) }
/// ```
///
/// Everything it generates, next to the trait (which it re-emits without our attributes):
///
/// - the struct `<Trait>Client` (or the name given with `client = "Name"`), with the trait's
///   visibility, deriving `Clone` and `Debug`;
/// - `<Trait>Client::new(hh_runtime::Client)` and `<Trait>Client::client(&self) ->
///   &hh_runtime::Client` (so no endpoint may be named `client`);
/// - `impl <Trait> for <Trait>Client`, one method per endpoint;
/// - an unnamed `const _` that reads `HH_MACROS_DEBUG` (see below);
/// - with the `testing` feature (for tests only: a dev-dependency's feature), `<Trait>Fake`,
///   a scripted implementation of the trait with one field per endpoint, and one
///   `<Trait><Method>Call` struct per endpoint holding a call's arguments, owned; see the
///   `testing` module. With
///   `#[healthhero_api(serve)]`, the fake also implements `testing::Serve`, so hh-sandbox can
///   answer HTTP requests with it.
///
/// The trait stays implementable by hand, so tests can fake it. Each endpoint becomes
/// `fn ..(&self, ..) -> impl Future<Output = ..> + Send`, so calls can be spawned on a
/// multi-threaded runtime. A default method without a verb is a helper of yours (say, one
/// built on two endpoints) and is kept as written.
///
/// # The language
///
/// - **Verbs**: `#[get]`, `#[post]`, `#[put]`, `#[patch]`, `#[delete]`, each with one path
///   template. `<name>` binds the argument `name` (anything `Display`), percent-encoded as
///   exactly one segment; `<client_id>` with no argument of that name is the client's id.
/// - **Arguments**: with no attribute, an argument fills the placeholder of its name.
///   `#[query]` / `#[query("wire_name")]` adds a query parameter (`None` is omitted; slices,
///   `Vec` and arrays repeat the key); `#[query(flatten)]` adds every field of a `Serialize`
///   struct (a list of lists is a compile error); `#[body]` sends JSON (an `Option` body sends
///   nothing for `None`), `#[body(bytes)]` sends bytes as they are (`AsRef<[u8]>`, as
///   `application/octet-stream`), `#[body(text)]` sends a value's text (`Display`, as
///   `text/plain; charset=utf-8`); a declared `content-type` header replaces either type;
///   `#[form]` sends `application/x-www-form-urlencoded`; `#[header("Name")]` sends the
///   argument as a header: anything `Display`, an [`HeaderValue`] as it is, or an `Option` of
///   either (`None` sends no header). `Authorization` cannot be declared: the runtime sends the
///   bearer token in it.
/// - **Static headers**: `#[header("Name", "value")]` on a method or on the trait.
/// - **Return types**: `Result<T, hh_runtime::Error>` or `hh_runtime::Result<T>`, where `T` is
///   any `DeserializeOwned` (decoded from JSON), `()` (body ignored), `String` (the body as
///   text), `bytes::Bytes` (raw), `hh_runtime::Response<T>` (with status and headers), or
///   `Option<T>` of any of these: absent is not an error, so a 404 with problem details (the
///   API's "no such resource"), a 204 and an empty or `null` body give `None` (recorded on
///   the call's span as `hh.absent = true`), and everything else is as for `T`. Any other
///   404 (no body, an HTML or text page, a gateway's own JSON) stays an error: that is a
///   server without the route (a wrong `api_url`, another deploy), which must not look like
///   "none". These meanings go by what a type is, not how it is spelt: the macro sees names,
///   so for a type written with `Option`, `Response`, `Bytes` or `String` the compiler checks,
///   level by level, which type it is, and your own type of one of those names (say, an
///   envelope your API wraps answers in, even inside hh's `Response<..>`) is decoded from
///   JSON like any other type. (A `#[header]` argument is taken for an `HeaderValue` by its
///   name.)
/// - **Per-call options**: `#[timeout("5s")]` on a method (or on the trait, for every method
///   without its own) replaces the client's per-attempt timeout (`ms`, `s`, `m`, `h`, or a sum
///   such as `"1m30s"`); `#[call_timeout("30s")]`, written the same way and in the same
///   places, replaces the client's [`ClientBuilder::call_timeout`], the limit on the whole
///   call (token wait, attempts and backoffs); `#[retry(false)]` sends a method once, even
///   where the client's [`RetryPolicy`] would resend it; `#[idempotent]` marks a POST or
///   PATCH as safe to send twice (the effect of two deliveries is that of one), so it is
///   retried like a GET. A POST without it is resent only when the attempt never connected.
///   HealthHero's `revisit` (which names the node to go back to) is idempotent; `respond` and
///   `previous` (which move relative to the current page) are not.
/// - **Options**: `#[healthhero_api(prefix = "/api/v1/<client_id>")]` puts a path prefix before
///   every method's path; `client = "Name"` names the generated struct; `dyn` selects the
///   dyn-compatible form (below); `serve` makes the trait's fake (feature `testing`) servable
///   over HTTP by hh-sandbox, which asks `FromStr` or `Deserialize` of the argument types and
///   `Serialize` of the return types (and nothing, without the feature); `fake = "Name"` names
///   the fake instead of `<Trait>Fake` (one of yours may have that name already), and `fake =
///   false` writes none for this trait even with the feature on (a test build shares features
///   with every crate in it: a trait whose arguments a fake cannot keep, such as a type that
///   is not `Clone`, opts out here); each option is given at most once;
///   `#[healthhero_api(crate = "my::hh")]` names the runtime when you re-export it under
///   another path.
///
/// - **Two forms**: by default an endpoint is `fn ..(&self, ..) -> impl Future<Output = R> +
///   Send`: no allocation and static dispatch, but the trait cannot be a `dyn` object (use it
///   as a generic, `fn run(api: &impl Traversals)`). With `#[healthhero_api(dyn)]` it is
///   `fn ..<'hh_call, 'life0, 'life1>(&'life0 self, id: &'life1 str) -> Pin<Box<dyn
///   Future<Output = R> + Send + 'hh_call>> where 'life0: 'hh_call, 'life1: 'hh_call`, as
///   async-trait writes it (each elided lifetime in the arguments gets a name of its own, in
///   order, so `&mut Vec<&str>` keeps its two independent lifetimes): one heap allocation and
///   one indirect call per request, and `Arc<dyn Traversals + Send + Sync>` works, so a
///   service can hold either the generated client or a fake. A hand-written implementation
///   of the `dyn` form copies that signature (any lifetime names) and returns
///   `Box::pin(async move { .. })`. Helpers in a `dyn` trait must be dyn-compatible too.
/// - **Other attributes**: on the trait, they stay on the trait (`#[cfg]` also removes the
///   generated client). On a method, `doc` and `cfg` go on the trait and the generated method,
///   lints, `deprecated` and `must_use` on the trait only, and attributes of other tools written
///   as paths (`#[tracing::instrument]`, `#[rustfmt::skip]`) on the generated method, which has
///   the body they need. On an argument, `cfg` and lints go on both.
///
/// Mistakes are reported all at once, each on the narrowest tokens with a message that names
/// the piece at fault; after a mistake the trait and its client are still emitted, so the code
/// that uses them adds no errors of its own. Type problems (a body that is not `Serialize`, a
/// return type that is not `DeserializeOwned`, a path value that is not `Display`) are rustc
/// errors on your type.
///
/// `HH_MACROS_DEBUG=1 cargo build` prints each expansion (formatted with the `prettyplease`
/// feature, else as one line of tokens for `rustfmt`; `0`, `false`, `off` or empty mean off); the expansion tracks the variable with `option_env!`, so changing it
/// recompiles the crate and the output is never stale. `cargo expand` works too.
pub use hh_macros::healthhero_api;

/// The items generated code refers to. Not a public API: it changes without notice.
#[doc(hidden)]
//
// Exactly what generated code names, and nothing else: tests and benchmarks use the public API
// (`Client::authorization` is the token's hit path) or these same items.
pub mod __private {
    pub use crate::call::build::{HeaderText, Request};
    pub use crate::call::decode::{
        Json, Optional, Pick, Raw, Text, Unit, WithResponse, optional, pick, with_response,
    };
    pub use http::{HeaderName, HeaderValue, Method};

    /// What a generated `<Trait>Fake` names (feature `testing`).
    #[cfg(any(feature = "testing", feature = "testing-server"))]
    pub use crate::testing::__private as fake;
}
