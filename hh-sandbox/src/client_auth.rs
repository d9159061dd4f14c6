//! Client authentication without a shared secret, checked as a real server checks it:
//! private_key_jwt client assertions (RFC 7523: the registered public keys, signature, `iss`,
//! `sub`, `aud`, `exp`, and each `jti` once) and DPoP proofs (RFC 9449: signature by the
//! embedded key, `typ`, `htm`, `htu`, `iat` window, each `jti` once, `ath`, the token's
//! `cnf.jkt`, and server nonces when asked for).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::{Sandbox, SandboxBuilder};

/// How far a DPoP proof's `iat` may be from the server's time.
const PROOF_WINDOW_SECS: i64 = 60;
/// The longest an assertion may still live when it arrives.
const MAX_ASSERTION_LIFETIME_SECS: i64 = 300;
/// The assertion type RFC 7523 section 2.2 names.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The identity server's and the APIs' state for these methods.
#[derive(Default)]
pub(crate) struct KeyAuth {
    /// Each client's registered public keys (JWKs).
    keys: RwLock<HashMap<String, Vec<Value>>>,
    /// Every `jti` seen, assertion's and proof's, until it would have expired anyway.
    seen: Mutex<HashMap<String, i64>>,
    /// Whether token requests must carry a DPoP proof.
    pub(crate) dpop_required: AtomicBool,
    /// The nonce proofs must carry, once nonces are asked for.
    nonce: RwLock<Option<String>>,
    nonce_serial: AtomicU64,
    /// A fault: every proof is asked for a nonce newer than the one it carries.
    churn: AtomicBool,
    /// Added to the time assertions and proofs are judged at (a fault: a client clock behind).
    offset: AtomicI64,
}

/// Why a DPoP proof was refused.
pub(crate) enum ProofRefusal {
    /// The proof lacks the current nonce, which the answer gives.
    Nonce(HeaderValue),
    /// Anything else, said.
    Invalid(String),
}

impl KeyAuth {
    pub(crate) fn register(&self, client: &str, jwk: Value) {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        keys.entry(client.to_owned()).or_default().push(jwk);
    }

    fn remove(&self, client: &str, kid: &str) {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = keys.get_mut(client) {
            list.retain(|k| k["kid"].as_str() != Some(kid));
        }
    }

    /// A new nonce, which proofs must carry from now on.
    fn new_nonce(&self) -> String {
        let serial = self.nonce_serial.fetch_add(1, Ordering::Relaxed);
        let nonce = format!("sbx-nonce-{serial}-{:08x}", fastrand::u32(..));
        *self.nonce.write().unwrap_or_else(PoisonError::into_inner) = Some(nonce.clone());
        nonce
    }

    /// Seconds since the Unix epoch by the system clock (what the client signs with), moved
    /// by the fault offset.
    fn now(&self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        now + self.offset.load(Ordering::Relaxed)
    }

    /// Records `jti` (of kind `kind`) as used until `until`; false if it was used before.
    fn first_use(&self, kind: &str, jti: &str, until: i64) -> bool {
        let now = self.now();
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.retain(|_, expiry| *expiry >= now - PROOF_WINDOW_SECS);
        seen.insert(format!("{kind}:{jti}"), until).is_none()
    }

