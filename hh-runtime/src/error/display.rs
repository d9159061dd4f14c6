//! How an [`Error`] reads: one line naming the call, what failed and what the server said,
//! with the source chain; never a secret (bodies are scrubbed before they are kept).

use std::fmt;
use std::time::Duration;

use http::StatusCode;

use super::{Error, HttpParts, Limit, Repr, TokenFailure, Waiting};

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((method, template)) = &self.inner.call {
            write!(f, "{method} {template}: ")?;
        }
        match &*self.inner.repr {
            Repr::Config(m) => write!(f, "invalid client configuration: {m}"),
            Repr::InvalidInput(m) => write!(f, "invalid request input: {m}"),
            Repr::Token {
                failure,
                http,
                endpoint,
                ..
            } => fmt_token(f, failure, http.as_ref(), endpoint.as_ref()),
            Repr::Transport {
                source,
                refused: true,
                ..
            } if source.is_none() => f.write_str("could not connect to the server"),
            Repr::Transport {
                source,
                timeout,
                attempts,
                elapsed,
                ..
            } => fmt_transport(f, source.as_ref(), *timeout, *attempts, *elapsed),
            Repr::Status { http, problem, .. } => {
                write!(f, "the server answered HTTP {}", http.status)?;
                if let Some(p) = problem {
                    if let Some(t) = &p.title {
                        write!(f, ": {t}")?;
                    }
                    if let Some(d) = &p.detail {
                        write!(f, " ({d})")?;
                    }
                }
                if http.status == StatusCode::UNAUTHORIZED
                    && let Some((scheme, error, description)) = challenge(&http.headers)
                {
                    write!(f, ": {scheme} {error}")?;
                    if let Some(d) = description {
                        write!(f, " ({d})")?;
                    }
                }
                Ok(())
            }
            Repr::Decode { message, path, .. } => {
                f.write_str("the response body did not match the expected type")?;
                if let Some(p) = path.as_deref().filter(|p| *p != ".") {
                    write!(f, " at `{p}`")?;
                }
                write!(f, ": {message}")
            }
            Repr::Middleware(source) => {
                write!(f, "a middleware failed the request: {}", Chain(&**source))
            }
            Repr::Deadline {
                limit,
                after,
                elapsed,
                waiting,
                last,
            } => fmt_deadline(f, *limit, *after, *elapsed, *waiting, last.as_ref()),
        }
    }
}

/// The transport part of `Display`: no answer, or no answer in time, and over how many tries.
fn fmt_transport(
    f: &mut fmt::Formatter<'_>,
    source: Option<&reqwest::Error>,
    timeout: Option<Duration>,
    attempts: u32,
    elapsed: Duration,
) -> fmt::Result {
    match (timeout, source) {
        (Some(d), _) => write!(f, "no response within {d:?}")?,
        (None, Some(source)) => write!(f, "request failed: {}", Chain(source))?,
        (None, None) => f.write_str("request failed")?,
    }
    if attempts > 1 {
        let each = if timeout.is_some() { " each" } else { "" };
        write!(
            f,
            " ({attempts} attempts{each}, {:.1} s in all)",
            elapsed.as_secs_f64()
        )?;
    }
    Ok(())
}

/// The deadline part of `Display`: which limit fired, when, on what the call was waiting, and
/// the failure it was waiting out.
fn fmt_deadline(
    f: &mut fmt::Formatter<'_>,
    limit: Limit,
    after: Duration,
    elapsed: Duration,
    waiting: Waiting,
    last: Option<&Error>,
) -> fmt::Result {
    let limit = match limit {
        Limit::CallTimeout => "`call_timeout`",
        Limit::RetryBudget => "retry budget (`RetryPolicy::max_elapsed`)",
    };
    write!(
        f,
        "the call ran out of time: its {after:?} {limit} fired after {:.1} s, ",
        elapsed.as_secs_f64()
    )?;
    match waiting {
        Waiting::Token => f.write_str("waiting for an access token")?,
        Waiting::Answer(n) => write!(f, "waiting for the answer to attempt {n}")?,
        Waiting::Backoff(n) => write!(f, "waiting to send attempt {n}")?,
    }
    if let Some(last) = last {
        write!(f, "; before that: {last}")?;
    }
    Ok(())
}

