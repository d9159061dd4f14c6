//! The builder's part about authenticating without a shared secret: the private_key_jwt keys
//! (feature `private-key-jwt`) and the DPoP key (feature `dpop`), their setters, what the
//! environment says of them, and the checks `build` makes.

use std::fmt;
#[cfg(any(feature = "private-key-jwt", feature = "dpop"))]
use std::sync::Arc;

use url::Url;

use super::ClientBuilder;
#[cfg(any(feature = "private-key-jwt", feature = "dpop"))]
use crate::auth::SigningKey;
#[cfg(feature = "private-key-jwt")]
use crate::auth::{AssertionAudience, Signer};
#[cfg(feature = "private-key-jwt")]
use crate::token::{Assertion, ClientAuth};

/// What the builder collects for these methods.
#[derive(Clone, Default)]
pub(crate) struct AuthOptions {
    /// The current signing key, then the previous one.
    #[cfg(feature = "private-key-jwt")]
    keys: [Option<Arc<dyn Signer>>; 2],
    #[cfg(feature = "private-key-jwt")]
    audience: AssertionAudience,
    #[cfg(feature = "dpop")]
    dpop: Option<Arc<SigningKey>>,
}

impl fmt::Debug for AuthOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("AuthOptions");
        // Which keys, never what they hold.
        #[cfg(feature = "private-key-jwt")]
        {
            let key = |k: &Option<Arc<dyn Signer>>| {
                k.as_ref().map(|k| {
                    format!(
                        "{} key {}",
                        k.algorithm(),
                        k.key_id().unwrap_or("without kid")
                    )
                })
            };
            d.field("signing_key", &key(&self.keys[0]))
                .field("previous_signing_key", &key(&self.keys[1]))
                .field("assertion_audience", &self.audience);
        }
        #[cfg(feature = "dpop")]
        d.field("dpop_key", &self.dpop.as_ref().map(|k| k.thumbprint()));
        d.finish()
    }
}

impl ClientBuilder {
    /// Authenticates to the token endpoint with a JWT signed by `key` instead of a secret
    /// (`private_key_jwt`: RFC 7523 and OpenID Connect Core section 9), and sets
    /// [`ClientAuth::PrivateKeyJwt`]. `key` is a [`SigningKey`] in this process or your own
    /// [`Signer`] (a KMS, an HSM).
    ///
    /// Every token request carries a new assertion: `iss` and `sub` the client id, `aud` the
    /// token endpoint (see [`assertion_audience`](Self::assertion_audience)), a new random
    /// `jti`, and `exp` a minute after `iat`. A retry, the fetch after a 401 and the request
    /// after a DPoP nonce challenge each sign a new one. No client secret is needed (and one
    /// given as well is refused, so that it is clear which the client uses).
    #[cfg(feature = "private-key-jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "private-key-jwt")))]
    pub fn private_key_jwt(mut self, key: impl Signer) -> Self {
        self.auth = ClientAuth::PrivateKeyJwt;
        self.auth_options.keys[0] = Some(Arc::new(key));
        self
    }

    /// The key used before the one [`private_key_jwt`](Self::private_key_jwt) gives, during
    /// a rotation: when the identity server refuses an assertion signed with the new key
    /// (`invalid_client`: it does not know the key yet), the same token request is made again
    /// at once with a new assertion signed by this one.
    #[cfg(feature = "private-key-jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "private-key-jwt")))]
    pub fn previous_private_key(mut self, key: impl Signer) -> Self {
        self.auth_options.keys[1] = Some(Arc::new(key));
        self
    }

    /// What a client assertion's `aud` names (default: the token endpoint's URL). Some servers
    /// expect their issuer identifier instead: `AssertionAudience::Other(issuer)`.
    #[cfg(feature = "private-key-jwt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "private-key-jwt")))]
    pub fn assertion_audience(mut self, audience: AssertionAudience) -> Self {
        self.auth_options.audience = audience;
        self
    }

