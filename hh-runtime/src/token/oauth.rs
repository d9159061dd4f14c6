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
use crate::error::{Error, HttpParts, OAuthError, OAuthErrorCode, Repr, TokenFailure};

/// The largest token response we read (1 MiB); anything bigger is refused.
pub(crate) const MAX_TOKEN_RESPONSE: usize = 1024 * 1024;
/// Lifetime assumed when neither `expires_in` nor the JWT `exp` claim says otherwise.
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// The longest lifetime we believe, so that absurd `expires_in` values still refresh daily.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

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
///
/// With private_key_jwt or DPoP, a request may go out again at once, as a new request with a
/// new assertion and a new proof (never one reused): once when the server asks for a DPoP
/// nonce (`use_dpop_nonce`), and once with the other key when one is refused
/// (`invalid_client`) while keys rotate, starting from the key the server last accepted.
pub(crate) async fn request_token(
    http: &reqwest::Client,
    cfg: &TokenConfig,
    answered: &crate::telemetry::Answered,
) -> Result<ParsedToken, Error> {
    let keys = cfg.signing_keys();
    let mut key = cfg.first_key();
    let mut keys_tried = 1;
    let mut nonce_asked = false;
    loop {
        let result = send_once(http, cfg, answered, key).await;
        let Err(error) = &result else {
            cfg.key_accepted(key);
            return result;
        };
        let code = error.oauth_error().map(|e| e.code.as_str());
        if !nonce_asked && code == Some("use_dpop_nonce") && cfg.token_scheme() == "DPoP" {
            nonce_asked = true;
            continue;
        }
        if code == Some("invalid_client") && keys_tried < keys {
            tracing::debug!("client assertion refused: trying the other key");
            key = (key + 1) % keys;
            keys_tried += 1;
            continue;
        }
        return result;
    }
}

