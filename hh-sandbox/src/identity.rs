//! The identity server: `POST /connect/token` (client credentials), discovery, JWKS, and the
//! bearer-token check every API call goes through. It behaves as IdentityServer does where the
//! HealthHero docs are silent.

// The token request's checks return `Result<_, Response>`, the refusal ready to send; see the
// note in `api`.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::State;

/// The audience every access token is issued for (what the APIs check).
pub(crate) const AUDIENCE: &str = "healthhero-api";
const KEY_ID: &str = "hh-sandbox-1";

pub(crate) struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: serde_json::Value,
}

impl Keys {
    /// The signing key, an RSA key made when the process first starts a sandbox (and shared
    /// by every sandbox it starts): no private key is shipped in the crate for secret
    /// scanners to flag, or for anyone to mistake for a real one.
    pub(crate) fn load() -> Result<Self, String> {
        static GENERATED: std::sync::OnceLock<Result<(String, serde_json::Value), String>> =
            std::sync::OnceLock::new();
        let (pem, jwk) = GENERATED.get_or_init(generate).clone()?;
        let encoding =
            EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| format!("signing key: {e}"))?;
        // Tokens are verified with the published JWK, so a JWKS that does not match the key fails
        // every call instead of passing unnoticed.
        let decoding = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap_or_default(),
            jwk["e"].as_str().unwrap_or_default(),
        )
        .map_err(|e| format!("jwk: {e}"))?;
        Ok(Self {
            encoding,
            decoding,
            jwk,
        })
    }
}

/// A new 2048-bit RSA key: its private half as PKCS#8 PEM, its public half as a JWK.
fn generate() -> Result<(String, serde_json::Value), String> {
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
    use aws_lc_rs::signature::KeyPair as _;

    let key = KeyPair::generate(KeySize::Rsa2048).map_err(|e| format!("signing key: {e}"))?;
    let der = key.as_der().map_err(|e| format!("signing key: {e}"))?;
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    // The label apart, so that this source does not itself look like a key to a scanner.
    const LABEL: &str = "PRIVATE KEY";
    let mut pem = format!("-----BEGIN {LABEL}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {LABEL}-----\n"));
    let public = PublicKeyComponents::<Vec<u8>>::from(key.public_key());
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let jwk = serde_json::json!({
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": KEY_ID,
        "n": b64(&public.n),
        "e": b64(&public.e),
    });
    Ok((pem, jwk))
}

/// The claims of the access tokens we issue.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub(crate) iss: String,
    pub(crate) aud: String,
    pub(crate) client_id: String,
    pub(crate) scope: Vec<String>,
    pub(crate) iat: u64,
    pub(crate) nbf: u64,
    pub(crate) exp: u64,
    pub(crate) jti: String,
}

/// A client registered with the identity server.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) secret: String,
    pub(crate) scopes: Vec<String>,
}

/// An RFC 6749 section 5.2 error. `invalid_client` after HTTP Basic is 401 with a challenge;
/// everything else is 400, as IdentityServer answers.
fn oauth_error(code: &str, description: &str, basic: bool) -> Response {
    let body = serde_json::json!({"error": code, "error_description": description});
    let mut response = (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    if code == "invalid_client" && basic {
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"hh-sandbox\""),
        );
    }
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// Client credentials from `Authorization: Basic` (RFC 6749 2.3.1: each part form-encoded).
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let parse = || -> Option<(String, String)> {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        Some((decode(id)?, decode(secret)?))
    };
    Some(parse().ok_or(()))
}

/// `POST /connect/token`: the client credentials grant. The request is checked in this order
/// (content type, credentials, grant type, client, scope); the first fault found is the error.
pub(crate) fn token(state: &State, headers: &HeaderMap, body: &[u8]) -> Response {
    match token_request(state, headers, body) {
        Ok((client_id, scopes)) => issue(state, client_id, scopes),
        Err(refusal) => refusal,
    }
}

/// The client a token request authenticates and the scopes it is granted, or the RFC 6749
/// error that refuses it.
fn token_request(
    state: &State,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, Vec<String>), Response> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(oauth_error(
            "invalid_request",
            "the token request must be application/x-www-form-urlencoded",
            false,
        ));
    }
    let (client_id, secret, used_basic) = client_credentials(headers, &form)?;
    match form.get("grant_type").map(String::as_str) {
        None => {
            return Err(oauth_error(
                "invalid_request",
                "grant_type is missing",
                used_basic,
            ));
        }
        Some("client_credentials") => {}
        Some(_) => {
            return Err(oauth_error(
                "unsupported_grant_type",
                "only client_credentials is supported",
                used_basic,
            ));
        }
    }
    let registration = state.client(&client_id);
    let Some(registration) = registration.filter(|r| r.secret == secret) else {
        return Err(oauth_error(
            "invalid_client",
            "unknown client or wrong secret",
            used_basic,
        ));
    };
    let scopes = granted_scopes(&form, &registration, used_basic)?;
    Ok((client_id, scopes))
}