    /// Binds access tokens to `key` with DPoP (RFC 9449): token requests and API attempts
    /// each carry a new proof signed by it (`htm`, `htu`, `iat`, `jti`; at the API also `ath`,
    /// the token's hash), tokens are sent as `Authorization: DPoP <token>`, and a stolen token
    /// is of no use without the key. A server's nonce (`use_dpop_nonce`) is remembered per
    /// origin and answered with one immediate retry of the request.
    ///
    /// `SigningKey::generate(Algorithm::ES256)` makes a key for this process alone (an
    /// `Arc<SigningKey>` shares one between clients). With a
    /// shared token store, processes share tokens only with processes holding the same key
    /// (entries are named by the key's thumbprint): give every process of a fleet the same
    /// key to share one token, or each its own to keep tokens apart.
    #[cfg(feature = "dpop")]
    #[cfg_attr(docsrs, doc(cfg(feature = "dpop")))]
    pub fn dpop(mut self, key: impl Into<Arc<SigningKey>>) -> Self {
        self.auth_options.dpop = Some(key.into());
        self
    }

    /// Reads the keys from the environment: `HH_CLIENT_KEY` (PEM or JWK text) or
    /// `HH_CLIENT_KEY_FILE` (a path: PEM, JWK or DER), with `HH_CLIENT_KEY_ID` and
    /// `HH_CLIENT_KEY_ALG`, `HH_PREVIOUS_CLIENT_KEY` / `HH_PREVIOUS_CLIENT_KEY_FILE`,
    /// `HH_ASSERTION_AUDIENCE`; `HH_DPOP_KEY` / `HH_DPOP_KEY_FILE`, or `HH_DPOP=true` for a
    /// key generated now. Returns whether a client key was given (then no secret is needed).
    pub(super) fn auth_env(&mut self, var: &dyn Fn(&str) -> Option<String>) -> bool {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let mut unsupported = |names: &[&str], feature: &str| {
            if let Some(name) = names.iter().find(|n| set(n).is_some()) {
                self.problems.push(format!(
                    "{name} is set, but hh-runtime was built without its `{feature}` feature: \
                     enable `{feature}` (a feature of hh-runtime and of healthhero), or unset {name}"
                ));
            }
        };
        let key_vars = ["HH_CLIENT_KEY", "HH_CLIENT_KEY_FILE"];
        let dpop_vars = ["HH_DPOP", "HH_DPOP_KEY", "HH_DPOP_KEY_FILE"];
        #[cfg(not(feature = "private-key-jwt"))]
        unsupported(&key_vars, "private-key-jwt");
        #[cfg(not(feature = "dpop"))]
        unsupported(&dpop_vars, "dpop");
        let _ = (&mut unsupported, &dpop_vars);
        let has_key = key_vars.iter().any(|n| set(n).is_some());
        #[cfg(feature = "private-key-jwt")]
        if let Some(mut key) = self.key_from_env(var, "HH_CLIENT_KEY") {
            if let Some(kid) = set("HH_CLIENT_KEY_ID") {
                key = key.with_key_id(kid);
            }
            let key = match set("HH_CLIENT_KEY_ALG") {
                Some(alg) => alg.trim().parse().and_then(|alg| key.with_algorithm(alg)),
                None => Ok(key),
            };
            match key {
                Ok(key) => *self = std::mem::take(self).private_key_jwt(key),
                Err(e) => self.problems.push(format!("HH_CLIENT_KEY_ALG: {e}")),
            }
            if let Some(previous) = self.key_from_env(var, "HH_PREVIOUS_CLIENT_KEY") {
                *self = std::mem::take(self).previous_private_key(previous);
            }
            if let Some(audience) = set("HH_ASSERTION_AUDIENCE") {
                self.auth_options.audience = AssertionAudience::Other(audience);
            }
        }
        #[cfg(feature = "dpop")]
        if let Some(key) = self.key_from_env(var, "HH_DPOP_KEY") {
            self.auth_options.dpop = Some(Arc::new(key));
        } else if let Some(on) = set("HH_DPOP") {
            match on.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => {
                    match SigningKey::generate(crate::auth::Algorithm::ES256) {
                        Ok(key) => self.auth_options.dpop = Some(Arc::new(key)),
                        Err(e) => self.problems.push(e.to_string()),
                    }
                }
                "0" | "false" | "no" | "off" => {}
                _ => self
                    .problems
                    .push("HH_DPOP is neither true nor false".into()),
            }
        }
        has_key
    }

    /// The key in the variable `name` (PEM or JWK text) or in the file `{name}_FILE`; a
    /// problem recorded, naming the variable, if it cannot be read.
    #[cfg(any(feature = "private-key-jwt", feature = "dpop"))]
    fn key_from_env(
        &mut self,
        var: &dyn Fn(&str) -> Option<String>,
        name: &str,
    ) -> Option<SigningKey> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let file = format!("{name}_FILE");
        let loaded = match (set(name), set(&file)) {
            (None, None) => return None,
            (Some(_), Some(_)) => Err(format!("both {name} and {file} are set; set one")),
            (Some(text), None) => {
                SigningKey::from_bytes(text.as_bytes()).map_err(|e| format!("{name}: {e}"))
            }
            (None, Some(path)) => match std::fs::read(path.trim()) {
                Ok(bytes) => SigningKey::from_bytes(&bytes).map_err(|e| format!("{file}: {e}")),
                Err(e) => Err(format!("{file}: cannot read {}: {e}", path.trim())),
            },
        };
        loaded.map_err(|e| self.problems.push(e)).ok()
    }

    /// The private_key_jwt keys and audience checked (a key for `PrivateKeyJwt`, a key only
    /// with it), and the DPoP key: what the token configuration gets.
    pub(super) fn check_auth(&self, token_url: Option<&Url>, problems: &mut Vec<String>) -> Auth {
        #[cfg(feature = "private-key-jwt")]
        let assertion = {
            let o = &self.auth_options;
            let keys: Vec<Arc<dyn Signer>> = o.keys.iter().flatten().cloned().collect();
            let chosen = self.auth == ClientAuth::PrivateKeyJwt;
            if chosen && o.keys[0].is_none() {
                problems.push(
                    "ClientAuth::PrivateKeyJwt needs a signing key: ClientBuilder::private_key_jwt"
                        .into(),
                );
            }
            if !chosen && !keys.is_empty() {
                problems.push(format!(
                    "a private_key_jwt signing key is set, but client_auth is {:?}",
                    self.auth
                ));
            }
            (self.auth == ClientAuth::PrivateKeyJwt && !keys.is_empty()).then(|| Assertion {
                keys,
                audience: match &o.audience {
                    AssertionAudience::TokenEndpoint => {
                        token_url.map(Url::to_string).unwrap_or_default()
                    }
                    AssertionAudience::Other(aud) => aud.clone(),
                },
            })
        };
        let _ = (token_url, &problems);
        Auth {
            #[cfg(feature = "private-key-jwt")]
            assertion,
            #[cfg(feature = "dpop")]
            dpop: self
                .auth_options
                .dpop
                .clone()
                .map(|key| Arc::new(crate::auth::Dpop::new(key))),
        }
    }

    /// Whether the client authenticates with a secret (every method but private_key_jwt).
    pub(super) fn uses_secret(&self) -> bool {
        #[cfg(feature = "private-key-jwt")]
        if self.auth == ClientAuth::PrivateKeyJwt {
            return false;
        }
        true
    }
}

/// The checked keys, for the token configuration.
pub(super) struct Auth {
    #[cfg(feature = "private-key-jwt")]
    pub(super) assertion: Option<Assertion>,
    #[cfg(feature = "dpop")]
    pub(super) dpop: Option<Arc<crate::auth::Dpop>>,
}
