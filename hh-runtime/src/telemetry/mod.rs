//! What calls and token requests tell the outside world: spans through `tracing`, named and
//! shaped after OpenTelemetry's HTTP client conventions (so `tracing-opentelemetry` exports
//! them as they are), samples through the `metrics` facade (feature `metrics`), and W3C trace
//! context on the wire (feature `opentelemetry`, `propagate`). Every span, attribute and
//! metric name, and what `error.type` a failure gets, is decided in this module (the values
//! of the store's `hh.token.store.operation` and `.outcome` are the token lifecycle's).
//!
//! The shape, as the conventions have it: each attempt (the first, every retry, the replay
//! after a 401) is an HTTP CLIENT span and one sample of `http.client.request.duration`; the
//! logical call is an INTERNAL span named for the endpoint (`Traversals.respond`) around its
//! attempts, its wait for a token and its backoff sleeps, and one sample of
//! `hh.client.call.duration`. Our own attributes are under `hh.`.
//!
//! Nothing here records a secret, a path value or a query value: `url.template` is the
//! declared route, and `url.full` is recorded only when the client was built with
//! `trace_full_url(true)`, redacted as the conventions say (`full_url`).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use http::{Method, StatusCode, Version};
use tracing::Span;

mod call;
mod full_url;
#[cfg(feature = "metrics")]
pub(crate) mod metrics;
mod propagate;
mod token;

pub(crate) use self::call::{Attempt, Call, backoff_span, token_wait_failed, token_wait_span};
pub(crate) use self::propagate::inject;
#[cfg(feature = "token-store")]
pub(crate) use self::token::{
    StoreOp, fetch_failed, store_available, store_operation, store_outcome,
};
pub(crate) use self::token::{TokenRequest, fetch_span};

// Integers are recorded as `i64`: `tracing-opentelemetry` exports an `i64` as an integer
// attribute, as the conventions want, but a `u64` as text.

use crate::error::{Error, Repr, TokenFailure};

/// Where the tracing targets of calls and token requests start; filter on them
/// (`hh_runtime=info`) to keep or drop our spans.
pub(crate) const CALL_TARGET: &str = "hh_runtime::call";
pub(crate) const TOKEN_TARGET: &str = "hh_runtime::token";

/// The host and port requests go to, as `server.address` and `server.port`, and the scheme,
/// as `url.scheme`.
#[derive(Clone, Debug)]
pub(crate) struct Server {
    pub(crate) address: Arc<str>,
    pub(crate) port: u16,
    pub(crate) scheme: &'static str,
}

impl Server {
    pub(crate) fn of(url: &url::Url) -> Self {
        // An IPv6 address without its URL brackets, as OpenTelemetry writes it.
        let address = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        };
        Server {
            address: address.into(),
            port: url.port_or_known_default().unwrap_or(0),
            // The configuration accepts no other.
            scheme: if url.scheme() == "https" {
                "https"
            } else {
                "http"
            },
        }
    }
}

/// OpenTelemetry's `error.type`: the status code for an HTTP answer, otherwise a short,
/// low-cardinality name (`timeout`, `connect`, `decode`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorType {
    Status(StatusCode),
    Named(&'static str),
}

impl ErrorType {
    /// OpenTelemetry's `error.type` for a call that failed with this error: the status code,
    /// or a short name for the kind of failure.
    pub(crate) fn of(error: &Error) -> Self {
        match error.repr() {
            Repr::Status { http, .. } => ErrorType::Status(http.status),
            Repr::Transport { refused: true, .. } => ErrorType::Named("connect"),
            Repr::Transport { source, .. } => {
                ErrorType::Named(transport_error_type(source.as_ref()))
            }
            Repr::Token { .. } => ErrorType::Named("token"),
            Repr::Decode { .. } => ErrorType::Named("decode"),
            Repr::Middleware(_) => ErrorType::Named("middleware"),
            Repr::Deadline { .. } => ErrorType::Named("timeout"),
            Repr::InvalidInput(_) => ErrorType::Named("invalid_input"),
            Repr::Config(_) => ErrorType::Named("config"),
        }
    }

