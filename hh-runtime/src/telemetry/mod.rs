//! What calls and token requests tell the outside world: spans through `tracing`, named and
//! shaped after OpenTelemetry's HTTP client conventions (so `tracing-opentelemetry` exports
//! them as they are), samples through the `metrics` facade (feature `metrics`), and W3C trace
//! context on the wire (feature `opentelemetry`, `propagate`). Every span, attribute and
//! metric name, and what `error.type` a failure gets, is decided in this module.
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
use std::time::Duration;

use http::{Method, StatusCode, Version};
use tokio::time::Instant;
use tracing::Span;
use tracing::field::Empty;

mod full_url;
#[cfg(feature = "metrics")]
pub(crate) mod metrics;
mod propagate;

pub(crate) use self::propagate::inject;

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

    /// The `error.type` of a failed token request, finer than a call's `token`: the status
    /// the token endpoint answered with, or what kept it from answering.
    pub(crate) fn of_token(error: &Error) -> Self {
        let Repr::Token { failure, http, .. } = error.repr() else {
            return Self::of(error);
        };
        if let Some(http) = http {
            return ErrorType::Status(http.status);
        }
        ErrorType::Named(match failure {
            TokenFailure::Transport(e) => transport_error_type(Some(e)),
            TokenFailure::Timeout(_) => "timeout",
            TokenFailure::Redirect(_) => "redirect",
            TokenFailure::Malformed(_) => "malformed_response",
            TokenFailure::Aborted => "aborted",
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

/// One logical call as it is traced and measured: an INTERNAL span named for the endpoint
/// that parents its attempts, its wait for a token and its backoff sleeps, and, with the
/// `metrics` feature, `hh.client.call.duration`.
pub(crate) struct Call<'c> {
    pub(crate) span: Span,
    endpoint: Endpoint,
    server: &'c Server,
    /// Requests put on the wire (`hh.attempts`); atomic only so that the call's future,
    /// which holds a reference to it, stays `Send`.
    attempts: AtomicU32,
    #[cfg(feature = "metrics")]
    started: Instant,
}

impl<'c> Call<'c> {
    pub(crate) fn start(endpoint: Endpoint, server: &'c Server, client_id: &str) -> Self {
        // Built only when a subscriber wants it. A disabled span is not free: every record
        // looks its field up by name and, when something in the build enables `tracing`'s
        // `log` feature (axum does) and no subscriber is set, every creation, enter and exit
        // goes to `log`. Without one, calls skip entering spans altogether.
        let span = if !tracing::enabled!(target: CALL_TARGET, tracing::Level::INFO) {
            Span::none()
        } else {
            tracing::info_span!(
                target: CALL_TARGET,
                "hh.call",
                otel.name = endpoint.name,
                otel.kind = "internal",
                url.template = endpoint.url_template,
                hh.client_id = client_id,
                hh.attempts = Empty,
                hh.absent = Empty,
                error.type = Empty,
                otel.status_code = Empty,
            )
        };
        Call {
            span,
            endpoint,
            server,
            attempts: AtomicU32::new(0),
            #[cfg(feature = "metrics")]
            started: Instant::now(),
        }
    }

    /// Records that an `Option<T>` call's 404 was returned as `None` (`hh.absent = true`):
    /// not an error, but not a result either, and a trace should tell the two apart.
    pub(crate) fn absent(&self) {
        self.span.record("hh.absent", true);
    }

    /// The next attempt, its token in hand at `started`: a CLIENT span, a child of the current
    /// span (the call's). `resend` is 0 for the first and counts the retries and the replay
    /// after a 401 (`http.request.resend_count`, absent on the first).
    pub(crate) fn attempt(&self, resend: u32, started: Instant) -> Attempt<'_> {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        Attempt {
            span: attempt_span(self.endpoint, self.server, resend),
            call: self,
            started,
        }
    }

    /// Records how the call ended: the last status the server answered with, if any, and the
    /// error the call returns, if any.
    pub(crate) fn finish(self, status: Option<StatusCode>, error: Option<&Error>) {
        let error_type = error.map(ErrorType::of);
        // Recording on a disabled span still looks the field up by name (and, when something
        // in the build enables `tracing`'s `log` feature, formats a log record): skipped.
        if !self.span.is_disabled() {
            self.span.record(
                "hh.attempts",
                i64::from(self.attempts.load(Ordering::Relaxed)),
            );
            if let Some(error_type) = error_type {
                failed(&self.span, error_type);
            }
        }
        #[cfg(feature = "metrics")]
        metrics::call(
            &self.endpoint,
            self.server,
            status,
            error_type,
            self.started.elapsed(),
        );
        #[cfg(not(feature = "metrics"))]
        let _ = status;
    }
}

