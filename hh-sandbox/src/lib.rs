//! A faithful local HealthHero platform, for examples, our tests and your tests.
//!
//! One in-process server on `127.0.0.1` and an ephemeral port serves:
//!
//! - **Identity** (IdentityServer-style): `POST /connect/token` with the client-credentials
//!   grant, client credentials in the form body (`client_secret_post`) or HTTP Basic
//!   (`client_secret_basic`); RFC 6749 section 5.2 errors; `/.well-known/openid-configuration`
//!   and its JWKS. Access tokens are RS256 JWTs with `iss`, `aud`, `client_id`, `scope`, `iat`,
//!   `nbf`, `exp` and `jti`, valid for an hour unless configured otherwise.
//! - **Client authentication without a secret**, checked as a real server checks it:
//!   `private_key_jwt` assertions against each client's registered public keys
//!   ([`SandboxBuilder::client_key`]: signature, `kid`, `iss` = `sub`, `aud`, `exp`, each `jti`
//!   once); DPoP proofs (RFC 9449: `typ`, the embedded public `jwk`, `htm`, `htu`, `iat` within
//!   60 s, `ath`, each `jti` once, the token's `cnf.jkt`, and nonces after
//!   [`Sandbox::rotate_dpop_nonce`]), binding tokens to the key; over TLS
//!   ([`SandboxBuilder::tls`]), client certificates (RFC 8705: `tls_client_auth` with one its
//!   CA issued, `self_signed_tls_client_auth` with one registered), binding tokens to the
//!   certificate. Faults for each: a client clock behind, nonces that churn.
//! - **The APIs** of HealthHero's documentation: Traversals, ChatTraversals, Members and HRA
//!   reports, under `/api/v1/{tenant}` and `/api/v2/{tenant}`, with real (small) clinical
//!   content: a symptom assessment (`SYMPTOMS`) and a health risk assessment (`HRA`).
//! - **Fault injection** per endpoint ([`Fault`]), token revocation, short token lifetimes, and
//!   request counters, from Rust and over HTTP under `/_sandbox/`.
//! - **Your own endpoints**, beside HealthHero's: [`Sandbox::serve`] answers the routes of a
//!   trait declared with `#[healthhero_api(serve)]` with its scripted `<Trait>Fake`
//!   (hh-runtime's `testing` feature), through the same identity server, faults and counters.
//! - **Trace context**: the W3C `traceparent` (and `tracestate`) each request carried, as a
//!   server continuing its callers' traces reads it ([`Sandbox::trace_contexts`]).
//!
//! The sandbox runs on the tokio runtime that starts it, and its clock follows tokio's: on the
//! paused clock (`#[tokio::test(start_paused = true)]`, `tokio::time::advance`) tokens are
//! issued and expire by the test's clock, to the second and with the configured clock skew.
//! [`in_own_process`] runs a test alone in a process of its own, for tests that assert what a
//! process-wide subscriber or recorder sees.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let sandbox = hh_sandbox::Sandbox::start().await?;
//! println!("identity and APIs at {}", sandbox.url());
//! println!("client {} / {}", sandbox.client_id(), sandbox.client_secret());
//! sandbox.inject("traversals.respond", hh_sandbox::Fault::FailTimes { times: 1, status: 503, retry_after: Some("1".into()) });
//! # Ok(()) }
//! ```
//!
//! # Where the documentation is silent
//!
//! The sandbox then does what an ASP.NET service behind IdentityServer does:
//!
//! - token errors are `400` with `{"error", "error_description"}`, except `invalid_client`
//!   after HTTP Basic, which is `401` with `WWW-Authenticate: Basic`; responses carry
//!   `Cache-Control: no-store`;
//! - bearer tokens are checked for signature, issuer, audience (`healthhero-api`), `nbf` and
//!   `exp` with ASP.NET's default clock skew of 5 minutes ([`SandboxBuilder::clock_skew`] to
//!   change it), revocation, and that the path's tenant is the token's `client_id`; a failure
//!   is `401` with `WWW-Authenticate: Bearer error="invalid_token"` (plain `Bearer` when no token
//!   was sent);
//! - an unknown route is `404` with a plain-text body that names the method and path and says
//!   where the routes are (ASP.NET answers an empty `404`, which leaves a caller guessing; not
//!   problem details, which the APIs send for a resource they do not have, so that an `Option`
//!   method called on a wrong route fails instead of reading `None`); a known route with the wrong method is `405` with `Allow`
//!   and no body; an unknown traversal or member is `404`, a malformed body `400` (the field at
//!   fault named in `detail` and, by its JSON path, in `errors`), a duplicate member `409`,
//!   each with problem details too; every problem details body carries a `traceId`;
//! - answer validation problems come back in a `200` as `errors` (strings) on the traversal and
//!   on the node, as documented; chat traversals return the documented `TraversalResponse` with
//!   one node holding one question;
//! - `x-api-version: v3` shows `Textarea` answers, which v2 clients see as `Text`;
//! - creating a traversal for an unknown member is `400`; a member's permanent answers are
//!   injected as `PreAnswer` into their later traversals;
//! - HRA reports need a completed HRA traversal (`400` otherwise); the risk model is
//!   illustrative, not clinical.

