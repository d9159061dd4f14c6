//! Compact JWS: a header and claims, base64url-encoded, joined and signed. The client
//! assertion's claims are made here, new for every token request.

use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(feature = "private-key-jwt")]
use serde_json::{Map, Value, json};

use super::b64url;
#[cfg(feature = "private-key-jwt")]
use super::{BoxError, Signer};

#[cfg(feature = "private-key-jwt")]
/// How long a client assertion is valid: short, since it is used at once and only once.
const ASSERTION_LIFETIME_SECS: u64 = 60;

/// Seconds since the Unix epoch by the system clock, which is what the server compares a
/// JWT's times with.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A new unique identifier for a JWT's `jti`: 128 bits from the system's secure random
/// source, base64url.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // The system source does not fail on the platforms aws-lc-rs supports; were it to, the
    // time and a process-local counter still make the value unique (not secret: a `jti` is
    // not a secret).
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        bytes[..8].copy_from_slice(&nanos.to_be_bytes());
        bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    }
    b64url(&bytes)
}

/// `header.claims.signature`, each part base64url, signed by `signer` (whose `alg`, and
/// `kid` if it has one, the header gets).
#[cfg(feature = "private-key-jwt")]
async fn compact(
    mut header: Map<String, Value>,
    claims: &Value,
    signer: &dyn Signer,
) -> Result<String, BoxError> {
    header.insert("alg".into(), json!(signer.algorithm().as_str()));
    if let Some(kid) = signer.key_id() {
        header.insert("kid".into(), json!(kid));
    }
    let mut jws = b64url(Value::Object(header).to_string().as_bytes());
    jws.push('.');
    jws.push_str(&b64url(claims.to_string().as_bytes()));
    let mut signature = signer.sign(jws.as_bytes()).await?;
    // What KMSs return for ECDSA (AWS KMS, Google Cloud KMS, PKCS#11 wrappers) is DER; JWS
    // wants `r || s`.
    if signer.algorithm() == super::Algorithm::ES256 && signature.len() != 64 {
        signature = ecdsa_der_to_jws(&signature, 32)
            .ok_or("an ES256 signature is neither 64 bytes (r || s) nor DER")?;
    }
    jws.push('.');
    jws.push_str(&b64url(&signature));
    Ok(jws)
}

/// An ECDSA signature in DER (`SEQUENCE { INTEGER r, INTEGER s }`) as JWS writes it: `r` and
/// `s` each big-endian in `width` bytes.
#[cfg(feature = "private-key-jwt")]
pub(crate) fn ecdsa_der_to_jws(der: &[u8], width: usize) -> Option<Vec<u8>> {
    // One DER element: its tag, then its contents (short or one-byte long length forms,
    // all an ECDSA signature of P-256 needs).
    fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&found, rest) = input.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let (len, rest) = match len {
            0x81 => {
                let (&long, rest) = rest.split_first()?;
                (usize::from(long), rest)
            }
            short if short < 0x80 => (usize::from(short), rest),
            _ => return None,
        };
        (found == tag && rest.len() >= len).then(|| rest.split_at(len))
    }
    let (sequence, trailing) = element(der, 0x30)?;
    let (r, rest) = element(sequence, 0x02)?;
    let (s, rest) = element(rest, 0x02)?;
    if !trailing.is_empty() || !rest.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(2 * width);
    for integer in [r, s] {
        // Without the sign byte DER adds to a high first byte; left-padded to `width`.
        let digits = match integer {
            [0, rest @ ..] if !rest.is_empty() => rest,
            all => all,
        };
        if digits.len() > width {
            return None;
        }
        out.extend(std::iter::repeat_n(0, width - digits.len()));
        out.extend_from_slice(digits);
    }
    Some(out)
}

#[cfg(feature = "private-key-jwt")]
/// A client assertion (RFC 7523 section 3): `iss` = `sub` = the client id, `aud`, a new `jti`,
/// `iat`, and `exp` a minute later.
pub(crate) async fn assertion(
    client_id: &str,
    audience: &str,
    signer: &dyn Signer,
) -> Result<String, BoxError> {
    let now = unix_now();
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": random_id(),
        "iat": now,
        "nbf": now,
        "exp": now + ASSERTION_LIFETIME_SECS,
    });
    let mut header = Map::new();
    header.insert("typ".into(), json!("JWT"));
    compact(header, &claims, signer).await
}
