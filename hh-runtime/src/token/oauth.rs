//! The token endpoint on the wire: the RFC 6749 client-credentials request (section 4.4), with
//! the client authenticated as section 2.3.1 says, and the answer read into a token or a typed
//! failure (sections 5.1 and 5.2). Nothing here knows about caching or time beyond the one
//! request.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, StatusCode};
use secrecy::{ExposeSecret, SecretString};

use super::{ClientAuth, TokenConfig, jwt};
use crate::body::{read_capped, scrub, withhold_tokens};
use crate::error::{Error, HttpParts, Repr, TokenFailure};

/// The largest token response we read (1 MiB); anything bigger is refused.
pub(crate) const MAX_TOKEN_RESPONSE: usize = 1024 * 1024;
/// Lifetime assumed when neither `expires_in` nor the JWT `exp` claim says otherwise.
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// The longest lifetime we believe, so that absurd `expires_in` values still refresh daily.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// An RFC 6749 section 5.2 error code returned by the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`: wrong client id or secret, or an authentication method the server refuses.
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`: this client may not use the client-credentials grant.
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`: a requested scope is unknown or not allowed for this client.
    InvalidScope,
    /// Any other code the server chose, kept verbatim.
    Other(String),
}

impl OAuthErrorCode {
    pub(crate) fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::Other(code) => code,
        }
    }

    /// Whether asking again with the same configuration cannot succeed: every code RFC 6749
    /// defines, since each says the request or the client is wrong. `invalid_request` is among
    /// them: the same request is malformed the same way next time. Other codes
    /// (`temporarily_unavailable`, `server_error`, `slow_down`, anything unknown) are not.
    /// This is the one rule: [`Error::is_retryable`](crate::Error::is_retryable) and the token
    /// backoff both follow it.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::InvalidRequest
                | Self::InvalidClient
                | Self::UnauthorizedClient
                | Self::InvalidScope
                | Self::UnsupportedGrantType
                | Self::InvalidGrant
        )
    }
}

impl std::fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An RFC 6749 section 5.2 error response from the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The `error` code.
    pub code: OAuthErrorCode,
    /// The optional human-readable `error_description`.
    pub description: Option<String>,
    /// The optional `error_uri`.
    pub uri: Option<String>,
}

/// A successful token response, before it is placed on the clock.
#[derive(Debug)]
pub(crate) struct ParsedToken {
    pub(crate) token: SecretString,
    /// `Bearer <token>`, marked sensitive.
    pub(crate) header: HeaderValue,
    pub(crate) lifetime: Duration,
}

/// One token request, start to finish: send, refuse redirects, read within the cap, parse;
/// what an error keeps of the answer has the secret and every token withheld.
pub(crate) async fn request_token(
    http: &reqwest::Client,
    cfg: &TokenConfig,
) -> Result<ParsedToken, Error> {
    let mut request = http
        .post(cfg.token_url.clone())
        .header(ACCEPT, "application/json")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
    if cfg.auth == ClientAuth::Basic {
        request = request.header(
            AUTHORIZATION,
            basic_auth(&cfg.client_id, cfg.client_secret.expose_secret()),
        );
    }
    let body = token_request_body(cfg);
    let response = request
        .body(body.expose_secret().to_owned())
        .send()
        .await
        .map_err(|e| Error::token(TokenFailure::Transport(e.without_url())))?;

    let status = response.status();
    let headers = response.headers().clone();
    crate::telemetry::token_status(status);
    if status.is_redirection() {
        let location = headers
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        return Err(token_error(
            TokenFailure::Redirect(location),
            status,
            headers,
            Bytes::new(),
            false,
        ));
    }
    let (body, truncated) = read_capped(response, MAX_TOKEN_RESPONSE)
        .await
        .map_err(|e| Error::token(TokenFailure::Transport(e.without_url())))?;
    answer(status, headers, body, truncated, cfg)
}