/// One request to the token endpoint, its assertion signed with the `key`th key.
async fn send_once(
    http: &reqwest::Client,
    cfg: &TokenConfig,
    answered: &crate::telemetry::Answered,
    key: usize,
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
    // What this request carries that an answer must not echo into an error: the assertion
    // and the DPoP proof.
    let mut sent = Vec::new();
    #[cfg(feature = "dpop")]
    if let Some(dpop) = &cfg.dpop {
        let proof = dpop.proof(&http::Method::POST, &cfg.token_url, None)?;
        sent.push(proof.to_str().unwrap_or_default().to_owned());
        request = request.header(crate::auth::DPOP, proof);
    }
    if cfg.propagate_trace_context {
        let mut headers = http::HeaderMap::new();
        crate::telemetry::inject(&tracing::Span::current(), &mut headers);
        request = request.headers(headers);
    }
    let (body, assertion) = token_request_body(cfg, key).await?;
    sent.extend(assertion);
    let response = request
        .body(body.expose_secret().to_owned())
        .send()
        .await
        .map_err(|e| Error::token(TokenFailure::Transport(e.without_url())))?;

    let status = response.status();
    let headers = response.headers().clone();
    answered.set(status, response.version());
    #[cfg(feature = "dpop")]
    if let Some(dpop) = &cfg.dpop {
        dpop.observe(&cfg.token_url.origin(), &headers);
    }
    if status.is_redirection() {
        let forms = cfg.secret_forms();
        let headers = scrub_headers(headers, &withheld(&forms, &sent));
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
    answer(status, headers, body, truncated, cfg, &sent)
}

/// A token endpoint's answer read into a token, or into the error that keeps what of the
/// answer may be kept: never the secret, never a token (accepted or not).
fn answer(
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
    truncated: bool,
    cfg: &TokenConfig,
    sent: &[String],
) -> Result<ParsedToken, Error> {
    // The secret (and the assertion and proof) first, so that nothing read from the answer
    // (an `error_description` echoing the request) carries it.
    let forms = cfg.secret_forms();
    let secrets = withheld(&forms, sent);
    let body = scrub(body, &secrets);
    let mut failure = if truncated {
        TokenFailure::Malformed(format!(
            "the body is larger than {} KiB",
            MAX_TOKEN_RESPONSE / 1024
        ))
    } else {
        match parse_token_response(status, &body, cfg.token_scheme()) {
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
    let headers = scrub_headers(headers, &secrets);
    Err(token_error(failure, status, headers, kept.body, truncated))
}

/// What a token request carried that an error must not keep of its answer: the secret in
/// each form it travels in, and what `sent` lists (the assertion, the DPoP proof).
fn withheld<'a>(forms: &'a [Vec<u8>], sent: &'a [String]) -> Vec<&'a [u8]> {
    forms
        .iter()
        .map(Vec::as_slice)
        .chain(sent.iter().map(String::as_bytes))
        .collect()
}

/// An answer's headers without any of `secrets`, for an error to keep.
fn scrub_headers(headers: http::HeaderMap, secrets: &[&[u8]]) -> http::HeaderMap {
    crate::body::scrub_headers(headers, |value| scrub(value, secrets))
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

/// The form body of a client-credentials token request, and the client assertion in it
/// (signed with the `key`th key), if the client authenticates with one.
async fn token_request_body(
    cfg: &TokenConfig,
    key: usize,
) -> Result<(SecretString, Option<String>), Error> {
    // Signed before the form is begun: the form's serializer is not `Send`, and the fetch
    // runs on a task of its own.
    #[cfg(feature = "private-key-jwt")]
    let assertion = match cfg.auth {
        ClientAuth::PrivateKeyJwt => Some(sign_assertion(cfg, key).await?),
        _ => None,
    };
    #[cfg(not(feature = "private-key-jwt"))]
    let assertion: Option<String> = None;
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if let Some(scope) = &cfg.scope {
        form.append_pair("scope", scope);
    }
    match cfg.auth {
        ClientAuth::Post => {
            form.append_pair("client_id", &cfg.client_id);
            form.append_pair("client_secret", cfg.client_secret.expose_secret());
        }
        ClientAuth::Basic => {}
        // The TLS handshake authenticated the client; the form says which it is.
        ClientAuth::TlsClientAuth | ClientAuth::SelfSignedTlsClientAuth => {
            form.append_pair("client_id", &cfg.client_id);
        }
        #[cfg(feature = "private-key-jwt")]
        ClientAuth::PrivateKeyJwt => {
            form.append_pair("client_id", &cfg.client_id);
            form.append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            );
            form.append_pair("client_assertion", assertion.as_deref().unwrap_or_default());
        }
    }
    // (The key's index matters to private_key_jwt alone.)
    let _ = key;
    Ok((SecretString::from(form.finish()), assertion))
}

/// A new client assertion, signed with the `key`th key.
#[cfg(feature = "private-key-jwt")]
async fn sign_assertion(cfg: &TokenConfig, key: usize) -> Result<String, Error> {
    let Some(keys) = &cfg.assertion else {
        return Err(Error::config("private_key_jwt needs a signing key"));
    };
    let Some(signer) = keys.keys.get(key) else {
        return Err(Error::config("private_key_jwt needs a signing key"));
    };
    crate::auth::assertion(&cfg.client_id, &keys.audience, &**signer)
        .await
        .map_err(|e| Error::token(TokenFailure::Assertion(e)))
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
    scheme: &'static str,
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
        Some(t) if t.eq_ignore_ascii_case(scheme) => {}
        // A server that ignores DPoP issues bearer tokens: refused, rather than quietly
        // sending a token anyone who holds it can use.
        Some(t) if scheme == "DPoP" && t.eq_ignore_ascii_case("bearer") => {
            return Err(malformed(
                "`token_type` is `Bearer`, not `DPoP`: the server did not bind the token to the \
                 DPoP key (it may not support DPoP)",
            ));
        }
        Some(_) => {
            return Err(TokenFailure::Malformed(format!(
                "`token_type` is not `{scheme}`"
            )));
        }
        None => return Err(malformed("there is no `token_type`")),
    }
    let lifetime = match parse_expires_in(object.get("expires_in"))? {
        Some(lifetime) => lifetime,
        None => jwt::lifetime(token, SystemTime::now()).unwrap_or(DEFAULT_LIFETIME),
    };
    ParsedToken::with_scheme(SecretString::from(token.as_str()), lifetime, scheme).ok_or_else(
        || malformed("`access_token` contains characters that cannot be sent in an HTTP header"),
    )
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
    #[cfg(test)]
    pub(crate) fn new(token: SecretString, lifetime: Duration) -> Option<Self> {
        Self::with_scheme(token, lifetime, "Bearer")
    }

    /// A token sent as `Authorization: <scheme> <token>` (`Bearer`, or `DPoP`).
    pub(crate) fn with_scheme(
        token: SecretString,
        lifetime: Duration,
        scheme: &'static str,
    ) -> Option<Self> {
        if !fits_in_a_header(token.expose_secret()) {
            return None;
        }
        let mut header =
            HeaderValue::try_from(format!("{scheme} {}", token.expose_secret())).ok()?;
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
mod tests;