mod alone;
mod api;
mod builder;
mod client_auth;
mod content;
mod engine;
mod faults;
mod hra;
mod identity;
mod resource;
mod served;
mod tls;
mod trace;
mod wire;

pub use builder::SandboxBuilder;

pub use alone::{in_own_process, in_own_process_within};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use dashmap::DashMap;
use tokio::sync::watch;

pub use faults::{ENDPOINTS, Fault, MalformedToken};
pub use trace::TraceContext;

use content::Content;
use engine::Traversal;
use identity::{Keys, Registration};
use wire::{Member, PermanentHistoryItem};

/// The scopes clients get when they ask for none.
pub const DEFAULT_SCOPES: [&str; 2] = ["traversal.api", "hra.api"];

/// Shared by every request: content, keys, stores and controls. The stores are concurrent
/// maps with one lock per traversal, so requests never queue behind a global lock.
pub(crate) struct State {
    content: Content,
    keys: Keys,
    issuer: OnceLock<String>,
    clients: RwLock<HashMap<String, Registration>>,
    token_lifetime: AtomicU64,
    clock_skew: AtomicU64,
    clock: Clock,
    next_jti: AtomicU64,
    min_valid_jti: AtomicU64,
    traversals: DashMap<String, Arc<Mutex<Traversal>>>,
    /// Every access token issued, for tests that check none of them leaks.
    issued: Mutex<Vec<String>>,
    /// API requests whose bearer token the identity server never issued (planted or forged).
    unissued: AtomicU64,
    /// (tenant, member reference) -> member and permanent history.
    members: DashMap<(String, String), (Member, Vec<PermanentHistoryItem>)>,
    faults: faults::Faults,
    counters: faults::Counters,
    /// Fakes of users' traits, served beside HealthHero's endpoints.
    served: served::Served,
    /// Registered client keys, `jti`s seen, DPoP nonces.
    key_auth: client_auth::KeyAuth,
    /// With TLS: the CA, the server's configuration, the clients' certificates.
    pki: Option<tls::Pki>,
    /// The W3C trace context requests carried, latest last (bounded).
    trace_contexts: trace::TraceContexts,
    shutdown: watch::Sender<bool>,
}

/// The sandbox's notion of the time of day: the system clock when the sandbox started, moved on
/// by tokio's clock since. In real time the two agree; in a test on tokio's paused clock
/// (`#[tokio::test(start_paused = true)]`, `tokio::time::advance`) tokens expire on the
/// test's clock, so the test sees what a client that keeps a token too long would see.
struct Clock {
    /// Seconds since the Unix epoch at start, as the system clock read them.
    unix_at_start: std::time::Duration,
    started: tokio::time::Instant,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            unix_at_start: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default(),
            started: tokio::time::Instant::now(),
        }
    }

    /// Seconds since the Unix epoch, now.
    fn now_secs(&self) -> u64 {
        (self.unix_at_start + self.started.elapsed()).as_secs()
    }
}