/// A token endpoint's answer read into a token, or into the error that keeps what of the
/// answer may be kept: never the secret, never a token (accepted or not).
fn answer(
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
    truncated: bool,
    cfg: &TokenConfig,
) -> Result<ParsedToken, Error> {
    // The secret first, so that nothing read from the answer (an `error_description`
    // echoing the request) carries it.
    let [encoded, raw] = cfg.secret_forms();
    let body = scrub(body, &[&encoded, &raw]);
    let mut failure = if truncated {
        TokenFailure::Malformed(format!(
            "the body is larger than {} KiB",
            MAX_TOKEN_RESPONSE / 1024
        ))
    } else {
        match parse_token_response(status, &body) {
            Ok(token) => return Ok(token),
            Err(failure) => failure,
        }
    };
    let kept = withhold_tokens(body);
    if let TokenFailure::OAuth(error) = &mut failure {
        // Read from the answer as sent: an echoed token is withheld here too.
        for text in [&mut error.description, &mut error.uri]
            .into_iter()
            .flatten()
        {
            *text = kept.clean(text);
        }
    }
    Err(token_error(failure, status, headers, kept.body, truncated))
}

fn token_error(
    failure: TokenFailure,
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
    truncated: bool,
) -> Error {
    let retry_after = crate::retry::retry_after(&headers);
    Error::new(Repr::Token {
        failure,
        http: Some(HttpParts {
            status,
            headers,
            body,
            truncated,
        }),
        retry_after,
        endpoint: None,
    })
}

/// The form body of a client-credentials token request.
fn token_request_body(cfg: &TokenConfig) -> SecretString {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if let Some(scope) = &cfg.scope {
        form.append_pair("scope", scope);
    }
    if cfg.auth == ClientAuth::Post {
        form.append_pair("client_id", &cfg.client_id);
        form.append_pair("client_secret", cfg.client_secret.expose_secret());
    }
    SecretString::from(form.finish())
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, marked sensitive.
pub(crate) fn basic_auth(client_id: &str, secret: &str) -> HeaderValue {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let credentials = SecretString::from(format!("{}:{}", encode(client_id), encode(secret)));
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials.expose_secret());
    // Base64 is always a valid header value; the fallback only keeps this free of panics.
    let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

/// Turns a token endpoint answer into a token or a typed failure. Pure, so that every odd
/// answer a server can give is unit-tested without a network.
pub(crate) fn parse_token_response(
    status: StatusCode,
    body: &[u8],
) -> Result<ParsedToken, TokenFailure> {
    let malformed = |m: &str| TokenFailure::Malformed(m.to_owned());
    if !status.is_success() {
        // RFC 6749 section 5.2 if the body says so; otherwise the status says it all.
        let object = serde_json::from_slice::<serde_json::Value>(body).ok();
        return Err(
            match object.as_ref().and_then(|v| oauth_error(v.as_object()?)) {
                Some(Ok(error)) => TokenFailure::OAuth(error),
                Some(Err(_)) | None => TokenFailure::Status,
            },
        );
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(malformed("the body is empty"));
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(malformed("the body is not valid UTF-8"));
    };
    let json: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) if text.trim_start().starts_with('<') => {
            return Err(malformed("the body is HTML, not a JSON token response"));
        }
        Err(e) => {
            return Err(TokenFailure::Malformed(format!(
                "the body is not JSON ({e})"
            )));
        }
    };
    let Some(object) = json.as_object() else {
        return Err(malformed("the body is JSON but not an object"));
    };
    // RFC 6749 section 5.2, on any status: some servers send `error` with 200.
    if let Some(error) = oauth_error(object) {
        return Err(error.map_or_else(&malformed, TokenFailure::OAuth));
    }
    let token = match object.get("access_token") {
        Some(serde_json::Value::String(t)) if !t.is_empty() => t,
        Some(serde_json::Value::String(_)) => return Err(malformed("`access_token` is empty")),
        Some(_) => return Err(malformed("`access_token` is not a string")),
        None => return Err(malformed("there is no `access_token`")),
    };
    match object.get("token_type").and_then(|t| t.as_str()) {
        // RFC 6749 section 5.1: the type is case-insensitive.
        Some(t) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err(malformed("`token_type` is not `Bearer`")),
        None => return Err(malformed("there is no `token_type`")),
    }
    let lifetime = match parse_expires_in(object.get("expires_in"))? {
        Some(lifetime) => lifetime,
        None => jwt::lifetime(token, SystemTime::now()).unwrap_or(DEFAULT_LIFETIME),
    };
    ParsedToken::new(SecretString::from(token.as_str()), lifetime).ok_or_else(|| {
        malformed("`access_token` contains characters that cannot be sent in an HTTP header")
    })
}

