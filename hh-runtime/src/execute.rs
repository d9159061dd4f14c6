//! Sending one API call: attempts, the 401 replay, retries, and the error a failed call
//! returns. `run` is the loop; one attempt, the reading of its outcome, and the retry decision
//! are each a function of their own.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use tokio::time::Instant;
use tracing::{Instrument as _, Span};

use crate::body::{read_capped, scrub_secrets};
use crate::client::{ClientInner, SendError};
use crate::decode::Answer;
use crate::error::{Error, HttpParts, Limit, ProblemDetails, Repr, Result, Waiting};
use crate::request::{Body, Request};
use crate::retry::{RetryPolicy, retry_after};
use crate::telemetry::{self, Call, ErrorType};
use crate::token::AccessToken;

/// What one attempt came back with.
enum Exchange {
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
    retries: u32,
    /// How many times a 401 was answered with a fresh token (`replays_401`).
    replays: u32,
    /// What the call is waiting for, and the token failure it is waiting out: what a deadline
    /// that fires meanwhile reports.
    waiting: Waiting,
    last: Option<Error>,
}

impl Tries {
    pub(crate) fn new() -> Self {
        Tries {
            started: Instant::now(),
            retries: 0,
            replays: 0,
            waiting: Waiting::Token,
            last: None,
        }
    }

    /// A 401 was answered with a fresh token.
    pub(crate) fn replayed(&mut self) {
        self.replays += 1;
    }

    /// The error of a call whose `limit` fired now.
    fn deadline(&self, limit: Limit, after: Duration) -> Error {
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
enum Step {
    /// The API rejected the token: drop it and send again with a fresh one.
    Replay,
    /// Send again after this wait.
    Retry(Duration),
    /// The call is over.
    Done(Result<Answer>),
}

impl Request<'_> {
    /// One call, within its `call_timeout` (the endpoint's, else the client's) if it has one:
    /// an answer to decode or the error the call returns.
    pub(crate) async fn run(&mut self, call: &Call) -> Result<Answer> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let mut tries = Tries::new();
        let Some(limit) = self.options.call_timeout.or(self.client.inner.call_timeout) else {
            return self.attempts(call, &mut tries).await;
        };
        let deadline = tries.started + limit;
        match tokio::time::timeout_at(deadline, self.attempts(call, &mut tries)).await {
            Ok(result) => result,
            Err(_) => Err(tries.deadline(Limit::CallTimeout, limit)),
        }
    }

    /// The attempts of one call, until an answer to decode or the error the call returns.
    async fn attempts(&mut self, call: &Call, tries: &mut Tries) -> Result<Answer> {
        let inner = &*self.client.inner;
        // A copy of the parsed base with this call's path and query, made again for each
        // attempt: the first, nearly always the only one, takes it by value.
        let url = || inner.api.join(&self.path, &self.query);
        let mut first = Some(url());
        if inner.trace_full_url
            && !call.span.is_disabled()
            && let Some(url) = &first
        {
            call.full_url(url.as_str());
        }
        // One clock read serves the first attempt's token lookup and its timer.
        let mut now = tries.started;
        // Requests put on the wire so far (waits for a token send none).
        let mut sent = 0u32;
        loop {
            let (token, started) = token_for_call(inner, tries, now).await?;
            tries.waiting = Waiting::Answer(sent + 1);
            let target = first.take().unwrap_or_else(url);
            let span = telemetry::attempt_span(sent);
            let will_replay = replays_401(inner, tries, &token);
            let attempt = self.attempt(inner, target, &token, will_replay, started, &span);
            // Entered only when a subscriber wants it (see `telemetry::Call::start`).
            let exchange = if span.is_disabled() {
                attempt.await
            } else {
                attempt.instrument(span.clone()).await
            };
            sent += 1;
            match self.next_step(inner, exchange, &token, tries) {
                Step::Done(result) => return result,
                Step::Replay => {
                    tries.replayed();
                    tracing::debug!("401 Unauthorized: replaying with a fresh token");
                    inner.tokens.invalidate(&token);
                }
                Step::Retry(wait) => {
                    tries.retries += 1;
                    tries.waiting = Waiting::Backoff(sent + 1);
                    tokio::time::sleep(wait).await;
                }
            }
            now = Instant::now();
        }
    }

