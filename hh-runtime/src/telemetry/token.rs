//! The token lifecycle as it is traced and measured: an INTERNAL root span per fetch (which
//! may adopt the fleet's token and send nothing), a CLIENT span per request to the identity
//! server, and the store's metrics (`hh.token.store.*`).

use std::sync::Arc;

use tokio::time::Instant;
use tracing::Span;
use tracing::field::Empty;

#[cfg(feature = "metrics")]
use super::metrics;
use super::{Answered, ErrorType, Server, TOKEN_TARGET, failed, request_outcome};
use crate::error::Error;

/// The span of one token fetch: a root (the fetch serves every caller waiting for it, so it
/// belongs to none of them), linked to the span that caused it (a call's token wait). It sends
/// at most one request (its CLIENT span is a child), none when it adopts the fleet's token.
pub(crate) fn fetch_span(client_id: &str, store: Option<&str>) -> Span {
    let span = tracing::info_span!(
        target: TOKEN_TARGET,
        parent: None,
        "hh.token.fetch",
        otel.name = "hh.token.fetch",
        otel.kind = "internal",
        hh.client_id = client_id,
        hh.token.store = store,
        hh.token.store.outcome = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    span.follows_from(Span::current());
    span
}

/// One request to the identity server, as it is traced and measured: a CLIENT span (a child
/// of the fetch's), a sample of `http.client.request.duration` like an API attempt's, and one
/// of `hh.token.request.duration` and `hh.token.requests`.
pub(crate) struct TokenRequest {
    pub(crate) span: Span,
    pub(crate) answered: Answered,
    finished: bool,
    /// The token endpoint's path, as `url.template`: configured, it holds no value of a call.
    #[cfg(feature = "metrics")]
    path: Arc<str>,
    #[cfg(feature = "metrics")]
    server: Server,
    started: Instant,
}

impl TokenRequest {
    pub(crate) fn start(token_url: &url::Url) -> Self {
        let server = Server::of(token_url);
        let path: Arc<str> = token_url.path().into();
        let span = tracing::info_span!(
            target: TOKEN_TARGET,
            "hh.token.request",
            otel.name = %format_args!("POST {path}"),
            otel.kind = "client",
            http.request.method = "POST",
            // The configured URL: the builder refuses one with credentials or a query.
            url.full = token_url.as_str(),
            url.scheme = server.scheme,
            url.template = &*path,
            server.address = &*server.address,
            server.port = i64::from(server.port),
            http.response.status_code = Empty,
            network.protocol.version = Empty,
            error.type = Empty,
            otel.status_code = Empty,
        );
        TokenRequest {
            span,
            answered: Answered::default(),
            finished: false,
            #[cfg(feature = "metrics")]
            path,
            #[cfg(feature = "metrics")]
            server,
            started: Instant::now(),
        }
    }

    /// How the request ended, on its span, the fetch's (the current span) and in the
    /// metrics.
    pub(crate) fn finish(mut self, result: Result<(), &Error>) {
        let error_type = result.err().map(ErrorType::of_token);
        if let Some(error_type) = error_type {
            // The fetch's span, which `fetch` runs in.
            failed(&Span::current(), error_type);
        }
        self.record(error_type);
    }

    fn record(&mut self, error_type: Option<ErrorType>) {
        self.finished = true;
        let answer = self.answered.get();
        request_outcome(&self.span, answer, error_type);
        let elapsed = self.started.elapsed();
        #[cfg(feature = "metrics")]
        {
            let template = metrics::SharedString::from(Arc::clone(&self.path));
            metrics::attempt("POST", template, &self.server, answer, error_type, elapsed);
            metrics::token_request(error_type, elapsed);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = elapsed;
    }
}

impl Drop for TokenRequest {
    /// A request dropped before it ended (the fetch's task aborted: the runtime shutting
    /// down) was still a request, and a failed one.
    fn drop(&mut self) {
        if !self.finished {
            self.record(Some(ErrorType::Named("aborted")));
        }
    }
}

/// A fetch that ended without a request of its own (no time left after waiting for the
/// fleet): its failure is recorded on its span.
#[cfg(feature = "token-store")]
pub(crate) fn fetch_failed(error: &Error) {
    failed(&Span::current(), ErrorType::of_token(error));
}

/// What the shared store said before a fetch (`adopted`, `lease won`, `unavailable`, ...), on
/// the fetch's span, as an event and, with the `metrics` feature, in
/// `hh.token.store.outcomes`.
#[cfg(feature = "token-store")]
pub(crate) fn store_outcome(client_id: &str, store: &str, outcome: &'static str) {
    Span::current().record("hh.token.store.outcome", outcome);
    tracing::debug!(
        target: TOKEN_TARGET,
        store = store,
        outcome = outcome,
        "consulted the shared token store"
    );
    #[cfg(feature = "metrics")]
    metrics::store_outcome(client_id, store, outcome);
    #[cfg(not(feature = "metrics"))]
    let _ = client_id;
}

/// How one operation on the shared token store ended.
#[cfg(feature = "token-store")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoreOp {
    Succeeded,
    Failed,
    Panicked,
    TimedOut,
}

#[cfg(feature = "token-store")]
impl StoreOp {
    /// Its `error.type`, for a failure.
    fn error_type(self) -> Option<&'static str> {
        match self {
            StoreOp::Succeeded => None,
            StoreOp::Failed => Some("error"),
            StoreOp::Panicked => Some("panic"),
            StoreOp::TimedOut => Some("timeout"),
        }
    }
}

/// Whether the shared store answers (`hh.token.store.available`), set with every operation's
/// outcome, so that a recorder installed late, or an exporter that forgets idle series, still
/// has it; the caller sets it under the lock that orders its own view of the store's health.
#[cfg(feature = "token-store")]
pub(crate) fn store_available(client_id: &str, store: &str, available: bool) {
    #[cfg(feature = "metrics")]
    metrics::store_available(client_id, store, available);
    #[cfg(not(feature = "metrics"))]
    let _ = (client_id, store, available);
}

/// One operation on the shared store (`get`, `put`, ...), by the client `client_id`.
#[cfg(feature = "token-store")]
pub(crate) fn store_operation(client_id: &str, store: &str, operation: &'static str, op: StoreOp) {
    #[cfg(feature = "metrics")]
    metrics::store_operation(client_id, store, operation, op.error_type());
    #[cfg(not(feature = "metrics"))]
    let _ = (client_id, store, operation, op.error_type());
}
