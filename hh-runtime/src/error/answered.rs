//! Errors made from an answer (a status, headers and a body), as a call receives them, and the
//! public constructors that make the same errors without a server: for tests of code that
//! handles hh's errors, and for test doubles of a generated client, whose replies must fail
//! exactly as the real client's do.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};

use super::{Error, HttpParts, ProblemDetails, Repr};
use crate::retry::retry_after;

impl Error {
    /// The error of an answer that is not a success: the body kept as received (already cut
    /// at the cap, `truncated`), its JSON and problem details parsed when it holds them, the
    /// server's `Retry-After` read.
    pub(crate) fn answered(
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        truncated: bool,
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
        let retry_after = retry_after(&headers);
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

    /// The error a call returns when the API answers `status` with `body`, as if a server had
    /// sent it: [`status`](Error::status), [`body`](Error::body), [`json`](Error::json) and
    /// [`problem`](Error::problem) read as they would, [`is_retryable`](Error::is_retryable)
    /// as for a real answer. For tests of code that handles errors, and for the replies of a
    /// test double. A body longer than [`Error::MAX_BODY_BYTES`] is cut there, as on the wire.
    /// The status is one of 400 or more, as the client's own errors have: a served fake
    /// (`hh_runtime::testing`) cannot send a lower one as an error, and reports it.
    ///
    /// ```
    /// use hh_runtime::{Error, StatusCode};
    ///
    /// let conflict = Error::from_status(StatusCode::PRECONDITION_FAILED, r#"{"title":"stale"}"#);
    /// assert_eq!(conflict.status(), Some(StatusCode::PRECONDITION_FAILED));
    /// assert_eq!(conflict.problem().and_then(|p| p.title.as_deref()), Some("stale"));
    /// assert!(!conflict.is_retryable());
    /// ```
    pub fn from_status(status: StatusCode, body: impl Into<Bytes>) -> Error {
        Error::from_response(status, HeaderMap::new(), body)
    }

    /// [`from_status`](Error::from_status) with the answer's headers too: a `Retry-After`
    /// among them is read into [`retry_after`](Error::retry_after).
    ///
    /// ```
    /// use std::time::Duration;
    /// use hh_runtime::{Error, HeaderMap, HeaderValue, StatusCode};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("retry-after", HeaderValue::from_static("2"));
    /// let busy = Error::from_response(StatusCode::SERVICE_UNAVAILABLE, headers, "");
    /// assert_eq!(busy.retry_after(), Some(Duration::from_secs(2)));
    /// assert!(busy.is_retryable());
    /// ```
    pub fn from_response(status: StatusCode, headers: HeaderMap, body: impl Into<Bytes>) -> Error {
        let mut body = body.into();
        let truncated = body.len() > Error::MAX_BODY_BYTES;
        if truncated {
            body.truncate(Error::MAX_BODY_BYTES);
        }
        Error::answered(status, headers, body, truncated)
    }

    /// The error a call returns when the API answers `status` with `problem` as RFC 9457
    /// problem details (`application/problem+json`), as ASP.NET services do; the problem's
    /// `status` is set to `status` when it has none.
    ///
    /// ```
    /// use hh_runtime::{Error, ProblemDetails, StatusCode};
    ///
    /// let mut problem = ProblemDetails::new("Member not found");
    /// problem.detail = Some("no member with reference m-1".into());
    /// let missing = Error::from_problem(StatusCode::NOT_FOUND, &problem);
    /// assert!(missing.is_not_found());
    /// let sent = missing.problem().unwrap();
    /// assert_eq!((sent.title.as_deref(), sent.status), (Some("Member not found"), Some(404)));
    /// ```
    pub fn from_problem(status: StatusCode, problem: &ProblemDetails) -> Error {
        let mut problem = problem.clone();
        problem.status.get_or_insert(status.as_u16());
        // A `ProblemDetails` always serialises: strings, a number and a JSON map.
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        Error::from_response(status, headers, body)
    }

    /// The error of a call whose request got no answer within `after`, as when a per-attempt
    /// timeout fires: [`is_timeout`](Error::is_timeout) and retryable, no status.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hh_runtime::Error;
    ///
    /// let slow = Error::timed_out(Duration::from_secs(5));
    /// assert!(slow.is_timeout() && slow.is_retryable() && slow.status().is_none());
    /// ```
    pub fn timed_out(after: Duration) -> Error {
        Error::new(Repr::Transport {
            source: None,
            refused: false,
            timeout: Some(after),
            attempts: 1,
            elapsed: after,
        })
    }

    /// The error of a call that could not connect to the server (nothing reached it):
    /// [`is_connect`](Error::is_connect) and retryable, no status. A served fake
    /// (`hh_runtime::testing`) replies to it by cutting the connection after the request
    /// arrived: over the wire the client sees an answer cut short, which it resends only for
    /// an idempotent request, where in process the error is this one as it is.
    ///
    /// ```
    /// use hh_runtime::Error;
    ///
    /// let down = Error::connection_refused();
    /// assert!(down.is_connect() && down.is_retryable() && !down.is_timeout());
    /// ```
    pub fn connection_refused() -> Error {
        Error::new(Repr::Transport {
            source: None,
            refused: true,
            timeout: None,
            attempts: 1,
            elapsed: Duration::ZERO,
        })
    }
}

impl ProblemDetails {
    /// Problem details with this `title` and nothing else (set the other fields as needed):
    /// for [`Error::from_problem`].
    pub fn new(title: impl Into<String>) -> Self {
        ProblemDetails {
            type_: None,
            title: Some(title.into()),
            status: None,
            detail: None,
            instance: None,
            extensions: serde_json::Map::new(),
        }
    }
}