    /// The client a client assertion authenticates, or why it does not. `audiences` are the
    /// values `aud` may name: the token endpoint's URL as the client addressed it, and the
    /// issuer.
    pub(crate) fn assertion(
        &self,
        assertion: &str,
        audiences: &[String],
    ) -> Result<String, String> {
        let claims = unverified_claims(assertion).ok_or("the client assertion is not a JWT")?;
        let client = claims["iss"]
            .as_str()
            .ok_or("the client assertion has no `iss`")?
            .to_owned();
        let header = jsonwebtoken::decode_header(assertion)
            .map_err(|_| "the client assertion's header is malformed")?;
        let keys = self
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&client)
            .cloned()
            .unwrap_or_default();
        if keys.is_empty() {
            return Err(format!("no key is registered for client `{client}`"));
        }
        let mut candidates: Vec<&Value> = match &header.kid {
            Some(kid) => keys
                .iter()
                .filter(|k| k["kid"].as_str() == Some(kid))
                .collect(),
            None => keys.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(format!(
                "no key with kid `{}` is registered for client `{client}`",
                header.kid.unwrap_or_default()
            ));
        }
        // A key registered for one algorithm signs with that one only.
        let alg = format!("{:?}", header.alg);
        candidates.retain(|jwk| {
            jwk["alg"]
                .as_str()
                .is_none_or(|registered| registered == alg)
        });
        if candidates.is_empty() {
            return Err(format!("the client's key is not registered for {alg}"));
        }
        if !candidates.iter().any(|jwk| verify(assertion, jwk).is_ok()) {
            return Err(
                "the client assertion's signature does not verify with the client's registered key"
                    .into(),
            );
        }
        if claims["sub"].as_str() != Some(&client) {
            return Err("the client assertion's `sub` is not its `iss` (the client id)".into());
        }
        let aud: Vec<&str> = match &claims["aud"] {
            Value::String(a) => vec![a],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !aud.iter().any(|a| audiences.iter().any(|ok| ok == a)) {
            return Err(format!(
                "the client assertion's `aud` ({}) is not this token endpoint ({})",
                aud.join(", "),
                audiences.first().map_or("", String::as_str)
            ));
        }
        let now = self.now();
        let Some(exp) = claims["exp"].as_i64() else {
            return Err("the client assertion has no `exp`".into());
        };
        if exp <= now {
            return Err(format!(
                "the client assertion expired {} s ago",
                now.saturating_sub(exp)
            ));
        }
        // Short-lived, as RFC 7523 section 3 and every server ask: a long-lived one is a
        // replayable credential.
        if exp.saturating_sub(now) > MAX_ASSERTION_LIFETIME_SECS {
            return Err(format!(
                "the client assertion lives too long (`exp` {} s ahead; at most {MAX_ASSERTION_LIFETIME_SECS} s)",
                exp.saturating_sub(now)
            ));
        }
        for claim in ["iat", "nbf"] {
            if claims[claim]
                .as_i64()
                .is_some_and(|t| t > now + PROOF_WINDOW_SECS)
            {
                return Err(format!("the client assertion's `{claim}` is in the future"));
            }
        }
        let Some(jti) = claims["jti"].as_str() else {
            return Err("the client assertion has no `jti`".into());
        };
        if !self.first_use("assertion", jti, exp) {
            return Err(
                "the client assertion's `jti` was used before (a replayed assertion)".into(),
            );
        }
        Ok(client)
    }

    /// Checks a DPoP proof for a request of `method` to `htu`, with `token` at an API; the
    /// thumbprint of the key that signed it.
    pub(crate) fn proof(
        &self,
        headers: &HeaderMap,
        method: &str,
        htu: &str,
        token: Option<&str>,
    ) -> Result<Option<String>, ProofRefusal> {
        let invalid = |m: &str| ProofRefusal::Invalid(m.to_owned());
        let Some((claims, jwk)) = signed_proof(headers).map_err(invalid)? else {
            return Ok(None);
        };
        if claims["htm"].as_str() != Some(method) {
            return Err(invalid(&format!(
                "the DPoP proof's `htm` ({}) is not this request's method ({method})",
                claims["htm"].as_str().unwrap_or("none")
            )));
        }
        if claims["htu"].as_str() != Some(htu) {
            return Err(invalid(&format!(
                "the DPoP proof is for another URL: `htu` is {}, this request is to {htu}",
                claims["htu"].as_str().unwrap_or("none")
            )));
        }
        let now = self.now();
        let iat = claims["iat"]
            .as_i64()
            .ok_or_else(|| invalid("the DPoP proof has no `iat`"))?;
        if iat.saturating_sub(now).saturating_abs() > PROOF_WINDOW_SECS {
            return Err(invalid(&format!(
                "the DPoP proof's `iat` is {} s from the server's time (at most {PROOF_WINDOW_SECS} s)",
                iat.saturating_sub(now)
            )));
        }
        if let Some(token) = token {
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
            if claims["ath"].as_str() != Some(&b64url(digest.as_ref())) {
                return Err(invalid(
                    "the DPoP proof's `ath` is not the hash of this access token",
                ));
            }
        }
        if self.churn.load(Ordering::Relaxed) {
            self.new_nonce();
        }
        if let Some(nonce) = self
            .nonce
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            && claims["nonce"].as_str() != Some(&nonce)
        {
            return Err(ProofRefusal::Nonce(
                HeaderValue::from_str(&nonce).unwrap_or(HeaderValue::from_static("none")),
            ));
        }
        let jti = claims["jti"]
            .as_str()
            .ok_or_else(|| invalid("the DPoP proof has no `jti`"))?;
        if !self.first_use("proof", jti, iat.saturating_add(PROOF_WINDOW_SECS)) {
            return Err(invalid(
                "the DPoP proof's `jti` was used before (a replayed proof)",
            ));
        }
        thumbprint(&jwk)
            .map(Some)
            .ok_or_else(|| invalid("the DPoP proof's `jwk` is not a supported key"))
    }
}

