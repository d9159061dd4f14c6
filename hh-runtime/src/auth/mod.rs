//! Client authentication without a shared secret: a signed JWT in place of the secret
//! (`private_key_jwt`, RFC 7523, feature `private-key-jwt`) and sender-constrained tokens
//! (DPoP, RFC 9449, feature `dpop`).
//!
//! - [`SigningKey`]: a key in this process (PEM, DER or JWK; RS256, PS256, ES256, EdDSA);
//! - [`Signer`]: what signs a client assertion, for a key that stays in a KMS or an HSM;
//! - [`AssertionAudience`]: what a client assertion's `aud` names (servers differ).
//!
//! ```no_run
//! # #[cfg(all(feature = "private-key-jwt", feature = "dpop"))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use hh_runtime::auth::{Algorithm, SigningKey};
//!
//! // private_key_jwt (RFC 7523): each token request carries a new JWT signed by your key
//! // (iss = sub = client id, aud = the token endpoint, a new jti, exp a minute on).
//! let key = SigningKey::from_pem(&std::fs::read_to_string("client-key.pem")?)? // or from_jwk, from_der
//!     .with_key_id("clinic-2026-12");
//! let client = hh_runtime::Client::builder()
//!     .identity_url("https://identity.example")
//!     .api_url("https://traversal.example")
//!     .client_id("my-client")
//!     .private_key_jwt(key) // or your own `auth::Signer` (a KMS, an HSM)
//!     .dpop(SigningKey::generate(Algorithm::ES256)?) // DPoP (RFC 9449): tokens bound to this key
//!     .build()?;
//! # let _ = client; Ok(()) }
//! # #[cfg(not(all(feature = "private-key-jwt", feature = "dpop")))]
//! # fn main() {}
//! ```

#[cfg(feature = "dpop")]
mod dpop;
mod jws;
mod key;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use base64::Engine as _;

#[cfg(feature = "dpop")]
pub(crate) use dpop::{DPOP, Dpop, dpop_error};
#[cfg(feature = "private-key-jwt")]
pub(crate) use jws::assertion;
#[cfg(feature = "dpop")]
pub(crate) use jws::{random_id, unix_now};
pub use key::SigningKey;

/// A boxed future, as [`Signer::sign`] returns (a trait object's method cannot be `async`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// The error a [`Signer`] reports: the runtime keeps it as the failure's source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The JWS algorithms a key signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PSS with SHA-256 (what FAPI profiles ask of RSA keys).
    PS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    /// The name JWS gives it (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::PS256 => "PS256",
            Algorithm::ES256 => "ES256",
            Algorithm::EdDSA => "EdDSA",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = crate::Error;

    /// `RS256`, `PS256`, `ES256` or `EdDSA`, as JWS spells them.
    fn from_str(s: &str) -> crate::Result<Self> {
        [
            Algorithm::RS256,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
        .ok_or_else(|| {
            crate::Error::config(format!(
                "`{s}` is not a supported signing algorithm (RS256, PS256, ES256, EdDSA)"
            ))
        })
    }
}

/// What signs a client assertion: a [`SigningKey`] in this process, or your own
/// implementation that asks a KMS or an HSM, so the private key never enters the process.
///
/// `sign` gets the JWS signing input (`base64url(header) "." base64url(claims)`) and returns
/// the signature: for ES256, JWS's `r || s` (64 bytes) or the DER a KMS usually returns, which
/// is converted. It is called once per token request; an error fails that request, keeping
/// yours as the source, and the token lifecycle backs off and tries again.
///
/// ```
/// use hh_runtime::auth::{Algorithm, BoxError, BoxFuture, Signer};
///
/// struct Kms { key_id: String }
///
/// impl Signer for Kms {
///     fn algorithm(&self) -> Algorithm { Algorithm::PS256 }
///     fn key_id(&self) -> Option<&str> { Some(&self.key_id) }
///     fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, BoxError>> {
///         Box::pin(async move {
///             // let signature = kms.sign(&self.key_id, "RSASSA_PSS_SHA_256", message).await?;
///             # let signature = message.to_vec();
///             Ok(signature)
///         })
///     }
/// }
/// ```
pub trait Signer: Send + Sync + 'static {
    /// The algorithm of every signature this signer makes.
    fn algorithm(&self) -> Algorithm;
    /// The key id (`kid`) the server knows the public key by, if any.
    fn key_id(&self) -> Option<&str>;
    /// Signs the JWS signing input.
    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, BoxError>>;
}

/// A shared signer signs as the one it shares: one key for several clients.
impl<S: Signer + ?Sized> Signer for std::sync::Arc<S> {
    fn algorithm(&self) -> Algorithm {
        (**self).algorithm()
    }
    fn key_id(&self) -> Option<&str> {
        (**self).key_id()
    }
    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, BoxError>> {
        (**self).sign(message)
    }
}

/// What a client assertion's `aud` names.
#[cfg(feature = "private-key-jwt")]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AssertionAudience {
    /// The token endpoint's URL, as RFC 7523 and OpenID Connect Core say (the default).
    #[default]
    TokenEndpoint,
    /// Another value, such as the issuer's identifier, for servers that expect it.
    Other(String),
}

#[cfg(test)]
mod tests;

/// Base64url without padding, as every part of a JWS is written.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