/// A token endpoint status that means the identity server is down or busy (5xx or a
/// transient status), not misconfigured: retryable, and worded as an outage.
pub(super) fn is_outage(status: StatusCode) -> bool {
    status.is_server_error() || crate::retry::is_transient_status(status)
}

/// The token part of `Display`: what went wrong, at which URL, and what to check.
fn fmt_token(
    f: &mut fmt::Formatter<'_>,
    failure: &TokenFailure,
    http: Option<&HttpParts>,
    endpoint: Option<&url::Url>,
) -> fmt::Result {
    f.write_str("could not obtain an access token")?;
    if let Some(url) = endpoint {
        write!(f, " from {url}")?;
    }
    f.write_str(": ")?;
    let status = http.map(|h| h.status);
    match failure {
        TokenFailure::OAuth(e) => {
            write!(f, "the identity server answered `{}`", e.code)?;
            if let Some(status) = status {
                write!(f, " (HTTP {status})")?;
            }
            if let Some(d) = &e.description {
                write!(f, ": {d}")?;
            }
            Ok(())
        }
        TokenFailure::Transport(e) => {
            write!(f, "the token endpoint could not be reached: {}", Chain(e))
        }
        TokenFailure::Timeout(d) => {
            write!(f, "no token within the {d:?} `token_timeout`")
        }
        TokenFailure::Status => match status {
            Some(StatusCode::NOT_FOUND) => {
                f.write_str("not found (HTTP 404 Not Found): check identity_url / token_url")
            }
            Some(s) if is_outage(s) => {
                write!(f, "the identity server is unavailable (HTTP {s})")
            }
            Some(s) => write!(
                f,
                "the token endpoint answered HTTP {s} without an RFC 6749 error; is this URL a token endpoint?"
            ),
            None => f.write_str("the token endpoint answered without a status"),
        },
        TokenFailure::Redirect(to) => {
            write!(
                f,
                "the token endpoint answered HTTP {} with a redirect",
                status.unwrap_or(StatusCode::FOUND)
            )?;
            if let Some(to) = to {
                write!(f, " to {to}")?;
            }
            f.write_str("; redirects are never followed with client credentials, so configure the final token URL")
        }
        TokenFailure::Malformed(m) => {
            f.write_str("the token endpoint sent an unusable response")?;
            if let Some(status) = status {
                write!(f, " (HTTP {status})")?;
            }
            write!(f, ": {m}")
        }
        TokenFailure::Aborted => f.write_str("the token request ended without a result"),
        #[cfg(feature = "private-key-jwt")]
        TokenFailure::Assertion(e) => {
            write!(
                f,
                "the client assertion could not be signed: {}",
                Chain(&**e)
            )
        }
    }
}

/// Writes an error and its sources, "a: b: c", so reqwest's terse top level is not all we say,
/// and what a cryptic cause means when we can tell.
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        let mut plain_http = false;
        while let Some(s) = source {
            write!(f, ": {s}")?;
            // An HTTP answer where a TLS record should be, as rustls and OpenSSL say it.
            let text = s.to_string();
            plain_http |=
                text.contains("InvalidContentType") || text.contains("wrong version number");
            source = s.source();
        }
        if plain_http {
            f.write_str(" (the server answered plain HTTP, not TLS: is this https:// URL pointing at a plain-HTTP port?)")?;
        }
        Ok(())
    }
}

/// What a 401's `WWW-Authenticate` refused (RFC 6750 section 3, RFC 9449 section 7.1): the
/// scheme, the `error` code and its `error_description`, when the challenge has an `error`.
fn challenge(headers: &http::HeaderMap) -> Option<(&str, &str, Option<&str>)> {
    headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|value| {
            let scheme = value.split_whitespace().next()?;
            let error = find_param(value, "error")?;
            Some((scheme, error, find_param(value, "error_description")))
        })
}

/// The quoted value of the auth-param `name` in a challenge.
fn find_param<'a>(challenge: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!("{name}=\"");
    // The parameter itself, not the end of a longer name (`error` in `error_description`).
    let at = challenge
        .match_indices(&needle)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || matches!(challenge.as_bytes()[i - 1], b' ' | b','))?;
    let rest = &challenge[at + needle.len()..];
    Some(&rest[..rest.find('"')?])
}