/// Whether a token can be sent as `Authorization: Bearer <token>`: visible ASCII only
/// (0x21 to 0x7E), so no space, line break or control character, and not empty. The one
/// rule for a token from the identity server and for one read from a shared store: a token
/// one process accepts, every other accepts too.
pub(crate) fn fits_in_a_header(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| (0x21..0x7f).contains(&b))
}

impl ParsedToken {
    /// A token with its `Authorization` value, or `None` if it cannot be sent in a header
    /// (`fits_in_a_header`).
    pub(crate) fn new(token: SecretString, lifetime: Duration) -> Option<Self> {
        if !fits_in_a_header(token.expose_secret()) {
            return None;
        }
        let mut header = HeaderValue::try_from(format!("Bearer {}", token.expose_secret())).ok()?;
        header.set_sensitive(true);
        Some(ParsedToken {
            token,
            header,
            lifetime,
        })
    }
}

/// The RFC 6749 section 5.2 error object, the one reading of it whatever the status: `None`
/// when there is no `error` member, and what is wrong when it is not a string.
fn oauth_error(
    object: &serde_json::Map<String, serde_json::Value>,
) -> Option<Result<OAuthError, &'static str>> {
    let code = object.get("error")?;
    let Some(code) = code.as_str() else {
        return Some(Err("`error` is not a string"));
    };
    let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    Some(Ok(OAuthError {
        code: OAuthErrorCode::parse(code),
        description: text("error_description"),
        uri: text("error_uri"),
    }))
}

/// `expires_in` as the spec says (a number of seconds) or as servers send it (a string, a
/// float). Missing, `null`, zero and negative mean "not stated"; values beyond a day are
/// capped at a day.
pub(crate) fn parse_expires_in(
    value: Option<&serde_json::Value>,
) -> Result<Option<Duration>, TokenFailure> {
    let seconds = match value {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    let Some(seconds) = seconds.filter(|s| s.is_finite()) else {
        return Err(TokenFailure::Malformed(
            "`expires_in` is not a number of seconds".to_owned(),
        ));
    };
    if seconds < 1.0 {
        return Ok(None);
    }
    Ok(Some(
        Duration::try_from_secs_f64(seconds)
            .unwrap_or(MAX_LIFETIME)
            .min(MAX_LIFETIME),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::jwt::tests::jwt;
    use serde_json::json;
    use std::time::UNIX_EPOCH;

    fn parse(status: u16, body: &str) -> Result<ParsedToken, TokenFailure> {
        parse_token_response(StatusCode::from_u16(status).unwrap(), body.as_bytes())
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
        let invalid_utf8 = parse_token_response(StatusCode::OK, b"{\"a\":\"\xff\"}");
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
            ) {
                let mut object = serde_json::json!({"token_type": kind, "expires_in": expires});
                object[key] = serde_json::Value::from(token);
                if let Some(e) = error {
                    object["error"] = e;
                }
                let mut body = object.to_string().into_bytes();
                if let Some(at) = cut {
                    body.truncate(at.index(body.len() + 1));
                }
                let status = StatusCode::from_u16(status).unwrap();
                let result = answer(status, http::HeaderMap::new(), Bytes::from(body.clone()), cut.is_some(), &super::config());
                if let Err(error) = result {
                    let all = super::rendered(&error);
                    prop_assert!(!all.contains("f00d-c0ffee"), "{}\n{}", String::from_utf8_lossy(&body), all);
                }
            }

            #[test]
            fn token_parser_never_panics_on_bytes(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..600)) {
                let _ = parse_token_response(StatusCode::from_u16(status).unwrap(), &body);
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
                if let Ok(parsed) = parse_token_response(StatusCode::from_u16(status).unwrap(), body.as_bytes()) {
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
                r#"{"error":"invalid_client","error_description":"got the-client-secret"}"#
                    .to_owned(),
            ),
            (503, format!(r#"{{"accessToken":"{live}"}}"#)),
        ];
        for (status, body) in cases {
            let error = answer(
                StatusCode::from_u16(status).unwrap(),
                http::HeaderMap::new(),
                Bytes::from(body.clone()),
                false,
                &config(),
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
}
