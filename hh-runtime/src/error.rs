//! The one error type of this crate, and the pieces of a server's answer it keeps.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

mod answered;
mod display;
mod oauth;
use display::is_outage;
pub use oauth::{OAuthError, OAuthErrorCode};

/// Everything that can go wrong while building a client or making a call.
///
/// `Error` is cheap to clone (it shares its contents), `Send + Sync + 'static`, and keeps what
/// the server sent: [`status`](Error::status), [`headers`](Error::headers) and the raw
/// [`body`](Error::body), with the parsed JSON or RFC 9457 [`ProblemDetails`] when there was
/// one. Predicates such as [`is_timeout`](Error::is_timeout) and
/// [`is_retryable`](Error::is_retryable) answer the questions callers branch on; [`kind`](Error::kind)
/// names the broad category.
///
/// No secret appears in its `Debug` or `Display`: bodies echoed by a server have the access
/// token and client secret replaced by `[redacted]` before they are stored.
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

/// The broad category of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client configuration is invalid (missing or malformed setting, insecure URL).
    Config,
    /// A value supplied by the caller cannot be sent as asked (a path segment of `..`,
    /// a header value containing a line break, a body that fails to serialise).
    InvalidInput,
    /// The identity server refused or failed to issue an access token.
    Token,
    /// The request never produced an HTTP answer: connection refused or reset, a timeout, TLS.
    Transport,
    /// The API answered with a status outside 2xx.
    Status,
    /// The API answered 2xx, but the body was not what the declared return type expects.
    Decode,
    /// A reqwest-middleware of yours (feature `middleware`) failed the request; its error is
    /// the [`source`](std::error::Error::source). Not retried.
    Middleware,
    /// The call as a whole ran out of time: its
    /// [`call_timeout`](crate::ClientBuilder::call_timeout), or its retry budget
    /// ([`RetryPolicy::max_elapsed`](crate::RetryPolicy::max_elapsed)) while a token request
    /// was still going. The message names the limit and what the call was waiting for; the
    /// failure it was waiting out, if any, is the [`source`](std::error::Error::source). (One
    /// attempt's own timeout is [`Transport`](ErrorKind::Transport), a token request's is
    /// [`Token`](ErrorKind::Token); [`Error::is_timeout`] is true for all three.)
    Deadline,
}

/// An RFC 9457 (formerly 7807) problem details body, as ASP.NET services send on errors.
/// Serialised as the RFC writes it (for [`Error::from_problem`] and test doubles).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[non_exhaustive]
pub struct ProblemDetails {
    /// A URI reference identifying the problem type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// A short summary of the problem type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The HTTP status the server meant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// An explanation specific to this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A URI reference identifying this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Every other member, such as ASP.NET's validation `errors` map and `traceId`.
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// What went wrong talking to the token endpoint.
#[derive(Debug)]
pub(crate) enum TokenFailure {
    /// A well-formed RFC 6749 error.
    OAuth(OAuthError),
    /// The endpoint could not be reached or did not answer in time.
    Transport(reqwest::Error),
    /// The fetch as a whole exceeded the token timeout.
    Timeout(Duration),
    /// A non-2xx answer without an RFC 6749 `error` member: an outage (5xx, 429), a wrong
    /// URL (404), or a server that is not a token endpoint.
    Status,
    /// A redirect, which is never followed on the token call.
    Redirect(Option<String>),
    /// An answer that is not a usable token response.
    Malformed(String),
    /// The fetch ended without a result (it panicked or its runtime shut down).
    Aborted,
    /// The client assertion could not be signed (a KMS or HSM signer failed).
    #[cfg(feature = "private-key-jwt")]
    Assertion(Box<dyn std::error::Error + Send + Sync>),
}

pub(crate) struct HttpParts {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    /// The body as received (up to the size cap), with secrets already scrubbed.
    pub(crate) body: Bytes,
    /// Whether `body` was cut at the size cap.
    pub(crate) truncated: bool,
}

pub(crate) enum Repr {
    Config(String),
    InvalidInput(String),
    Token {
        failure: TokenFailure,
        http: Option<HttpParts>,
        retry_after: Option<Duration>,
        /// The token endpoint asked (never carries a secret: URLs with credentials or a query
        /// are refused when the client is built).
        endpoint: Option<url::Url>,
    },
    Transport {
        /// What reqwest reported (`None` when our own attempt timer fired, or for an error
        /// made by `Error::connection_refused`).
        source: Option<reqwest::Error>,
        /// No connection could be made, as `Error::connection_refused` says (reqwest's own
        /// connect errors are told by `source`).
        refused: bool,
        /// The per-request timeout that fired, when that was the cause.
        timeout: Option<Duration>,
        /// How many attempts the call made, and how long they took in all.
        attempts: u32,
        elapsed: Duration,
    },
    Status {
        http: HttpParts,
        json: Option<serde_json::Value>,
        problem: Option<ProblemDetails>,
        retry_after: Option<Duration>,
    },
    Decode {
        http: HttpParts,
        message: String,
        path: Option<String>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A user's middleware failed the request.
    Middleware(Box<dyn std::error::Error + Send + Sync>),
    /// A limit on the whole call fired.
    Deadline {
        limit: Limit,
        /// The limit's value, and how long the call had run when it fired.
        after: Duration,
        elapsed: Duration,
        waiting: Waiting,
        /// The failure the call was waiting out (a token error), if any.
        last: Option<Error>,
    },
}

/// Which limit on a whole call fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// `ClientBuilder::call_timeout`, or the endpoint's own.
    CallTimeout,
    /// `RetryPolicy::max_elapsed`, which bounds a call's wait for a token.
    RetryBudget,
}

/// What a call was waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waiting {
    /// An access token.
    Token,
    /// The answer to its n-th attempt.
    Answer(u32),
    /// The backoff before its n-th attempt.
    Backoff(u32),
}

