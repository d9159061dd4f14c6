//! What the APIs check of a request's token: an RS256 JWT this identity server issued, its
//! issuer, audience, lifetime (on the sandbox's clock, with its skew), revocation and tenant;
//! and for a sender-constrained token, the binding: a DPoP proof of its key (RFC 9449), or
//! the connection's client certificate (RFC 8705). A refusal is a 401 with the challenge a
//! real resource server sends.

// A check returns `Result<_, Unauthorized>`, the refusal ready to send.
#![allow(clippy::result_large_err)]

use std::sync::atomic::Ordering;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, Validation};

use crate::State;
use crate::client_auth::ProofRefusal;
use crate::identity::{AUDIENCE, Claims, Seen};

/// Why an API refused the token: the `WWW-Authenticate` challenge, and a DPoP nonce to send.
pub(crate) struct Unauthorized {
    scheme: &'static str,
    /// The `error` code and its description; none when the request carried no token at all
    /// (RFC 6750 section 3).
    error: Option<(&'static str, String)>,
    nonce: Option<HeaderValue>,
}

impl Unauthorized {
    fn bearer(description: Option<&str>) -> Self {
        Unauthorized {
            scheme: "Bearer",
            error: description.map(|d| ("invalid_token", d.to_owned())),
            nonce: None,
        }
    }

    fn dpop(code: &'static str, description: String) -> Self {
        Unauthorized {
            scheme: "DPoP",
            error: Some((code, description)),
            nonce: None,
        }
    }
}

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        let challenge = match &self.error {
            Some((code, description)) => format!(
                "{} error=\"{code}\", error_description=\"{}\"",
                self.scheme,
                description.replace(['"', '\\'], "'")
            ),
            None => self.scheme.to_owned(),
        };
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(v) = header::HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        if let Some(nonce) = self.nonce {
            response.headers_mut().insert("dpop-nonce", nonce);
        }
        response
    }
}

/// Checks the token for an endpoint without a tenant in its path.
pub(crate) fn authorize_any(state: &State, seen: &Seen<'_>) -> Result<Claims, Unauthorized> {
    authorize_inner(state, seen, None)
}

/// Checks the token: signature, issuer, audience, lifetime (with the configured clock skew,
/// 5 minutes by default as in ASP.NET), not revoked, issued to `tenant`, and for a token bound
/// to a DPoP key, the request's proof of that key.
pub(crate) fn authorize(
    state: &State,
    seen: &Seen<'_>,
    tenant: &str,
) -> Result<Claims, Unauthorized> {
    authorize_inner(state, seen, Some(tenant))
}

fn authorize_inner(
    state: &State,
    seen: &Seen<'_>,
    tenant: Option<&str>,
) -> Result<Claims, Unauthorized> {
    let Some(value) = seen
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(Unauthorized::bearer(None));
    };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let dpop = scheme.eq_ignore_ascii_case("dpop");
    if !dpop && !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Unauthorized::bearer(None));
    }
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
                return Err(Unauthorized::bearer(Some(match e.kind() {
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
        return Err(Unauthorized::bearer(Some("The token expired")));
    }
    if claims.nbf > now.saturating_add(leeway) {
        return Err(Unauthorized::bearer(Some("The token is not valid yet")));
    }
    let serial = claims
        .jti
        .strip_prefix("sbx-")
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    if serial < state.min_valid_jti.load(Ordering::Acquire) {
        return Err(Unauthorized::bearer(Some("The token was revoked")));
    }
    if tenant.is_some_and(|t| !claims.client_id.eq_ignore_ascii_case(t)) {
        return Err(Unauthorized::bearer(Some(
            "The token was not issued to this tenant",
        )));
    }
    check_binding(state, seen, &claims, dpop, token.trim())?;
    Ok(claims)
}

/// A token bound to a DPoP key comes as `DPoP` with a valid proof of that key; an unbound one
/// as `Bearer`.
fn check_binding(
    state: &State,
    seen: &Seen<'_>,
    claims: &Claims,
    dpop: bool,
    token: &str,
) -> Result<(), Unauthorized> {
    let cnf = claims.cnf.as_ref();
    // RFC 8705 section 3: a certificate-bound token only over the same certificate.
    if let Some(x5t) = cnf.and_then(|c| c.x5t.as_ref())
        && seen.peer.map(crate::tls::thumbprint).as_ref() != Some(x5t)
    {
        return Err(Unauthorized::bearer(Some(
            "The token is bound to a client certificate this connection did not present",
        )));
    }
    let Some(jkt) = cnf.and_then(|c| c.jkt.as_ref()) else {
        if dpop {
            return Err(Unauthorized::dpop(
                "invalid_token",
                "the token is not bound to a DPoP key: send it as Bearer".into(),
            ));
        }
        return Ok(());
    };
    if !dpop {
        return Err(Unauthorized::dpop(
            "invalid_token",
            "the token is bound to a DPoP key: send it as DPoP, with a proof".into(),
        ));
    }
    let method = seen.method.as_str();
    match state
        .key_auth
        .proof(seen.headers, method, &seen.htu(state), Some(token))
    {
        Ok(Some(proven)) if proven == *jkt => Ok(()),
        Ok(Some(_)) => Err(Unauthorized::dpop(
            "invalid_dpop_proof",
            "the DPoP proof is signed by another key than the one the token is bound to".into(),
        )),
        Ok(None) => Err(Unauthorized::dpop(
            "invalid_dpop_proof",
            "a DPoP-bound token needs a DPoP proof".into(),
        )),
        Err(ProofRefusal::Invalid(why)) => Err(Unauthorized::dpop("invalid_dpop_proof", why)),
        Err(ProofRefusal::Nonce(nonce)) => Err(Unauthorized {
            nonce: Some(nonce),
            ..Unauthorized::dpop(
                "use_dpop_nonce",
                "the DPoP proof must carry the server's nonce".into(),
            )
        }),
    }
}
