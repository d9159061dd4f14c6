//! One API call as it is traced and measured: the INTERNAL span of the logical call, named for
//! the endpoint, around a CLIENT span per attempt, a span for its wait for a token and one per
//! backoff sleep; `hh.client.call.duration` per call and `http.client.request.duration` per
//! attempt (feature `metrics`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use http::StatusCode;
use tokio::time::Instant;
use tracing::Span;
use tracing::field::Empty;

#[cfg(feature = "metrics")]
use super::metrics;
use super::{Answered, CALL_TARGET, Endpoint, ErrorType, Server, failed, request_outcome};
use crate::error::Error;

/// `error.type` of an attempt or call whose future was dropped before it ended: by the call's
/// own deadline (`timeout`), or by the caller (`cancelled`).
const CANCELLED: &str = "cancelled";

/// One logical call as it is traced and measured: an INTERNAL span named for the endpoint
/// that parents its attempts, its wait for a token and its backoff sleeps, and, with the
/// `metrics` feature, `hh.client.call.duration`.
pub(crate) struct Call<'c> {
    pub(crate) span: Span,
    endpoint: Endpoint,
    server: &'c Server,
    /// When the call's own limit (`call_timeout`) ends it, if it has one: an attempt cut
    /// short then timed out, one cut short before was cancelled by the caller.
    deadline: Option<Instant>,
    /// Requests put on the wire (`hh.attempts`); atomic only so that the call's future,
    /// which holds a reference to it, stays `Send`.
    attempts: AtomicU32,
    /// For `hh.client.call.duration`: no clock read without the `metrics` feature.
    #[cfg(feature = "metrics")]
    started: Instant,
    finished: bool,
}

impl<'c> Call<'c> {
    pub(crate) fn start(
        endpoint: Endpoint,
        server: &'c Server,
        client_id: &str,
        deadline: Option<Instant>,
    ) -> Self {
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
            deadline,
            attempts: AtomicU32::new(0),
            #[cfg(feature = "metrics")]
            started: Instant::now(),
            finished: false,
        }
    }

    /// When the call's own limit ends it, if it has one.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
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
            answered: Answered::default(),
            started,
            finished: false,
        }
    }

    /// Records how the call ended: the status of the answer it returned (a success, an error
    /// status, a body that could not be decoded), if any, and its error, if any.
    pub(crate) fn finish(mut self, status: Option<StatusCode>, error: Option<&Error>) {
        self.record(status, error.map(ErrorType::of));
    }

    fn record(&mut self, status: Option<StatusCode>, error_type: Option<ErrorType>) {
        self.finished = true;
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

impl Drop for Call<'_> {
    /// A call dropped before it ended (the caller gave up on it) is still one call, cancelled.
    fn drop(&mut self) {
        if !self.finished {
            self.record(None, Some(ErrorType::Named(CANCELLED)));
        }
    }
}

/// One attempt of a call: its CLIENT span and, with the `metrics` feature, its sample of
/// `http.client.request.duration`.
pub(crate) struct Attempt<'a> {
    pub(crate) span: Span,
    call: &'a Call<'a>,
    /// The status and version of the answer, as soon as its head arrives: kept even when its
    /// body then fails or the attempt is cut short.
    pub(crate) answered: Answered,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    started: Instant,
    finished: bool,
}

impl Attempt<'_> {
    /// Records `url.full`, redacted as the conventions say (only called when the client
    /// opted in).
    pub(crate) fn full_url(&self, url: &url::Url) {
        if !self.span.is_disabled() {
            self.span
                .record("url.full", super::full_url::redacted(url).as_str());
        }
    }

    /// How the attempt ended: `failure` is why no whole answer came (`connect`, `timeout`,
    /// `body`, ...), `None` when one did. `http.response.status_code` is recorded whenever
    /// the answer's head arrived; `error.type` is the status for a 4xx or 5xx (a failure for
    /// a client span), else the failure, if any.
    pub(crate) fn finish(mut self, failure: Option<ErrorType>) {
        self.record(failure);
    }

    fn record(&mut self, failure: Option<ErrorType>) {
        self.finished = true;
        let answer = self.answered.get();
        let error_type = match answer {
            Some((status, _)) if status.is_client_error() || status.is_server_error() => {
                Some(ErrorType::Status(status))
            }
            _ => failure,
        };
        request_outcome(&self.span, answer, error_type);
        #[cfg(feature = "metrics")]
        metrics::attempt(
            self.call.endpoint.method,
            metrics::SharedString::const_str(self.call.endpoint.url_template),
            self.call.server,
            answer,
            error_type,
            self.started.elapsed(),
        );
    }
}

impl Drop for Attempt<'_> {
    /// An attempt dropped before it ended was cut short: by the call's deadline (`timeout`),
    /// or by the caller (`cancelled`). Either way it was a request, and a failed one.
    fn drop(&mut self) {
        if !self.finished {
            let why = match self.call.deadline {
                Some(deadline) if Instant::now() >= deadline => "timeout",
                _ => CANCELLED,
            };
            self.record(Some(ErrorType::Named(why)));
        }
    }
}

/// The CLIENT span of one attempt, at INFO: what backends count as one HTTP request.
fn attempt_span(endpoint: Endpoint, server: &Server, resend: u32) -> Span {
    // As for the call's span: none unless a subscriber wants it.
    if !tracing::enabled!(target: CALL_TARGET, tracing::Level::INFO) {
        return Span::none();
    }
    // The conventions name a span of an unknown method `HTTP {url.template}`.
    let verb = match endpoint.method {
        "_OTHER" => "HTTP",
        method => method,
    };
    let span = tracing::info_span!(
        target: CALL_TARGET,
        "hh.attempt",
        otel.name = %format_args!("{verb} {}", endpoint.url_template),
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

/// The INTERNAL span of a call's wait for a token (a cache miss: the first call, a token
/// past its refresh, the replay after a 401), a child of the call's. The token fetch it waits
/// for has a span of its own, linked to this one.
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