    /// The `error.type` of a failed token request, finer than a call's `token`: the error
    /// status (4xx, 5xx) the token endpoint answered with, else what was wrong with its
    /// answer (`redirect`, `malformed_response`, `oauth_error`) or kept it from answering.
    pub(crate) fn of_token(error: &Error) -> Self {
        let Repr::Token { failure, http, .. } = error.repr() else {
            return Self::of(error);
        };
        if let Some(http) = http
            && (http.status.is_client_error() || http.status.is_server_error())
        {
            return ErrorType::Status(http.status);
        }
        ErrorType::Named(match failure {
            TokenFailure::Transport(e) => transport_error_type(Some(e)),
            TokenFailure::Timeout(_) => "timeout",
            TokenFailure::Redirect(_) => "redirect",
            TokenFailure::Malformed(_) => "malformed_response",
            TokenFailure::Aborted => "aborted",
            #[cfg(feature = "private-key-jwt")]
            TokenFailure::Assertion(_) => "assertion",
            TokenFailure::OAuth(_) | TokenFailure::Status => "oauth_error",
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            ErrorType::Status(status) => status.as_str(),
            ErrorType::Named(name) => name,
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error.type` of a request that got no answer: `None` is our own attempt timer.
pub(crate) fn transport_error_type(source: Option<&reqwest::Error>) -> &'static str {
    match source {
        None => "timeout",
        // A connect timeout is both; the connection is what failed.
        Some(e) if e.is_connect() => "connect",
        Some(e) if e.is_timeout() => "timeout",
        Some(e) if e.is_body() || e.is_decode() => "body",
        Some(_) => "transport",
    }
}

/// OpenTelemetry's `http.request.method`: the known methods by name, others as `_OTHER`
/// (a method name is not ours to put in a label without bound).
pub(crate) fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

/// The endpoint a call is of, as telemetry names it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Endpoint {
    /// `Trait.method` (`Traversals.respond`): the logical call's span name.
    pub(crate) name: &'static str,
    /// OpenTelemetry's `http.request.method`.
    pub(crate) method: &'static str,
    /// The route in OpenTelemetry's form (`/things/{id}`).
    pub(crate) url_template: &'static str,
}

/// OpenTelemetry's `network.protocol.version` of an answer (`1.1`, `2`, `3`).
fn protocol_version(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}

/// The status and HTTP version of an answer, set as soon as its head arrives and read when the
/// request ends, however it ends (its body may fail, its timer fire): the conventions record
/// the status whenever one was received. Atomic, so that the request's future stays `Send`.
#[derive(Default)]
pub(crate) struct Answered(AtomicU32);

impl Answered {
    const VERSIONS: [Version; 5] = [
        Version::HTTP_09,
        Version::HTTP_10,
        Version::HTTP_11,
        Version::HTTP_2,
        Version::HTTP_3,
    ];

    pub(crate) fn set(&self, status: StatusCode, version: Version) {
        let version = Self::VERSIONS
            .iter()
            .position(|v| *v == version)
            .map_or(0, |i| i + 1);
        let packed = (u32::from(status.as_u16()) << 8) | version as u32;
        self.0.store(packed, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> Option<(StatusCode, Version)> {
        let packed = self.0.load(Ordering::Relaxed);
        let status = StatusCode::from_u16(u16::try_from(packed >> 8).ok()?).ok()?;
        let version = match (packed & 0xff) as usize {
            0 => Version::default(),
            i => Self::VERSIONS.get(i - 1).copied().unwrap_or_default(),
        };
        Some((status, version))
    }
}

/// How one HTTP request (an attempt, a token request) ended, on its CLIENT span: the status
/// and version of the answer, if its head arrived, and `error.type`, if it failed.
fn request_outcome(
    span: &Span,
    answer: Option<(StatusCode, Version)>,
    error_type: Option<ErrorType>,
) {
    if span.is_disabled() {
        return;
    }
    if let Some((status, version)) = answer {
        span.record("http.response.status_code", i64::from(status.as_u16()));
        if let Some(version) = protocol_version(version) {
            span.record("network.protocol.version", version);
        }
    }
    if let Some(error_type) = error_type {
        failed(span, error_type);
    }
}

fn failed(span: &Span, error_type: ErrorType) {
    if !span.is_disabled() {
        span.record("error.type", error_type.as_str());
        span.record("otel.status_code", "ERROR");
    }
}

#[cfg(feature = "metrics")]
pub(crate) use self::metrics::{token_cache_hit, token_cache_miss};

/// No metrics without the feature: the calls compile to nothing.
#[cfg(not(feature = "metrics"))]
pub(crate) fn token_cache_hit(_remaining: std::time::Duration) {}

/// No metrics without the feature: the calls compile to nothing.
#[cfg(not(feature = "metrics"))]
pub(crate) fn token_cache_miss(_waited: std::time::Duration) {}
