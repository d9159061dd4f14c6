//! DPoP (RFC 9449): a proof of possession of the client's key on every token request and
//! every API attempt, and the nonces servers hand out, remembered per origin.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use http::{HeaderMap, HeaderValue, Method};
use serde_json::{Map, Value, json};
use url::Url;

use super::{SigningKey, b64url, random_id, unix_now};
use crate::error::{Error, Result};

/// The header a server sends a nonce in, and the one a proof travels in.
pub(crate) const DPOP_NONCE: &str = "dpop-nonce";
pub(crate) const DPOP: &str = "dpop";

/// A client's DPoP key and the nonces its servers asked for.
pub(crate) struct Dpop {
    key: Arc<SigningKey>,
    /// The proofs' header (`typ`, `alg`, the public `jwk`), base64url: the same for every
    /// proof, so encoded once.
    header: String,
    /// The latest nonce each origin sent, by its ASCII serialization.
    nonces: Mutex<HashMap<String, String>>,
}

impl Dpop {
    pub(crate) fn new(key: Arc<SigningKey>) -> Self {
        let mut header = Map::new();
        header.insert("typ".into(), json!("dpop+jwt"));
        header.insert("alg".into(), json!(key.algorithm().as_str()));
        header.insert("jwk".into(), Value::Object(key.public_members().clone()));
        Dpop {
            header: b64url(Value::Object(header).to_string().as_bytes()),
            key,
            nonces: Mutex::new(HashMap::new()),
        }
    }

    /// The key's RFC 7638 thumbprint: what the tokens bound to it carry as `cnf.jkt`.
    #[cfg_attr(not(feature = "token-store"), allow(dead_code))]
    pub(crate) fn thumbprint(&self) -> &str {
        self.key.thumbprint()
    }

    /// A new proof for one request: `htm` and `htu` (the URL without query or fragment), a new
    /// `jti`, `iat` now, the origin's nonce if it gave one, and `ath` when a token goes with it.
    pub(crate) fn proof(
        &self,
        method: &Method,
        url: &Url,
        token: Option<&[u8]>,
    ) -> Result<HeaderValue> {
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let mut claims = json!({
            "jti": random_id(),
            "htm": method.as_str(),
            "htu": htu.as_str(),
            "iat": unix_now(),
        });
        if let Some(nonce) = self.nonce_for(url) {
            claims["nonce"] = json!(nonce);
        }
        if let Some(token) = token {
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token);
            claims["ath"] = json!(b64url(digest.as_ref()));
        }
        let mut jws = self.header.clone();
        jws.push('.');
        jws.push_str(&b64url(claims.to_string().as_bytes()));
        let signature = self.key.sign_now(jws.as_bytes())?;
        jws.push('.');
        jws.push_str(&b64url(&signature));
        let mut value = HeaderValue::try_from(jws)
            .map_err(|_| Error::config("a DPoP proof is not a valid header value"))?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// Keeps the nonce an answer from `origin` carries, if any; says whether it changed.
    pub(crate) fn observe(&self, origin: &url::Origin, headers: &HeaderMap) -> bool {
        let Some(nonce) = headers
            .get(DPOP_NONCE)
            .and_then(|v| v.to_str().ok())
            .filter(|n| !n.is_empty())
        else {
            return false;
        };
        let origin = origin.ascii_serialization();
        let mut nonces = self.nonces.lock().unwrap_or_else(PoisonError::into_inner);
        if nonces.get(&origin).is_some_and(|n| n == nonce) {
            return false;
        }
        nonces.insert(origin, nonce.to_owned());
        true
    }

    fn nonce_for(&self, url: &Url) -> Option<String> {
        let origin = url.origin().ascii_serialization();
        let nonces = self.nonces.lock().unwrap_or_else(PoisonError::into_inner);
        nonces.get(&origin).cloned()
    }
}

/// The `error` of an API's `WWW-Authenticate: DPoP` challenge (RFC 9449 section 7.1), when
/// it is `use_dpop_nonce` or `invalid_dpop_proof`: in any of the header's values, beside other
/// challenges (`Bearer realm="x", DPoP error="use_dpop_nonce"`), quoted or not.
pub(crate) fn dpop_error(headers: &HeaderMap) -> Option<&'static str> {
    let values = headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    for value in values {
        // ASCII lower case keeps every byte where it was.
        let lower = value.to_ascii_lowercase();
        let mut from = 0;
        while let Some(at) = lower[from..].find("dpop") {
            let start = from + at;
            from = start + 4;
            let bytes = lower.as_bytes();
            let scheme = (start == 0 || matches!(bytes[start - 1], b' ' | b','))
                && bytes.get(start + 4).is_none_or(|b| *b == b' ');
            if !scheme {
                continue;
            }
            match error_param(&lower[start + 4..]) {
                Some("use_dpop_nonce") => return Some("use_dpop_nonce"),
                Some("invalid_dpop_proof") => return Some("invalid_dpop_proof"),
                _ => {}
            }
        }
    }
    None
}

/// The value of the first `error` auth-param in `params`, quoted or not.
fn error_param(params: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(at) = params[from..].find("error") {
        let start = from + at;
        from = start + 5;
        if start > 0 && !matches!(params.as_bytes()[start - 1], b' ' | b',') {
            continue;
        }
        let Some(rest) = params[start + 5..].trim_start().strip_prefix('=') else {
            continue; // `error_description`, say
        };
        let rest = rest.trim_start().trim_start_matches('"');
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        return Some(&rest[..end]);
    }
    None
}
