//! Unit tests of the error type.

use super::*;

#[test]
fn error_is_send_sync_static_and_small() {
    fn assert_bounds<T: std::error::Error + Send + Sync + 'static>() {}
    assert_bounds::<Error>();
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
}

#[test]
fn a_shared_error_names_each_call_it_is_handed_to() {
    let shared = Error::config("x");
    let held = shared.clone();
    let a = shared.with_call(&Method::GET, "/a");
    let b = held.clone().with_call(&Method::POST, "/b");
    assert_eq!(a.to_string(), "GET /a: invalid client configuration: x");
    assert_eq!(b.to_string(), "POST /b: invalid client configuration: x");
    assert_eq!(held.to_string(), "invalid client configuration: x");
    assert!(Arc::ptr_eq(&a.inner.repr, &b.inner.repr), "not copied");
}

#[test]
fn only_transient_statuses_are_retryable() {
    let answered = |code: u16| {
        Error::new(Repr::Status {
            http: HttpParts {
                status: StatusCode::from_u16(code).unwrap(),
                headers: HeaderMap::new(),
                body: Bytes::new(),
                truncated: false,
            },
            json: None,
            problem: None,
            retry_after: None,
        })
    };
    for code in [408, 429, 502, 503, 504] {
        assert!(answered(code).is_retryable(), "{code}");
    }
    for code in [400, 401, 403, 404, 409, 422, 500, 501, 505] {
        assert!(!answered(code).is_retryable(), "{code}");
    }
}

/// The constructors for tests make the errors a call makes: same kind, predicates, accessors
/// and `Display` as from a server.
#[test]
fn errors_made_for_tests_read_as_a_servers() {
    let conflict = Error::from_status(StatusCode::PRECONDITION_FAILED, r#"{"title":"stale"}"#);
    assert_eq!(conflict.kind(), ErrorKind::Status);
    assert_eq!(conflict.status(), Some(StatusCode::PRECONDITION_FAILED));
    assert_eq!(conflict.body_text(), Some(r#"{"title":"stale"}"#));
    assert_eq!(conflict.json().unwrap()["title"], "stale");
    assert_eq!(
        conflict.to_string(),
        "the server answered HTTP 412 Precondition Failed: stale"
    );
    assert!(!conflict.is_retryable() && !conflict.is_body_truncated());

    let mut problem = ProblemDetails::new("Member not found");
    problem.extensions.insert("traceId".into(), "t-1".into());
    let missing = Error::from_problem(StatusCode::NOT_FOUND, &problem);
    problem.status = Some(404);
    assert_eq!(missing.problem(), Some(&problem));
    assert!(missing.is_not_found() && missing.means_absent());
    assert_eq!(
        missing.headers().unwrap()["content-type"],
        "application/problem+json"
    );

    let huge = Error::from_status(
        StatusCode::BAD_GATEWAY,
        vec![b'x'; Error::MAX_BODY_BYTES + 1],
    );
    assert!(huge.is_body_truncated() && huge.is_retryable());
    assert_eq!(huge.body().unwrap().len(), Error::MAX_BODY_BYTES);

    let slow = Error::timed_out(Duration::from_secs(5));
    assert_eq!(slow.kind(), ErrorKind::Transport);
    assert!(slow.is_timeout() && !slow.is_connect() && slow.is_retryable());
    assert_eq!(slow.to_string(), "no response within 5s");

    let down = Error::connection_refused();
    assert_eq!(down.kind(), ErrorKind::Transport);
    assert!(down.is_connect() && !down.is_timeout() && down.is_retryable());
    assert_eq!(down.status(), None);
    assert_eq!(down.to_string(), "could not connect to the server");
    assert_eq!(crate::telemetry::ErrorType::of(&down).as_str(), "connect");
}
