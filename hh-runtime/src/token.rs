//! The OAuth 2.0 client-credentials token lifecycle: fetch, cache, refresh ahead, coalesce,
//! back off, invalidate.
//!
//! How it fits together:
//! - The current token lives in an `ArcSwapOption`, so a cache hit is one atomic load and never
//!   waits on anything a refresh holds.
//! - At most one fetch runs at a time. It runs on its own task, so it belongs to no caller:
//!   dropping any caller's future never cancels or stalls it. Callers that need a token wait on
//!   a `watch` channel for its outcome.
//! - `Flight` (behind a short-lived `std` mutex, never held across an await) records the fetch
//!   in progress, when the last request went out, and the most recent failure with the time
//!   before which no new request may start. Callers that find no usable token and a recent
//!   failure get that failure at once instead of starting a fetch of their own.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::Instrument as _;
use url::Url;

use crate::body::{read_capped, scrub};
use crate::error::{Error, HttpParts, OAuthError, OAuthErrorCode, Repr, TokenFailure};

/// The largest token response we read (1 MiB); anything bigger is refused.
pub(crate) const MAX_TOKEN_RESPONSE: usize = 1024 * 1024;
/// Lifetime assumed when neither `expires_in` nor the JWT `exp` claim says otherwise.
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// The longest lifetime we believe, so that absurd `expires_in` values still refresh daily.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Never more than one token request per this interval.
pub(crate) const MIN_REQUEST_INTERVAL: Duration = Duration::from_secs(1);
/// The backoff after failed fetches grows from `MIN_REQUEST_INTERVAL` to this.
pub(crate) const MAX_FAILURE_BACKOFF: Duration = Duration::from_secs(30);
/// How long callers without a usable token share one transient failure.
pub(crate) const SHARED_FAILURE_WINDOW: Duration = Duration::from_secs(2);

/// How the client proves its identity to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_id` and `client_secret` as form fields in the request body
    /// (`client_secret_post`). HealthHero documents this method, so it is the default.
    #[default]
    Post,
    /// HTTP Basic authentication (`client_secret_basic`), with the id and the secret each
    /// form-encoded before joining, as RFC 6749 section 2.3.1 requires.
    Basic,
}

/// Everything the token source needs, fixed when the client is built.
pub(crate) struct TokenConfig {
    pub(crate) token_url: Url,
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) scope: Option<String>,
    pub(crate) auth: ClientAuth,
    pub(crate) timeout: Duration,
    pub(crate) refresh_ahead: Duration,
    pub(crate) min_remaining: Duration,
}

impl TokenConfig {
    /// The forms in which a server may echo the secret back: as sent in a form body, and raw.
    /// Bodies we keep are scrubbed of both.
    pub(crate) fn secret_forms(&self) -> [Vec<u8>; 2] {
        let raw = self.client_secret.expose_secret();
        let encoded = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>();
        [encoded.into_bytes(), raw.as_bytes().to_vec()]
    }
}

/// A cached access token with its schedule, on the monotonic clock.
pub(crate) struct AccessToken {
    token: SecretString,
    /// `Bearer <token>`, built once and marked sensitive so that `Debug` of a request hides it.
    pub(crate) header: HeaderValue,
    pub(crate) expires_at: Instant,
    pub(crate) refresh_at: Instant,
    pub(crate) usable_until: Instant,
}