/// The client id and secret, from `Authorization: Basic` or the form (not both), and whether
/// they came by Basic (which makes a wrong client a 401).
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(String, String, bool), Response> {
    let basic = basic_credentials(headers);
    let used_basic = basic.is_some();
    let (client_id, secret) = match (basic, form.get("client_id"), form.get("client_secret")) {
        (Some(Err(())), _, _) => {
            return Err(oauth_error(
                "invalid_client",
                "malformed Basic credentials",
                true,
            ));
        }
        (Some(Ok(_)), _, Some(_)) => {
            return Err(oauth_error(
                "invalid_request",
                "client credentials in both the header and the body",
                true,
            ));
        }
        (Some(Ok(pair)), _, None) => pair,
        (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
        (None, _, _) => {
            return Err(oauth_error(
                "invalid_client",
                "no client credentials",
                false,
            ));
        }
    };
    Ok((client_id, secret, used_basic))
}

/// The scopes asked for (all the client's when none are), each one the client may have.
fn granted_scopes(
    form: &HashMap<String, String>,
    registration: &Registration,
    used_basic: bool,
) -> Result<Vec<String>, Response> {
    let scopes: Vec<String> = match form.get("scope") {
        Some(s) if !s.trim().is_empty() => s.split_ascii_whitespace().map(str::to_owned).collect(),
        _ => registration.scopes.clone(),
    };
    if let Some(bad) = scopes.iter().find(|s| !registration.scopes.contains(s)) {
        return Err(oauth_error(
            "invalid_scope",
            &format!("scope `{bad}` is not allowed for this client"),
            used_basic,
        ));
    }
    Ok(scopes)
}

/// Signs an access token for `client_id`, records it as issued, and answers with it.
fn issue(state: &State, client_id: String, scopes: Vec<String>) -> Response {
    let lifetime = state.token_lifetime.load(Ordering::Relaxed);
    let now = state.clock.now_secs();
    let claims = Claims {
        iss: state.issuer(),
        aud: AUDIENCE.to_owned(),
        client_id,
        scope: scopes.clone(),
        iat: now,
        nbf: now,
        exp: now + lifetime,
        jti: format!("sbx-{}", state.next_jti.fetch_add(1, Ordering::Relaxed)),
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KEY_ID.to_owned());
    header.typ = Some("at+jwt".to_owned());
    let token = match jsonwebtoken::encode(&header, &claims, &state.keys.encoding) {
        Ok(t) => t,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("signing failed: {e}"),
            )
                .into_response();
        }
    };
    state
        .issued
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(token.clone());
    let body = serde_json::json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scopes.join(" "),
    });
    let mut response = axum::Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

pub(crate) fn discovery(state: &State) -> Response {
    let issuer = state.issuer();
    axum::Json(serde_json::json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/openid-configuration/jwks"),
        "token_endpoint": format!("{issuer}/connect/token"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": crate::DEFAULT_SCOPES,
        "claims_supported": ["client_id", "scope", "iss", "aud", "iat", "nbf", "exp", "jti"],
    }))
    .into_response()
}

pub(crate) fn jwks(state: &State) -> Response {
    axum::Json(serde_json::json!({"keys": [state.keys.jwk]})).into_response()
}

/// Why a bearer token was refused; the text goes into `WWW-Authenticate`.
pub(crate) struct Unauthorized(pub(crate) Option<&'static str>);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        // RFC 6750 section 3: no `error` when the request carried no token at all.
        let challenge = match self.0 {
            Some(description) => {
                format!("Bearer error=\"invalid_token\", error_description=\"{description}\"")
            }
            None => "Bearer".to_owned(),
        };
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(v) = header::HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    }
}

/// Checks the bearer token for an endpoint without a tenant in its path.
pub(crate) fn authorize_any(state: &State, headers: &HeaderMap) -> Result<Claims, Unauthorized> {
    authorize_inner(state, headers, None)
}

/// Checks the bearer token: signature, issuer, audience, lifetime (with the configured clock
/// skew, 5 minutes by default as in ASP.NET), not revoked, and issued to `tenant`.
pub(crate) fn authorize(
    state: &State,
    headers: &HeaderMap,
    tenant: &str,
) -> Result<Claims, Unauthorized> {
    authorize_inner(state, headers, Some(tenant))
}

fn authorize_inner(
    state: &State,
    headers: &HeaderMap,
    tenant: Option<&str>,
) -> Result<Claims, Unauthorized> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(Unauthorized(None));
    };
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    else {
        return Err(Unauthorized(None));
    };
    state.check_issued(token.trim());
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[state.issuer()]);
    validation.set_audience(&[AUDIENCE]);
    // `exp` and `nbf` are checked below against the sandbox's clock, which follows tokio's
    // (jsonwebtoken reads the system clock, which a test on paused time does not move).
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let claims =
        match jsonwebtoken::decode::<Claims>(token.trim(), &state.keys.decoding, &validation) {
            Ok(data) => data.claims,
            Err(e) => {
                return Err(Unauthorized(Some(match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => "The signature is invalid",
                    jsonwebtoken::errors::ErrorKind::InvalidIssuer => "The issuer is invalid",
                    jsonwebtoken::errors::ErrorKind::InvalidAudience => "The audience is invalid",
                    _ => "The token is malformed",
                })));
            }
        };
    let leeway = state.clock_skew.load(Ordering::Relaxed);
    let now = state.clock.now_secs();
    if claims.exp.saturating_add(leeway) < now {
        return Err(Unauthorized(Some("The token expired")));
    }
    if claims.nbf > now.saturating_add(leeway) {
        return Err(Unauthorized(Some("The token is not valid yet")));
    }
    let serial = claims
        .jti
        .strip_prefix("sbx-")
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    if serial < state.min_valid_jti.load(Ordering::Acquire) {
        return Err(Unauthorized(Some("The token was revoked")));
    }
    if tenant.is_some_and(|t| !claims.client_id.eq_ignore_ascii_case(t)) {
        return Err(Unauthorized(Some(
            "The token was not issued to this tenant",
        )));
    }
    Ok(claims)
}