/// One attempt of a call: its CLIENT span and, with the `metrics` feature, its sample of
/// `http.client.request.duration`.
pub(crate) struct Attempt<'a> {
    pub(crate) span: Span,
    call: &'a Call<'a>,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    started: Instant,
}

impl Attempt<'_> {
    /// Records `url.full`, redacted as the conventions say (only called when the client
    /// opted in).
    pub(crate) fn full_url(&self, url: &url::Url) {
        if !self.span.is_disabled() {
            self.span
                .record("url.full", full_url::redacted(url).as_str());
        }
    }

    /// What the attempt came back with: the status and the HTTP version it was answered in,
    /// or why there was none. A 4xx or 5xx is an error for a client span, so `error.type` and
    /// `http.response.status_code` are both set exactly when the server answered with one.
    pub(crate) fn finish(self, outcome: Result<(StatusCode, Version), ErrorType>) {
        let error_type = match outcome {
            Ok((status, _)) if status.is_client_error() || status.is_server_error() => {
                Some(ErrorType::Status(status))
            }
            Ok(_) => None,
            Err(error_type) => Some(error_type),
        };
        let answer = outcome.ok();
        if !self.span.is_disabled() {
            if let Some((status, version)) = answer {
                self.span
                    .record("http.response.status_code", i64::from(status.as_u16()));
                if let Some(version) = protocol_version(version) {
                    self.span.record("network.protocol.version", version);
                }
            }
            if let Some(error_type) = error_type {
                failed(&self.span, error_type);
            }
        }
        #[cfg(feature = "metrics")]
        metrics::attempt(
            &self.call.endpoint,
            self.call.server,
            answer,
            error_type,
            self.started.elapsed(),
        );
        #[cfg(not(feature = "metrics"))]
        let _ = self.call;
    }
}