impl AccessToken {
    pub(crate) fn secret_bytes(&self) -> &[u8] {
        self.token.expose_secret().as_bytes()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

type Outcome = Result<Arc<AccessToken>, Error>;

#[derive(Default)]
struct Flight {
    /// The fetch in progress, if any.
    waiting: Option<watch::Receiver<Option<Outcome>>>,
    /// Bumped for every fetch, so a finishing fetch only clears its own entry.
    generation: u64,
    /// When the latest token request was (or is scheduled to be) sent.
    last_sent: Option<Instant>,
    /// Consecutive failed fetches.
    failures: u32,
    /// The latest failure, shared with callers that need a token until `hold_until` says.
    failure: Option<Error>,
    failed_at: Option<Instant>,
    /// The earliest a background refresh may try again (backoff after failures).
    next_attempt: Option<Instant>,
}

impl Flight {
    /// Until when a caller that has no usable token gets the latest failure instead of a new
    /// request. Transient failures are shared for a short window only, so callers recover
    /// quickly once the identity server does; permanent errors and `Retry-After` hold for the
    /// whole backoff.
    fn hold_until(&self) -> Option<Instant> {
        let (failure, next, at) = (self.failure.as_ref()?, self.next_attempt?, self.failed_at?);
        if failure.is_retryable() && failure.retry_after().is_none() {
            Some(next.min(at + SHARED_FAILURE_WINDOW))
        } else {
            Some(next)
        }
    }
}

struct Shared {
    cfg: TokenConfig,
    http: reqwest::Client,
    current: ArcSwapOption<AccessToken>,
    /// Mirrors `Flight::waiting.is_some()` so the hit path can skip the mutex.
    fetching: AtomicBool,
    flight: Mutex<Flight>,
}

impl Shared {
    fn flight(&self) -> MutexGuard<'_, Flight> {
        // Nothing that holds this lock can panic half way, but never turn a poisoned lock into
        // a panic on every later call.
        self.flight.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The shared, cloneable handle to one client's token cache.
#[derive(Clone)]
pub(crate) struct TokenSource {
    shared: Arc<Shared>,
}

impl TokenSource {
    pub(crate) fn new(cfg: TokenConfig, http: reqwest::Client) -> Self {
        Self {
            shared: Arc::new(Shared {
                cfg,
                http,
                current: ArcSwapOption::empty(),
                fetching: AtomicBool::new(false),
                flight: Mutex::new(Flight::default()),
            }),
        }
    }

    pub(crate) fn config(&self) -> &TokenConfig {
        &self.shared.cfg
    }

    /// A token with at least the minimum remaining life, fetching one if needed.
    pub(crate) async fn get(&self) -> Result<Arc<AccessToken>, Error> {
        let now = Instant::now();
        if let Some(token) = &*self.shared.current.load() {
            if now < token.usable_until {
                if now >= token.refresh_at {
                    self.refresh_in_background(now);
                }
                return Ok(Arc::clone(token));
            }
        }
        self.get_slow().await
    }

    /// Starts a refresh that nobody waits for, unless one is running or a recent failure says
    /// to wait. Never blocks: if the lock is busy, someone else is deciding already.
    fn refresh_in_background(&self, now: Instant) {
        if self.shared.fetching.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut flight) = self.shared.flight.try_lock() else {
            return;
        };
        if flight.waiting.is_some() || flight.next_attempt.is_some_and(|t| now < t) {
            return;
        }
        tracing::debug!(target: "hh_runtime::token", "token in its refresh window; refreshing in the background");
        let not_before = flight.next_attempt;
        drop(self.start(&mut flight, not_before));
    }

    async fn get_slow(&self) -> Result<Arc<AccessToken>, Error> {
        let mut rx = {
            let mut flight = self.shared.flight();
            let now = Instant::now();
            if let Some(token) = self.shared.current.load_full() {
                if now < token.usable_until {
                    return Ok(token);
                }
            }
            match &flight.waiting {
                Some(rx) => rx.clone(),
                None => {
                    let hold = flight.hold_until();
                    if let (Some(failure), Some(hold)) = (&flight.failure, hold) {
                        if now < hold {
                            return Err(failure.clone());
                        }
                    }
                    self.start(&mut flight, hold)
                }
            }
        };
        loop {
            if let Some(outcome) = rx.borrow_and_update().clone() {
                return outcome;
            }
            if rx.changed().await.is_err() {
                // The sender is gone; it always sends before it goes, but check once more.
                return match rx.borrow().clone() {
                    Some(outcome) => outcome,
                    None => Err(Error::token(TokenFailure::Aborted)),
                };
            }
        }
    }

    /// Starts the one fetch, sent no earlier than `not_before` nor within a second of the
    /// previous request. The caller holds the flight lock and has checked that none runs.
    fn start(
        &self,
        flight: &mut Flight,
        not_before: Option<Instant>,
    ) -> watch::Receiver<Option<Outcome>> {
        let (tx, rx) = watch::channel(None);
        flight.waiting = Some(rx.clone());
        flight.generation += 1;
        self.shared.fetching.store(true, Ordering::Release);

        let now = Instant::now();
        let mut send_at = now;
        if let Some(last) = flight.last_sent {
            send_at = send_at.max(last + MIN_REQUEST_INTERVAL);
        }
        if let Some(not_before) = not_before {
            send_at = send_at.max(not_before);
        }
        flight.last_sent = Some(send_at);

        let guard = FlightGuard {
            shared: Arc::clone(&self.shared),
            generation: flight.generation,
            tx: Some(tx),
        };
        let span = tracing::debug_span!(
            target: "hh_runtime::token",
            // A root span: the fetch belongs to no caller, whichever one started it.
            parent: None,
            "hh.token_fetch",
            token_url = %self.shared.cfg.token_url,
            client_id = %self.shared.cfg.client_id,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        tokio::spawn(
            async move {
                tokio::time::sleep_until(send_at).await;
                let sent_at = Instant::now();
                let timeout = guard.shared.cfg.timeout;
                let outcome =
                    match tokio::time::timeout(timeout, fetch(&guard.shared, sent_at)).await {
                        Ok(outcome) => outcome,
                        Err(_) => Err(Error::token(TokenFailure::Timeout(timeout))),
                    };
                tracing::Span::current().record("latency_ms", sent_at.elapsed().as_millis() as u64);
                match &outcome {
                    Ok(token) => tracing::debug!(
                        lifetime_s = token
                            .expires_at
                            .saturating_duration_since(sent_at)
                            .as_secs(),
                        "access token issued"
                    ),
                    Err(e) => tracing::warn!(error = %e, "token request failed"),
                }
                guard.finish(outcome);
            }
            .instrument(span),
        );
        rx
    }

    /// Drops the cached token if it is still the one the API rejected. A token fetched since
    /// (by another caller that saw the same 401) is kept.
    pub(crate) fn invalidate(&self, rejected: &Arc<AccessToken>) {
        let _flight = self.shared.flight();
        let current = self.shared.current.load();
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, rejected)) {
            tracing::debug!(target: "hh_runtime::token", "API rejected the cached token; dropping it");
            self.shared.current.store(None);
        }
    }
}

/// Owned by the fetch task. Whatever way the task ends (result, panic, runtime shutdown) the
/// flight is cleared and the waiters are answered.
struct FlightGuard {
    shared: Arc<Shared>,
    generation: u64,
    tx: Option<watch::Sender<Option<Outcome>>>,
}

impl FlightGuard {
    fn finish(mut self, outcome: Outcome) {
        self.complete(outcome);
    }

