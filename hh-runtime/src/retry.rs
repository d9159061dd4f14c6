//! When and how long to wait before trying an API call again.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method, StatusCode};

/// Which failed API calls are tried again, how often and how far apart.
///
/// The default retries only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE), on
/// connect errors, timeouts and the [transient statuses](RetryPolicy::statuses) 408, 429, 502,
/// 503 and 504, up to 3 attempts in all and within 30 s in
/// total, with full-jitter exponential backoff from 200 ms up to 5 s. A `Retry-After` header
/// (seconds or HTTP date) is always honoured: the next attempt never starts before it, and if it
/// falls beyond the time budget the call fails at once with the server's answer.
///
/// A request that could not even connect never reached the server, so it is retried whatever
/// its method. A POST or PATCH that may have reached the server is never retried unless
/// [`retry_non_idempotent`](RetryPolicy::retry_non_idempotent) is set.
///
/// ```
/// use std::time::Duration;
/// let policy = hh_runtime::RetryPolicy::default()
///     .max_attempts(5)
///     .max_elapsed(Duration::from_secs(60));
/// let never = hh_runtime::RetryPolicy::none();
/// # let _ = (policy, never);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a retry policy does nothing until given to `ClientBuilder::retry`"]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_elapsed: Duration,
    pub(crate) statuses: Vec<StatusCode>,
    pub(crate) non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            statuses: TRANSIENT_STATUSES.to_vec(),
            non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff before the first retry; each later one doubles, up to `max_backoff`.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest backoff between two attempts (a longer `Retry-After` still wins).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// No retry starts later than this after the call began; and a call waiting out a failure
    /// to get a token waits no longer than this from its start (the token request it then
    /// waits for included), failing with [`ErrorKind::Deadline`](crate::ErrorKind::Deadline)
    /// if that request is still going. The call's first token request is bounded by the token
    /// timeout alone.
    pub fn max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// The statuses that are retried (default 408, 429, 502, 503, 504: the answers that say
    /// "not now" rather than "no"). A 500 is not among them: it usually reports a fault in the
    /// handler that the same request hits again.
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = StatusCode>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// Also retry POST and PATCH after a timeout or a retryable status. Only for APIs whose
    /// writes are safe to repeat: the first attempt may already have taken effect.
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.non_idempotent = yes;
        self
    }

    pub(crate) fn may_resend(&self, method: &Method) -> bool {
        self.non_idempotent || is_idempotent(method)
    }

    /// Full jitter: uniformly between zero and the exponential step, so that many clients
    /// failing together do not come back together.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let step = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
            .min(self.max_backoff);
        step.mul_f64(fastrand::f64())
    }
}

/// The answers that mean "try again later": request timeout, too many requests, and the
/// gateway and availability failures of a server that did not handle the request. The one
/// list behind both the default [`RetryPolicy`] and [`Error::is_retryable`](crate::Error::is_retryable).
const TRANSIENT_STATUSES: [StatusCode; 5] = [
    StatusCode::REQUEST_TIMEOUT,
    StatusCode::TOO_MANY_REQUESTS,
    StatusCode::BAD_GATEWAY,
    StatusCode::SERVICE_UNAVAILABLE,
    StatusCode::GATEWAY_TIMEOUT,
];

/// Whether `status` is one of the transient statuses.
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    TRANSIENT_STATUSES.contains(&status)
}

/// The methods RFC 9110 section 9.2.2 calls idempotent: sending one twice has the effect of
/// sending it once.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// Parses `Retry-After` as delta-seconds or as an HTTP date (RFC 9110 section 10.2.3).
/// A date in the past means "now".
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        // A day is far past any retry budget; cap it so the arithmetic stays finite.
        return Some(Duration::from_secs(secs.min(86_400)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, v.parse().unwrap());
        h
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(retry_after(&headers("7")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&headers(" 0 ")), Some(Duration::ZERO));
        let later = SystemTime::now() + Duration::from_secs(120);
        let parsed = retry_after(&headers(&httpdate::fmt_http_date(later))).unwrap();
        assert!(parsed > Duration::from_secs(115) && parsed <= Duration::from_secs(120));
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
        assert_eq!(
            retry_after(&headers("99999999999999")),
            Some(Duration::from_secs(86_400))
        );
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let p = RetryPolicy::default();
        for retry in 1..40 {
            let b = p.backoff(retry);
            assert!(b <= Duration::from_secs(5), "{b:?}");
        }
        assert!(p.backoff(1) <= Duration::from_millis(200));
    }

    #[test]
    fn only_idempotent_methods_by_default() {
        let p = RetryPolicy::default();
        assert!(p.may_resend(&Method::GET));
        assert!(p.may_resend(&Method::PUT));
        assert!(p.may_resend(&Method::DELETE));
        assert!(!p.may_resend(&Method::POST));
        assert!(!p.may_resend(&Method::PATCH));
        assert!(p.retry_non_idempotent(true).may_resend(&Method::POST));
    }

    #[test]
    fn the_default_policy_and_the_error_agree_on_statuses() {
        let p = RetryPolicy::default();
        for code in 100..600 {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(
                p.statuses.contains(&status),
                is_transient_status(status),
                "{status}"
            );
        }
        assert!(!is_transient_status(StatusCode::INTERNAL_SERVER_ERROR));
    }
}
