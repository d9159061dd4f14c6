//! What calls and token requests tell the outside world: spans through `tracing`, named and
//! shaped after OpenTelemetry's HTTP client conventions (so `tracing-opentelemetry` exports
//! them as they are, with no OpenTelemetry dependency here), and, with the `metrics` feature,
//! samples through the `metrics` facade. Every span and field name, and what `error.type` a
//! failure gets, is decided in this module.
//!
//! Nothing here records a secret, a path value or a query value: `url.template` is the
//! declared route, and `url.full` is recorded only when the client was built with
//! `trace_full_url(true)`.

use std::fmt;
use std::sync::Arc;

use http::{Method, StatusCode};
use tracing::Span;
use tracing::field::Empty;

// Integers are recorded as `i64`: `tracing-opentelemetry` exports an `i64` as an integer
// attribute, as the conventions want, but a `u64` as text.

use crate::error::{Error, Repr, TokenFailure};

/// Where the tracing targets of calls and token requests start; filter on them
/// (`hh_runtime=info`) to keep or drop our spans.
pub(crate) const CALL_TARGET: &str = "hh_runtime::call";
pub(crate) const TOKEN_TARGET: &str = "hh_runtime::token";

/// The host and port requests go to, as `server.address` and `server.port`.
#[derive(Clone, Debug)]
pub(crate) struct Server {
    pub(crate) address: Arc<str>,
    pub(crate) port: u16,
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

/// One logical call as it is traced and measured: its span (at INFO) and, with the `metrics`
/// feature, its start.
pub(crate) struct Call {
    pub(crate) span: Span,
    #[cfg(feature = "metrics")]
    method: &'static str,
    #[cfg(feature = "metrics")]
    url_template: &'static str,
    #[cfg(feature = "metrics")]
    server: Arc<str>,
    #[cfg(feature = "metrics")]
    started: std::time::Instant,
}

impl Call {
    pub(crate) fn start(method: &Method, url_template: &'static str, server: &Server) -> Self {
        let method = method_name(method);
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
                otel.name = %format_args!("{method} {url_template}"),
                otel.kind = "client",
                http.request.method = method,
                url.template = url_template,
                server.address = &*server.address,
                server.port = i64::from(server.port),
                url.full = Empty,
                http.response.status_code = Empty,
                error.type = Empty,
                otel.status_code = Empty,
                hh.absent = Empty,
            )
        };
        Call {
            span,
            #[cfg(feature = "metrics")]
            method,
            #[cfg(feature = "metrics")]
            url_template,
            #[cfg(feature = "metrics")]
            server: Arc::clone(&server.address),
            #[cfg(feature = "metrics")]
            started: std::time::Instant::now(),
        }
    }

    /// Records that an `Option<T>` call's 404 was returned as `None` (`hh.absent = true`):
    /// not an error, but not a result either, and a trace should tell the two apart.
    pub(crate) fn absent(&self) {
        self.span.record("hh.absent", true);
    }

    /// Records `url.full` (only called when the client opted in).
    pub(crate) fn full_url(&self, url: &str) {
        self.span.record("url.full", url);
    }

    /// Records how the call ended: the last status the server answered with, if any, and the
    /// error the call returns, if any.
    pub(crate) fn finish(self, status: Option<StatusCode>, error: Option<&Error>) {
        // Recording on a disabled span still looks the field up by name (and, when something
        // in the build enables `tracing`'s `log` feature, formats a log record): skipped.
        if !self.span.is_disabled() {
            if let Some(status) = status {
                self.span
                    .record("http.response.status_code", i64::from(status.as_u16()));
            }
            if let Some(error) = error {
                failed(&self.span, ErrorType::of(error));
            }
        }
        #[cfg(feature = "metrics")]
        metrics::call(
            self.method,
            self.url_template,
            &self.server,
            status,
            error.map(ErrorType::of),
            self.started.elapsed(),
        );
    }
}