    fn complete(&mut self, outcome: Outcome) {
        let Some(tx) = self.tx.take() else { return };
        {
            let mut flight = self.shared.flight();
            if flight.generation == self.generation {
                flight.waiting = None;
                self.shared.fetching.store(false, Ordering::Release);
            }
            match &outcome {
                Ok(token) => {
                    self.shared.current.store(Some(Arc::clone(token)));
                    flight.failures = 0;
                    flight.failure = None;
                    flight.failed_at = None;
                    flight.next_attempt = None;
                }
                Err(error) => {
                    flight.failures = flight.failures.saturating_add(1);
                    let wait = failure_backoff(flight.failures, error);
                    let now = Instant::now();
                    flight.next_attempt = Some(now + wait);
                    flight.failed_at = Some(now);
                    flight.failure = Some(error.clone());
                }
            }
        }
        tx.send_replace(Some(outcome));
    }
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if self.tx.is_some() {
            self.complete(Err(Error::token(TokenFailure::Aborted)));
        }
    }
}

/// How long after a failed fetch the next may start: exponential from 1 s to 30 s with equal
/// jitter, straight to the cap for permanent errors, never sooner than `Retry-After`.
fn failure_backoff(failures: u32, error: &Error) -> Duration {
    let step = if error.is_retryable() {
        MIN_REQUEST_INTERVAL
            .saturating_mul(1u32 << failures.saturating_sub(1).min(10))
            .min(MAX_FAILURE_BACKOFF)
    } else {
        MAX_FAILURE_BACKOFF
    };
    let jittered = step / 2 + (step / 2).mul_f64(fastrand::f64());
    jittered
        .max(MIN_REQUEST_INTERVAL)
        .max(error.retry_after().unwrap_or_default())
}

