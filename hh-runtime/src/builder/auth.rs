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
    /// The TLS client certificate chain and its key (PEM), for every connection hh makes.
    certificate: Option<(Vec<u8>, secrecy::SecretString)>,
    /// CA certificates (PEM) trusted besides the system's.
    roots: Vec<Vec<u8>>,
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
        d.field(
            "client_certificate",
            &self.certificate.as_ref().map(|_| "[certificate and key]"),
        )
        .field("root_certificates", &self.roots.len());
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
    /// a rotation: when the identity server refuses an assertion signed with one key
    /// (`invalid_client`: it does not know the new key yet, or no longer knows the old one),
    /// the same token request is made again at once with a new assertion signed by the other.
    /// The key last accepted is tried first, so a rotation costs one refused request each time
    /// the server's keys change, not one per token.
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
    /// `HH_CLIENT_KEY_ALG`, `HH_PREVIOUS_CLIENT_KEY` / `HH_PREVIOUS_CLIENT_KEY_FILE` (with
    /// `HH_PREVIOUS_CLIENT_KEY_ID` and `HH_PREVIOUS_CLIENT_KEY_ALG`),
    /// `HH_ASSERTION_AUDIENCE`; `HH_DPOP_KEY` / `HH_DPOP_KEY_FILE`, or `HH_DPOP=true` for a
    /// key generated now; `HH_CLIENT_CERT_FILE` (with `HH_CLIENT_CERT_KEY_FILE` unless the key
    /// is in the same file), `HH_ROOT_CERT_FILE` and `HH_CLIENT_AUTH` (the method's OAuth
    /// name, e.g. `tls_client_auth`). Returns whether the client authenticates without a
    /// secret (then none is required).
    pub(super) fn auth_env(&mut self, var: &dyn Fn(&str) -> Option<String>) -> bool {
        let secretless = self.tls_env(var);
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
        let has_key = secretless || key_vars.iter().any(|n| set(n).is_some());
        #[cfg(feature = "private-key-jwt")]
        if let Some(key) = self.key_from_env(var, "HH_CLIENT_KEY") {
            match with_id_and_alg(key, set("HH_CLIENT_KEY_ID"), set("HH_CLIENT_KEY_ALG")) {
                Ok(key) => *self = std::mem::take(self).private_key_jwt(key),
                Err(e) => self
                    .problems
                    .push(format!("HH_CLIENT_KEY_ALG: {}", e.config_problem())),
            }
            if let Some(previous) = self.key_from_env(var, "HH_PREVIOUS_CLIENT_KEY") {
                match with_id_and_alg(
                    previous,
                    set("HH_PREVIOUS_CLIENT_KEY_ID"),
                    set("HH_PREVIOUS_CLIENT_KEY_ALG"),
                ) {
                    Ok(key) => *self = std::mem::take(self).previous_private_key(key),
                    Err(e) => self.problems.push(format!(
                        "HH_PREVIOUS_CLIENT_KEY_ALG: {}",
                        e.config_problem()
                    )),
                }
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
                        Err(e) => self.problems.push(e.config_problem()),
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

    /// `HH_CLIENT_CERT_FILE`, `HH_CLIENT_CERT_KEY_FILE`, `HH_ROOT_CERT_FILE` and
    /// `HH_CLIENT_AUTH`; whether the method chosen needs no secret.
    fn tls_env(&mut self, var: &dyn Fn(&str) -> Option<String>) -> bool {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let mut read = |name: &str| -> Option<String> {
            let path = set(name)?;
            std::fs::read_to_string(path.trim())
                .map_err(|e| {
                    self.problems
                        .push(format!("{name}: cannot read {}: {e}", path.trim()))
                })
                .ok()
        };
        let chain = read("HH_CLIENT_CERT_FILE");
        let key = read("HH_CLIENT_CERT_KEY_FILE");
        let root = read("HH_ROOT_CERT_FILE");
        if let Some(chain) = chain {
            // One file may hold both the chain and the key.
            let (certificates, in_file) = split_pem(&chain);
            match key.or(in_file) {
                Some(key) => *self = std::mem::take(self).client_certificate(certificates, key),
                None => self.problems.push(
                    "HH_CLIENT_CERT_FILE holds no private key: set HH_CLIENT_CERT_KEY_FILE".into(),
                ),
            }
        }
        if let Some(root) = root {
            *self = std::mem::take(self).root_certificate(root);
        }
        let Some(method) = set("HH_CLIENT_AUTH") else {
            return false;
        };
        let methods = [
            crate::ClientAuth::Post,
            crate::ClientAuth::Basic,
            crate::ClientAuth::TlsClientAuth,
            crate::ClientAuth::SelfSignedTlsClientAuth,
        ];
        match methods.into_iter().find(|m| m.as_str() == method.trim()) {
            Some(auth) => self.auth = auth,
            // private_key_jwt is chosen by giving the key (HH_CLIENT_KEY).
            None => self.problems.push(format!(
                "HH_CLIENT_AUTH `{}` is not one of client_secret_post, client_secret_basic, \
                 tls_client_auth, self_signed_tls_client_auth",
                method.trim()
            )),
        }
        !self.uses_secret()
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
            (Some(text), None) => SigningKey::from_bytes(text.as_bytes())
                .map_err(|e| format!("{name}: {}", e.config_problem())),
            (None, Some(path)) => match std::fs::read(path.trim()) {
                Ok(bytes) => SigningKey::from_bytes(&bytes)
                    .map_err(|e| format!("{file}: {}", e.config_problem())),
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
                accepted: Default::default(),
                audience: match &o.audience {
                    AssertionAudience::TokenEndpoint => {
                        token_url.map(Url::to_string).unwrap_or_default()
                    }
                    AssertionAudience::Other(aud) => aud.clone(),
                },
            })
        };
        let by_certificate = matches!(
            self.auth,
            crate::ClientAuth::TlsClientAuth | crate::ClientAuth::SelfSignedTlsClientAuth
        );
        if by_certificate
            && self.auth_options.certificate.is_none()
            && self.token_http_client.is_none()
        {
            problems.push(format!(
                "ClientAuth::{:?} needs a TLS client certificate: ClientBuilder::client_certificate \
                 (or a token_http_client of your own that presents one)",
                self.auth
            ));
        }
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

    /// Whether the client authenticates with a secret (not with private_key_jwt or a TLS
    /// client certificate).
    pub(super) fn uses_secret(&self) -> bool {
        #[cfg(feature = "private-key-jwt")]
        if self.auth == ClientAuth::PrivateKeyJwt {
            return false;
        }
        !matches!(
            self.auth,
            crate::ClientAuth::TlsClientAuth | crate::ClientAuth::SelfSignedTlsClientAuth
        )
    }

    /// Presents this TLS client certificate (PEM, the chain from the client's certificate up)
    /// with `key` (its private key, PEM) on every connection hh makes, to the token endpoint
    /// and to the API (RFC 8705): to authenticate the client ([`ClientAuth::TlsClientAuth`],
    /// [`ClientAuth::SelfSignedTlsClientAuth`]), and so that the tokens the server binds to
    /// it (`cnf.x5t#S256`) are used only over the same identity. With a shared token store,
    /// processes share tokens only with those presenting the same certificate.
    ///
    /// Works with each TLS feature (`rustls`, `rustls-no-provider`, `native-tls`; the key in
    /// PKCS#8 for `native-tls`); applies to the HTTP clients hh builds, not to ones you bring.
    ///
    /// [`ClientAuth::TlsClientAuth`]: crate::ClientAuth::TlsClientAuth
    /// [`ClientAuth::SelfSignedTlsClientAuth`]: crate::ClientAuth::SelfSignedTlsClientAuth
    pub fn client_certificate(mut self, chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Self {
        // PEM is text: anything else would not load anyway, and is said so at build.
        let key = String::from_utf8_lossy(key.as_ref()).into_owned();
        self.auth_options.certificate = Some((chain.as_ref().to_vec(), key.into()));
        self
    }

    /// Trusts this CA certificate (PEM) too, for servers whose certificates a private CA
    /// signed; applies to the HTTP clients hh builds.
    pub fn root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.auth_options.roots.push(pem.as_ref().to_vec());
        self
    }

    /// What `client_certificate` and `root_certificate` add to a `reqwest::ClientBuilder`
    /// of ours; a problem named if they cannot be used.
    pub(super) fn tls_identity(
        &self,
        builder: reqwest::ClientBuilder,
    ) -> crate::Result<reqwest::ClientBuilder> {
        #[cfg(any(
            feature = "rustls",
            feature = "rustls-no-provider",
            feature = "native-tls"
        ))]
        {
            let mut builder = builder;
            use secrecy::ExposeSecret as _;
            let refuse =
                |what: &str, e: &dyn fmt::Display| crate::Error::config(format!("{what}: {e}"));
            for pem in &self.auth_options.roots {
                let root = reqwest::Certificate::from_pem(pem)
                    .map_err(|e| refuse("root_certificate is not a PEM certificate", &e))?;
                builder = builder.add_root_certificate(root);
            }
            let Some((chain, key)) = &self.auth_options.certificate else {
                return Ok(builder);
            };
            // The identity of the backend reqwest uses: native-tls when it is on (reqwest's
            // default then, even beside rustls), else rustls.
            #[cfg(not(feature = "native-tls"))]
            let identity = {
                let mut pem = chain.clone();
                pem.push(b'\n');
                pem.extend_from_slice(key.expose_secret().as_bytes());
                reqwest::Identity::from_pem(&pem)
            };
            #[cfg(feature = "native-tls")]
            let identity = reqwest::Identity::from_pkcs8_pem(chain, key.expose_secret().as_bytes());
            let identity = identity.map_err(|e| {
                refuse(
                    "client_certificate: the certificate or its key is not usable",
                    &e,
                )
            })?;
            Ok(builder.identity(identity))
        }
        #[cfg(not(any(
            feature = "rustls",
            feature = "rustls-no-provider",
            feature = "native-tls"
        )))]
        {
            if self.auth_options.certificate.is_none() && self.auth_options.roots.is_empty() {
                return Ok(builder);
            }
            Err(crate::Error::config(
                "client_certificate and root_certificate need TLS: enable hh-runtime's \
                 `rustls` (the default), `rustls-no-provider` or `native-tls` feature",
            ))
        }
    }
}

