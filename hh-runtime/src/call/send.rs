//! Sending one call: the loop over attempts (a token in hand, the request assembled and sent
//! under the attempt timer, its answer read within the cap), each attempt's outcome handed to
//! `decide`, and the wait for a token when there is none.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use tokio::time::Instant;
use tracing::{Instrument as _, Span};

use super::build::{Body, Request};
use super::decide::{Exchange, Step, Tries, replays_401};
use super::decode::Answer;
use crate::body::read_capped;
use crate::client::{ClientInner, SendError};
use crate::error::{Error, Limit, Result, Waiting};
use crate::telemetry::{self, Attempt, Call, ErrorType};
use crate::token::{CachedToken, DpopAnswer};

impl Request<'_> {
    /// One call, within its `call_timeout` (the endpoint's, else the client's) if it has one:
    /// an answer to decode or the error the call returns.
    pub(crate) async fn run(&mut self, call: &Call<'_>) -> Result<Answer> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let mut tries = Tries::new();
        // The call's deadline, as telemetry knows it too (an attempt it cuts short timed out).
        let (Some(limit), Some(deadline)) = (self.call_limit(), call.deadline()) else {
            return self.attempts(call, &mut tries).await;
        };
        match tokio::time::timeout_at(deadline, self.attempts(call, &mut tries)).await {
            Ok(result) => result,
            Err(_) => Err(tries.deadline(Limit::CallTimeout, limit)),
        }
    }

    /// The attempts of one call, until an answer to decode or the error the call returns.
    async fn attempts(&mut self, call: &Call<'_>, tries: &mut Tries) -> Result<Answer> {
        let inner = &*self.client.inner;
        // A copy of the parsed base with this call's path and query, made again for each
        // attempt: the first, nearly always the only one, takes it by value.
        let url = || inner.api.join(&self.path, &self.query);
        let mut first = Some(url());
        // One clock read serves the first attempt's token lookup and its timer.
        let mut now = tries.started;
        // Requests put on the wire so far (waits for a token send none).
        let mut sent = 0u32;
        loop {
            let (token, started) = token_for_call(inner, tries, now).await?;
            tries.waiting = Waiting::Answer(sent + 1);
            let target = first.take().unwrap_or_else(url);
            let attempt = call.attempt(sent, started);
            if inner.trace_full_url {
                attempt.full_url(&target);
            }
            let will_replay = replays_401(inner, tries, &token);
            let sending = self.attempt(inner, target, &token, will_replay, started, &attempt);
            // Entered only when a subscriber wants it (see `telemetry::Call::start`).
            let exchange = if attempt.span.is_disabled() {
                sending.await
            } else {
                sending.instrument(attempt.span.clone()).await
            };
            attempt.finish(match &exchange {
                Exchange::Answered { .. } => None,
                Exchange::Failed(e) => Some(ErrorType::Named(telemetry::transport_error_type(
                    e.as_ref(),
                ))),
                Exchange::Refused(_) => Some(ErrorType::Named("middleware")),
            });
            sent += 1;
            match self.next_step(inner, exchange, &token, tries) {
                Step::Done(result) => return result,
                Step::Replay => tries.replay(&inner.tokens, &token),
                Step::Nonce => tries.nonce_retried = true,
                Step::Retry(wait) => {
                    tries.retries += 1;
                    tries.waiting = Waiting::Backoff(sent + 1);
                    let span = telemetry::backoff_span(wait, sent);
                    if span.is_disabled() {
                        tokio::time::sleep(wait).await;
                    } else {
                        tokio::time::sleep(wait).instrument(span).await;
                    }
                }
            }
            now = Instant::now();
        }
    }

    /// The request of one attempt: the method, the URL, the client's default headers, those
    /// declared (which replace a default of the same name), the trace context of the
    /// attempt's `span` (feature `opentelemetry`), the token and the body.
    fn request(
        &self,
        inner: &ClientInner,
        url: reqwest::Url,
        token: &CachedToken,
        span: &Span,
    ) -> (reqwest::Request, Option<http::HeaderValue>) {
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
        if inner.propagate_trace_context {
            telemetry::inject(span, headers);
        }
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
        let proof = inner.tokens.authorize(&mut request, token);
        (request, proof)
    }

    /// One attempt, `started` when its token was in hand: the request with its headers and
    /// body, sent under the attempt timer, and the answer read within its cap. The request
    /// carries the trace context of `attempt`'s span, and the answer's head is noted on it as
    /// soon as it arrives.
    async fn attempt(
        &self,
        inner: &ClientInner,
        url: reqwest::Url,
        token: &CachedToken,
        will_replay_401: bool,
        started: Instant,
        attempt: &Attempt<'_>,
    ) -> Exchange {
        // Handed to the transport now, so that only its future (not the request) is held
        // while the answer is awaited.
        let (request, proof) = self.request(inner, url, token, &attempt.span);
        let sent = inner.http.execute(request);
        let exchange = async move {
            let mut response = sent.await?;
            let status = response.status();
            attempt.answered.set(status, response.version());
            // Moved out, not copied: the body is read without them.
            let mut headers = std::mem::take(response.headers_mut());
            // An error keeps the answer (a failure's, or a success's that does not decode):
            // never with the DPoP proof it may echo.
            let secret = proof.as_ref().map(|p| [p.as_bytes()]);
            if let Some(secret) = &secret {
                headers = crate::body::scrub_headers(headers, |v| crate::body::scrub(v, secret));
            }
            if status == StatusCode::UNAUTHORIZED
                && will_replay_401
                && inner
                    .tokens
                    .dpop_answer(&inner.api.origin(), status, &headers)
                    == DpopAnswer::Other
            {
                // Not read: the token is the problem and the call is sent again. (A DPoP
                // refusal may end the call, so its body is read for the error.)
                return Ok((status, headers, Bytes::new(), false));
            }
            let cap = if status.is_success() {
                inner.max_response_bytes.saturating_add(1)
            } else {
                Error::MAX_BODY_BYTES
            };
            let (mut body, truncated) = read_capped(response, cap).await?;
            if let Some(secret) = &secret {
                body = crate::body::scrub(body, secret);
            }
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
        match result {
            Ok((status, headers, body, truncated)) => Exchange::Answered {
                status,
                headers,
                body,
                truncated,
            },
            Err(None) => Exchange::Failed(None),
            Err(Some(SendError::Transport(e))) => Exchange::Failed(Some(e)),
            Err(Some(SendError::Middleware(e))) => Exchange::Refused(e),
        }
    }

    /// The per-attempt timeout: the endpoint's, else the client's.
    pub(super) fn attempt_timeout(&self, inner: &ClientInner) -> Option<Duration> {
        self.options.timeout.or(inner.request_timeout)
    }

    /// The limit on the whole call: the endpoint's, else the client's.
    pub(super) fn call_limit(&self) -> Option<Duration> {
        self.options.call_timeout.or(self.client.inner.call_timeout)
    }
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
) -> Result<(Arc<CachedToken>, Instant)> {
    if let Some(token) = inner.tokens.cached(now) {
        return Ok((token, now));
    }
    // A miss: the wait gets a span of its own under the call's (the token request it waits
    // for is linked to it), entered only when a subscriber wants it.
    let span = telemetry::token_wait_span();
    let waited = if span.is_disabled() {
        wait_for_token(inner, tries).await
    } else {
        wait_for_token(inner, tries).instrument(span.clone()).await
    };
    if let Err(error) = &waited {
        telemetry::token_wait_failed(&span, error);
    }
    waited
}

/// The slow path of [`token_for_call`]: no usable token in the cache.
async fn wait_for_token(
    inner: &ClientInner,
    tries: &mut Tries,
) -> Result<(Arc<CachedToken>, Instant)> {
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
