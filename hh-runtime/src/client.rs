//! `Client`, its builder, and the checks a configuration must pass.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use secrecy::SecretString;
use url::{Host, Url};

pub use crate::builder::ClientBuilder;
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::telemetry::Server;
use crate::token::TokenSource;

/// The defaults a [`ClientBuilder`] starts from, for code that wants to show or derive from
/// them (say, a request timeout twice the default).
pub mod defaults {
    use std::time::Duration;

    /// Time to establish a TCP (and TLS) connection.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// Time one API attempt may take, from sending to the last byte of the answer.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// Time one token fetch may take, end to end.
    pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);
    /// Upper bound of how early a token is refreshed in the background (capped at half the
    /// token's lifetime).
    pub const REFRESH_AHEAD: Duration = Duration::from_secs(300);
    /// Least remaining life a token is handed out with (capped at a quarter of its lifetime).
    pub const MIN_TOKEN_REMAINING: Duration = Duration::from_secs(30);
    /// Cap on a successful response body (64 MiB).
    pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
}

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
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Builds a client from the environment: `HH_IDENTITY_URL`, `HH_API_URL`, `HH_CLIENT_ID`
    /// and `HH_CLIENT_SECRET`, and optionally `HH_TOKEN_URL`, `HH_SCOPE` (space-separated) and,
    /// with the `redis` feature, `HH_REDIS_URL` (see
    /// [`ClientBuilder::redis_url`](crate::ClientBuilder)).
    ///
    /// Every missing variable is named in the one error returned.
    /// To adjust the configuration before building, start from [`ClientBuilder::from_env`].
    pub fn from_env() -> Result<Self> {
        ClientBuilder::from_env()?.build()
    }

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
    /// with your own HTTP client). The value is a [`SecretString`](crate::SecretString):
    /// `Debug` hides it, and [`ExposeSecret`](crate::ExposeSecret) (both re-exported here, so
    /// no `secrecy` dependency is needed) reads it, only to send it.
    ///
    /// Unlike an API call, this does not wait out a failed token request: it returns the
    /// failure.
    pub async fn access_token(&self) -> Result<SecretString> {
        let token = self.inner.tokens.get().await?;
        let text = std::str::from_utf8(token.secret_bytes()).unwrap_or_default();
        Ok(SecretString::from(text))
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

    /// Its origin (scheme, host, port): where the token may be sent.
    #[cfg(feature = "middleware")]
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

pub(crate) fn base_without_slash(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// A base URL must be absolute, carry no credentials, query or fragment, and use https unless
/// it points at this machine.
/// Whether hh-runtime was built with a TLS implementation (one of its TLS features).
pub(crate) const TLS: bool = cfg!(any(
    feature = "rustls",
    feature = "rustls-no-provider",
    feature = "native-tls"
));

/// Built without TLS, an `https` URL served by a client we build could never connect: said
/// when the URL is set, naming the fix, rather than as a connect error on the first call. The
/// one rule for `build` and `Client::with_api_url`; `own_client` when the user brought the
/// client that sends to `url`.
pub(crate) fn https_without_tls(what: &str, url: &Url, own_client: bool) -> Option<String> {
    (!TLS && !own_client && url.scheme() == "https").then(|| {
        format!(
            "{what} is https, but hh-runtime was built without TLS: enable its `rustls` \
             (default) or `native-tls` feature, or bring a reqwest::Client built with TLS \
             (`http_client` / `token_http_client`)"
        )
    })
}

pub(crate) fn check_url(what: &str, value: &str) -> std::result::Result<Url, String> {
    let url =
        Url::parse(value.trim()).map_err(|e| format!("{what} `{value}` is not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{what} must not carry credentials; use client_id and client_secret"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{what} `{url}` must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "{what} `{url}` uses plain http; only https is allowed, except for loopback hosts \
             (127.0.0.0/8, ::1, localhost)"
        )),
        other => Err(format!("{what} `{url}` has scheme `{other}`; use https")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://[::1]:9000/x",
            "http://localhost:1",
            "http://LOCALHOST",
        ] {
            assert!(check_url("api_url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "http://[::2]",
            "ftp://example.com",
            "https://user:pw@example.com",
            "https://example.com/?a=1",
            "not a url",
        ] {
            assert!(check_url("api_url", bad).is_err(), "{bad}");
        }
    }
}
