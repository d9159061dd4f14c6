//! The W3C trace context requests carry, kept as a server continuing its callers' traces
//! would read it, so tests can check that a client propagates the right span.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use axum::http::HeaderMap;

/// The W3C trace context one request carried (`traceparent`, and `tracestate` if any), as a
/// server continuing the caller's trace reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceContext {
    /// The endpoint's name (as in [`ENDPOINTS`](crate::ENDPOINTS); `token` for the identity
    /// server).
    pub endpoint: String,
    /// `traceparent`: `00-{trace id}-{parent span id}-{flags}`.
    pub traceparent: String,
    /// `tracestate`, when sent.
    pub tracestate: Option<String>,
}

impl TraceContext {
    /// The trace id `traceparent` names (32 hex digits), if it is well formed.
    pub fn trace_id(&self) -> Option<&str> {
        self.part(1, 32)
    }

    /// The parent span id `traceparent` names (16 hex digits): the caller's span that sent
    /// the request.
    pub fn parent_id(&self) -> Option<&str> {
        self.part(2, 16)
    }

    fn part(&self, index: usize, len: usize) -> Option<&str> {
        let parts: Vec<&str> = self.traceparent.split('-').collect();
        match parts[..] {
            [version, _, _, flags] if version.len() == 2 && flags.len() == 2 => parts
                .get(index)
                .copied()
                .filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_hexdigit())),
            _ => None,
        }
    }
}

/// How many trace contexts the sandbox keeps (the latest).
const TRACE_CONTEXTS_KEPT: usize = 4096;

/// The trace contexts received, the latest last (bounded).
#[derive(Default)]
pub(crate) struct TraceContexts(Mutex<VecDeque<TraceContext>>);

impl TraceContexts {
    /// Keeps the trace context a request to `endpoint` carried, if any.
    pub(crate) fn record(&self, endpoint: &str, headers: &HeaderMap) {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let Some(traceparent) = text("traceparent") else {
            return;
        };
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() == TRACE_CONTEXTS_KEPT {
            kept.pop_front();
        }
        kept.push_back(TraceContext {
            endpoint: endpoint.to_owned(),
            traceparent,
            tracestate: text("tracestate"),
        });
    }

    /// Every one kept, oldest first.
    pub(crate) fn all(&self) -> Vec<TraceContext> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.iter().cloned().collect()
    }
}
