//! [`ClientBuilder`] and the checks a configuration must pass.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{ACCEPT, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::SecretString;
use url::Url;

use crate::client::{ApiBase, Client, ClientInner, Http};
use crate::config::{base_without_slash, check_url, defaults, https_without_tls};
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
#[cfg(feature = "token-store")]
use crate::token::Fleet;
use crate::token::{ClientAuth, TokenConfig, TokenSource};
use check::CheckedToken;
#[cfg(feature = "token-store")]
use store::StoreOptions;

/// Configures a [`Client`].
///
/// Required: the identity URL (or the token URL), the API URL, the client id and the secret.
/// `build` checks everything at once and reports every problem in one error.
///
/// ```
/// use std::time::Duration;
/// let client = hh_runtime::Client::builder()
///     .identity_url("https://identity.example")
///     .api_url("https://traversal.example")
///     .client_id("my-client")
///     .client_secret("s3cret")
///     .scope("traversal.api")
///     .client_auth(hh_runtime::ClientAuth::Basic)
///     .request_timeout(Duration::from_secs(20))
///     .retry(hh_runtime::RetryPolicy::default().max_attempts(4))
///     .default_header("x-api-version", "v3")
///     .build()?;
/// assert_eq!(client.client_id(), "my-client");
/// # Ok::<(), hh_runtime::Error>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    identity_url: Option<String>,
    token_url: Option<String>,
    api_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    scopes: Vec<String>,
    auth: ClientAuth,
    connect_timeout: Duration,
    request_timeout: Option<Duration>,
    call_timeout: Option<Duration>,
    token_timeout: Duration,
    retry: RetryPolicy,
    headers: HeaderMap,
    problems: Vec<String>,
    user_agent: Option<String>,
    /// What sends API requests, when you bring it (`http_client`, or `middleware`).
    pub(crate) http: Option<Http>,
    token_http_client: Option<reqwest::Client>,
    refresh_ahead: Duration,
    min_remaining: Duration,
    replay_on_401: bool,
    max_response_bytes: usize,
    trace_full_url: bool,
    /// Where W3C trace context goes (feature `opentelemetry`).
    pub(crate) propagate: Propagate,
    /// A store shared with the fleet (see the `store` module, which adds its setters).
    #[cfg(feature = "token-store")]
    pub(crate) store: StoreOptions,
    /// Keys for private_key_jwt and DPoP (see the `auth` module, which adds their setters).
    auth_options: auth::AuthOptions,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Builds a client from the environment: `HH_IDENTITY_URL`, `HH_API_URL`, `HH_CLIENT_ID`
    /// and `HH_CLIENT_SECRET`, and optionally `HH_TOKEN_URL`, `HH_SCOPE` (space-separated) and,
    /// with the `redis` feature, `HH_REDIS_URL` (see
    /// [`ClientBuilder::redis_url`](crate::ClientBuilder)).
    ///
    /// With the `private-key-jwt` feature, `HH_CLIENT_KEY` (PEM or JWK text) or
    /// `HH_CLIENT_KEY_FILE` (a path) stands in for the secret, with `HH_CLIENT_KEY_ID`,
    /// `HH_CLIENT_KEY_ALG` (`PS256` for an RSA key), `HH_PREVIOUS_CLIENT_KEY[_FILE]` (and its
    /// `_ID` and `_ALG`) during a rotation and `HH_ASSERTION_AUDIENCE`; with `dpop`,
    /// `HH_DPOP_KEY[_FILE]`, or `HH_DPOP=true` for a key made now. `HH_CLIENT_CERT_FILE`
    /// (`HH_CLIENT_CERT_KEY_FILE` unless the key is in it), `HH_CLIENT_AUTH`
    /// (`tls_client_auth`, ...) and `HH_ROOT_CERT_FILE` present a TLS client certificate; and
    /// `HH_SEALING_KEY` (base64 of 32 bytes) seals a shared store's entries, which a fleet
    /// without a secret needs.
    ///
    /// Every missing variable is named in the one error returned.
    /// To adjust the configuration before building, start from [`ClientBuilder::from_env`].
    pub fn from_env() -> Result<Self> {
        ClientBuilder::from_env()?.build()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            identity_url: None,
            token_url: None,
            api_url: None,
            client_id: None,
            client_secret: None,
            scopes: Vec::new(),
            auth: ClientAuth::default(),
            connect_timeout: defaults::CONNECT_TIMEOUT,
            request_timeout: Some(defaults::REQUEST_TIMEOUT),
            call_timeout: None,
            token_timeout: defaults::TOKEN_TIMEOUT,
            retry: RetryPolicy::default(),
            headers: HeaderMap::new(),
            problems: Vec::new(),
            user_agent: None,
            http: None,
            token_http_client: None,
            refresh_ahead: defaults::REFRESH_AHEAD,
            min_remaining: defaults::MIN_TOKEN_REMAINING,
            replay_on_401: true,
            max_response_bytes: defaults::MAX_RESPONSE_BYTES,
            trace_full_url: false,
            propagate: Propagate {
                api: true,
                identity: false,
            },
            #[cfg(feature = "token-store")]
            store: StoreOptions::default(),
            auth_options: auth::AuthOptions::default(),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ClientBuilder");
        d.field("identity_url", &self.identity_url)
            .field("token_url", &self.token_url)
            .field("api_url", &self.api_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("scopes", &self.scopes)
            .field("client_auth", &self.auth)
            .field("auth_options", &self.auth_options);
        #[cfg(feature = "token-store")]
        d.field("store", &self.store);
        d.finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder filled from the environment (the variables [`Client::from_env`] reads), to
    /// adjust before [`build`](Self::build). Every missing variable is named in the one error
    /// returned.
    ///
    /// ```no_run
    /// let client = hh_runtime::ClientBuilder::from_env()?
    ///     .default_header("x-api-version", "v3")
    ///     .build()?;
    /// # Ok::<(), hh_runtime::Error>(())
    /// ```
    pub fn from_env() -> Result<Self> {
        Self::default().env_with(|name| std::env::var(name).ok())
    }

    /// The identity server's base URL; tokens come from `{identity_url}/connect/token`
    /// unless [`token_url`](Self::token_url) says otherwise.
    pub fn identity_url(mut self, url: impl Into<String>) -> Self {
        self.identity_url = Some(url.into());
        self
    }

    /// The token endpoint's full URL, when it is not `{identity_url}/connect/token`.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The API's base URL; paths of generated methods are appended to it.
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// The OAuth client id HealthHero issued.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The OAuth client secret. It is kept as a `secrecy` secret, zeroed on drop and never
    /// printed.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// Adds scopes to request; a string with spaces adds each word.
    pub fn scope(mut self, scope: &str) -> Self {
        self.scopes
            .extend(scope.split_ascii_whitespace().map(str::to_owned));
        self
    }

    /// Adds every scope of `scopes`.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for s in scopes {
            self = self.scope(s.as_ref());
        }
        self
    }

    /// How the client authenticates to the token endpoint (default [`ClientAuth::Post`]).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Time to establish a connection (default 5 s). Ignored with [`http_client`](Self::http_client).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time one API attempt may take, sending to last byte (default 30 s); retries get their own.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Lets API attempts run without a per-request timeout.
    pub fn no_request_timeout(mut self) -> Self {
        self.request_timeout = None;
        self
    }

    /// A limit on each call as a whole: the wait for a token, every attempt and every backoff
    /// between them (off by default, as each of those has its own bound). When it fires, the
    /// call fails with [`ErrorKind::Deadline`](crate::ErrorKind::Deadline), whose message
    /// names the limit, how long the call ran and what it was waiting for. A token fetch the
    /// call was waiting for goes on for the other callers. `#[call_timeout("30s")]` on a
    /// method (or on its trait) gives that method its own limit instead.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// Time one token fetch may take, end to end (default 10 s): with a shared token store,
    /// its first connection and any wait for another process's fetch count too (a store
    /// operation under way when it ends is let finish, within its own bound, so that no lease
    /// is left taken). The fetch is shared by every caller waiting for a token and is never
    /// cut short by any one of them.
    pub fn token_timeout(mut self, timeout: Duration) -> Self {
        self.token_timeout = timeout;
        self
    }

    /// Which API calls are retried (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// A header sent with every API call, such as `x-api-version: v3`. A name given twice is
    /// sent with both values; one of the defaults (`accept: application/json`) is replaced;
    /// a header declared on an endpoint replaces a default of its name. An invalid name or
    /// value is reported by `build`.
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            (Err(_), _) => self
                .problems
                .push(format!("`{name}` is not a valid HTTP header name")),
            (_, Err(_)) => self.problems.push(format!(
                "the value of default header `{name}` contains characters not allowed in HTTP headers"
            )),
        }
        self
    }

    /// The `User-Agent` of API and token calls (default `hh-runtime/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// Uses your own `reqwest::Client` for API calls (proxies, TLS roots, connection limits).
    /// Its own timeouts and redirect policy then apply; `request_timeout` still does.
    ///
    /// Token calls keep using a client built here, which never follows redirects, unless you
    /// also call [`token_http_client`](Self::token_http_client).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(Http::Plain(client));
        self
    }

    /// Uses your own `reqwest::Client` for token calls. Build it with
    /// `redirect(reqwest::redirect::Policy::none())`: a redirect followed with the client secret
    /// in the body sends the secret to wherever the redirect points.
    pub fn token_http_client(mut self, client: reqwest::Client) -> Self {
        self.token_http_client = Some(client);
        self
    }

    /// How early, at most, a token is refreshed in the background before it expires (default
    /// 5 min; never more than half the token's lifetime). Callers keep using the current token
    /// meanwhile.
    pub fn refresh_ahead(mut self, ahead: Duration) -> Self {
        self.refresh_ahead = ahead;
        self
    }

    /// The least remaining life a token is used with (default 30 s; never more than a quarter
    /// of the token's lifetime). A token closer to expiry is replaced before the call is sent.
    pub fn min_token_remaining(mut self, remaining: Duration) -> Self {
        self.min_remaining = remaining;
        self
    }

    /// Whether a call answered with 401 gets a fresh token and is replayed once (default true).
    /// Turn it off for APIs whose handlers change state before checking authorization.
    pub fn replay_on_401(mut self, replay: bool) -> Self {
        self.replay_on_401 = replay;
        self
    }

    /// Whether attempt spans record `url.full`, the URL with its path and query values
    /// (default false, a deliberate departure from OpenTelemetry's conventions, which require
    /// it). Those values are often a patient's or a member's identifiers, so by default a span
    /// carries only `url.template`, the declared route (`/Traversals/{traversal_id}`). Turn it
    /// on only where traces may hold them; `url.full` is then redacted as the conventions say
    /// (credentials, and the values of `sig`, `Signature`, `AWSAccessKeyId`,
    /// `X-Goog-Signature` and of OAuth and API-key parameters such as `access_token`, `code`
    /// and `api_key`, become `REDACTED`).
    pub fn trace_full_url(mut self, record: bool) -> Self {
        self.trace_full_url = record;
        self
    }

    /// Whether each API attempt carries W3C trace context (`traceparent`, `tracestate`) from
    /// its span, through the propagator installed with
    /// `opentelemetry::global::set_text_map_propagator` (default true). Turn it off for an
    /// API that must not learn your trace ids.
    #[cfg(feature = "opentelemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
    pub fn propagate_trace_context(mut self, propagate: bool) -> Self {
        self.propagate.api = propagate;
        self
    }

    /// Whether token requests to the identity server carry W3C trace context too (default
    /// false: a token request serves every call waiting for it, and identity servers are often
    /// another organisation's). The context is that of the token request's own span.
    #[cfg(feature = "opentelemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
    pub fn propagate_trace_context_to_identity(mut self, propagate: bool) -> Self {
        self.propagate.identity = propagate;
        self
    }

    /// The largest successful response body accepted (default 64 MiB).
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Fills the builder from environment-like variables (see [`Client::from_env`]).
    pub(crate) fn env_with(self, var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut b = self;
        // A client key stands in for the secret.
        let has_key = b.auth_env(&var);
        let mut missing = Vec::new();
        let mut required = |name: &'static str| {
            let value = var(name).filter(|v| !v.trim().is_empty());
            if value.is_none() {
                missing.push(name);
            }
            value
        };
        let identity = required("HH_IDENTITY_URL");
        let api = required("HH_API_URL");
        let id = required("HH_CLIENT_ID");
        let secret = if has_key {
            var("HH_CLIENT_SECRET").filter(|v| !v.trim().is_empty())
        } else {
            required("HH_CLIENT_SECRET")
        };
        let token_url = var("HH_TOKEN_URL").filter(|v| !v.trim().is_empty());
        if token_url.is_some() {
            missing.retain(|m| *m != "HH_IDENTITY_URL");
        }
        if !missing.is_empty() {
            // With what else the environment got wrong (a key that does not load, say).
            let mut problems = vec![format!(
                "environment variable{} {} not set",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", ")
            )];
            problems.append(&mut b.problems);
            return Err(Error::config(problems.join("; ")));
        }
        if let Some(v) = identity {
            b = b.identity_url(v);
        }
        if let Some(v) = token_url {
            b = b.token_url(v);
        }
        if let Some(v) = api {
            b = b.api_url(v);
        }
        if let Some(v) = id {
            b = b.client_id(v);
        }
        if let Some(v) = secret {
            b = b.client_secret(v);
        }
        if let Some(scope) = var("HH_SCOPE") {
            b = b.scope(&scope);
        }
        // The store's sealing key, which a fleet without a client secret needs.
        if let Some(key) = var("HH_SEALING_KEY").filter(|v| !v.trim().is_empty()) {
            #[cfg(feature = "token-store")]
            match crate::store::SealingKey::from_base64(&key) {
                Ok(key) => b = b.sealing_key(key),
                Err(e) => b
                    .problems
                    .push(format!("HH_SEALING_KEY: {}", e.config_problem())),
            }
            #[cfg(not(feature = "token-store"))]
            {
                let _ = key;
                b.problems.push(
                    "HH_SEALING_KEY is set, but hh-runtime was built without a shared token \
                     store (features `redis` or `token-store`)"
                        .into(),
                );
            }
        }
        if let Some(url) = var("HH_REDIS_URL").filter(|v| !v.trim().is_empty()) {
            #[cfg(feature = "redis")]
            {
                b = b.redis_url(url);
                b.store.redis_url_setting = "HH_REDIS_URL";
            }
            // A setting that cannot be honoured is an error, not a fleet that quietly
            // fetches a token per process.
            #[cfg(not(feature = "redis"))]
            {
                let _ = url;
                b.problems.push(
                    "HH_REDIS_URL is set, but hh-runtime was built without its `redis` feature: \
                     enable `redis` (a feature of hh-runtime and of healthhero), or unset \
                     HH_REDIS_URL"
                        .into(),
                );
            }
        }
        Ok(b)
    }

    /// Checks the configuration and builds the client. Every problem found is listed in the one
    /// error returned.
    pub fn build(mut self) -> Result<Client> {
        let checked = self.check()?;
        // reqwest sends the user agent of a client we build; a client you bring keeps its own
        // unless you set one here.
        let own_user_agent = self.http.is_some() && self.user_agent.is_some();
        let own_http = self.http.is_some();
        let (http, token_http) = self.http_clients(&checked.user_agent)?;
        let mut default_headers = HeaderMap::new();
        default_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if own_user_agent {
            default_headers.insert(USER_AGENT, checked.user_agent.clone());
        }
        // The user's headers replace ours of the same name (`accept`, say), and a name they
        // gave twice is sent with both values, as `HeaderMap::append` and reqwest do.
        for name in self.headers.keys() {
            default_headers.remove(name);
        }
        for (name, value) in &self.headers {
            default_headers.append(name, value.clone());
        }
        let client_id_segment = crate::call::build::encoded_segment(&checked.token.cfg.client_id);
        let tokens = self.token_source(checked.token, token_http);
        Ok(Client {
            inner: Arc::new(ClientInner {
                api: ApiBase::new(checked.api_url),
                client_id_segment,
                trace_full_url: self.trace_full_url,
                propagate_trace_context: self.propagate.api,
                own_http,
                http,
                tokens,
                retry: self.retry,
                request_timeout: self.request_timeout,
                call_timeout: self.call_timeout,
                default_headers,
                replay_on_401: self.replay_on_401,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }

    /// What sends API requests and what sends token requests: the ones you brought, or ours
    /// (no redirects, the connect timeout, the user agent; the token client's connect timeout
    /// within the token timeout).
    fn http_clients(&mut self, user_agent: &HeaderValue) -> Result<(Http, reqwest::Client)> {
        let (http, token_http) = (self.http.take(), self.token_http_client.take());
        // (A client certificate and extra roots too: the same identity on both.)
        let ours = |connect_timeout: Duration| {
            let builder = reqwest::Client::builder()
                .connect_timeout(connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(user_agent.clone());
            self.tls_identity(builder)?
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))
        };
        let http = match http {
            Some(http) => http,
            None => Http::Plain(ours(self.connect_timeout)?),
        };
        let token_http = match token_http {
            Some(c) => c,
            None => ours(self.connect_timeout.min(self.token_timeout))?,
        };
        Ok((http, token_http))
    }

    /// The token cache, shared with the fleet when a store is configured.
    fn token_source(&self, checked: CheckedToken, token_http: reqwest::Client) -> TokenSource {
        #[cfg(feature = "token-store")]
        if let Some((store, bounds)) = checked.store {
            let fleet = Fleet::new(
                store,
                &checked.cfg,
                self.store.key.as_ref(),
                self.store.previous_key.as_ref(),
                bounds,
            );
            return TokenSource::with_fleet(checked.cfg, token_http, fleet);
        }
        TokenSource::new(checked.cfg, token_http)
    }
}

mod auth;
mod check;
#[cfg(feature = "token-store")]
mod store;

/// Where W3C trace context goes: API attempts (on by default) and token requests (off).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Propagate {
    pub(crate) api: bool,
    pub(crate) identity: bool,
}

#[cfg(test)]
mod tests;
