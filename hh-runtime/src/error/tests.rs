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