/// The span of one attempt, a child of the call's: `resend` is 0 for the first and counts
/// the retries and the replay after a 401 (`http.request.resend_count`, absent on the first).
pub(crate) fn attempt_span(resend: u32) -> Span {
    // As for the call's span: none unless a subscriber wants it.
    if !tracing::enabled!(target: CALL_TARGET, tracing::Level::DEBUG) {
        return Span::none();
    }
    let span = tracing::debug_span!(
        target: CALL_TARGET,
        "hh.attempt",
        http.request.resend_count = Empty,
        http.response.status_code = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    if resend > 0 {
        span.record("http.request.resend_count", i64::from(resend));
    }
    span
}

/// What one attempt came back with, on its span: the status, or why there was none. A 4xx
/// or 5xx is an error for a client span.
pub(crate) fn attempt_outcome(span: &Span, status: Result<StatusCode, ErrorType>) {
    if span.is_disabled() {
        return;
    }
    match status {
        Ok(status) => {
            span.record("http.response.status_code", i64::from(status.as_u16()));
            if status.is_client_error() || status.is_server_error() {
                failed(span, ErrorType::Status(status));
            }
        }
        Err(error_type) => failed(span, error_type),
    }
}

/// The span of one token request: a root (the fetch serves every caller waiting for it, so it
/// belongs to none of them), linked to the span that caused it.
pub(crate) fn token_span(token_url: &url::Url, client_id: &str, store: Option<&str>) -> Span {
    let span = tracing::info_span!(
        target: TOKEN_TARGET,
        parent: None,
        "hh.token_fetch",
        otel.name = %format_args!("POST {}", token_url.path()),
        otel.kind = "client",
        http.request.method = "POST",
        // The configured URL: the builder refuses one with credentials or a query.
        url.full = token_url.as_str(),
        server.address = %Server::of(token_url).address,
        server.port = i64::from(token_url.port_or_known_default().unwrap_or(0)),
        client_id = client_id,
        http.response.status_code = Empty,
        error.type = Empty,
        otel.status_code = Empty,
        store = store,
        store_outcome = Empty,
    );
    span.follows_from(Span::current());
    span
}

/// How a token request ended, on its span and in the metrics.
pub(crate) fn token_outcome(result: Result<(), &Error>, elapsed: std::time::Duration) {
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

fn failed(span: &Span, error_type: ErrorType) {
    span.record("error.type", error_type.as_str());
    span.record("otel.status_code", "ERROR");
}

#[cfg(feature = "metrics")]
pub(crate) use self::metrics::{token_cache_hit, token_cache_miss};

/// Whether the shared token store answers: the gauge `hh.token.store.available`.
#[cfg(feature = "token-store")]
pub(crate) fn store_available(available: bool) {
    #[cfg(feature = "metrics")]
    metrics::store_available(available);
    #[cfg(not(feature = "metrics"))]
    let _ = available;
}

/// No metrics without the feature: the calls compile to nothing.
#[cfg(not(feature = "metrics"))]
pub(crate) fn token_cache_hit(_remaining: std::time::Duration) {}

/// No metrics without the feature: the calls compile to nothing.
#[cfg(not(feature = "metrics"))]
pub(crate) fn token_cache_miss(_waited: std::time::Duration) {}

/// The `metrics` feature: every metric the runtime emits, with its name, unit and labels.
/// Handles are looked up per sample rather than kept, so a recorder installed after the
/// client was built still receives everything.
#[cfg(feature = "metrics")]
pub(crate) mod metrics {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use http::StatusCode;
    use metrics::{Label, SharedString, Unit};

    use super::ErrorType;

    /// `http.client.request.duration`: one sample per logical call (retries and the 401
    /// replay included), in seconds.
    pub(crate) const REQUEST_DURATION: &str = "http.client.request.duration";
    /// `hh.token.requests`: token requests sent, by `outcome` (`success` or `error`, with
    /// `error.type`).
    pub(crate) const TOKEN_REQUESTS: &str = "hh.token.requests";
    /// `hh.token.request.duration`: how long each token request took, in seconds.
    pub(crate) const TOKEN_REQUEST_DURATION: &str = "hh.token.request.duration";
    /// `hh.token.cache.hits`: calls that found a usable token in the cache.
    pub(crate) const TOKEN_CACHE_HITS: &str = "hh.token.cache.hits";
    /// `hh.token.cache.misses`: calls that had to wait for a token request.
    pub(crate) const TOKEN_CACHE_MISSES: &str = "hh.token.cache.misses";
    /// `hh.token.wait.duration`: how long a call that missed the cache waited for a token,
    /// in seconds.
    pub(crate) const TOKEN_WAIT_DURATION: &str = "hh.token.wait.duration";
    /// `hh.token.remaining_lifetime`: the life left in the token the last call used, in
    /// seconds.
    pub(crate) const TOKEN_REMAINING: &str = "hh.token.remaining_lifetime";

    /// Units and descriptions, given to each recorder the first time a call or token request
    /// of ours reaches it: a recorder installed, or set for a thread, after the first call
    /// still gets them. The recorder described last is known by its address (a thread-local
    /// read and an atomic load per sample; a write only when the recorder changes), so a new
    /// recorder at the very address of the last one, as a test's stack-allocated recorder
    /// can be, is not described again.
    fn describe() {
        static DESCRIBED: AtomicUsize = AtomicUsize::new(0);
        let current = metrics::with_recorder(|r| std::ptr::from_ref(r).cast::<()>() as usize);
        if DESCRIBED.load(Ordering::Relaxed) == current
            || DESCRIBED.swap(current, Ordering::Relaxed) == current
        {
            return;
        }
        metrics::describe_histogram!(
            REQUEST_DURATION,
            Unit::Seconds,
            "Duration of HTTP client requests (one logical call, retries included)."
        );
        metrics::describe_counter!(TOKEN_REQUESTS, "Token requests sent, by outcome.");
        metrics::describe_histogram!(
            TOKEN_REQUEST_DURATION,
            Unit::Seconds,
            "Duration of token requests."
        );
        metrics::describe_counter!(TOKEN_CACHE_HITS, "Calls served from the token cache.");
        metrics::describe_counter!(TOKEN_CACHE_MISSES, "Calls that waited for a token request.");
        metrics::describe_histogram!(
            TOKEN_WAIT_DURATION,
            Unit::Seconds,
            "Time a call waited for a token after a cache miss."
        );
        metrics::describe_gauge!(
            TOKEN_REMAINING,
            Unit::Seconds,
            "Remaining life of the current access token."
        );
        #[cfg(feature = "token-store")]
        metrics::describe_gauge!(
            STORE_AVAILABLE,
            "1 while the shared token store answers, 0 while it does not."
        );
    }

    pub(super) fn call(
        method: &'static str,
        url_template: &'static str,
        server: &Arc<str>,
        status: Option<StatusCode>,
        error: Option<ErrorType>,
        elapsed: Duration,
    ) {
        describe();
        let mut labels = Vec::with_capacity(5);
        labels.push(Label::from_static_parts("http.request.method", method));
        labels.push(Label::from_static_parts("url.template", url_template));
        labels.push(Label::new(
            "server.address",
            SharedString::from(Arc::clone(server)),
        ));
        if let Some(status) = status {
            labels.push(Label::new(
                "http.response.status_code",
                status_label(status),
            ));
        }
        if let Some(error) = error {
            labels.push(Label::new("error.type", error.as_str().to_owned()));
        }
        metrics::histogram!(REQUEST_DURATION, labels).record(elapsed.as_secs_f64());
    }

    /// A status code as a label value, without an allocation for the codes an API usually
    /// answers with.
    fn status_label(status: StatusCode) -> SharedString {
        const COMMON: [&str; 16] = [
            "200", "201", "202", "204", "400", "401", "403", "404", "409", "412", "422", "429",
            "500", "502", "503", "504",
        ];
        match COMMON
            .iter()
            .find(|code| code.as_bytes() == status.as_str().as_bytes())
        {
            Some(code) => SharedString::const_str(code),
            None => SharedString::from(status.as_str().to_owned()),
        }
    }

    pub(super) fn token_request(error: Option<ErrorType>, elapsed: Duration) {
        describe();
        match error {
            None => metrics::counter!(TOKEN_REQUESTS, "outcome" => "success").increment(1),
            Some(error) => metrics::counter!(
                TOKEN_REQUESTS,
                "outcome" => "error",
                "error.type" => error.as_str().to_owned()
            )
            .increment(1),
        }
        metrics::histogram!(TOKEN_REQUEST_DURATION).record(elapsed.as_secs_f64());
    }

    /// A call found a usable token with `remaining` life.
    pub(crate) fn token_cache_hit(remaining: Duration) {
        metrics::counter!(TOKEN_CACHE_HITS).increment(1);
        metrics::gauge!(TOKEN_REMAINING).set(remaining.as_secs_f64());
    }

    /// `hh.token.store.available`: 1 while the shared token store answers, 0 while it
    /// does not (set when that changes).
    #[cfg(feature = "token-store")]
    pub(crate) const STORE_AVAILABLE: &str = "hh.token.store.available";

    #[cfg(feature = "token-store")]
    pub(super) fn store_available(available: bool) {
        describe();
        metrics::gauge!(STORE_AVAILABLE).set(if available { 1.0 } else { 0.0 });
    }

    /// A call waited `waited` for a token.
    pub(crate) fn token_cache_miss(waited: Duration) {
        describe();
        metrics::counter!(TOKEN_CACHE_MISSES).increment(1);
        metrics::histogram!(TOKEN_WAIT_DURATION).record(waited.as_secs_f64());
    }
}
