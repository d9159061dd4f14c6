//! The retry decision: what an attempt's outcome leads to (a success to decode, a 401 to
//! replay with a fresh token, a wait and another attempt, or the error the call returns),
//! and the error built from a failed answer. The policy's facts (which statuses are
//! transient, which methods idempotent, what `Retry-After` says) are `crate::retry`'s; this
//! is the one place that applies them to an attempt.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use tokio::time::Instant;

use super::build::Request;
use super::decode::Answer;
use crate::client::ClientInner;
use crate::error::{Error, HttpParts, Limit, Repr, Result, Waiting};
use crate::retry::{RetryPolicy, retry_after};
use crate::token::{CachedToken, DpopAnswer, TokenSource};

/// What one attempt came back with.
pub(super) enum Exchange {
    /// The server answered; the body is read (up to its cap) unless the answer is a 401 that
    /// will be replayed.
    Answered {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        truncated: bool,
    },
    /// No answer: what reqwest reported, or `None` when our attempt timer fired.
    Failed(Option<reqwest::Error>),
    /// A middleware of the user's failed the request.
    Refused(Box<dyn std::error::Error + Send + Sync>),
}

/// Where the call stands across attempts.
pub(crate) struct Tries {
    pub(crate) started: Instant,
    pub(super) retries: u32,
    /// How many times a 401 was answered with a fresh token (`replays_401`).
    replays: u32,
    /// What the call is waiting for, and the token failure it is waiting out: what a deadline
    /// that fires meanwhile reports.
    pub(super) waiting: Waiting,
    pub(super) last: Option<Error>,
    /// Whether the call went again at once for a DPoP nonce (once per call at most).
    pub(super) nonce_retried: bool,
}

impl Tries {
    pub(crate) fn new() -> Self {
        Tries {
            started: Instant::now(),
            retries: 0,
            replays: 0,
            waiting: Waiting::Token,
            last: None,
            nonce_retried: false,
        }
    }

    /// A 401 to an attempt sent with `token` is answered with a fresh one (`replays_401` said
    /// so): counted, said, and the token dropped. The one way generated calls and the
    /// middleware replay.
    pub(crate) fn replay(&mut self, tokens: &TokenSource, token: &Arc<CachedToken>) {
        self.replays += 1;
        tracing::debug!(
            target: crate::telemetry::CALL_TARGET,
            "401 Unauthorized: replaying with a fresh token"
        );
        tokens.invalidate(token);
    }

    /// The error of a call whose `limit` fired now.
    pub(super) fn deadline(&self, limit: Limit, after: Duration) -> Error {
        Error::new(Repr::Deadline {
            limit,
            after,
            elapsed: self.started.elapsed(),
            waiting: self.waiting,
            last: self.last.clone(),
        })
    }
}

/// What to do after an attempt.
pub(super) enum Step {
    /// The API rejected the token: drop it and send again with a fresh one.
    Replay,
    /// The API asked for a DPoP nonce, which it gave: send again at once.
    Nonce,
    /// Send again after this wait.
    Retry(Duration),
    /// The call is over.
    Done(Result<Answer>),
}

impl Request<'_> {
    /// Whether this call may be sent again after an attempt failed: never when the endpoint
    /// says `#[retry(false)]`; always when the attempt never connected (nothing reached the
    /// server); otherwise when the policy allows the method or the endpoint is `#[idempotent]`.
    fn may_resend(&self, policy: &RetryPolicy, never_connected: bool) -> bool {
        !self.options.no_retry
            && (never_connected || self.options.idempotent || policy.may_resend(&self.method))
    }

    /// Reads an attempt's outcome: a success to decode, a 401 to replay, a failure to retry
    /// (as the policy allows), or the error the call returns.
    pub(super) fn next_step(
        &self,
        inner: &ClientInner,
        exchange: Exchange,
        token: &Arc<CachedToken>,
        tries: &Tries,
    ) -> Step {
        let policy = &inner.retry;
        let (status, headers, body, truncated) = match exchange {
            // The user's middleware said no: not ours to resend.
            Exchange::Refused(source) => {
                return Step::Done(Err(Error::new(Repr::Middleware(source))));
            }
            Exchange::Failed(e) => return self.after_no_answer(inner, e, tries),
            Exchange::Answered {
                status,
                headers,
                body,
                truncated,
            } => (status, headers, body, truncated),
        };

        // Refused before it was processed, for want of a nonce the answer now gave: the same
        // request again, with a new proof, whatever its method; once. Not the token's fault,
        // so never a reason to replace it.
        // A refused proof (its time, its URL) is not the token's fault either: the error says
        // what the server refused, and the token stays.
        let dpop = inner
            .tokens
            .dpop_answer(&inner.api.origin(), status, &headers);
        if dpop == DpopAnswer::Nonce && !tries.nonce_retried {
            return Step::Nonce;
        }
        if status == StatusCode::UNAUTHORIZED
            && token_at_fault(dpop, token)
            && replays_401(inner, tries, token)
        {
            return Step::Replay;
        }
        if status.is_success() {
            if truncated {
                return Step::Done(Err(too_large(status, headers, inner.max_response_bytes)));
            }
            return Step::Done(Ok(Answer {
                status,
                headers,
                body,
                token: Arc::clone(token),
                tokens: inner.tokens.clone(),
            }));
        }
        let wait_at_least = retry_after(&headers);
        if policy.statuses.contains(&status)
            && self.may_resend(policy, false)
            && let Some(wait) = next_retry(policy, tries, wait_at_least)
        {
            tracing::debug!(
                status = status.as_u16(),
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            return Step::Retry(wait);
        }
        Step::Done(Err(Error::answered(
            status,
            inner.tokens.scrub_headers(headers, token),
            inner.tokens.scrub(body, token),
            truncated,
        )))
    }

    /// An attempt that got no answer (`None`: our attempt timer fired): another attempt if
    /// the request may be sent again, else the call's transport error.
    fn after_no_answer(
        &self,
        inner: &ClientInner,
        e: Option<reqwest::Error>,
        tries: &Tries,
    ) -> Step {
        let policy = &inner.retry;
        // A request that never connected never reached the server: safe to resend
        // whatever the method. Otherwise (a timeout, a reset) only when the method
        // allows it.
        let connect = e.as_ref().is_some_and(reqwest::Error::is_connect);
        if self.may_resend(policy, connect)
            && let Some(wait) = next_retry(policy, tries, None)
        {
            tracing::debug!(
                timeout = e.is_none(),
                wait_ms = wait.as_millis() as u64,
                "retrying after a transport error"
            );
            return Step::Retry(wait);
        }
        let timeout = match &e {
            None => self.attempt_timeout(inner),
            Some(e) if e.is_timeout() && !e.is_connect() => self.attempt_timeout(inner),
            Some(_) => None,
        };
        Step::Done(Err(Error::new(Repr::Transport {
            source: e.map(reqwest::Error::without_url),
            refused: false,
            timeout,
            attempts: tries.retries + 1,
            elapsed: tries.started.elapsed(),
        })))
    }
}

