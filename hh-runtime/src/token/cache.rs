//! The token cache's state and every decision it makes, as pure functions of the time, the
//! cached token and the state: when a token is fresh, when to refresh it, whether a caller
//! joins a fetch, gets a recent failure or starts a fetch, when that fetch may be sent, and how
//! long a failure holds. No I/O and no clock of its own: the caller passes `now` (tokio's
//! clock, so tests can pause it) and the jitter, so each rule is tested at any instant.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;
use tokio::time::Instant;

use super::oauth::ParsedToken;
use crate::error::Error;

/// Never more than one token request per this interval.
pub(crate) const MIN_REQUEST_INTERVAL: Duration = Duration::from_secs(1);
/// The backoff after failed fetches grows from `MIN_REQUEST_INTERVAL` to this, and no failure
/// (a `Retry-After` from the token endpoint included) holds longer.
pub(crate) const MAX_FAILURE_BACKOFF: Duration = Duration::from_secs(30);
/// How long callers without a usable token share one transient failure.
pub(crate) const SHARED_FAILURE_WINDOW: Duration = Duration::from_secs(2);
/// A token from a shared store is used for this much less than its lifetime by the wall clock
/// (or a tenth of its lifetime, if less), for the skew between the clocks of two hosts.
#[cfg(feature = "token-store")]
pub(crate) const CLOCK_SKEW_MARGIN: Duration = Duration::from_secs(5);

/// A cached access token with its schedule, on the monotonic clock.
pub(crate) struct CachedToken {
    token: SecretString,
    /// `Bearer <token>`, built once and marked sensitive so that `Debug` of a request hides it.
    pub(crate) header: HeaderValue,
    pub(crate) expires_at: Instant,
    pub(crate) refresh_at: Instant,
    pub(crate) usable_until: Instant,
    /// When the token request was sent, by the wall clock, and the lifetime the identity
    /// server gave: what a shared store records, since other hosts have other monotonic clocks.
    /// (Read only by a shared store, feature `token-store`.)
    #[cfg_attr(not(feature = "token-store"), allow(dead_code))]
    pub(crate) issued: SystemTime,
    #[cfg_attr(not(feature = "token-store"), allow(dead_code))]
    pub(crate) lifetime: Duration,
    /// The sealed entry this token was published as or adopted from, so that a 401 removes
    /// the shared entry only if it still holds this token.
    #[cfg_attr(not(feature = "token-store"), allow(dead_code))]
    pub(crate) sealed: OnceLock<Vec<u8>>,
    /// Whether it came from the fleet's store rather than from a request of this process: a
    /// token this process cannot know was revoked along with its own.
    pub(crate) adopted: bool,
}

impl CachedToken {
    /// Places a parsed token on the clock. Its life counts from `sent_at` (`issued` by the
    /// wall clock), when the request went out, so the time the answer took is never counted
    /// as life left.
    pub(crate) fn new(
        parsed: ParsedToken,
        sent_at: Instant,
        issued: SystemTime,
        refresh_ahead: Duration,
        min_remaining: Duration,
    ) -> Self {
        let expires_at = sent_at + parsed.lifetime;
        Self::expiring(parsed, expires_at, issued, refresh_ahead, min_remaining)
    }

    /// Places a token from a shared entry on this process's clock: it expires when the entry
    /// says by the wall clock (read at `wall`, which is `now` on the monotonic clock), less a
    /// margin for the skew between the host that fetched it and this one. `None` if that
    /// leaves nothing.
    #[cfg(feature = "token-store")]
    pub(crate) fn shared(
        parsed: ParsedToken,
        issued: SystemTime,
        (now, wall): (Instant, SystemTime),
        refresh_ahead: Duration,
        min_remaining: Duration,
    ) -> Option<Self> {
        let margin = CLOCK_SKEW_MARGIN.min(parsed.lifetime / 10);
        let left = (issued + parsed.lifetime)
            .duration_since(wall)
            .ok()?
            .checked_sub(margin)?;
        let expires_at = now + left;
        let mut token = Self::expiring(parsed, expires_at, issued, refresh_ahead, min_remaining);
        token.adopted = true;
        Some(token)
    }