impl State {
    /// Counts a bearer token presented to an API that was never issued here.
    fn check_issued(&self, token: &str) {
        let issued = self
            .issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .any(|t| t == token);
        if !issued {
            self.unissued.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn issuer(&self) -> String {
        self.issuer.get().cloned().unwrap_or_default()
    }

    /// Registers `id` (with every scope, no secret) if it is not registered yet: a client
    /// that authenticates with a key or a certificate alone.
    fn ensure_client(&self, id: &str) {
        self.clients
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id.to_owned())
            .or_insert_with(|| Registration {
                secret: None,
                scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            });
    }

    fn client(&self, id: &str) -> Option<Registration> {
        self.clients
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    fn traversal(&self, id: &str) -> Option<Arc<Mutex<Traversal>>> {
        self.traversals.get(id).map(|e| Arc::clone(e.value()))
    }

    fn member_key(tenant: &str, reference: &str) -> (String, String) {
        (tenant.to_ascii_lowercase(), reference.to_owned())
    }

    fn create_member(&self, tenant: &str, reference: &str) -> Option<Member> {
        use dashmap::mapref::entry::Entry;
        match self.members.entry(Self::member_key(tenant, reference)) {
            Entry::Occupied(_) => None,
            Entry::Vacant(v) => {
                let member = Member {
                    client_id: tenant.to_owned(),
                    member_reference: reference.to_owned(),
                    member_id: uuid::Uuid::new_v4().to_string(),
                    traversal_ids: Vec::new(),
                };
                v.insert((member.clone(), Vec::new()));
                Some(member)
            }
        }
    }

    fn member(&self, tenant: &str, reference: &str) -> Option<Member> {
        self.members
            .get(&Self::member_key(tenant, reference))
            .map(|m| m.0.clone())
    }

    fn permanent_history(
        &self,
        tenant: &str,
        reference: &str,
    ) -> Option<Vec<PermanentHistoryItem>> {
        self.members
            .get(&Self::member_key(tenant, reference))
            .map(|m| m.1.clone())
    }

    fn add_member_traversal(&self, tenant: &str, reference: &str, traversal: &str) {
        if let Some(mut m) = self.members.get_mut(&Self::member_key(tenant, reference)) {
            m.0.traversal_ids.push(traversal.to_owned());
        }
    }

    fn record_permanent(
        &self,
        tenant: &str,
        reference: &str,
        traversal: &str,
        answers: Vec<engine::PermanentAnswer>,
    ) {
        if answers.is_empty() {
            return;
        }
        if let Some(mut m) = self.members.get_mut(&Self::member_key(tenant, reference)) {
            let history = &mut m.1;
            for a in answers {
                // The newest answer to a question replaces the older one.
                history.retain(|h| h.asset_id != a.question_id);
                history.push(PermanentHistoryItem {
                    asset_id: a.question_id,
                    answer_id: Some(a.answer_id),
                    value: a.value,
                    traversal_id: traversal.to_owned(),
                    created_date: engine::now_rfc3339(),
                });
            }
        }
    }

    /// The member's other completed HRA traversals, oldest first.
    fn member_hra_traversals(
        &self,
        t: &Traversal,
        except: Option<&str>,
    ) -> Vec<Arc<Mutex<Traversal>>> {
        let Some(reference) = &t.member else {
            return Vec::new();
        };
        let Some(member) = self.member(&t.tenant, reference) else {
            return Vec::new();
        };
        member
            .traversal_ids
            .iter()
            .filter(|id| Some(id.as_str()) != except)
            .filter_map(|id| self.traversal(id))
            .filter(|o| {
                o.lock()
                    .is_ok_and(|o| o.assessment_type == 2 && o.is_complete())
            })
            .collect()
    }

    /// Every token issued so far stops being accepted.
    fn revoke_all(&self) {
        self.min_valid_jti
            .store(self.next_jti.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Tokens issued from now on live this long (at least a second).
    fn set_token_lifetime(&self, seconds: u64) {
        self.token_lifetime.store(seconds.max(1), Ordering::Relaxed);
    }

    async fn wait_for_shutdown(&self) {
        let mut rx = self.shutdown.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// `/_sandbox/...`: the controls over HTTP.
fn admin(state: &State, method: &Method, rest: &[String], body: &[u8]) -> Response {
    let json = |v: serde_json::Value| axum::Json(v).into_response();
    match (
        method.as_str(),
        rest.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
    ) {
        ("GET", [] | ["counters"]) => json(state.counters.all()),
        ("POST", ["faults"]) => match api::parse_fault(body).and_then(|(endpoint, fault)| {
            faults::check_pattern(&endpoint, &state.served.names()).map(|()| (endpoint, fault))
        }) {
            Ok((endpoint, fault)) => {
                state.faults.add(&endpoint, fault);
                StatusCode::NO_CONTENT.into_response()
            }
            Err(e) => api::problem(StatusCode::BAD_REQUEST, "Invalid fault", Some(e), None),
        },
        ("DELETE", ["faults"]) => {
            state.faults.clear();
            StatusCode::NO_CONTENT.into_response()
        }
        ("POST", ["revoke"]) => {
            state.revoke_all();
            StatusCode::NO_CONTENT.into_response()
        }
        ("PUT", ["token-lifetime"]) => {
            let seconds = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["seconds"].as_u64())
                .filter(|s| *s > 0);
            match seconds {
                Some(s) => {
                    state.set_token_lifetime(s);
                    StatusCode::NO_CONTENT.into_response()
                }
                None => api::problem(
                    StatusCode::BAD_REQUEST,
                    "Invalid lifetime",
                    Some("expected {\"seconds\": n} with n > 0".into()),
                    None,
                ),
            }
        }
        _ => api::unknown_route(method, &format!("/_sandbox/{}", rest.join("/"))),
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    state: Arc<State>,
    addr: SocketAddr,
    client_id: String,
    client_secret: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("url", &self.url())
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

impl Sandbox {
    /// Starts a sandbox with the defaults on an ephemeral port.
    pub async fn start() -> std::io::Result<Sandbox> {
        SandboxBuilder::default().start().await
    }

    /// Configures a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// `http://127.0.0.1:{port}` (`https://` with [`SandboxBuilder::tls`]): identity,
    /// Traversal, Members and HRA all live here.
    pub fn url(&self) -> String {
        self.state.issuer()
    }

    /// The identity server's base URL (tokens at `{identity_url}/connect/token`).
    pub fn identity_url(&self) -> String {
        self.url()
    }

    /// The Traversal and Members API base URL.
    pub fn api_url(&self) -> String {
        self.url()
    }

    /// The HRA API base URL.
    pub fn hra_url(&self) -> String {
        self.url()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The default client's id (also its tenant id in API paths).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The default client's secret.
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// Adds a fault to an endpoint: a name from [`ENDPOINTS`] or of a served fake
    /// (`Trait.method`, see [`serve`](Self::serve)), a group (`traversals`, `chattraversals`,
    /// `members`, `reports`, or a served trait's name), `api` for every API endpoint, or `*`.
    ///
    /// # Panics
    ///
    /// On a name the sandbox does not serve (a typo such as `tokn`), with the list of valid
    /// names: a fault that can never fire would make the test using it pass for nothing.
    pub fn inject(&self, endpoint: &str, fault: Fault) {
        if let Err(e) = faults::check_pattern(endpoint, &self.state.served.names()) {
            panic!("Sandbox::inject: {e}");
        }
        self.state.faults.add(endpoint, fault);
    }

    /// Serves `fake` (a `<Trait>Fake` of a trait declared with `#[healthhero_api(serve)]`)
    /// beside HealthHero's endpoints, at the routes its trait declares, under
    /// [`api_url`](Self::api_url). Its endpoints are named `Trait.method` for [`inject`](Self::inject)
    /// (`Trait` for all of them) and [`requests`](Self::requests); a request for one is
    /// counted, subject to faults, and needs a valid token (of the client named by a
    /// `<client_id>` in its path, if there is one), as HealthHero's endpoints do. A fake whose
    /// routes overlap HealthHero's answers first.
    ///
    /// The sandbox keeps a copy of the fake sharing its script (`Serve::detached`), which does
    /// not count for the fake's check on drop: that runs when the test drops its own fake, in
    /// the test (so the test keeps it, to script it and to be checked). Between two served
    /// fakes whose routes both match a request, the first served answers. A served path asked
    /// for with a method none of its routes has (and no HealthHero endpoint has the path) is
    /// `405` with `Allow`, as HealthHero's are.
    pub fn serve(&self, fake: &dyn hh_runtime::testing::Serve) {
        self.state.served.add(Arc::from(fake.detached()));
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Revokes every token issued so far: the next call with one of them gets 401.
    pub fn revoke_all_tokens(&self) {
        self.state.revoke_all();
    }

    /// Sets the lifetime of tokens issued from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.state.set_token_lifetime(lifetime.as_secs());
    }

    /// Every access token issued so far, oldest first (for checking that none leaks into logs).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state
            .issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// API requests so far that carried a bearer token this identity server never issued
    /// (forged, planted or corrupted): a client should never send one.
    pub fn unissued_tokens(&self) -> u64 {
        self.state.unissued.load(Ordering::Relaxed)
    }

    /// The W3C trace context of every request that carried one (`traceparent`), oldest first
    /// (the latest 4096): what a server continuing its callers' traces would see.
    pub fn trace_contexts(&self) -> Vec<TraceContext> {
        self.state.trace_contexts.all()
    }

    /// Requests to `POST /connect/token` so far.
    pub fn token_requests(&self) -> u64 {
        self.state.counters.get("token")
    }

    /// Requests to every API endpoint so far.
    pub fn api_requests(&self) -> u64 {
        self.state.counters.api_total()
    }

    /// Requests to one endpoint so far (names as in [`ENDPOINTS`]).
    pub fn requests(&self, endpoint: &str) -> u64 {
        self.state.counters.get(endpoint)
    }

    /// Stops serving and waits for the server to finish.
    pub async fn shutdown(mut self) {
        let _ = self.state.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.state.shutdown.send(true);
    }
}
