//! The identity server: `POST /connect/token` (client credentials), discovery, JWKS, and the
//! bearer-token check every API call goes through. It behaves as IdentityServer does where the
//! HealthHero docs are silent.

// The token request's checks return `Result<_, Response>`, the refusal ready to send; see the
// note in `api`.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::State;
use crate::client_auth::{JWT_BEARER, ProofRefusal};

/// The audience every access token is issued for (what the APIs check).
pub(crate) const AUDIENCE: &str = "healthhero-api";
const KEY_ID: &str = "hh-sandbox-1";

pub(crate) struct Keys {
    encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
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
    /// The DPoP key the token is bound to (RFC 9449 section 6), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cnf: Option<Confirmation>,
}

/// A token's confirmation claim (RFC 7800): the thumbprint of the DPoP key (RFC 9449) or of
/// the client certificate (RFC 8705) it is bound to.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Confirmation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) jkt: Option<String>,
    #[serde(default, rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    pub(crate) x5t: Option<String>,
}

/// What an API check needs of the request: its method, its path as sent, its headers.
pub(crate) struct Seen<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) headers: &'a HeaderMap,
    /// The connection's client certificate (DER), over TLS.
    pub(crate) peer: Option<&'a [u8]>,
}

impl Seen<'_> {
    /// This request's URL without its query, on the sandbox's own base URL: what a DPoP
    /// proof's `htu` must name.
    pub(crate) fn htu(&self, state: &State) -> String {
        format!("{}{}", addressed(state), self.path)
    }
}

/// The sandbox's own base URL, which an assertion's `aud` and a proof's `htu` must name, as a
/// real server judges them by its configured URL, whatever `Host` a request carries.
fn addressed(state: &State) -> String {
    state.issuer()
}

/// A client registered with the identity server.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    /// `None` for a client that authenticates with its keys alone.
    pub(crate) secret: Option<String>,
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
pub(crate) fn token(state: &State, seen: &Seen<'_>, body: &[u8]) -> Response {
    match token_request(state, seen, body) {
        Ok((client_id, scopes, jkt)) => {
            let cnf = Confirmation {
                jkt,
                x5t: seen.peer.map(crate::tls::thumbprint),
            };
            issue(state, client_id, scopes, cnf)
        }
        Err(refusal) => refusal,
    }
}

/// The client a token request authenticates and the scopes it is granted, or the RFC 6749
/// error that refuses it.
fn token_request(
    state: &State,
    seen: &Seen<'_>,
    body: &[u8],
) -> Result<(String, Vec<String>, Option<String>), Response> {
    let headers = seen.headers;
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
    let endpoint = format!("{}/connect/token", addressed(state));
    let (client_id, secret, used_basic) = if form.contains_key("client_assertion_type") {
        (
            assertion_client(state, headers, &form, &endpoint)?,
            None,
            false,
        )
    } else if let Some(client) = certificate_client(state, seen, &form)? {
        (client, None, false)
    } else {
        let (id, secret, basic) = client_credentials(headers, &form)?;
        (id, Some(secret), basic)
    };
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
    // A secret must match one registered; an assertion was checked against the keys.
    let Some(registration) = registration.filter(|r| secret.is_none() || r.secret == secret) else {
        return Err(oauth_error(
            "invalid_client",
            "unknown client or wrong secret",
            used_basic,
        ));
    };
    let scopes = granted_scopes(&form, &registration, used_basic)?;
    let jkt = token_request_proof(state, headers, &endpoint)?;
    Ok((client_id, scopes, jkt))
}

/// The thumbprint of the key a token request's DPoP proof proves (the token is bound to it),
/// `None` without a proof where none is required, or the RFC 9449 error refusing the proof.
fn token_request_proof(
    state: &State,
    headers: &HeaderMap,
    endpoint: &str,
) -> Result<Option<String>, Response> {
    match state.key_auth.proof(headers, "POST", endpoint, None) {
        Ok(Some(jkt)) => Ok(Some(jkt)),
        Ok(None) if state.key_auth.dpop_required.load(Ordering::Relaxed) => Err(oauth_error(
            "invalid_dpop_proof",
            "a DPoP proof is required",
            false,
        )),
        Ok(None) => Ok(None),
        Err(ProofRefusal::Invalid(why)) => Err(oauth_error("invalid_dpop_proof", &why, false)),
        Err(ProofRefusal::Nonce(nonce)) => {
            let mut refusal = oauth_error(
                "use_dpop_nonce",
                "the DPoP proof must carry the server's nonce",
                false,
            );
            refusal.headers_mut().insert("dpop-nonce", nonce);
            Err(refusal)
        }
    }
}

/// The client a request authenticates with its TLS client certificate alone (RFC 8705:
/// `tls_client_auth` or `self_signed_tls_client_auth`): `None` when it sends a secret or
/// carries no certificate, the `invalid_client` error when the certificate is not the client's.
fn certificate_client(
    state: &State,
    seen: &Seen<'_>,
    form: &HashMap<String, String>,
) -> Result<Option<String>, Response> {
    let (Some(peer), Some(pki)) = (seen.peer, &state.pki) else {
        return Ok(None);
    };
    if form.contains_key("client_secret") || seen.headers.contains_key(header::AUTHORIZATION) {
        return Ok(None);
    }
    let Some(client) = form.get("client_id") else {
        return Err(oauth_error("invalid_client", "no client_id", false));
    };
    match pki.client_of(peer) {
        Some(owner) if owner == *client => Ok(Some(owner)),
        _ => Err(oauth_error(
            "invalid_client",
            &format!("the TLS client certificate is not registered for client `{client}`"),
            false,
        )),
    }
}

/// The client a private_key_jwt request authenticates (RFC 7523 section 3), or the
/// `invalid_client` error naming what was wrong with the assertion.
fn assertion_client(
    state: &State,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    endpoint: &str,
) -> Result<String, Response> {
    let refuse = |why: &str| Err(oauth_error("invalid_client", why, false));
    if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
        return refuse("client_assertion_type is not jwt-bearer");
    }
    if headers.contains_key(header::AUTHORIZATION) || form.contains_key("client_secret") {
        return Err(oauth_error(
            "invalid_request",
            "more than one client authentication method",
            false,
        ));
    }
    let Some(assertion) = form.get("client_assertion") else {
        return refuse("client_assertion is missing");
    };
    let audiences = [
        endpoint.to_owned(),
        format!("{}/connect/token", state.issuer()),
        state.issuer(),
    ];
    let client = match state.key_auth.assertion(assertion, &audiences) {
        Ok(client) => client,
        Err(why) => return refuse(&why),
    };
    if form.get("client_id").is_some_and(|id| *id != client) {
        return refuse("client_id is not the client assertion's `iss`");
    }
    Ok(client)
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
fn issue(state: &State, client_id: String, scopes: Vec<String>, cnf: Confirmation) -> Response {
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
        cnf: (cnf.jkt.is_some() || cnf.x5t.is_some()).then_some(cnf),
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
        "token_type": if claims.cnf.as_ref().is_some_and(|c| c.jkt.is_some()) { "DPoP" } else { "Bearer" },
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
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "private_key_jwt"
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA"],
        "dpop_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": crate::DEFAULT_SCOPES,
        "claims_supported": ["client_id", "scope", "iss", "aud", "iat", "nbf", "exp", "jti"],
    }))
    .into_response()
}

pub(crate) fn jwks(state: &State) -> Response {
    axum::Json(serde_json::json!({"keys": [state.keys.jwk]})).into_response()
}
