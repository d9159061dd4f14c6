//! `Client`: the configured state every call reads (the builder makes it, `builder.rs`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use url::Url;

use crate::config::{base_without_slash, check_url, https_without_tls};
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::telemetry::Server;
use crate::token::{AccessToken, TokenSource};

/// A HealthHero API client: configuration, connection pool and token cache.
///
/// `Client` is cheap to clone (clones share everything, including the token cache), `Send` and
/// `Sync`; one client serves any number of concurrent calls. Build it with
/// [`Client::builder`] or [`Client::from_env`], then hand it to a generated `…Client::new`.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

#[derive(Clone)]
pub(crate) struct ClientInner {
    pub(crate) api: ApiBase,
    /// The client id as a path segment, percent-encoded once (`None` if it cannot be one).
    pub(crate) client_id_segment: Option<Box<str>>,
    /// Whether call spans record `url.full` (path and query values included).
    pub(crate) trace_full_url: bool,
    /// Whether API attempts carry W3C trace context (feature `opentelemetry`).
    pub(crate) propagate_trace_context: bool,
    pub(crate) http: Http,
    /// Whether `http` is the user's (`http_client`, `http_middleware`), whose TLS is theirs.
    pub(crate) own_http: bool,
    pub(crate) tokens: TokenSource,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Option<Duration>,
    /// The limit on a whole call (`ClientBuilder::call_timeout`).
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) default_headers: HeaderMap,
    pub(crate) replay_on_401: bool,
    pub(crate) max_response_bytes: usize,
}

impl Client {
    /// The client id this client authenticates as (HealthHero's paths also carry it).
    pub fn client_id(&self) -> &str {
        &self.inner.tokens.config().client_id
    }

    /// The API base URL calls are made against.
    pub fn api_url(&self) -> &str {
        &self.inner.api.text
    }

    /// The same client (same credentials, same token cache, same connection pool) aimed at
    /// another API base URL: HealthHero serves some APIs, such as HRA reports, from other hosts.
    pub fn with_api_url(&self, api_url: &str) -> Result<Self> {
        let url = check_url("api_url", api_url).map_err(Error::config)?;
        if let Some(problem) = https_without_tls("api_url", &url, self.inner.own_http) {
            return Err(Error::config(problem));
        }
        Ok(Self {
            inner: Arc::new(ClientInner {
                api: ApiBase::new(url),
                ..(*self.inner).clone()
            }),
        })
    }

    /// Whether the shared token store answers (`None` without one): for a health check.
    /// An unavailable store fails no call, but the fleet then fetches a token per process;
    /// with the `metrics` feature the same shows as the gauge `hh.token.store.available`.
    #[cfg(feature = "token-store")]
    pub fn token_store_status(&self) -> Option<crate::store::StoreStatus> {
        self.inner.tokens.store_status()
    }

    /// An access token for a request the generated code cannot express (say, a file upload made
    /// with your own HTTP client): `Debug` hides it, and
    /// [`expose_secret`](crate::AccessToken::expose_secret) reads it, only to send it.
    ///
    /// Unlike an API call, this does not wait out a failed token request: it returns the
    /// failure.
    pub async fn access_token(&self) -> Result<AccessToken> {
        let token = self.inner.tokens.get().await?;
        let text = std::str::from_utf8(token.secret_bytes()).unwrap_or_default();
        Ok(AccessToken::new(text))
    }

    /// The `Authorization` header value for the current token (`Bearer <token>`, or
    /// `DPoP <token>`, which goes with a proof: use [`authorize`](Self::authorize)), fetching one
    /// if needed, for a request to the API that you send yourself: the value every call sends,
    /// shared rather than copied, and marked sensitive, so `Debug` shows no token. Like
    /// [`access_token`](Self::access_token), it returns a failed token request's error rather
    /// than waiting it out.
    pub async fn authorization(&self) -> Result<http::HeaderValue> {
        Ok(self.inner.tokens.get().await?.header.clone())
    }