    /// The request of one attempt: the method, the URL, the client's default headers, those
    /// declared (which replace a default of the same name), the token and the body.
    fn request(
        &self,
        inner: &ClientInner,
        url: reqwest::Url,
        token: &AccessToken,
    ) -> reqwest::Request {
        let mut request = reqwest::Request::new(self.method.clone(), url);
        let headers = request.headers_mut();
        // Appended: a name given twice to `default_header` is sent with both values.
        for (name, value) in &inner.default_headers {
            headers.append(name, value.clone());
        }
        // A header declared on the method or trait replaces a client default of that name.
        for (name, _) in self.declared_headers() {
            headers.remove(name);
        }
        for (name, value) in self.declared_headers() {
            headers.append(name, value.clone());
        }
        headers.insert(http::header::AUTHORIZATION, token.header.clone());
        if let Body::Bytes {
            bytes,
            content_type,
        } = &self.body
        {
            // A `content-type` declared with `#[header]` wins over the body's default.
            if !self
                .declared_headers()
                .any(|(name, _)| name == CONTENT_TYPE)
            {
                headers.insert(CONTENT_TYPE, (*content_type).clone());
            }
            *request.body_mut() = Some(bytes.clone().into());
        }

        request
    }

    /// One attempt, `started` when its token was in hand: the request with its headers and
    /// body, sent under the attempt timer, and the answer read within its cap; its outcome is
    /// recorded on `span`.
    async fn attempt(
        &self,
        inner: &ClientInner,
        url: reqwest::Url,
        token: &AccessToken,
        will_replay_401: bool,
        started: Instant,
        span: &Span,
    ) -> Exchange {
        // Handed to the transport now, so that only its future (not the request) is held
        // while the answer is awaited.
        let sent = inner.http.execute(self.request(inner, url, token));
        let exchange = async move {
            let mut response = sent.await?;
            let status = response.status();
            // Moved out, not copied: the body is read without them.
            let headers = std::mem::take(response.headers_mut());
            if status == StatusCode::UNAUTHORIZED && will_replay_401 {
                // Not read: the token is the problem and the call is sent again.
                return Ok((status, headers, Bytes::new(), false));
            }
            let cap = if status.is_success() {
                inner.max_response_bytes.saturating_add(1)
            } else {
                Error::MAX_BODY_BYTES
            };
            let (body, truncated) = read_capped(response, cap).await?;
            Ok::<_, SendError>((status, headers, body, truncated))
        };
        // One timer for the whole attempt, headers and body (reqwest's own per-request
        // timeout would arm one for each). `None` is that timer firing.
        let result = match self.attempt_timeout(inner) {
            Some(limit) => match tokio::time::timeout_at(started + limit, exchange).await {
                Ok(result) => result.map_err(Some),
                Err(_) => Err(None),
            },
            None => exchange.await.map_err(Some),
        };
        let exchange = match result {
            Ok((status, headers, body, truncated)) => Exchange::Answered {
                status,
                headers,
                body,
                truncated,
            },
            Err(None) => Exchange::Failed(None),
            Err(Some(SendError::Transport(e))) => Exchange::Failed(Some(e)),
            Err(Some(SendError::Middleware(e))) => Exchange::Refused(e),
        };
        telemetry::attempt_outcome(
            span,
            match &exchange {
                Exchange::Answered { status, .. } => Ok(*status),
                Exchange::Failed(e) => Err(ErrorType::Named(telemetry::transport_error_type(
                    e.as_ref(),
                ))),
                Exchange::Refused(_) => Err(ErrorType::Named("middleware")),
            },
        );
        exchange
    }

    /// The per-attempt timeout: the endpoint's, else the client's.
    fn attempt_timeout(&self, inner: &ClientInner) -> Option<Duration> {
        self.options.timeout.or(inner.request_timeout)
    }

    /// Whether this call may be sent again after an attempt failed: never when the endpoint
    /// says `#[retry(false)]`; always when the attempt never connected (nothing reached the
    /// server); otherwise when the policy allows the method or the endpoint is `#[idempotent]`.
    fn may_resend(&self, policy: &RetryPolicy, never_connected: bool) -> bool {
        !self.options.no_retry
            && (never_connected || self.options.idempotent || policy.may_resend(&self.method))
    }