/// One token request, start to finish.
async fn fetch(shared: &Shared, sent_at: Instant) -> Outcome {
    let cfg = &shared.cfg;
    let secret = cfg.client_secret.expose_secret();
    let mut request = shared
        .http
        .post(cfg.token_url.clone())
        .header(ACCEPT, "application/json")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
    if cfg.auth == ClientAuth::Basic {
        request = request.header(AUTHORIZATION, basic_auth(&cfg.client_id, secret));
    }
    let body = token_request_body(cfg);
    let response = request
        .body(body.expose_secret().to_owned())
        .send()
        .await
        .map_err(|e| Error::token(TokenFailure::Transport(e.without_url())))?;

    let status = response.status();
    let headers = response.headers().clone();
    tracing::Span::current().record("status", status.as_u16());
    if status.is_redirection() {
        let location = headers
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        return Err(token_error(
            TokenFailure::Redirect(location),
            status,
            headers,
            Bytes::new(),
            false,
        ));
    }
    let (body, truncated) = read_capped(response, MAX_TOKEN_RESPONSE)
        .await
        .map_err(|e| Error::token(TokenFailure::Transport(e.without_url())))?;
    let [encoded, raw] = cfg.secret_forms();
    let body = scrub(body, &[&encoded, &raw]);
    if truncated {
        return Err(token_error(
            TokenFailure::Malformed(format!(
                "the body is larger than {} KiB",
                MAX_TOKEN_RESPONSE / 1024
            )),
            status,
            headers,
            body,
            true,
        ));
    }
    match parse_token_response(status, &body) {
        Ok(parsed) => Ok(Arc::new(parsed.schedule(sent_at, cfg))),
        Err(failure) => Err(token_error(failure, status, headers, body, false)),
    }
}

fn token_error(
    failure: TokenFailure,
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
    truncated: bool,
) -> Error {
    let retry_after = crate::retry::retry_after(&headers);
    Error::new(Repr::Token {
        failure,
        http: Some(HttpParts {
            status,
            headers,
            body,
            truncated,
        }),
        retry_after,
    })
}