pub(crate) struct Inner {
    /// Shared on its own, so that one failure handed to many calls (a token failure) can be
    /// tied to each call without copying what the server sent.
    pub(crate) repr: Arc<Repr>,
    /// `METHOD /path/template` of the call, when the error belongs to one.
    pub(crate) call: Option<(Method, &'static str)>,
}

impl Error {
    /// How much of an error body is kept (64 KiB); the rest is not read. See
    /// [`is_body_truncated`](Error::is_body_truncated).
    pub const MAX_BODY_BYTES: usize = 64 * 1024;

    pub(crate) fn new(repr: Repr) -> Self {
        Self {
            inner: Arc::new(Inner {
                repr: Arc::new(repr),
                call: None,
            }),
        }
    }

    /// What went wrong, for the crate's own readers (telemetry's `error.type`).
    pub(crate) fn repr(&self) -> &Repr {
        &self.inner.repr
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(Repr::Config(message.into()))
    }

    /// What a configuration error says, without the "invalid client configuration" before
    /// it: for a problem that goes into another configuration error's list.
    #[cfg_attr(
        not(any(feature = "private-key-jwt", feature = "dpop", feature = "token-store")),
        allow(dead_code)
    )]
    pub(crate) fn config_problem(&self) -> String {
        match &*self.inner.repr {
            Repr::Config(message) => message.clone(),
            _ => self.to_string(),
        }
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(Repr::InvalidInput(message.into()))
    }

    pub(crate) fn token(failure: TokenFailure) -> Self {
        Self::new(Repr::Token {
            failure,
            http: None,
            retry_after: None,
            endpoint: None,
        })
    }

    /// Names the token endpoint a token error came from (errors are made where the URL is not
    /// at hand; this is called once, where the fetch ends).
    pub(crate) fn at_token_endpoint(mut self, url: &url::Url) -> Self {
        if let Some(Repr::Token { endpoint, .. }) =
            Arc::get_mut(&mut self.inner).and_then(|inner| Arc::get_mut(&mut inner.repr))
        {
            *endpoint = Some(url.clone());
        }
        self
    }

    /// The token endpoint URL a token error came from.
    pub fn token_endpoint(&self) -> Option<&str> {
        match &*self.inner.repr {
            Repr::Token { endpoint, .. } => endpoint.as_ref().map(url::Url::as_str),
            _ => None,
        }
    }

    /// Ties the error to the call it came from, for messages and tracing.
    pub(crate) fn with_call(self, method: &Method, template: &'static str) -> Self {
        if self.inner.call.is_some() {
            return self;
        }
        // Shared or not (a token failure is handed to every waiting call), each call's error
        // names its call; what the server sent is not copied.
        Self {
            inner: Arc::new(Inner {
                repr: Arc::clone(&self.inner.repr),
                call: Some((method.clone(), template)),
            }),
        }
    }

    /// The broad category of this error.
    pub fn kind(&self) -> ErrorKind {
        match &*self.inner.repr {
            Repr::Config(_) => ErrorKind::Config,
            Repr::InvalidInput(_) => ErrorKind::InvalidInput,
            Repr::Token { .. } => ErrorKind::Token,
            Repr::Transport { .. } => ErrorKind::Transport,
            Repr::Status { .. } => ErrorKind::Status,
            Repr::Decode { .. } => ErrorKind::Decode,
            Repr::Middleware(_) => ErrorKind::Middleware,
            Repr::Deadline { .. } => ErrorKind::Deadline,
        }
    }

    fn http(&self) -> Option<&HttpParts> {
        match &*self.inner.repr {
            Repr::Status { http, .. } | Repr::Decode { http, .. } => Some(http),
            Repr::Token { http, .. } => http.as_ref(),
            _ => None,
        }
    }

    /// The HTTP status the server answered with, if it answered.
    ///
    /// For token errors this is the token endpoint's status.
    pub fn status(&self) -> Option<StatusCode> {
        self.http().map(|h| h.status)
    }

    /// The status the API answered the call with: [`status`](Error::status) except for a
    /// token error, whose status is the identity server's.
    pub(crate) fn api_status(&self) -> Option<StatusCode> {
        match &*self.inner.repr {
            Repr::Token { .. } => None,
            _ => self.status(),
        }
    }

    /// The response headers the server sent, if it answered.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.http().map(|h| &h.headers)
    }

    /// The raw response body the server sent, if it answered (cut at the size cap; see
    /// [`is_body_truncated`](Error::is_body_truncated)).
    pub fn body(&self) -> Option<&[u8]> {
        self.http().map(|h| &h.body[..])
    }

    /// The response body as text, when it is valid UTF-8.
    pub fn body_text(&self) -> Option<&str> {
        self.body().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// Whether [`body`](Error::body) holds only the first part of a larger body.
    pub fn is_body_truncated(&self) -> bool {
        self.http().is_some_and(|h| h.truncated)
    }

    /// The error body parsed as JSON, when the API sent JSON with a non-2xx status.
    pub fn json(&self) -> Option<&serde_json::Value> {
        match &*self.inner.repr {
            Repr::Status { json, .. } => json.as_ref(),
            _ => None,
        }
    }

    /// The error body as RFC 9457 problem details, when it was one.
    pub fn problem(&self) -> Option<&ProblemDetails> {
        match &*self.inner.repr {
            Repr::Status { problem, .. } => problem.as_ref(),
            _ => None,
        }
    }

    /// The RFC 6749 error the token endpoint returned, if that is what this is.
    pub fn oauth_error(&self) -> Option<&OAuthError> {
        match &*self.inner.repr {
            Repr::Token {
                failure: TokenFailure::OAuth(e),
                ..
            } => Some(e),
            _ => None,
        }
    }

    /// For a body that did not match the expected type: the JSON path where it failed
    /// (for example `nodes[0].questions[2].controlType`).
    pub fn decode_path(&self) -> Option<&str> {
        match &*self.inner.repr {
            Repr::Decode { path, .. } => path.as_deref(),
            _ => None,
        }
    }

    /// How long the server asked us to wait (`Retry-After`, in seconds or as an HTTP date).
    pub fn retry_after(&self) -> Option<Duration> {
        match &*self.inner.repr {
            Repr::Status { retry_after, .. } | Repr::Token { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The method and path template of the call this error belongs to.
    pub fn call(&self) -> Option<(&Method, &'static str)> {
        self.inner.call.as_ref().map(|(m, t)| (m, *t))
    }

    /// The client configuration is invalid.
    pub fn is_config(&self) -> bool {
        self.kind() == ErrorKind::Config
    }

    /// A caller-supplied value could not be sent.
    pub fn is_invalid_input(&self) -> bool {
        self.kind() == ErrorKind::InvalidInput
    }

    /// No access token could be obtained.
    pub fn is_token(&self) -> bool {
        self.kind() == ErrorKind::Token
    }

    /// The API answered with a non-2xx status.
    pub fn is_status(&self) -> bool {
        self.kind() == ErrorKind::Status
    }

    /// The API answered 2xx with a body that did not decode.
    pub fn is_decode(&self) -> bool {
        self.kind() == ErrorKind::Decode
    }

    /// A timeout fired: connecting, waiting for the API, fetching a token, or the call's
    /// own deadline ([`ErrorKind::Deadline`]).
    pub fn is_timeout(&self) -> bool {
        match &*self.inner.repr {
            Repr::Deadline { .. } => true,
            Repr::Transport {
                source, timeout, ..
            } => timeout.is_some() || source.as_ref().is_some_and(reqwest::Error::is_timeout),
            Repr::Token {
                failure: TokenFailure::Timeout(_),
                ..
            } => true,
            Repr::Token {
                failure: TokenFailure::Transport(e),
                ..
            } => e.is_timeout(),
            _ => false,
        }
    }

    /// The connection could not be established (nothing reached the server).
    pub fn is_connect(&self) -> bool {
        match &*self.inner.repr {
            Repr::Transport {
                source, refused, ..
            } => *refused || source.as_ref().is_some_and(reqwest::Error::is_connect),
            Repr::Token {
                failure: TokenFailure::Transport(e),
                ..
            } => e.is_connect(),
            _ => false,
        }
    }

    /// The API answered 401 Unauthorized (after the replay with a fresh token).
    pub fn is_unauthorized(&self) -> bool {
        matches!(&*self.inner.repr, Repr::Status { http, .. } if http.status == StatusCode::UNAUTHORIZED)
    }

    /// The API answered 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND) && self.is_status()
    }

    /// Whether this 404 says "no such resource", which an `Option<T>` method returns as
    /// `None`: the API's own answer, RFC 9457 problem details (what ASP.NET sends for a
    /// resource it does not have). Anything else is a server without the route or someone
    /// else's answer: an empty 404 (ASP.NET's unmatched route), an HTML or text page, a
    /// gateway's own JSON (`{"statusCode":404,"message":"Resource not found"}`). That is a
    /// wrong `api_url` or deploy, which must not look like an empty result: it stays an error.
    pub(crate) fn means_absent(&self) -> bool {
        self.is_not_found() && self.problem().is_some()
    }

    /// Whether the same call might succeed later without any change: transport failures,
    /// timeouts, the transient statuses the default [`RetryPolicy`](crate::RetryPolicy)
    /// retries (408, 429, 502, 503, 504), and token failures that are not permanent (such as
    /// the identity server being down). Configuration errors, bad input, other `4xx` and `5xx`
    /// answers (a 500 usually reports a fault the same request hits again) and permanent
    /// OAuth errors such as `invalid_client` are not retryable.
    ///
    /// This judges the error alone: whether hh resends a call also depends on its method (a
    /// POST that may have reached the server is not resent by default).
    pub fn is_retryable(&self) -> bool {
        match &*self.inner.repr {
            Repr::Config(_) | Repr::InvalidInput(_) | Repr::Decode { .. } => false,
            Repr::Middleware(_) => false,
            Repr::Transport { .. } | Repr::Deadline { .. } => true,
            Repr::Status { http, .. } => crate::retry::is_transient_status(http.status),
            Repr::Token { failure, http, .. } => match failure {
                // `temporarily_unavailable`, `server_error` and unknown codes are worth another
                // try whatever status carried them (some servers send errors with 200); the
                // codes RFC 6749 defines are not (`OAuthErrorCode::is_permanent`, the one rule).
                TokenFailure::OAuth(e) => !e.code.is_permanent(),
                TokenFailure::Transport(_) | TokenFailure::Timeout(_) | TokenFailure::Aborted => {
                    true
                }
                TokenFailure::Redirect(_) => false,
                // An outage passes; a wrong URL (404) or a server that is not a token endpoint
                // does not.
                TokenFailure::Status => http.as_ref().is_some_and(|h| is_outage(h.status)),
                // A garbled answer (a proxy's error page, a torn body) may well be gone on the
                // next try; the backoff keeps a persistently broken endpoint from being hammered.
                TokenFailure::Malformed(_) => true,
                // A signer of the user's (a KMS, an HSM) that failed may well answer next time.
                #[cfg(feature = "private-key-jwt")]
                TokenFailure::Assertion(_) => true,
            },
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind());
        if let Some((method, template)) = &self.inner.call {
            d.field("call", &format_args!("{method} {template}"));
        }
        if let Some(h) = self.http() {
            d.field("status", &h.status);
            // Header values are printed by `HeaderMap`'s Debug, which hides sensitive ones.
            d.field("headers", &h.headers);
            d.field("body", &String::from_utf8_lossy(&h.body));
            if h.truncated {
                d.field("body_truncated", &true);
            }
        }
        d.field("message", &format_args!("{self}"));
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.inner.repr {
            Repr::Transport {
                source: Some(source),
                ..
            } => Some(source),
            Repr::Token {
                failure: TokenFailure::Transport(e),
                ..
            } => Some(e),
            Repr::Decode {
                source: Some(s), ..
            } => Some(&**s),
            Repr::Middleware(s) => Some(&**s),
            Repr::Deadline {
                last: Some(last), ..
            } => Some(last),
            _ => None,
        }
    }
}

/// `Result<T, hh_runtime::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;