impl AuthOptions {
    /// The client's certificate (the chain's first, DER), for the token store's entry names.
    pub(super) fn certificate_der(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let (chain, _) = self.certificate.as_ref()?;
        let text = std::str::from_utf8(chain).ok()?;
        let start = text.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
        let end = start + text[start..].find("-----END CERTIFICATE-----")?;
        let body: String = text[start..end].split_whitespace().collect();
        base64::engine::general_purpose::STANDARD.decode(body).ok()
    }
}

/// `key` with the key id and the algorithm the environment gives, if it gives them.
#[cfg(feature = "private-key-jwt")]
fn with_id_and_alg(
    key: SigningKey,
    kid: Option<String>,
    alg: Option<String>,
) -> crate::Result<SigningKey> {
    let key = match kid {
        Some(kid) => key.with_key_id(kid),
        None => key,
    };
    match alg {
        Some(alg) => key.with_algorithm(alg.trim().parse()?),
        None => Ok(key),
    }
}

/// A PEM file's certificates, and its private key if it holds one.
fn split_pem(text: &str) -> (String, Option<String>) {
    let (mut certificates, mut key) = (String::new(), None);
    let mut block = String::new();
    for line in text.lines() {
        block.push_str(line);
        block.push('\n');
        if line.starts_with("-----END ") {
            if line.contains("PRIVATE KEY") {
                key = Some(std::mem::take(&mut block));
            } else {
                certificates.push_str(&std::mem::take(&mut block));
            }
        }
    }
    (certificates, key)
}

/// The checked keys, for the token configuration.
pub(super) struct Auth {
    #[cfg(feature = "private-key-jwt")]
    pub(super) assertion: Option<Assertion>,
    #[cfg(feature = "dpop")]
    pub(super) dpop: Option<Arc<crate::auth::Dpop>>,
}
