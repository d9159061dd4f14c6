//! What the token source is configured with, fixed when the client is built: the client
//! authentication method, the keys, the token endpoint and the timings; and what follows from
//! them (the forms a secret may be echoed in, the token type to expect, the key to sign with).

#[cfg(any(feature = "private-key-jwt", feature = "dpop"))]
use std::sync::Arc;
#[cfg(feature = "private-key-jwt")]
use std::sync::atomic::Ordering;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// How the client proves its identity to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_id` and `client_secret` as form fields in the request body
    /// (`client_secret_post`). HealthHero documents this method, so it is the default.
    #[default]
    Post,
    /// HTTP Basic authentication (`client_secret_basic`), with the id and the secret each
    /// form-encoded before joining, as RFC 6749 section 2.3.1 requires.
    Basic,
    /// A JWT signed with the client's private key in place of a secret (`private_key_jwt`,
    /// RFC 7523 and OpenID Connect Core section 9), new for every token request. Chosen by
    /// [`ClientBuilder::private_key_jwt`](crate::ClientBuilder::private_key_jwt), which
    /// gives the key.
    #[cfg(feature = "private-key-jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "private-key-jwt")))]
    PrivateKeyJwt,
    /// The TLS client certificate authenticates the client (RFC 8705 `tls_client_auth`: a
    /// certificate from a CA the server trusts, matched by its subject): the token request
    /// carries only `client_id`. The certificate comes from
    /// [`ClientBuilder::client_certificate`](crate::ClientBuilder::client_certificate).
    TlsClientAuth,
    /// As [`TlsClientAuth`](Self::TlsClientAuth), with a self-signed certificate the server
    /// has registered for the client (RFC 8705 `self_signed_tls_client_auth`).
    SelfSignedTlsClientAuth,
}

impl ClientAuth {
    /// The method's name in OAuth metadata (`token_endpoint_auth_method`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::Post => "client_secret_post",
            ClientAuth::Basic => "client_secret_basic",
            #[cfg(feature = "private-key-jwt")]
            ClientAuth::PrivateKeyJwt => "private_key_jwt",
            ClientAuth::TlsClientAuth => "tls_client_auth",
            ClientAuth::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }
}

/// What an API's answer says to DPoP (`TokenSource::dpop_answer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "dpop"), allow(dead_code))]
pub(crate) enum DpopAnswer {
    /// A 401 asking for the nonce the answer gives.
    Nonce,
    /// A 401 refusing the proof, not the token.
    ProofRefused,
    /// Anything else.
    Other,
}

/// The keys a client signs its assertions with: the current one, and the one before it while
/// the server may not know the new one yet.
#[cfg(feature = "private-key-jwt")]
pub(crate) struct Assertion {
    pub(crate) keys: Vec<Arc<dyn crate::auth::Signer>>,
    /// The assertion's `aud`.
    pub(crate) audience: String,
    /// The key the server last accepted, tried first: during a rotation, once the previous
    /// key is the one that works, each fetch is not a refused request and then another.
    pub(crate) accepted: std::sync::atomic::AtomicUsize,
}

/// Everything the token source needs, fixed when the client is built.
pub(crate) struct TokenConfig {
    pub(crate) token_url: Url,
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) scope: Option<String>,
    pub(crate) auth: ClientAuth,
    pub(crate) timeout: Duration,
    pub(crate) refresh_ahead: Duration,
    pub(crate) min_remaining: Duration,
    /// Whether token requests carry W3C trace context (feature `opentelemetry`; off unless
    /// asked: `ClientBuilder::propagate_trace_context_to_identity`).
    pub(crate) propagate_trace_context: bool,
    /// The signing keys, with `ClientAuth::PrivateKeyJwt`.
    #[cfg(feature = "private-key-jwt")]
    pub(crate) assertion: Option<Assertion>,
    /// The DPoP key, when tokens are bound to one.
    #[cfg(feature = "dpop")]
    pub(crate) dpop: Option<Arc<crate::auth::Dpop>>,
    /// The TLS client certificate (DER), when one is presented: the server may bind tokens
    /// to it (RFC 8705), so a shared store keeps them apart by it.
    #[cfg_attr(not(feature = "token-store"), allow(dead_code))]
    pub(crate) client_certificate: Option<Vec<u8>>,
}

impl TokenConfig {
    /// The forms in which a server may echo the secret back: as sent in a form body, and raw.
    /// Bodies we keep are scrubbed of both.
    /// (None without a secret: private_key_jwt.)
    pub(crate) fn secret_forms(&self) -> Vec<Vec<u8>> {
        let raw = self.client_secret.expose_secret();
        if raw.is_empty() {
            return Vec::new();
        }
        let encoded = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>();
        // And as `client_secret_basic` sends it, for a server that echoes its header.
        let basic = super::oauth::basic_auth(&self.client_id, raw);
        let basic = basic
            .as_bytes()
            .strip_prefix(b"Basic ")
            .unwrap_or_default()
            .to_vec();
        vec![encoded.into_bytes(), raw.as_bytes().to_vec(), basic]
    }

    /// How many keys the client may sign its assertions with (0 without private_key_jwt).
    pub(crate) fn signing_keys(&self) -> usize {
        #[cfg(feature = "private-key-jwt")]
        if let Some(assertion) = &self.assertion {
            return assertion.keys.len();
        }
        0
    }

    /// The key a token request signs with first: the one the server last accepted.
    pub(crate) fn first_key(&self) -> usize {
        #[cfg(feature = "private-key-jwt")]
        if let Some(assertion) = &self.assertion {
            return assertion.accepted.load(Ordering::Relaxed);
        }
        0
    }

    /// Remembers that the server accepted the `key`th key.
    pub(crate) fn key_accepted(&self, key: usize) {
        #[cfg(feature = "private-key-jwt")]
        if let Some(assertion) = &self.assertion {
            assertion.accepted.store(key, Ordering::Relaxed);
        }
        let _ = key;
    }

    /// The token type the identity server must issue: `DPoP` when tokens are bound to a
    /// key, else `Bearer`; also the scheme of the `Authorization` header that carries them.
    pub(crate) fn token_scheme(&self) -> &'static str {
        #[cfg(feature = "dpop")]
        if self.dpop.is_some() {
            return "DPoP";
        }
        "Bearer"
    }
}