    /// Reads an attempt's outcome: a success to decode, a 401 to replay, a failure to retry
    /// (as the policy allows), or the error the call returns.
    fn next_step(
        &self,
        inner: &ClientInner,
        exchange: Exchange,
        token: &Arc<AccessToken>,
        tries: &Tries,
    ) -> Step {
        let policy = &inner.retry;
        let (status, headers, body, truncated) = match exchange {
            // The user's middleware said no: not ours to resend.
            Exchange::Refused(source) => {
                return Step::Done(Err(Error::new(Repr::Middleware(source))));
            }
            Exchange::Failed(e) => {
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
                return Step::Done(Err(Error::new(Repr::Transport {
                    source: e.map(reqwest::Error::without_url),
                    timeout,
                    attempts: tries.retries + 1,
                    elapsed: tries.started.elapsed(),
                })));
            }
            Exchange::Answered {
                status,
                headers,
                body,
                truncated,
            } => (status, headers, body, truncated),
        };

        if status == StatusCode::UNAUTHORIZED && replays_401(inner, tries, token) {
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
        Step::Done(Err(status_error(
            status,
            headers,
            scrub_secrets(body, token, &inner.tokens),
            truncated,
            wait_at_least,
        )))
    }
}

/// Whether a 401 to an attempt sent with `token` is answered by dropping the token and sending
/// again with a fresh one: once per call, and once more when the token of that replay came
/// from the fleet's store. A process's own token and another's, published before a revocation
/// that killed both, look alike to it until the API rejects the second; the second replay
/// (after which the store's entry is dropped too, and this process fetches) is what keeps a
/// revocation from failing calls. Never more than two, so a 401 that is not about the token
/// ends the call.
pub(crate) fn replays_401(inner: &ClientInner, tries: &Tries, token: &AccessToken) -> bool {
    inner.replay_on_401 && (tries.replays == 0 || (tries.replays == 1 && token.adopted))
}

/// A token for the next attempt of a call, and the instant it was in hand: `now` when the
/// cache had one then, read again after any wait.
///
/// After a transient failure to get one, the call waits until a fetch obtains a token or the
/// token lifecycle may send its next request (`TokenSource::next_request_at`, the rule every
/// caller follows), and asks again. Waiting out a failure is bounded by the retry budget's
/// time (`max_elapsed` from the call's start, the fetch it then waits for included); the
/// first fetch, and the fetch for a 401's replay, are bounded by the token timeout alone, as
/// they wait out no failure. The waits are not counted as attempts: `max_attempts` bounds
/// the requests sent to the API, and none was; the identity server is spared by the
/// lifecycle, which sends one request for every waiting call, however many. A permanent
/// failure (`invalid_client`, say), a policy that never retries (`RetryPolicy::none()`), or
/// a spent budget ends the call: with the token error, or, when the budget ran out while a
/// fetch was still going, with `ErrorKind::Deadline` and that error as its source.
pub(crate) async fn token_for_call(
    inner: &ClientInner,
    tries: &mut Tries,
    now: Instant,
) -> Result<(Arc<AccessToken>, Instant)> {
    if let Some(token) = inner.tokens.cached(now) {
        return Ok((token, now));
    }
    tries.waiting = Waiting::Token;
    let budget = inner.retry.max_elapsed;
    let budget_ends = tries.started + budget;
    // A failure seen by this wait for a token, not by an earlier one of the same call.
    let mut failed = false;
    loop {
        let got = if failed {
            tokio::time::timeout_at(budget_ends, inner.tokens.get()).await
        } else {
            Ok(inner.tokens.get().await)
        };
        let error = match got {
            Ok(Ok(token)) => {
                tries.last = None;
                return Ok((token, Instant::now()));
            }
            Ok(Err(error)) => error,
            Err(_) => return Err(tries.deadline(Limit::RetryBudget, budget)),
        };
        let Some(until) = token_wait(inner, &error, budget_ends) else {
            return Err(error);
        };
        tracing::debug!(
            wait_ms = until.saturating_duration_since(Instant::now()).as_millis() as u64,
            error = %error,
            "no access token yet; waiting for the next token request"
        );
        tries.last = Some(error);
        failed = true;
        inner.tokens.wait_for_token(until).await;
    }
}

/// After a failure to get a token: until when the call may wait for one (see
/// `token_for_call`), or `None` to fail now.
fn token_wait(inner: &ClientInner, error: &Error, budget_ends: Instant) -> Option<Instant> {
    if !error.is_retryable() || inner.retry.max_attempts <= 1 {
        return None;
    }
    let until = inner.tokens.next_request_at().unwrap_or_else(Instant::now);
    (until <= budget_ends).then_some(until)
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

fn status_error(
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    truncated: bool,
    retry_after: Option<Duration>,
) -> Error {
    let json: Option<serde_json::Value> = if truncated {
        None
    } else {
        serde_json::from_slice(&body).ok()
    };
    let problem = json
        .as_ref()
        .and_then(|v| v.as_object())
        .filter(|o| {
            ["type", "title", "status", "detail"]
                .iter()
                .any(|k| o.contains_key(*k))
        })
        .and_then(|o| {
            serde_json::from_value::<ProblemDetails>(serde_json::Value::Object(o.clone())).ok()
        });
    Error::new(Repr::Status {
        http: HttpParts {
            status,
            headers,
            body,
            truncated,
        },
        json,
        problem,
        retry_after,
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
            let err = status_error(StatusCode::from_u16(status).unwrap(), headers, Bytes::from(body.clone()), truncated, wait);
            prop_assert_eq!(err.body(), Some(&body[..]));
            // Display and Debug never fail or panic.
            let _ = format!("{err} {err:?}");
            if truncated {
                prop_assert!(err.json().is_none());
            }
        }
    }
}
