//! The `metrics` feature: every metric the runtime emits, with its name, unit and labels.
//! Handles are looked up per sample rather than kept, so a recorder installed after the
//! client was built still receives everything.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{StatusCode, Version};
pub(super) use metrics::SharedString;
use metrics::{Label, Unit};

use super::{Endpoint, ErrorType, Server};

/// `http.client.request.duration`: one sample per HTTP request, in seconds, as OpenTelemetry's
/// HTTP client conventions define it: each attempt of a call (the first, each retry, the
/// replay after a 401) and each token request (`url.template` the token endpoint's path).
pub const REQUEST_DURATION: &str = "http.client.request.duration";
/// `hh.client.call.duration`: one sample per logical call (its token wait, attempts and
/// backoff sleeps included), in seconds.
pub const CALL_DURATION: &str = "hh.client.call.duration";
/// `hh.token.requests`: token requests sent, by `hh.outcome` (`success` or `error`, with
/// `error.type`).
pub const TOKEN_REQUESTS: &str = "hh.token.requests";
/// `hh.token.request.duration`: how long each token request took, in seconds.
pub const TOKEN_REQUEST_DURATION: &str = "hh.token.request.duration";
/// `hh.token.cache.hits`: token lookups (one per attempt) that found a usable token.
pub const TOKEN_CACHE_HITS: &str = "hh.token.cache.hits";
/// `hh.token.cache.misses`: token lookups that had to wait for a token request.
pub const TOKEN_CACHE_MISSES: &str = "hh.token.cache.misses";
/// `hh.token.wait.duration`: how long a lookup that missed the cache waited, in seconds.
pub const TOKEN_WAIT_DURATION: &str = "hh.token.wait.duration";
/// `hh.token.remaining_lifetime`: the life left in the token the last call used, in
/// seconds.
pub const TOKEN_REMAINING: &str = "hh.token.remaining_lifetime";
/// `hh.token.store.available`: 1 while the shared token store answers, 0 while it does not
/// (set with each operation on it), by `hh.client_id` and `hh.token.store` (the store's
/// name).
pub const STORE_AVAILABLE: &str = "hh.token.store.available";
/// `hh.token.store.operations`: operations on the shared token store, by `hh.client_id`,
/// `hh.token.store`, `hh.token.store.operation` (`connect`, `get`, `put`, `put_if_absent`,
/// `delete_if_equals`) and `hh.outcome` (`success`, or `error` with `error.type`: `timeout`,
/// `error` or `panic`).
pub const STORE_OPERATIONS: &str = "hh.token.store.operations";
/// `hh.token.store.outcomes`: what the shared store said before each token fetch, by
/// `hh.client_id`, `hh.token.store` and `hh.token.store.outcome`: `adopted` (the fleet's token, no request),
/// `lease won` (this process fetches for the fleet), `unavailable` (the store did not answer:
/// this process fetches alone, uncoordinated), `lease lost` (it fetches alone after another
/// process's lease ran out), `timed out`.
pub const STORE_OUTCOMES: &str = "hh.token.store.outcomes";

/// The explicit bucket boundaries OpenTelemetry's HTTP conventions give
/// `http.client.request.duration`, in seconds, for every duration histogram here. Give them
/// to your exporter: Prometheus histograms (not summaries) with these buckets add up across
/// replicas.
pub const DURATION_BUCKETS: [f64; 15] = [
    0.0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

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
    let seconds = |name: &'static str, what: &'static str| {
        metrics::describe_histogram!(name, Unit::Seconds, what);
    };
    seconds(
        REQUEST_DURATION,
        "Duration of HTTP client requests (one per attempt).",
    );
    seconds(
        CALL_DURATION,
        "Duration of logical API calls (token wait, attempts and backoffs included).",
    );
    seconds(TOKEN_REQUEST_DURATION, "Duration of token requests.");
    seconds(
        TOKEN_WAIT_DURATION,
        "Time a call waited for a token after a cache miss.",
    );
    metrics::describe_counter!(TOKEN_REQUESTS, "Token requests sent, by outcome.");
    metrics::describe_counter!(TOKEN_CACHE_HITS, "Calls served from the token cache.");
    metrics::describe_counter!(TOKEN_CACHE_MISSES, "Calls that waited for a token request.");
    metrics::describe_gauge!(
        TOKEN_REMAINING,
        Unit::Seconds,
        "Remaining life of the current access token."
    );
    metrics::describe_gauge!(
        STORE_AVAILABLE,
        "1 while the shared token store answers, 0 while it does not."
    );
    metrics::describe_counter!(
        STORE_OPERATIONS,
        "Operations on the shared token store, by operation and outcome."
    );
    metrics::describe_counter!(
        STORE_OUTCOMES,
        "What the shared token store said before each token fetch."
    );
}

/// The labels every HTTP sample carries: method, route and server.
fn http_labels(method: &'static str, url_template: SharedString, server: &Server) -> Vec<Label> {
    let mut labels = Vec::with_capacity(8);
    labels.push(Label::from_static_parts("http.request.method", method));
    labels.push(Label::new("url.template", url_template));
    labels.push(Label::new(
        "server.address",
        SharedString::from(std::sync::Arc::clone(&server.address)),
    ));
    labels.push(Label::new("server.port", port_label(server.port)));
    labels
}