    fn expiring(
        parsed: ParsedToken,
        expires_at: Instant,
        issued: SystemTime,
        refresh_ahead: Duration,
        min_remaining: Duration,
    ) -> Self {
        let (refresh_ahead, min_remaining) =
            thresholds(parsed.lifetime, refresh_ahead, min_remaining);
        CachedToken {
            token: parsed.token,
            header: parsed.header,
            expires_at,
            refresh_at: expires_at.checked_sub(refresh_ahead).unwrap_or(expires_at),
            usable_until: expires_at.checked_sub(min_remaining).unwrap_or(expires_at),
            issued,
            lifetime: parsed.lifetime,
            sealed: OnceLock::new(),
            adopted: false,
        }
    }

    pub(crate) fn secret_bytes(&self) -> &[u8] {
        self.token.expose_secret().as_bytes()
    }

    /// Whether two tokens are the same token (wherever each came from).
    #[cfg(feature = "token-store")]
    pub(crate) fn same_token(&self, other: &CachedToken) -> bool {
        self.secret_bytes() == other.secret_bytes()
    }

    /// Whether a caller may use this token at `now`.
    pub(crate) fn is_usable(&self, now: Instant) -> bool {
        now < self.usable_until
    }

    /// Whether a background refresh should start at `now` (the token is still usable).
    pub(crate) fn wants_refresh(&self, now: Instant) -> bool {
        now >= self.refresh_at
    }
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The refresh-ahead time of one token: the configured one, less up to a quarter of it at
/// random (`jitter` uniform in `[0, 1)`), so that replicas started together, each fetching
/// its own token, do not all refresh at the same instant of every lifetime.
pub(crate) fn spread(refresh_ahead: Duration, jitter: f64) -> Duration {
    refresh_ahead - (refresh_ahead / 4).mul_f64(jitter.clamp(0.0, 1.0))
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

/// What a fetch ends with, as its waiters see it.
pub(crate) type Outcome = Result<Arc<CachedToken>, Error>;
/// Where the waiters of a fetch watch for its outcome.
pub(crate) type Waiters = watch::Receiver<Option<Outcome>>;

/// Everything about fetching that is not the token itself.
#[derive(Default)]
pub(crate) struct Flight {
    /// The fetch in progress, if any.
    waiting: Option<Waiters>,
    /// When the latest token request was (or is scheduled to be) sent.
    last_sent: Option<Instant>,
    /// The one before, restored when a fetch ends without a request (a token adopted from
    /// the fleet's store): only requests count against the one-per-second floor.
    previous_sent: Option<Instant>,
    /// Consecutive failed fetches.
    failures: u32,
    /// The latest failure, shared with callers that need a token until `hold_until` says.
    failure: Option<Error>,
    failed_at: Option<Instant>,
    /// The earliest a new request may go out after a failure (the backoff).
    next_attempt: Option<Instant>,
}

/// What a caller without a usable cached token does, decided under the flight lock.
pub(crate) enum Decision {
    /// A usable token appeared meanwhile.
    Use(Arc<CachedToken>),
    /// A fetch is running: wait for its outcome.
    Join(Waiters),
    /// A recent failure still holds: return it without a request.
    Fail(Error),
    /// Start the one fetch, to be sent no earlier than this.
    Fetch { not_before: Option<Instant> },
}

impl Flight {
    /// The slow path: the caller found no usable token without the lock.
    pub(crate) fn decide(&self, now: Instant, current: Option<Arc<CachedToken>>) -> Decision {
        if let Some(token) = current.filter(|t| t.is_usable(now)) {
            return Decision::Use(token);
        }
        if let Some(rx) = &self.waiting {
            return Decision::Join(rx.clone());
        }
        let hold = self.next_request_at();
        match (&self.failure, hold) {
            (Some(failure), Some(hold)) if now < hold => Decision::Fail(failure.clone()),
            _ => Decision::Fetch { not_before: hold },
        }
    }

    /// For a token in its refresh window: `Some(not_before)` if a background refresh should
    /// start now, `None` if one runs already or the backoff after a failure says to wait.
    pub(crate) fn background_refresh(&self, now: Instant) -> Option<Option<Instant>> {
        if self.waiting.is_some() || self.next_attempt.is_some_and(|t| now < t) {
            return None;
        }
        Some(self.next_attempt)
    }

    /// When the next token request may go out for callers that have no usable token, after
    /// a failure (`None` when no failure holds). The one rule for both sides of it: a caller
    /// deciding before then gets the failure instead of a new request, and a call waiting out
    /// the failure wakes then (or sooner, when a token arrives) to ask again. Transient
    /// failures hold for a short window only, so callers recover quickly once the identity
    /// server does; permanent errors and `Retry-After` hold for the whole backoff. (A refresh
    /// in the background, while the token is still usable, waits the whole backoff.)
    pub(crate) fn next_request_at(&self) -> Option<Instant> {
        let (failure, next, at) = (self.failure.as_ref()?, self.next_attempt?, self.failed_at?);
        if failure.is_retryable() && failure.retry_after().is_none() {
            Some(next.min(at + SHARED_FAILURE_WINDOW))
        } else {
            Some(next)
        }
    }

    /// Records a fetch starting now and returns when its request may be sent: not before
    /// `not_before`, nor within `MIN_REQUEST_INTERVAL` of the previous request.
    pub(crate) fn start(
        &mut self,
        now: Instant,
        not_before: Option<Instant>,
        waiters: Waiters,
    ) -> Instant {
        let mut send_at = now;
        if let Some(last) = self.last_sent {
            send_at = send_at.max(last + MIN_REQUEST_INTERVAL);
        }
        if let Some(not_before) = not_before {
            send_at = send_at.max(not_before);
        }
        self.previous_sent = self.last_sent;
        self.last_sent = Some(send_at);
        self.waiting = Some(waiters);
        send_at
    }

    /// The fetch ended with a token and sent no request (it adopted the fleet's): the floor
    /// between requests counts from the last request actually sent.
    #[cfg(feature = "token-store")]
    pub(crate) fn adopted(&mut self) {
        self.last_sent = self.previous_sent;
        self.succeeded();
    }

    /// The fetch never started (the subscriber panicked making its span): as if it had not
    /// been decided, with no failure recorded and no request counted.
    pub(crate) fn abandoned(&mut self) {
        self.last_sent = self.previous_sent;
        self.waiting = None;
    }

    /// The fetch ended with a token: failures are forgotten.
    pub(crate) fn succeeded(&mut self) {
        self.waiting = None;
        self.failures = 0;
        self.failure = None;
        self.failed_at = None;
        self.next_attempt = None;
    }

    /// The fetch failed at `now`; `jitter` is uniform in `[0, 1)`.
    pub(crate) fn failed(&mut self, now: Instant, error: Error, jitter: f64) {
        self.waiting = None;
        self.failures = self.failures.saturating_add(1);
        self.next_attempt = Some(now + failure_backoff(self.failures, &error, jitter));
        self.failed_at = Some(now);
        self.failure = Some(error);
    }
}

/// How long after the `failures`-th failure in a row the next request may start: from 1 s
/// doubling to 30 s with equal jitter (so between half the step and the step), straight to
/// the 30 s step for permanent errors (15 to 30 s), and never sooner than `Retry-After`, which
/// is believed up to 30 s: a token endpoint asking for an hour must not stop every caller for
/// an hour with nothing to reset it.
pub(crate) fn failure_backoff(failures: u32, error: &Error, jitter: f64) -> Duration {
    let step = if error.is_retryable() {
        MIN_REQUEST_INTERVAL
            .saturating_mul(1u32 << failures.saturating_sub(1).min(10))
            .min(MAX_FAILURE_BACKOFF)
    } else {
        MAX_FAILURE_BACKOFF
    };
    let jittered = step / 2 + (step / 2).mul_f64(jitter.clamp(0.0, 1.0));
    let asked = error
        .retry_after()
        .unwrap_or_default()
        .min(MAX_FAILURE_BACKOFF);
    jittered.max(MIN_REQUEST_INTERVAL).max(asked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{HttpParts, Repr, TokenFailure};
    use crate::error::{OAuthError, OAuthErrorCode};

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn token(now: Instant, lifetime: u64) -> Arc<CachedToken> {
        let parsed = ParsedToken {
            token: SecretString::from("t0ken"),
            header: HeaderValue::from_static("Bearer t0ken"),
            lifetime: secs(lifetime),
        };
        Arc::new(CachedToken::new(
            parsed,
            now,
            SystemTime::now(),
            secs(300),
            secs(30),
        ))
    }

    fn transient() -> Error {
        Error::token(TokenFailure::Timeout(secs(10)))
    }

    fn answered(failure: TokenFailure, retry_after: Option<Duration>) -> Error {
        Error::new(Repr::Token {
            failure,
            http: Some(HttpParts {
                status: http::StatusCode::SERVICE_UNAVAILABLE,
                headers: http::HeaderMap::new(),
                body: bytes::Bytes::new(),
                truncated: false,
            }),
            retry_after,
            endpoint: None,
        })
    }

    fn permanent() -> Error {
        answered(
            TokenFailure::OAuth(OAuthError {
                code: OAuthErrorCode::InvalidClient,
                description: None,
                uri: None,
            }),
            None,
        )
    }

    fn waiters() -> Waiters {
        watch::channel(None).1
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

    #[test]
    fn refresh_ahead_is_spread_over_its_last_quarter() {
        assert_eq!(spread(secs(300), 0.0), secs(300));
        assert_eq!(spread(secs(300), 0.5), Duration::from_millis(262_500));
        assert_eq!(spread(secs(300), 1.0), secs(225));
        // Two replicas fetching at the same instant refresh at different ones.
        let t0 = Instant::now();
        let at = |jitter| {
            let parsed = ParsedToken::new(SecretString::from("t"), secs(3600)).unwrap();
            let token = CachedToken::new(
                parsed,
                t0,
                SystemTime::now(),
                spread(secs(300), jitter),
                secs(30),
            );
            token.refresh_at
        };
        assert_eq!(at(0.0), t0 + secs(3300));
        assert_eq!(at(0.9), t0 + secs(3300) + secs(300 / 4).mul_f64(0.9));
    }

    #[test]
    fn a_token_is_fresh_then_refreshing_then_unusable() {
        let t0 = Instant::now();
        let t = token(t0, 3600);
        assert!(t.is_usable(t0) && !t.wants_refresh(t0));
        let in_window = t0 + secs(3600 - 299);
        assert!(t.is_usable(in_window) && t.wants_refresh(in_window));
        assert!(!t.is_usable(t0 + secs(3600 - 30)));
    }

    #[test]
    #[cfg(feature = "token-store")]
    fn a_shared_token_is_used_less_long_than_its_own_by_the_skew_margin() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let parsed = |lifetime| ParsedToken::new(SecretString::from("t"), secs(lifetime)).unwrap();
        // Fetched 600 s ago by another host, living an hour: 3000 s left by the wall clock.
        let issued = wall - secs(600);
        let shared =
            CachedToken::shared(parsed(3600), issued, (now, wall), secs(300), secs(30)).unwrap();
        assert_eq!(shared.expires_at, now + secs(3000) - CLOCK_SKEW_MARGIN);
        assert_eq!(shared.usable_until, shared.expires_at - secs(30));
        // Had this process fetched it at the same moment, it would use it 5 s longer.
        let own = CachedToken::new(parsed(3600), now - secs(600), issued, secs(300), secs(30));
        assert_eq!(own.usable_until - shared.usable_until, CLOCK_SKEW_MARGIN);
        // A short lifetime: the margin is a tenth of it.
        let short =
            CachedToken::shared(parsed(10), wall, (now, wall), secs(300), secs(30)).unwrap();
        assert_eq!(short.expires_at, now + secs(9));
        // Expired by the wall clock, or within the margin of it: nothing to use.
        assert!(
            CachedToken::shared(
                parsed(60),
                wall - secs(61),
                (now, wall),
                secs(300),
                secs(30)
            )
            .is_none()
        );
        assert!(
            CachedToken::shared(
                parsed(60),
                wall - secs(56),
                (now, wall),
                secs(300),
                secs(30)
            )
            .is_none()
        );
    }

    #[test]
    fn the_slow_path_uses_joins_fails_or_fetches() {
        let t0 = Instant::now();
        let mut flight = Flight::default();
        assert!(matches!(
            flight.decide(t0, Some(token(t0, 60))),
            Decision::Use(_)
        ));
        assert!(matches!(
            flight.decide(t0, None),
            Decision::Fetch { not_before: None }
        ));
        let send_at = flight.start(t0, None, waiters());
        assert_eq!(send_at, t0);
        assert!(matches!(flight.decide(t0, None), Decision::Join(_)));

        // A transient failure is shared until the backoff ends (1 s after the first)...
        flight.failed(t0, transient(), 0.0);
        let ms = Duration::from_millis;
        assert!(matches!(
            flight.decide(t0 + ms(999), None),
            Decision::Fail(_)
        ));
        assert!(matches!(
            flight.decide(t0 + secs(1), None),
            Decision::Fetch {
                not_before: Some(_)
            }
        ));
        // ... and for 2 s at most, however long the backoff has grown.
        flight.failed(t0, transient(), 1.0);
        flight.failed(t0, transient(), 1.0);
        assert!(matches!(
            flight.decide(t0 + ms(1999), None),
            Decision::Fail(_)
        ));
        assert!(matches!(
            flight.decide(t0 + secs(2), None),
            Decision::Fetch { not_before: Some(t) } if t == t0 + secs(2)
        ));
        // A second request waits out the 1 s interval after the first.
        let again = flight.start(t0 + Duration::from_millis(100), None, waiters());
        assert_eq!(again, t0 + secs(1));
        flight.succeeded();
        assert!(matches!(
            flight.decide(t0 + secs(3), None),
            Decision::Fetch { not_before: None }
        ));
    }

    #[test]
    #[cfg(feature = "token-store")]
    fn an_adopted_token_does_not_count_as_a_request() {
        let t0 = Instant::now();
        let mut flight = Flight::default();
        flight.start(t0, None, waiters());
        flight.succeeded();
        // A fetch 5 s later adopts the fleet's token: no request was sent...
        flight.start(t0 + secs(5), None, waiters());
        flight.adopted();
        // ... so a fetch right after (a 401 on the adopted token) is sent at once.
        let ms = Duration::from_millis;
        assert_eq!(
            flight.start(t0 + secs(5) + ms(10), None, waiters()),
            t0 + secs(5) + ms(10)
        );
        // After a request, the floor holds.
        assert_eq!(
            flight.start(t0 + secs(5) + ms(20), None, waiters()),
            t0 + secs(6) + ms(10)
        );
    }

    #[test]
    fn permanent_failures_hold_for_the_whole_backoff() {
        let t0 = Instant::now();
        let mut flight = Flight::default();
        flight.start(t0, None, waiters());
        flight.failed(t0, permanent(), 0.0);
        assert!(matches!(
            flight.decide(t0 + secs(14), None),
            Decision::Fail(_)
        ));
        assert!(matches!(
            flight.decide(t0 + secs(15), None),
            Decision::Fetch { .. }
        ));
        // No background refresh inside the backoff either.
        assert!(flight.background_refresh(t0 + secs(14)).is_none());
        assert_eq!(
            flight.background_refresh(t0 + secs(15)),
            Some(Some(t0 + secs(15)))
        );
    }

    #[test]
    fn backoff_doubles_with_equal_jitter_up_to_the_cap() {
        let e = transient();
        assert_eq!(failure_backoff(1, &e, 0.0), secs(1));
        // Never sooner than the 1 s request interval.
        assert_eq!(failure_backoff(1, &e, 0.999), secs(1));
        assert_eq!(failure_backoff(2, &e, 0.999).as_millis(), 1999);
        assert_eq!(failure_backoff(3, &e, 0.0), secs(2));
        assert_eq!(failure_backoff(3, &e, 1.0), secs(4));
        assert_eq!(failure_backoff(40, &e, 1.0), MAX_FAILURE_BACKOFF);
        assert_eq!(failure_backoff(40, &e, 0.0), MAX_FAILURE_BACKOFF / 2);
        // Permanent errors: 15 to 30 s from the first failure.
        assert_eq!(failure_backoff(1, &permanent(), 0.0), secs(15));
        assert_eq!(failure_backoff(1, &permanent(), 1.0), secs(30));
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let malformed = |after| answered(TokenFailure::Malformed("x".into()), Some(secs(after)));
        assert_eq!(failure_backoff(1, &malformed(7), 0.0), secs(7));
        assert_eq!(
            failure_backoff(1, &malformed(86_400), 0.0),
            MAX_FAILURE_BACKOFF
        );
        let t0 = Instant::now();
        let mut flight = Flight::default();
        flight.start(t0, None, waiters());
        flight.failed(t0, malformed(86_400), 0.0);
        assert!(matches!(
            flight.decide(t0 + secs(29), None),
            Decision::Fail(_)
        ));
        assert!(matches!(
            flight.decide(t0 + secs(30), None),
            Decision::Fetch { .. }
        ));
    }
}
