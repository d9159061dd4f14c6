//! W3C trace context on the wire (feature `opentelemetry`): `traceparent` and `tracestate`
//! written into each attempt's headers from the attempt span's OpenTelemetry context, through
//! the globally installed propagator (`opentelemetry::global::set_text_map_propagator`), so
//! the server's spans continue the trace under the very span that sent the request. Without
//! the feature this compiles to nothing, and no OpenTelemetry crate is built.

use http::HeaderMap;
use tracing::Span;

/// Writes the trace context of `span` (the attempt's; the current span's, when a filter left
/// the attempt's disabled) into `headers`, replacing any `traceparent` and `tracestate`
/// already there.
#[cfg(feature = "opentelemetry")]
pub(crate) fn inject(span: &Span, headers: &mut HeaderMap) {
    use opentelemetry::propagation::Injector;
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;

    struct Headers<'a>(&'a mut HeaderMap);

    impl Injector for Headers<'_> {
        fn set(&mut self, key: &str, value: String) {
            // W3C: an empty `tracestate` is not sent. A name or value that cannot be a header
            // (a propagator's own) is skipped.
            if value.is_empty() {
                return;
            }
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(key.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                self.0.insert(name, value);
            }
        }
    }

    let mut cx = span.context();
    if !cx.has_active_span() {
        cx = Span::current().context();
    }
    if !cx.has_active_span() {
        // The user's own OpenTelemetry context, for code that uses its API directly.
        cx = opentelemetry::Context::current();
    }
    let mut injected = HeaderMap::new();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&cx, &mut Headers(&mut injected));
    });
    if injected.is_empty() {
        // No propagator installed, or nothing to say: the request's own headers stand.
        return;
    }
    // This attempt's context replaces, whole, any a default or declared header carried: a
    // `tracestate` left from another trace would be read as this one's.
    headers.remove("traceparent");
    headers.remove("tracestate");
    for (name, value) in injected {
        if let Some(name) = name {
            headers.insert(name, value);
        }
    }
}

/// Without the `opentelemetry` feature there is nothing to propagate.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn inject(_span: &Span, _headers: &mut HeaderMap) {}