/// One HTTP request (an attempt, a token request): `http.client.request.duration` with the
/// conventions' attributes, `url.scheme` and `url.template` included;
/// `http.response.status_code` and `network.protocol.version` when the server answered,
/// `error.type` when the request failed.
pub(super) fn attempt(
    method: &'static str,
    url_template: SharedString,
    server: &Server,
    answer: Option<(StatusCode, Version)>,
    error: Option<ErrorType>,
    elapsed: Duration,
) {
    describe();
    let mut labels = http_labels(method, url_template, server);
    labels.push(Label::from_static_parts("url.scheme", server.scheme));
    if let Some((status, version)) = answer {
        labels.push(Label::new(
            "http.response.status_code",
            status_label(status),
        ));
        if let Some(version) = super::protocol_version(version) {
            labels.push(Label::from_static_parts(
                "network.protocol.version",
                version,
            ));
        }
    }
    if let Some(error) = error {
        labels.push(Label::new("error.type", error.as_str().to_owned()));
    }
    metrics::histogram!(REQUEST_DURATION, labels).record(elapsed.as_secs_f64());
}

/// One logical call: `hh.client.call.duration`, by `hh.endpoint` and the HTTP labels;
/// `http.response.status_code` is that of the answer the call returned, if any, and `error.type` is
/// set when the call returned an error.
pub(super) fn call(
    endpoint: &Endpoint,
    server: &Server,
    status: Option<StatusCode>,
    error: Option<ErrorType>,
    elapsed: Duration,
) {
    describe();
    let template = SharedString::const_str(endpoint.url_template);
    let mut labels = http_labels(endpoint.method, template, server);
    labels.push(Label::from_static_parts("hh.endpoint", endpoint.name));
    if let Some(status) = status {
        labels.push(Label::new(
            "http.response.status_code",
            status_label(status),
        ));
    }
    if let Some(error) = error {
        labels.push(Label::new("error.type", error.as_str().to_owned()));
    }
    metrics::histogram!(CALL_DURATION, labels).record(elapsed.as_secs_f64());
}

/// A status code as a label value, without an allocation for the codes an API usually
/// answers with.
fn status_label(status: StatusCode) -> SharedString {
    const COMMON: [&str; 16] = [
        "200", "201", "202", "204", "400", "401", "403", "404", "409", "412", "422", "429", "500",
        "502", "503", "504",
    ];
    match COMMON
        .iter()
        .find(|code| code.as_bytes() == status.as_str().as_bytes())
    {
        Some(code) => SharedString::const_str(code),
        None => SharedString::from(status.as_str().to_owned()),
    }
}

/// A port as a label value, without an allocation for the default ports.
fn port_label(port: u16) -> SharedString {
    match port {
        443 => SharedString::const_str("443"),
        80 => SharedString::const_str("80"),
        port => SharedString::from(port.to_string()),
    }
}

pub(super) fn token_request(error: Option<ErrorType>, elapsed: Duration) {
    describe();
    match error {
        None => metrics::counter!(TOKEN_REQUESTS, "hh.outcome" => "success").increment(1),
        Some(error) => metrics::counter!(
            TOKEN_REQUESTS,
            "hh.outcome" => "error",
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

/// A call waited `waited` for a token.
pub(crate) fn token_cache_miss(waited: Duration) {
    describe();
    metrics::counter!(TOKEN_CACHE_MISSES).increment(1);
    metrics::histogram!(TOKEN_WAIT_DURATION).record(waited.as_secs_f64());
}

#[cfg(feature = "token-store")]
pub(super) fn store_operation(
    client_id: &str,
    store: &str,
    operation: &'static str,
    error: Option<&'static str>,
) {
    describe();
    let (client_id, store) = (client_id.to_owned(), store.to_owned());
    match error {
        None => metrics::counter!(
            STORE_OPERATIONS,
            "hh.client_id" => client_id,
            "hh.token.store" => store,
            "hh.token.store.operation" => operation,
            "hh.outcome" => "success"
        )
        .increment(1),
        Some(error) => metrics::counter!(
            STORE_OPERATIONS,
            "hh.client_id" => client_id,
            "hh.token.store" => store,
            "hh.token.store.operation" => operation,
            "hh.outcome" => "error",
            "error.type" => error
        )
        .increment(1),
    }
}

#[cfg(feature = "token-store")]
pub(super) fn store_available(client_id: &str, store: &str, available: bool) {
    describe();
    let labels = [
        ("hh.client_id", client_id.to_owned()),
        ("hh.token.store", store.to_owned()),
    ];
    metrics::gauge!(STORE_AVAILABLE, &labels).set(if available { 1.0 } else { 0.0 });
}

#[cfg(feature = "token-store")]
pub(super) fn store_outcome(client_id: &str, store: &str, outcome: &'static str) {
    describe();
    metrics::counter!(
        STORE_OUTCOMES,
        "hh.client_id" => client_id.to_owned(),
        "hh.token.store" => store.to_owned(),
        "hh.token.store.outcome" => outcome
    )
    .increment(1);
}