/// Whether a 401 (judged `dpop` by `TokenSource::dpop_answer`) is about the token: any 401 but
/// a DPoP nonce challenge or a refused proof, which a fresh token would not change; except a
/// refused proof of a token adopted from the fleet's store, which may be bound to a key this
/// process does not hold (entry names prevent it; were it to happen, it is replaced once).
pub(crate) fn token_at_fault(dpop: DpopAnswer, token: &CachedToken) -> bool {
    match dpop {
        DpopAnswer::Other => true,
        DpopAnswer::ProofRefused => token.adopted,
        DpopAnswer::Nonce => false,
    }
}

/// Whether a 401 to an attempt sent with `token` is answered by dropping the token and sending
/// again with a fresh one: once per call, and once more when the token of that replay came
/// from the fleet's store. A process's own token and another's, published before a revocation
/// that killed both, look alike to it until the API rejects the second; the second replay
/// (after which the store's entry is dropped too, and this process fetches) is what keeps a
/// revocation from failing calls. Never more than two, so a 401 that is not about the token
/// ends the call.
pub(crate) fn replays_401(inner: &ClientInner, tries: &Tries, token: &CachedToken) -> bool {
    inner.replay_on_401 && (tries.replays == 0 || (tries.replays == 1 && token.adopted))
}

/// The wait before the next retry, or `None` when attempts or time are used up. A
/// `Retry-After` longer than what remains of the budget means no retry at all: retrying
/// earlier than the server asked is never right.
fn next_retry(
    policy: &RetryPolicy,
    tries: &Tries,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let wait = policy
        .backoff(tries.retries + 1)
        .max(retry_after.unwrap_or_default());
    within_budget(policy, tries, wait)
}

/// `wait`, if one more attempt after it stays within the policy's attempts and time.
fn within_budget(policy: &RetryPolicy, tries: &Tries, wait: Duration) -> Option<Duration> {
    let attempts_left = tries.retries + 1 < policy.max_attempts;
    (attempts_left && tries.started.elapsed() + wait <= policy.max_elapsed).then_some(wait)
}

/// A 2xx body past the configured cap.
fn too_large(status: StatusCode, headers: HeaderMap, cap: usize) -> Error {
    Error::new(Repr::Decode {
        http: HttpParts {
            status,
            headers,
            body: Bytes::new(),
            truncated: true,
        },
        message: format!(
            "the body is larger than the {cap} byte limit (see ClientBuilder::max_response_bytes)"
        ),
        path: None,
        source: None,
    })
}

#[cfg(test)]
mod tests {
    //! Property tests run by `cargo test` (256 cases each); for a longer run:
    //! `PROPTEST_CASES=200000 cargo test -p hh-runtime --lib fuzz`.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_error_body_parser_never_panics(
            status in 400u16..600,
            body in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..400),
                "\\PC{0,200}".prop_map(String::into_bytes),
                Just(br#"{"type":"t","title":"x","status":"not a number","detail":null,"errors":{"a":["b"]}}"#.to_vec()),
                Just(br#"{"title":5,"extra":[1,2,3]}"#.to_vec()),
            ],
            truncated in any::<bool>(),
            retry in prop::option::of("\\PC{0,40}"),
        ) {
            let mut headers = HeaderMap::new();
            if let Some(v) = retry.as_deref().and_then(|r| http::HeaderValue::from_str(r).ok()) {
                headers.insert(http::header::RETRY_AFTER, v);
            }
            let wait = retry_after(&headers);
            prop_assert!(wait.is_none_or(|w| w <= Duration::from_secs(86_400)));
            let err = Error::answered(StatusCode::from_u16(status).unwrap(), headers, Bytes::from(body.clone()), truncated);
            prop_assert_eq!(err.retry_after(), wait);
            prop_assert_eq!(err.body(), Some(&body[..]));
            // Display and Debug never fail or panic.
            let _ = format!("{err} {err:?}");
            if truncated {
                prop_assert!(err.json().is_none());
            }
        }
    }
}
