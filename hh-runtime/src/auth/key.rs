//! Signing keys held in process: loaded from PEM, DER or a JWK (or generated), signing as JWS
//! wants, and telling their public half as a JWK and its RFC 7638 thumbprint. The private half
//! never leaves this module: `Debug` shows the algorithm, the key id and the thumbprint only.

use std::fmt;

use aws_lc_rs::rsa::{KeyPairComponents, PublicKeyComponents};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::{Algorithm, BoxFuture, Signer, b64url};
use crate::error::{Error, Result};

/// A private key in this process, for a client assertion (`private_key_jwt`) or for DPoP
/// proofs: RSA (RS256 or PS256, 2048 bits or more), EC P-256 (ES256) or Ed25519 (EdDSA).
///
/// Load one from what your key tooling gives: PEM (`PRIVATE KEY`, `RSA PRIVATE KEY` or
/// `EC PRIVATE KEY`), DER (PKCS#8, PKCS#1 or SEC 1), or a private JWK; or generate one.
/// Nothing of the private key is ever shown: `Debug` prints the algorithm, the key id and the
/// public key's thumbprint.
///
/// ```
/// # fn main() -> hh_runtime::Result<()> {
/// use hh_runtime::auth::{Algorithm, SigningKey};
///
/// let key = SigningKey::generate(Algorithm::ES256)?.with_key_id("clinic-2026-12");
/// // The public half, to register with the identity server.
/// let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk()).unwrap();
/// assert_eq!(jwk["kty"], "EC");
/// assert_eq!(jwk["kid"], "clinic-2026-12");
/// // Debug names the key, never shows it.
/// assert!(format!("{key:?}").contains(key.thumbprint()));
/// # Ok(()) }
/// ```
pub struct SigningKey {
    pair: Pair,
    algorithm: Algorithm,
    key_id: Option<String>,
    /// The public JWK's members (no `kid`, `alg` or `use`): what the thumbprint hashes.
    public: Map<String, Value>,
    thumbprint: String,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// The one error for a key that cannot be used, naming what was wrong with it.
fn bad_key(what: impl fmt::Display) -> Error {
    Error::config(format!("signing key: {what}"))
}

impl SigningKey {
    /// A key from PEM text: `PRIVATE KEY` (PKCS#8: RSA, P-256 or Ed25519), `RSA PRIVATE KEY`
    /// (PKCS#1) or `EC PRIVATE KEY` (SEC 1, P-256). An RSA key signs RS256 unless
    /// [`with_algorithm`](Self::with_algorithm) says PS256.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let (label, der) = pem_block(pem)?;
        match label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der)
                .map(|pair| Self::rsa(pair, Algorithm::RS256))
                .map_err(|e| bad_key(format!("the RSA PRIVATE KEY is not usable ({e})")))?,
            "EC PRIVATE KEY" => EcdsaKeyPair::from_private_key_der(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
            )
            .map(Self::ec)
            .map_err(|e| {
                bad_key(format!(
                    "the EC PRIVATE KEY is not a usable P-256 key ({e})"
                ))
            })?,
            "ENCRYPTED PRIVATE KEY" => Err(bad_key(
                "the key is encrypted; decrypt it first (openssl pkcs8 -in key.pem -nocrypt)",
            )),
            other => Err(bad_key(format!(
                "a PEM `{other}` is not a private key (expected `PRIVATE KEY`, `RSA PRIVATE KEY` \
                 or `EC PRIVATE KEY`)"
            ))),
        }
    }

    /// A key from DER: PKCS#8, else PKCS#1 (RSA), else SEC 1 (P-256).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        if let Ok(key) = Self::from_pkcs8(der) {
            return Ok(key);
        }
        if let Ok(pair) = RsaKeyPair::from_der(der) {
            return Self::rsa(pair, Algorithm::RS256);
        }
        EcdsaKeyPair::from_private_key_der(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map(Self::ec)
            .map_err(|_| {
                bad_key("the DER is not a PKCS#8, PKCS#1 (RSA) or SEC 1 (P-256) private key")
            })?
    }

    /// A key from a private JWK (RFC 7517): `RSA` (with `d`, `p`, `q`, `dp`, `dq`, `qi`), `EC`
    /// on `P-256`, or `OKP` on `Ed25519`. Its `kid` and `alg`, when present, are kept.
    pub fn from_jwk(jwk: &str) -> Result<Self> {
        let jwk: Map<String, Value> = serde_json::from_str(jwk)
            .map_err(|e| bad_key(format!("the JWK is not a JSON object ({e})")))?;
        let member = |name: &str| -> Result<Vec<u8>> {
            let text = jwk
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| bad_key(format!("the JWK has no `{name}`")))?;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|_| bad_key(format!("the JWK's `{name}` is not base64url")))
        };
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        let mut key = match (text("kty"), text("crv")) {
            (Some("RSA"), _) => {
                let components = KeyPairComponents {
                    public_key: PublicKeyComponents {
                        n: member("n")?,
                        e: member("e")?,
                    },
                    d: member("d")?,
                    p: member("p")?,
                    q: member("q")?,
                    dP: member("dp")?,
                    dQ: member("dq")?,
                    qInv: member("qi")?,
                };
                let pair = RsaKeyPair::from_components(&components)
                    .map_err(|e| bad_key(format!("the RSA JWK is not a usable key ({e})")))?;
                Self::rsa(pair, Algorithm::RS256)?
            }
            (Some("EC"), Some("P-256")) => {
                let mut point = vec![4u8];
                point.extend(member("x")?);
                point.extend(member("y")?);
                EcdsaKeyPair::from_private_key_and_public_key(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &member("d")?,
                    &point,
                )
                .map(Self::ec)
                .map_err(|e| bad_key(format!("the EC JWK is not a usable P-256 key ({e})")))??
            }
            (Some("OKP"), Some("Ed25519")) => {
                Ed25519KeyPair::from_seed_and_public_key(&member("d")?, &member("x")?)
                    .map(Self::ed)
                    .map_err(|e| bad_key(format!("the Ed25519 JWK is not a usable key ({e})")))??
            }
            (Some(kty), crv) => {
                return Err(bad_key(format!(
                    "a JWK of kty `{kty}`{} is not supported (RSA, EC on P-256, OKP on Ed25519)",
                    crv.map(|c| format!(" on `{c}`")).unwrap_or_default()
                )));
            }
            (None, _) => return Err(bad_key("the JWK has no `kty`")),
        };
        if let Some(alg) = text("alg") {
            let alg = alg
                .parse::<Algorithm>()
                .map_err(|_| bad_key(format!("the JWK's `alg` `{alg}` is not supported")))?;
            key = key.with_algorithm(alg)?;
        }
        if let Some(kid) = text("kid") {
            key = key.with_key_id(kid);
        }
        Ok(key)
    }

    /// A key read from PEM, a JWK or DER, whichever `bytes` holds: what a file or an
    /// environment variable gives.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes).ok().map(str::trim);
        match text {
            Some(t) if t.contains("-----BEGIN") => Self::from_pem(t),
            Some(t) if t.starts_with('{') => Self::from_jwk(t),
            _ => Self::from_der(bytes),
        }
    }

    /// A new key, made from the system's secure random source: what a DPoP key per process
    /// usually is. RSA keys are 2048 bits.
    pub fn generate(algorithm: Algorithm) -> Result<Self> {
        let failed = |e: aws_lc_rs::error::Unspecified| bad_key(format!("cannot generate ({e})"));
        match algorithm {
            Algorithm::RS256 | Algorithm::PS256 => {
                let pair =
                    RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(failed)?;
                Self::rsa(pair, algorithm)
            }
            Algorithm::ES256 => Self::ec(
                EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(failed)?,
            ),
            Algorithm::EdDSA => Self::ed(Ed25519KeyPair::generate().map_err(failed)?),
        }
    }

    /// The key id (`kid`) sent in each JWT's header, as registered with the server.
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// Signs with `algorithm` instead of the key's default: only RS256 and PS256 share a key
    /// type, so this is how an RSA key signs PS256.
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Result<Self> {
        let fits = matches!(
            (&self.pair, algorithm),
            (Pair::Rsa(_), Algorithm::RS256 | Algorithm::PS256)
                | (Pair::Ec(_), Algorithm::ES256)
                | (Pair::Ed(_), Algorithm::EdDSA)
        );
        if !fits {
            return Err(bad_key(format!(
                "a {} key cannot sign {algorithm}",
                self.public["kty"].as_str().unwrap_or("?")
            )));
        }
        self.algorithm = algorithm;
        Ok(self)
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id, if one was given.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// The public half as a JWK (JSON text, with `kid`, `alg` and `use` = `sig`): what you
    /// register with the identity server.
    pub fn public_jwk(&self) -> String {
        let mut jwk = self.public.clone();
        if let Some(kid) = &self.key_id {
            jwk.insert("kid".into(), json!(kid));
        }
        jwk.insert("alg".into(), json!(self.algorithm.as_str()));
        jwk.insert("use".into(), json!("sig"));
        Value::Object(jwk).to_string()
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key, base64url: what a DPoP-bound token's
    /// `cnf.jkt` names.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public JWK's required members only, as a DPoP proof's header carries it.
    #[cfg(feature = "dpop")]
    pub(crate) fn public_members(&self) -> &Map<String, Value> {
        &self.public
    }

    /// Signs `message` as JWS wants it: RSASSA-PKCS1-v1_5 or PSS with SHA-256, ECDSA P-256
    /// with SHA-256 as `r || s`, or Ed25519.
    pub(crate) fn sign_now(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = |_| Error::config("signing key: signing failed");
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match &self.pair {
            Pair::Rsa(pair) => {
                let padding: &'static dyn signature::RsaEncoding = match self.algorithm {
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0; pair.public_modulus_len()];
                pair.sign(padding, &rng, message, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
            Pair::Ec(pair) => Ok(pair.sign(&rng, message).map_err(failed)?.as_ref().to_vec()),
            Pair::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self> {
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return Self::ed(pair);
        }
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
        {
            return Self::ec(pair);
        }
        match RsaKeyPair::from_pkcs8(der) {
            Ok(pair) => Self::rsa(pair, Algorithm::RS256),
            Err(e) => Err(bad_key(format!(
                "the PKCS#8 key is not a usable RSA (2048 bits or more), P-256 or Ed25519 key ({e})"
            ))),
        }
    }

    fn rsa(pair: RsaKeyPair, algorithm: Algorithm) -> Result<Self> {
        let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        // RFC 7638: the required members in lexicographic order.
        let mut members = Map::new();
        members.insert("e".into(), json!(b64url(&public.e)));
        members.insert("kty".into(), json!("RSA"));
        members.insert("n".into(), json!(b64url(&public.n)));
        Ok(Self::new(Pair::Rsa(pair), algorithm, members))
    }

    fn ec(pair: EcdsaKeyPair) -> Result<Self> {
        // An uncompressed point: 0x04, then x and y of 32 bytes each.
        let point = pair.public_key().as_ref();
        if point.len() != 65 {
            return Err(bad_key("the EC key is not on P-256"));
        }
        let mut members = Map::new();
        members.insert("crv".into(), json!("P-256"));
        members.insert("kty".into(), json!("EC"));
        members.insert("x".into(), json!(b64url(&point[1..33])));
        members.insert("y".into(), json!(b64url(&point[33..])));
        Ok(Self::new(Pair::Ec(pair), Algorithm::ES256, members))
    }

    fn ed(pair: Ed25519KeyPair) -> Result<Self> {
        let mut members = Map::new();
        members.insert("crv".into(), json!("Ed25519"));
        members.insert("kty".into(), json!("OKP"));
        members.insert("x".into(), json!(b64url(pair.public_key().as_ref())));
        Ok(Self::new(Pair::Ed(pair), Algorithm::EdDSA, members))
    }

    fn new(pair: Pair, algorithm: Algorithm, public: Map<String, Value>) -> Self {
        // serde_json's map keeps keys sorted (no `preserve_order`), and its compact form has no
        // whitespace: exactly RFC 7638's input.
        let canonical = Value::Object(public.clone()).to_string();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        SigningKey {
            pair,
            algorithm,
            key_id: None,
            public,
            thumbprint: b64url(digest.as_ref()),
        }
    }
}

impl Signer for SigningKey {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    fn sign<'a>(
        &'a self,
        message: &'a [u8],
    ) -> BoxFuture<'a, std::result::Result<Vec<u8>, super::BoxError>> {
        let signed = self.sign_now(message).map_err(Into::into);
        Box::pin(std::future::ready(signed))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// The private key's PEM block in `pem` (the first block whose label ends in `PRIVATE KEY`,
/// so `openssl ecparam -genkey`'s `EC PARAMETERS` block before it is passed over), else its
/// first block: the label and the decoded bytes. A label is read from its `BEGIN` line alone
/// and kept only if it looks like one, so a damaged line never puts key material in a message.
/// Literal `\n` (a PEM pasted into one line of an environment variable) counts as a line break.
fn pem_block(pem: &str) -> Result<(String, Vec<u8>)> {
    let pem = pem.replace("\\n", "\n");
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in pem.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            let label = rest.trim_end_matches('-').trim();
            let plausible = label.len() <= 40
                && label
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b' ' || b.is_ascii_digit());
            let label = if plausible {
                label
            } else {
                "(unreadable label)"
            };
            current = Some((label.to_owned(), String::new()));
        } else if line.starts_with("-----END ") {
            blocks.extend(current.take());
        } else if let Some((_, body)) = current.as_mut()
            && !line.contains(':')
        {
            // (RFC 1421 headers, which PKCS#8 never has, are passed over.)
            body.push_str(line);
        }
    }
    let Some(index) = blocks
        .iter()
        .position(|(label, _)| label.ends_with("PRIVATE KEY"))
        .or((!blocks.is_empty()).then_some(0))
    else {
        return Err(bad_key(
            "not PEM (no `-----BEGIN ...-----` ... `-----END ...-----` block)",
        ));
    };
    let (label, body) = blocks.swap_remove(index);
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| bad_key(format!("the PEM `{label}` is not valid base64")))?;
    Ok((label, der))
}