/// The form body of a client-credentials token request.
fn token_request_body(cfg: &TokenConfig) -> SecretString {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if let Some(scope) = &cfg.scope {
        form.append_pair("scope", scope);
    }
    if cfg.auth == ClientAuth::Post {
        form.append_pair("client_id", &cfg.client_id);
        form.append_pair("client_secret", cfg.client_secret.expose_secret());
    }
    SecretString::from(form.finish())
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, marked sensitive.
pub(crate) fn basic_auth(client_id: &str, secret: &str) -> HeaderValue {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let credentials = SecretString::from(format!("{}:{}", encode(client_id), encode(secret)));
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials.expose_secret());
    let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

/// A successful token response, before it is placed on the clock.
#[derive(Debug)]
pub(crate) struct ParsedToken {
    token: SecretString,
    header: HeaderValue,
    pub(crate) lifetime: Duration,
}

impl ParsedToken {
    fn schedule(self, sent_at: Instant, cfg: &TokenConfig) -> AccessToken {
        let (refresh_ahead, min_remaining) =
            thresholds(self.lifetime, cfg.refresh_ahead, cfg.min_remaining);
        let expires_at = sent_at + self.lifetime;
        AccessToken {
            token: self.token,
            header: self.header,
            expires_at,
            refresh_at: expires_at - refresh_ahead,
            usable_until: expires_at - min_remaining,
        }
    }
}

/// How long before expiry to start refreshing, and the least remaining life a token may be
/// handed out with: the configured values, capped at 50% and 25% of the lifetime so that
/// short-lived tokens are still used (and not re-fetched on every call).
pub(crate) fn thresholds(
    lifetime: Duration,
    refresh_ahead: Duration,
    min_remaining: Duration,
) -> (Duration, Duration) {
    (
        refresh_ahead.min(lifetime / 2),
        min_remaining.min(lifetime / 4),
    )
}

/// Turns a token endpoint answer into a token or a typed failure. Pure, so that every odd
/// answer a server can give is unit-tested without a network.
pub(crate) fn parse_token_response(
    status: StatusCode,
    body: &[u8],
) -> Result<ParsedToken, TokenFailure> {
    let malformed = |m: &str| TokenFailure::Malformed(m.to_owned());
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(malformed("the body is empty"));
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(malformed("the body is not valid UTF-8"));
    };
    let json: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) if text.trim_start().starts_with('<') => {
            return Err(malformed("the body is HTML, not a JSON token response"));
        }
        Err(e) => {
            return Err(TokenFailure::Malformed(format!(
                "the body is not JSON ({e})"
            )));
        }
    };
    let Some(object) = json.as_object() else {
        return Err(malformed("the body is JSON but not an object"));
    };
    // RFC 6749 section 5.2, on any status: some servers send `error` with 200.
    if let Some(code) = object.get("error") {
        let Some(code) = code.as_str() else {
            return Err(malformed("`error` is not a string"));
        };
        let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        return Err(TokenFailure::OAuth(OAuthError {
            code: OAuthErrorCode::parse(code),
            description: text("error_description"),
            uri: text("error_uri"),
        }));
    }
    if !status.is_success() {
        return Err(TokenFailure::Malformed(format!(
            "HTTP {status} without an RFC 6749 `error` member"
        )));
    }
    let token = match object.get("access_token") {
        Some(serde_json::Value::String(t)) if !t.is_empty() => t,
        Some(serde_json::Value::String(_)) => return Err(malformed("`access_token` is empty")),
        Some(_) => return Err(malformed("`access_token` is not a string")),
        None => return Err(malformed("there is no `access_token`")),
    };
    match object.get("token_type").and_then(|t| t.as_str()) {
        // RFC 6749 section 5.1: the type is case-insensitive.
        Some(t) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err(malformed("`token_type` is not `Bearer`")),
        None => return Err(malformed("there is no `token_type`")),
    }
    let lifetime = match parse_expires_in(object.get("expires_in"))? {
        Some(lifetime) => lifetime,
        None => jwt_lifetime(token, SystemTime::now()).unwrap_or(DEFAULT_LIFETIME),
    };
    let mut header = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
        malformed("`access_token` contains characters that cannot be sent in an HTTP header")
    })?;
    header.set_sensitive(true);
    Ok(ParsedToken {
        token: SecretString::from(token.as_str()),
        header,
        lifetime,
    })
}