    /// Puts the current token on a request of your own, as every call does: `Authorization`,
    /// and with DPoP (feature `dpop`) a new proof for this request's method and URL, so set
    /// them first. Fetches a token if needed; like [`access_token`](Self::access_token), it
    /// returns a failed token request's error rather than waiting it out.
    pub async fn authorize(&self, request: &mut reqwest::Request) -> Result<()> {
        let token = self.inner.tokens.get().await?;
        self.inner.tokens.authorize(request, &token);
        Ok(())
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cfg = self.inner.tokens.config();
        f.debug_struct("Client")
            .field("api_url", &self.inner.api.text)
            .field("token_url", &cfg.token_url.as_str())
            .field("client_id", &cfg.client_id)
            .field("client_secret", &"[redacted]")
            .field("scope", &cfg.scope)
            .field("client_auth", &cfg.auth)
            .field("token_store", &self.inner.tokens.store_name())
            .finish_non_exhaustive()
    }
}

/// The API base URL, parsed once: a call's URL is a copy of it with the call's path and query
/// set, so the scheme and host (IDNA included) are never parsed again.
#[derive(Clone)]
pub(crate) struct ApiBase {
    /// As configured, without a trailing slash (what [`Client::api_url`] returns).
    pub(crate) text: String,
    url: Url,
    /// Its path without the trailing slash (empty for the host's root): every call's path
    /// starts with it.
    pub(crate) path: String,
    /// Its host and port, for telemetry.
    pub(crate) server: Server,
}

impl ApiBase {
    pub(crate) fn new(url: Url) -> Self {
        ApiBase {
            text: base_without_slash(&url),
            path: url.path().trim_end_matches('/').to_owned(),
            server: Server::of(&url),
            url,
        }
    }

    /// Its origin (scheme, host, port): where the token may be sent, and what DPoP nonces
    /// are kept by.
    pub(crate) fn origin(&self) -> url::Origin {
        self.url.origin()
    }

    /// The URL of one call: `path` (already percent-encoded, starting with this base's path)
    /// and `query` (encoded; empty for none).
    pub(crate) fn join(&self, path: &str, query: &str) -> Url {
        let mut url = self.url.clone();
        url.set_path(path);
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        url
    }
}

/// What sends API requests: reqwest, or a user's middleware stack around it.
#[derive(Clone)]
pub(crate) enum Http {
    Plain(reqwest::Client),
    #[cfg(feature = "middleware")]
    Middleware(reqwest_middleware::ClientWithMiddleware),
}

/// Why a request got no answer.
pub(crate) enum SendError {
    Transport(reqwest::Error),
    /// A middleware of the user's failed it, for its own reasons (feature `middleware`).
    #[cfg_attr(not(feature = "middleware"), allow(dead_code))]
    Middleware(Box<dyn std::error::Error + Send + Sync>),
}

impl From<reqwest::Error> for SendError {
    fn from(error: reqwest::Error) -> Self {
        SendError::Transport(error)
    }
}

impl Http {
    /// Sends one request. Not an `async fn`: the request moves straight into reqwest's own
    /// future instead of being held a second time in ours. (A middleware stack is boxed
    /// futures already; one more box there costs nothing that shows.)
    pub(crate) fn execute(
        &self,
        request: reqwest::Request,
    ) -> impl Future<Output = Result<reqwest::Response, SendError>> + Send + '_ {
        use futures_util::TryFutureExt as _;
        use futures_util::future::{BoxFuture, Either};
        match self {
            Http::Plain(client) => Either::<_, BoxFuture<'_, _>>::Left(
                client.execute(request).map_err(SendError::Transport),
            ),
            #[cfg(feature = "middleware")]
            Http::Middleware(client) => Either::Right(futures_util::FutureExt::boxed(
                client.execute(request).map_err(|e| match e {
                    reqwest_middleware::Error::Reqwest(e) => SendError::Transport(e),
                    // A middleware that wrapped reqwest's own error is a transport failure.
                    reqwest_middleware::Error::Middleware(e) => {
                        match e.downcast::<reqwest::Error>() {
                            Ok(e) => SendError::Transport(e),
                            Err(e) => SendError::Middleware(e.into()),
                        }
                    }
                }),
            )),
        }
    }
}