/// The CLIENT span of one attempt, at INFO: what backends count as one HTTP request.
fn attempt_span(endpoint: Endpoint, server: &Server, resend: u32) -> Span {
    // As for the call's span: none unless a subscriber wants it.
    if !tracing::enabled!(target: CALL_TARGET, tracing::Level::INFO) {
        return Span::none();
    }
    let span = tracing::info_span!(
        target: CALL_TARGET,
        "hh.attempt",
        otel.name = %format_args!("{} {}", endpoint.method, endpoint.url_template),
        otel.kind = "client",
        http.request.method = endpoint.method,
        server.address = &*server.address,
        server.port = i64::from(server.port),
        url.scheme = server.scheme,
        url.template = endpoint.url_template,
        url.full = Empty,
        http.request.resend_count = Empty,
        http.response.status_code = Empty,
        network.protocol.version = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    if resend > 0 {
        span.record("http.request.resend_count", i64::from(resend));
    }
    span
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

/// The INTERNAL span of a call's wait for a token (a cache miss: the first call, a token
/// past its refresh, the replay after a 401), a child of the call's. The token request it
/// waits for has a span of its own, linked to this one.
pub(crate) fn token_wait_span() -> Span {
    if !tracing::enabled!(target: CALL_TARGET, tracing::Level::INFO) {
        return Span::none();
    }
    tracing::info_span!(
        target: CALL_TARGET,
        "hh.token.wait",
        otel.name = "hh.token.wait",
        otel.kind = "internal",
        error.type = Empty,
        otel.status_code = Empty,
    )
}

/// How a wait for a token ended, on its span.
pub(crate) fn token_wait_failed(span: &Span, error: &Error) {
    if !span.is_disabled() {
        failed(span, ErrorType::of_token(error));
    }
}

/// The INTERNAL span of the sleep before a retry, a child of the call's: `delay` is what the
/// retry policy (or the server's `Retry-After`) chose, `resend` the retry it precedes.
pub(crate) fn backoff_span(delay: Duration, resend: u32) -> Span {
    if !tracing::enabled!(target: CALL_TARGET, tracing::Level::INFO) {
        return Span::none();
    }
    tracing::info_span!(
        target: CALL_TARGET,
        "hh.backoff",
        otel.name = "hh.backoff",
        otel.kind = "internal",
        hh.backoff.delay = delay.as_secs_f64(),
        http.request.resend_count = i64::from(resend),
    )
}

/// The span of one token request: a root (the fetch serves every caller waiting for it, so it
/// belongs to none of them), linked to the span that caused it (a call's token wait).
pub(crate) fn token_span(token_url: &url::Url, client_id: &str, store: Option<&str>) -> Span {
    let server = Server::of(token_url);
    let span = tracing::info_span!(
        target: TOKEN_TARGET,
        parent: None,
        "hh.token_fetch",
        otel.name = %format_args!("POST {}", token_url.path()),
        otel.kind = "client",
        http.request.method = "POST",
        // The configured URL: the builder refuses one with credentials or a query.
        url.full = token_url.as_str(),
        url.scheme = server.scheme,
        server.address = &*server.address,
        server.port = i64::from(server.port),
        hh.client_id = client_id,
        http.response.status_code = Empty,
        error.type = Empty,
        otel.status_code = Empty,
        hh.token.store = store,
        hh.token.store.outcome = Empty,
    );
    span.follows_from(Span::current());
    span
}

/// How a token request ended, on its span and in the metrics.
pub(crate) fn token_outcome(result: Result<(), &Error>, elapsed: Duration) {
    let span = Span::current();
    let error_type = result.err().map(ErrorType::of_token);
    if let Some(error_type) = error_type {
        failed(&span, error_type);
    }
    #[cfg(feature = "metrics")]
    metrics::token_request(error_type, elapsed);
    #[cfg(not(feature = "metrics"))]
    let _ = elapsed;
}

/// The status a token endpoint answered with, on the token request's span.
pub(crate) fn token_status(status: StatusCode) {
    Span::current().record("http.response.status_code", i64::from(status.as_u16()));
}

/// What the shared store said before a fetch (`adopted`, `lease won`, `unavailable`, ...), on
/// the fetch's span, as an event and, with the `metrics` feature, in
/// `hh.token.store.outcomes`.
#[cfg(feature = "token-store")]
pub(crate) fn store_outcome(store: &str, outcome: &'static str) {
    Span::current().record("hh.token.store.outcome", outcome);
    tracing::debug!(
        target: TOKEN_TARGET,
        store = store,
        outcome = outcome,
        "consulted the shared token store"
    );
    #[cfg(feature = "metrics")]
    metrics::store_outcome(store, outcome);
}

/// Whether the shared token store answers: the gauge `hh.token.store.available`.
#[cfg(feature = "token-store")]
pub(crate) fn store_available(store: &str, available: bool) {
    #[cfg(feature = "metrics")]
    metrics::store_available(store, available);
    #[cfg(not(feature = "metrics"))]
    let _ = (store, available);
}

/// One operation on the shared token store, and how it ended: `None` for success, or the
/// `error.type` of its failure (`timeout`, `error`, `panic`).
#[cfg(feature = "token-store")]
pub(crate) fn store_operation(store: &str, operation: &'static str, error: Option<&'static str>) {
    #[cfg(feature = "metrics")]
    metrics::store_operation(store, operation, error);
    #[cfg(not(feature = "metrics"))]
    let _ = (store, operation, error);
}

fn failed(span: &Span, error_type: ErrorType) {
    span.record("error.type", error_type.as_str());
    span.record("otel.status_code", "ERROR");
}

#[cfg(feature = "metrics")]
pub(crate) use self::metrics::{token_cache_hit, token_cache_miss};

/// No metrics without the feature: the calls compile to nothing.
#[cfg(not(feature = "metrics"))]
pub(crate) fn token_cache_hit(_remaining: Duration) {}

/// No metrics without the feature: the calls compile to nothing.
#[cfg(not(feature = "metrics"))]
pub(crate) fn token_cache_miss(_waited: Duration) {}