/// `expires_in` as the spec says (a number of seconds) or as servers send it (a string, a
/// float). Missing, `null`, zero and negative mean "not stated"; values beyond a day are
/// capped at a day.
pub(crate) fn parse_expires_in(
    value: Option<&serde_json::Value>,
) -> Result<Option<Duration>, TokenFailure> {
    let seconds = match value {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    let Some(seconds) = seconds.filter(|s| s.is_finite()) else {
        return Err(TokenFailure::Malformed(
            "`expires_in` is not a number of seconds".to_owned(),
        ));
    };
    if seconds < 1.0 {
        return Ok(None);
    }
    Ok(Some(
        Duration::try_from_secs_f64(seconds)
            .unwrap_or(MAX_LIFETIME)
            .min(MAX_LIFETIME),
    ))
}

/// The remaining life from a JWT's `exp` claim, read without verifying the signature: this
/// only schedules refreshes, it grants nothing.
pub(crate) fn jwt_lifetime(token: &str, now: SystemTime) -> Option<Duration> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    if !exp.is_finite() || exp <= 0.0 {
        return None;
    }
    let exp = UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(exp).ok()?)?;
    let remaining = exp.duration_since(now).ok()?;
    (remaining >= Duration::from_secs(1)).then(|| remaining.min(MAX_LIFETIME))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(status: u16, body: &str) -> Result<ParsedToken, TokenFailure> {
        parse_token_response(StatusCode::from_u16(status).unwrap(), body.as_bytes())
    }

    fn malformed(r: Result<ParsedToken, TokenFailure>) -> String {
        match r {
            Err(TokenFailure::Malformed(m)) => m,
            other => panic!("expected a malformed-response error, got {other:?}"),
        }
    }

    #[test]
    fn success_with_every_field() {
        let t = parse(
            200,
            r#"{"access_token":"abc","token_type":"Bearer","expires_in":3600,"scope":"api"}"#,
        )
        .unwrap();
        assert_eq!(t.lifetime, Duration::from_secs(3600));
        assert_eq!(t.header, "Bearer abc");
        assert!(t.header.is_sensitive());
    }

    #[test]
    fn token_type_is_case_insensitive() {
        assert!(
            parse(
                200,
                r#"{"access_token":"a","token_type":"bearer","expires_in":60}"#
            )
            .is_ok()
        );
        assert!(
            parse(
                200,
                r#"{"access_token":"a","token_type":"BEARER","expires_in":60}"#
            )
            .is_ok()
        );
    }

    #[test]
    fn expires_in_variants() {
        let e = |v: serde_json::Value| parse_expires_in(Some(&v));
        assert_eq!(e(json!(3600)).unwrap(), Some(Duration::from_secs(3600)));
        assert_eq!(e(json!("3600")).unwrap(), Some(Duration::from_secs(3600)));
        assert_eq!(e(json!(3600.0)).unwrap(), Some(Duration::from_secs(3600)));
        assert_eq!(e(json!(90.5)).unwrap(), Some(Duration::from_millis(90_500)));
        assert_eq!(e(json!(null)).unwrap(), None);
        assert_eq!(parse_expires_in(None).unwrap(), None);
        assert_eq!(e(json!(0)).unwrap(), None);
        assert_eq!(e(json!(-5)).unwrap(), None);
        assert_eq!(
            e(json!(9_223_372_036_854_775_808u64)).unwrap(),
            Some(MAX_LIFETIME)
        );
        assert_eq!(e(json!(u64::MAX)).unwrap(), Some(MAX_LIFETIME));
        assert_eq!(e(json!(1e300)).unwrap(), Some(MAX_LIFETIME));
        assert!(e(json!("soon")).is_err());
        assert!(e(json!(true)).is_err());
        assert!(e(json!([1])).is_err());
    }

    fn jwt(claims: serde_json::Value) -> String {
        let enc = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!("{}.{}.sig", enc(&json!({"alg":"RS256"})), enc(&claims))
    }

    #[test]
    fn missing_expires_in_uses_jwt_exp_then_default() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let token = jwt(json!({"exp": now + 1200, "client_id": "c"}));
        let t = parse(
            200,
            &format!(r#"{{"access_token":"{token}","token_type":"Bearer"}}"#),
        )
        .unwrap();
        assert!(
            t.lifetime > Duration::from_secs(1190) && t.lifetime <= Duration::from_secs(1200),
            "{:?}",
            t.lifetime
        );
        let opaque = parse(200, r#"{"access_token":"opaque","token_type":"Bearer"}"#).unwrap();
        assert_eq!(opaque.lifetime, DEFAULT_LIFETIME);
        let expired = jwt(json!({"exp": now - 10}));
        assert_eq!(jwt_lifetime(&expired, SystemTime::now()), None);
        assert_eq!(jwt_lifetime("not.a-jwt!.x", SystemTime::now()), None);
        assert_eq!(
            jwt_lifetime(&jwt(json!({"exp": "x"})), SystemTime::now()),
            None
        );
        assert_eq!(
            jwt_lifetime(&jwt(json!({"exp": 1e300})), SystemTime::now()),
            None
        );
    }

    #[test]
    fn oauth_errors_on_any_status() {
        for status in [400, 401, 200] {
            match parse(
                status,
                r#"{"error":"invalid_client","error_description":"bad secret","error_uri":"https://e/x"}"#,
            ) {
                Err(TokenFailure::OAuth(e)) => {
                    assert_eq!(e.code, OAuthErrorCode::InvalidClient);
                    assert_eq!(e.description.as_deref(), Some("bad secret"));
                    assert_eq!(e.uri.as_deref(), Some("https://e/x"));
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn malformed_responses() {
        assert!(malformed(parse(200, "")).contains("empty"));
        assert!(malformed(parse(200, "  \n")).contains("empty"));
        assert!(malformed(parse(502, "<html><body>Bad gateway</body></html>")).contains("HTML"));
        assert!(malformed(parse(200, "{not json")).contains("not JSON"));
        assert!(malformed(parse(200, "[1,2]")).contains("not an object"));
        assert!(malformed(parse(200, r#"{"token_type":"Bearer"}"#)).contains("no `access_token`"));
        assert!(
            malformed(parse(200, r#"{"access_token":"","token_type":"Bearer"}"#)).contains("empty")
        );
        assert!(
            malformed(parse(200, r#"{"access_token":7,"token_type":"Bearer"}"#))
                .contains("not a string")
        );
        assert!(malformed(parse(200, r#"{"access_token":"a"}"#)).contains("no `token_type`"));
        assert!(
            malformed(parse(200, r#"{"access_token":"a","token_type":"mac"}"#))
                .contains("not `Bearer`")
        );
        assert!(
            malformed(parse(
                200,
                r#"{"access_token":"a\r\nX-Evil: 1","token_type":"Bearer"}"#
            ))
            .contains("header")
        );
        assert!(malformed(parse(500, r#"{"message":"oops"}"#)).contains("HTTP 500"));
        assert!(malformed(parse(200, r#"{"error":5}"#)).contains("`error`"));
        let invalid_utf8 = parse_token_response(StatusCode::OK, b"{\"a\":\"\xff\"}");
        assert!(malformed(invalid_utf8).contains("UTF-8"));
    }

    #[test]
    fn thresholds_are_capped_by_lifetime() {
        let d = Duration::from_secs;
        assert_eq!(thresholds(d(3600), d(300), d(30)), (d(300), d(30)));
        assert_eq!(thresholds(d(60), d(300), d(30)), (d(30), d(15)));
        assert_eq!(
            thresholds(d(1), d(300), d(30)),
            (Duration::from_millis(500), Duration::from_millis(250))
        );
    }

    mod fuzz {
        //! Property tests run by `cargo test` (256 cases each); for a longer run:
        //! `PROPTEST_CASES=200000 cargo test -p hh-runtime --lib fuzz`.
        use super::super::*;
        use proptest::prelude::*;

        fn json_value() -> impl Strategy<Value = serde_json::Value> {
            prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(|f| serde_json::json!(f)),
                "\\PC{0,20}".prop_map(serde_json::Value::from),
                Just(serde_json::json!("3600")),
                Just(serde_json::json!(u64::MAX)),
            ]
        }

        proptest! {
            #[test]
            fn token_parser_never_panics_on_bytes(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..600)) {
                let _ = parse_token_response(StatusCode::from_u16(status).unwrap(), &body);
            }

            #[test]
            fn token_parser_on_token_like_json(
                token in json_value(),
                kind in prop_oneof![Just(serde_json::json!("Bearer")), Just(serde_json::json!("bearer")), json_value()],
                expires in json_value(),
                error in prop::option::of(json_value()),
                status in prop_oneof![Just(200u16), Just(400u16), Just(401u16), Just(503u16)],
            ) {
                let mut object = serde_json::json!({"access_token": token, "token_type": kind, "expires_in": expires});
                if let Some(e) = error {
                    object["error"] = e;
                }
                let body = object.to_string();
                if let Ok(parsed) = parse_token_response(StatusCode::from_u16(status).unwrap(), body.as_bytes()) {
                    // Whatever was accepted is usable: a bounded lifetime and a sendable header.
                    prop_assert!(parsed.lifetime <= MAX_LIFETIME);
                    prop_assert!(parsed.lifetime >= Duration::from_secs(1));
                    prop_assert!(parsed.header.to_str().is_ok() || parsed.header.as_bytes().starts_with(b"Bearer "));
                    prop_assert!(parsed.header.is_sensitive());
                }
            }
        }
    }

    #[test]
    fn basic_auth_form_encodes_before_base64() {
        let header = basic_auth("my client:1", "p%s+w rd:ü");
        assert!(header.is_sensitive());
        let encoded = header.to_str().unwrap().strip_prefix("Basic ").unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "my+client%3A1:p%25s%2Bw+rd%3A%C3%BC"
        );
    }
}
