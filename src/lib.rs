//! Typed, async clients for HealthHero's health APIs: the symptom-assessment Traversal API
//! (paged and chat), Members, Health Risk Assessment reports and the Algos search service.
//!
//! Every endpoint is declared once with hh's `#[healthhero_api]` (see [`api`]); the models of
//! [`models`] accept what the real service sends. [`HealthHero`] bundles one client per service,
//! sharing one token cache:
//!
//! ```no_run
//! use healthhero::{HealthHero, Traversals as _, models::TraversalCreate};
//!
//! # async fn run() -> healthhero::Result<()> {
//! // HH_IDENTITY_URL, HH_API_URL, HH_CLIENT_ID, HH_CLIENT_SECRET
//! // (optional: HH_HRA_URL, HH_ALGOS_URL, HH_API_VERSION, HH_TOKEN_URL, HH_SCOPE)
//! let hh = HealthHero::from_env()?;
//! let page = hh.traversals().create(&TraversalCreate::new("SYMPTOMS")).await?;
//! for question in page.questions() {
//!     println!("{}", question.display_text.as_deref().unwrap_or_default());
//! }
//! # Ok(()) }
//! ```
//!
//! `cargo run --example triage` runs a whole symptom assessment, against a local
//! `hh-sandbox` or against HealthHero when the `HH_*` variables are set.

pub mod api;
pub mod models;

pub use api::{
    Algos, AlgosClient, ChatTraversals, ChatTraversalsClient, Members, MembersClient, Reports,
    ReportsClient, Traversals, TraversalsClient,
};
/// Scripted stand-ins for each API, for tests of code that uses them (feature `testing`; see
/// `hh_runtime::testing`).
#[cfg(feature = "testing")]
pub use api::{AlgosFake, ChatTraversalsFake, MembersFake, ReportsFake, TraversalsFake};
/// What the `metrics` feature emits, by name, and the buckets for its durations.
#[cfg(feature = "metrics")]
pub use hh_runtime::metrics;
/// What the `middleware` feature adds: hh's token lifecycle for a reqwest client of yours.
#[cfg(feature = "middleware")]
pub use hh_runtime::middleware;
/// What the `token-store` (and `redis`) feature adds: a token cache shared by a fleet.
#[cfg(feature = "token-store")]
pub use hh_runtime::store;
pub use hh_runtime::{
    AccessToken, Client, ClientAuth, ClientBuilder, Error, ErrorKind, OAuthError, OAuthErrorCode,
    ProblemDetails, Response, Result, RetryPolicy, defaults,
};

/// One client per HealthHero service, all sharing one connection pool and token cache.
///
/// HRA reports and the Algos service live on hosts of their own; by default every service uses
/// the client's API URL, which is right for hh-sandbox.
#[derive(Debug, Clone)]
pub struct HealthHero {
    traversals: TraversalsClient,
    chat: ChatTraversalsClient,
    members: MembersClient,
    reports: ReportsClient,
    algos: AlgosClient,
}

impl HealthHero {
    /// Every service on `client`'s API URL.
    pub fn new(client: Client) -> Self {
        Self {
            traversals: TraversalsClient::new(client.clone()),
            chat: ChatTraversalsClient::new(client.clone()),
            members: MembersClient::new(client.clone()),
            reports: ReportsClient::new(client.clone()),
            algos: AlgosClient::new(client),
        }
    }

    /// From the environment: the variables of [`Client::from_env`], and optionally
    /// `HH_HRA_URL` and `HH_ALGOS_URL` (the services' own hosts) and `HH_API_VERSION`
    /// (sent as `x-api-version`, e.g. `v3` for `Textarea` answers).
    pub fn from_env() -> Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut builder = ClientBuilder::from_env()?;
        if let Some(version) = var("HH_API_VERSION") {
            builder = builder.default_header("x-api-version", &version);
        }
        let mut hh = Self::new(builder.build()?);
        if let Some(url) = var("HH_HRA_URL") {
            hh = hh.with_hra_url(&url)?;
        }
        if let Some(url) = var("HH_ALGOS_URL") {
            hh = hh.with_algos_url(&url)?;
        }
        Ok(hh)
    }

    /// HRA reports from their own host.
    pub fn with_hra_url(mut self, url: &str) -> Result<Self> {
        self.reports = ReportsClient::new(self.reports.client().with_api_url(url)?);
        Ok(self)
    }

    /// The Algos service from its own host.
    pub fn with_algos_url(mut self, url: &str) -> Result<Self> {
        self.algos = AlgosClient::new(self.algos.client().with_api_url(url)?);
        Ok(self)
    }

    /// Paged traversals.
    pub fn traversals(&self) -> &TraversalsClient {
        &self.traversals
    }

    /// Chat traversals.
    pub fn chat(&self) -> &ChatTraversalsClient {
        &self.chat
    }

    /// Members.
    pub fn members(&self) -> &MembersClient {
        &self.members
    }

    /// HRA reports.
    pub fn reports(&self) -> &ReportsClient {
        &self.reports
    }

    /// Algos search.
    pub fn algos(&self) -> &AlgosClient {
        &self.algos
    }

    /// The underlying runtime client (Traversal API host).
    pub fn client(&self) -> &Client {
        self.traversals.client()
    }
}
