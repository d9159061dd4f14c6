//! Unit tests of the token endpoint answer: parsing, client authentication, and what an
//! error keeps of a rejected answer.

use super::*;
use crate::token::jwt::tests::jwt;
use serde_json::json;
use std::time::UNIX_EPOCH;

fn parse(status: u16, body: &str) -> Result<ParsedToken, TokenFailure> {
    parse_token_response(
        StatusCode::from_u16(status).unwrap(),
        body.as_bytes(),
        "Bearer",
    )
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
    assert_eq!(super::jwt::lifetime(&expired, SystemTime::now()), None);
    assert_eq!(
        super::jwt::lifetime("not.a-jwt!.x", SystemTime::now()),
        None
    );
    assert_eq!(
        super::jwt::lifetime(&jwt(json!({"exp": "x"})), SystemTime::now()),
        None
    );
    assert_eq!(
        super::jwt::lifetime(&jwt(json!({"exp": 1e300})), SystemTime::now()),
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
fn non_2xx_without_an_oauth_error_is_a_status_failure() {
    for (status, body) in [
        (404, ""),
        (502, "<html><body>Bad gateway</body></html>"),
        (500, r#"{"message":"oops"}"#),
        (503, "not json"),
        (400, r#"{"error":5}"#),
    ] {
        assert!(
            matches!(parse(status, body), Err(TokenFailure::Status)),
            "{status} {body}"
        );
    }
}

#[test]
fn malformed_responses() {
    assert!(malformed(parse(200, "")).contains("empty"));
    assert!(malformed(parse(200, "  \n")).contains("empty"));
    assert!(malformed(parse(200, "<html><body>Sign in</body></html>")).contains("HTML"));
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
    // A space is a valid header byte, but not in a token: it is refused here as it would
    // be when read from a shared store.
    for token in ["a b", "tab\t", "caf\u{e9}", "\u{7f}"] {
        let body = serde_json::json!({"access_token": token, "token_type": "Bearer"});
        assert!(
            malformed(parse(200, &body.to_string())).contains("header"),
            "{token:?}"
        );
        assert!(!fits_in_a_header(token));
    }
    assert!(fits_in_a_header("eyJ.a-b_c~d+e/f="));

    assert!(malformed(parse(200, r#"{"error":5}"#)).contains("`error`"));
    let invalid_utf8 = parse_token_response(StatusCode::OK, b"{\"a\":\"\xff\"}", "Bearer");
    assert!(malformed(invalid_utf8).contains("UTF-8"));
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

    /// A marker token: recognisable by its middle, with characters that need escaping
    /// (or cannot be sent in a header) around it.
    fn marker() -> impl Strategy<Value = String> {
        ("[a-z\\\"\r\n <>&=]{0,3}", "[a-z\\\"\r\n <>&=]{0,3}")
            .prop_map(|(a, b)| format!("{a}MARK3R-f00d-c0ffee{b}"))
    }

    proptest! {
        #[test]
        fn no_token_answer_renders_its_token(
            token in marker(),
            kind in prop_oneof![Just(serde_json::json!("Bearer")), Just(serde_json::json!("mac")), json_value()],
            expires in json_value(),
            error in prop::option::of(prop_oneof![Just(serde_json::json!("invalid_request")), json_value()]),
            status in prop_oneof![Just(200u16), Just(201u16), Just(400u16), Just(401u16), Just(503u16)],
            cut in prop::option::of(any::<prop::sample::Index>()),
            key in prop_oneof![Just("access_token"), Just("refresh_token"), Just("id_token"), Just("token")],
            twice in any::<bool>(),
        ) {
            let mut object = serde_json::json!({"token_type": kind, "expires_in": expires});
            object[key] = serde_json::Value::from(token);
            if let Some(e) = error {
                object["error"] = e;
            }
            let mut body = object.to_string().into_bytes();
            if twice {
                // The member again, last: a parser keeps this value, the bytes keep both.
                body.pop();
                body.extend_from_slice(format!(r#","{key}":null}}"#).as_bytes());
            }
            if let Some(at) = cut {
                body.truncate(at.index(body.len() + 1));
            }
            let status = StatusCode::from_u16(status).unwrap();
            let result = answer(status, http::HeaderMap::new(), Bytes::from(body.clone()), cut.is_some(), &super::config(), &[]);
            if let Err(error) = result {
                let all = super::rendered(&error);
                prop_assert!(!all.contains("f00d-c0ffee"), "{}\n{}", String::from_utf8_lossy(&body), all);
            }
        }

        #[test]
        fn token_parser_never_panics_on_bytes(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_token_response(StatusCode::from_u16(status).unwrap(), &body, "Bearer");
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
            if let Ok(parsed) = parse_token_response(StatusCode::from_u16(status).unwrap(), body.as_bytes(), "Bearer") {
                // Whatever was accepted is usable: a bounded lifetime and a sendable header.
                prop_assert!(parsed.lifetime <= MAX_LIFETIME);
                prop_assert!(parsed.lifetime >= Duration::from_secs(1));
                prop_assert!(parsed.header.to_str().is_ok() || parsed.header.as_bytes().starts_with(b"Bearer "));
                prop_assert!(parsed.header.is_sensitive());
            }
        }
    }
}

fn config() -> TokenConfig {
    TokenConfig {
        token_url: "http://127.0.0.1:1/connect/token".parse().unwrap(),
        client_id: "c".into(),
        client_secret: SecretString::from("the-client-secret"),
        scope: None,
        auth: ClientAuth::Post,
        timeout: Duration::from_secs(10),
        refresh_ahead: Duration::from_secs(300),
        min_remaining: Duration::from_secs(30),
        propagate_trace_context: false,
        client_certificate: None,
        #[cfg(feature = "private-key-jwt")]
        assertion: None,
        #[cfg(feature = "dpop")]
        dpop: None,
    }
}

/// Everything an error lets a caller or a log see: `Display`, `Debug` (both forms), the
/// body (raw and as text), the OAuth error and the `source` chain.
pub(crate) fn rendered(error: &Error) -> String {
    use std::error::Error as _;
    let mut all = format!(
        "{error}\n{error:?}\n{error:#?}\n{:?}\n{:?}\n{:?}",
        error.body().map(String::from_utf8_lossy),
        error.body_text(),
        error.oauth_error()
    );
    let mut source = error.source();
    while let Some(s) = source {
        all.push_str(&format!("\n{s} {s:?}"));
        source = s.source();
    }
    all
}

#[test]
fn a_rejected_token_answer_keeps_no_token() {
    let live = "eyJhbGciOiJSUzI1NiJ9.live-token.sig";
    let cases = [
        (
            200,
            format!(r#"{{"access_token":"{live}","token_type":"mac","expires_in":3600}}"#),
        ),
        (
            200,
            format!(r#"{{"access_token":"{live}","token_type":"Bearer","expires_in":"soon"}}"#),
        ),
        (
            200,
            format!(r#"{{"access_token":"{live}","token_type":"Bearer","expires_in":36"#),
        ),
        (
            200,
            format!(r#"{{"token_type":"Bearer","access_token":"{live}\r\nX-Evil: 1"}}"#),
        ),
        (200, format!(r#"{{"access_token":"{live}"}}"#)),
        (200, format!("access_token={live}&token_type=bearer")),
        (
            200,
            format!(
                r#"{{"error":"server_error","error_description":"issued {live}","access_token":"{live}"}}"#
            ),
        ),
        (
            400,
            format!(
                r#"{{"error":"invalid_request","refresh_token":"{live}","x":{{"id_token":"{live}"}}}}"#
            ),
        ),
        (
            400,
            r#"{"error":"invalid_client","error_description":"got the-client-secret"}"#.to_owned(),
        ),
        (503, format!(r#"{{"accessToken":"{live}"}}"#)),
        // A name given twice: JSON parsers keep the last value, the bytes keep both.
        (
            200,
            format!(r#"{{"access_token":"{live}","token_type":"Bearer","access_token":null}}"#),
        ),
    ];
    for (status, body) in cases {
        let error = answer(
            StatusCode::from_u16(status).unwrap(),
            http::HeaderMap::new(),
            Bytes::from(body.clone()),
            false,
            &config(),
            &[],
        )
        .unwrap_err();
        let all = rendered(&error);
        assert!(!all.contains("live-token"), "{body}\n{all}");
        assert!(!all.contains("the-client-secret"), "{body}\n{all}");
        assert!(error.body().is_some_and(|b| !b.is_empty()), "{body}");
    }
    // A body cut at the size cap, the token in the part kept.
    let cut = answer(
        StatusCode::OK,
        http::HeaderMap::new(),
        Bytes::from(format!(r#"{{"token_type":"Bearer","access_token":"{live}"#)),
        true,
        &config(),
        &[],
    )
    .unwrap_err();
    assert!(!rendered(&cut).contains("live-token"));
    // What holds no token is kept as sent.
    let page = answer(
        StatusCode::OK,
        http::HeaderMap::new(),
        Bytes::from_static(b"<html>Sign in</html>"),
        false,
        &config(),
        &[],
    )
    .unwrap_err();
    assert_eq!(page.body_text(), Some("<html>Sign in</html>"));
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

#[test]
fn permanent_oauth_codes() {
    for code in [
        "invalid_request",
        "invalid_client",
        "unauthorized_client",
        "invalid_scope",
        "unsupported_grant_type",
        "invalid_grant",
    ] {
        let parsed = OAuthErrorCode::parse(code);
        assert!(parsed.is_permanent(), "{code}");
        assert_eq!(parsed.as_str(), code);
    }
    assert!(!OAuthErrorCode::parse("temporarily_unavailable").is_permanent());
    assert_eq!(
        OAuthErrorCode::parse("slow_down"),
        OAuthErrorCode::Other("slow_down".into())
    );
}

#[test]
fn an_echoed_client_assertion_is_withheld_from_the_error() {
    let assertion = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJjIn0.c2lnbmF0dXJl";
    let body = format!(r#"{{"error":"invalid_client","error_description":"bad {assertion}"}}"#);
    let error = answer(
        StatusCode::BAD_REQUEST,
        http::HeaderMap::new(),
        Bytes::from(body),
        false,
        &config(),
        &[assertion.to_owned()],
    )
    .unwrap_err();
    assert!(!rendered(&error).contains(assertion));
}

#[test]
fn a_dpop_client_takes_dpop_tokens_and_refuses_bearer_ones() {
    let dpop = parse_token_response(
        StatusCode::OK,
        br#"{"access_token":"abc.def.ghi","token_type":"DPoP","expires_in":60}"#,
        "DPoP",
    )
    .unwrap();
    assert_eq!(dpop.header.to_str().unwrap(), "DPoP abc.def.ghi");
    let Err(TokenFailure::Malformed(why)) = parse_token_response(
        StatusCode::OK,
        br#"{"access_token":"abc.def.ghi","token_type":"Bearer","expires_in":60}"#,
        "DPoP",
    ) else {
        panic!("a bearer token accepted by a DPoP client")
    };
    assert!(
        why.contains("did not bind the token to the DPoP key"),
        "{why}"
    );
}