/// The DPoP proof a request carries, if any: its claims and its public key, once its form
/// (`typ`, an embedded public `jwk`) and its signature by that key are checked; or why not.
fn signed_proof(headers: &HeaderMap) -> Result<Option<(Value, Value)>, &'static str> {
    let mut values = headers.get_all("dpop").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("more than one DPoP header");
    }
    let proof = value.to_str().map_err(|_| "the DPoP proof is not text")?;
    let header = unverified_part(proof, 0).ok_or("the DPoP proof is not a JWT")?;
    if header["typ"].as_str() != Some("dpop+jwt") {
        return Err("the DPoP proof's `typ` is not `dpop+jwt`");
    }
    let jwk = header["jwk"]
        .as_object()
        .ok_or("the DPoP proof has no `jwk`")?;
    if jwk.contains_key("d") {
        return Err("the DPoP proof's `jwk` holds a private key");
    }
    let jwk = Value::Object(jwk.clone());
    let claims = verify(proof, &jwk)
        .map_err(|()| "the DPoP proof's signature does not verify with its `jwk`")?;
    Ok(Some((claims, jwk)))
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: its required members, sorted,
/// without whitespace (serde_json's map is sorted).
pub(crate) fn thumbprint(jwk: &Value) -> Option<String> {
    let required: &[&str] = match jwk["kty"].as_str()? {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut members = Map::new();
    for name in required {
        members.insert(
            (*name).to_owned(),
            Value::String(jwk[*name].as_str()?.to_owned()),
        );
    }
    let canonical = Value::Object(members).to_string();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    Some(b64url(digest.as_ref()))
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT's `index`th part (0: header, 1: claims), decoded but not verified.
fn unverified_part(jwt: &str, index: usize) -> Option<Value> {
    let part = jwt.split('.').nth(index)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn unverified_claims(jwt: &str) -> Option<Value> {
    unverified_part(jwt, 1).filter(Value::is_object)
}

/// The claims of `jwt` if it is signed by `jwk` with an asymmetric algorithm the key is for;
/// times and audiences are the caller's to judge.
fn verify(jwt: &str, jwk: &Value) -> Result<Value, ()> {
    let header = jsonwebtoken::decode_header(jwt).map_err(drop)?;
    use jsonwebtoken::Algorithm::{ES256, EdDSA, PS256, RS256};
    if !matches!(header.alg, RS256 | PS256 | ES256 | EdDSA) {
        return Err(());
    }
    let parsed: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).map_err(drop)?;
    let key = DecodingKey::from_jwk(&parsed).map_err(drop)?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .map(|data| data.claims)
        .map_err(drop)
}

impl SandboxBuilder {
    /// Registers `public_jwk` (a JWK's JSON text, with its `kid`) as a key of client `id`, which
    /// then authenticates with private_key_jwt (RFC 7523) signed by it; a client not registered
    /// otherwise gets no secret. Call again to register more keys.
    pub fn client_key(mut self, id: impl Into<String>, public_jwk: &str) -> Self {
        self.client_keys.push((id.into(), public_jwk.to_owned()));
        self
    }

    /// Token requests must carry a DPoP proof (RFC 9449); without this, a proof is checked
    /// and binds the token when one comes, and bearer tokens are issued otherwise.
    pub fn require_dpop(mut self) -> Self {
        self.require_dpop = true;
        self
    }
}

impl Sandbox {
    /// Registers another key for client `id` (a rotation's new key, say).
    pub fn add_client_key(&self, id: &str, public_jwk: &str) -> Result<(), String> {
        let jwk = serde_json::from_str(public_jwk).map_err(|e| format!("not a JWK: {e}"))?;
        self.state.key_auth.register(id, jwk);
        Ok(())
    }

    /// Unregisters client `id`'s key `kid`: assertions signed by it are refused from now on.
    pub fn remove_client_key(&self, id: &str, kid: &str) {
        self.state.key_auth.remove(id, kid);
    }

    /// Asks for a new DPoP nonce (RFC 9449 sections 8 and 9): every proof without it is
    /// refused with `use_dpop_nonce` and the nonce in `DPoP-Nonce`, at the token endpoint and
    /// at the APIs. Returns the nonce.
    pub fn rotate_dpop_nonce(&self) -> String {
        self.state.key_auth.new_nonce()
    }

    /// A fault: every DPoP proof is refused with `use_dpop_nonce` and a nonce newer than the
    /// one it carries, as a server whose nonces churn faster than its clients can follow.
    pub fn set_dpop_nonce_churn(&self, on: bool) {
        self.state.key_auth.churn.store(on, Ordering::Relaxed);
    }

    /// Judges client assertions and DPoP proofs as if the time were `ahead` later (a fault:
    /// a client whose clock is behind), so that an assertion has expired and a proof's `iat`
    /// is out of its window.
    pub fn set_client_clock_behind(&self, ahead: Duration) {
        self.state
            .key_auth
            .offset
            .store(ahead.as_secs() as i64, Ordering::Relaxed);
    }
}
