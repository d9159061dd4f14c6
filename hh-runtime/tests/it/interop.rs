//! Interoperability with a certified OpenID provider, run locally: panva's oidc-provider
//! (`interop/oidc-provider`, installed by `.ci/run` with `npm ci`), with a client that
//! authenticates with private_key_jwt and binds its tokens with DPoP, and a resource endpoint
//! beside it that accepts a token only with a valid proof of the key it is bound to; and over
//! HTTPS, a client authenticating with its self-signed TLS certificate
//! (self_signed_tls_client_auth), its tokens bound to it (RFC 8705).
//!
//! Without Node.js or the installed packages the cases pass with a note saying they were
//! skipped, except under CI (`CI` set), where that is a failure.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use hh_runtime::auth::{Algorithm, SigningKey};
use hh_runtime::{Client, ClientBuilder};

const CLIENT_ID: &str = "hh-interop";

/// oidc-provider, running until dropped.
struct Provider {
    child: Child,
    url: String,
    /// The CA that signed its certificate, when it serves HTTPS.
    ca: Option<String>,
}

impl Provider {
    /// A client of it as `CLIENT_ID`, trusting its CA.
    fn builder(&self) -> ClientBuilder {
        let builder = Client::builder()
            .token_url(format!("{}/token", self.url))
            .api_url(&self.url)
            .client_id(CLIENT_ID);
        match &self.ca {
            Some(ca) => builder.root_certificate(ca),
            None => builder,
        }
    }

    /// How many token requests it has answered.
    async fn token_requests(&self) -> u64 {
        let mut http = reqwest::Client::builder();
        if let Some(ca) = &self.ca {
            http =
                http.add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap());
        }
        let stats: serde_json::Value = http
            .build()
            .unwrap()
            .get(format!("{}/stats", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["tokenRequests"].as_u64().unwrap()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop/oidc-provider")
}

/// Starts the provider with `key`'s public half registered, or says why it cannot.
fn start(key: &SigningKey, require_nonce: bool) -> Option<Provider> {
    start_with(&key.public_jwk(), require_nonce, None)
}

/// Starts the provider with `jwk` registered; over HTTPS with `tls` (its CA, certificate and
/// key, PEM).
fn start_with(jwk: &str, require_nonce: bool, tls: Option<Pki>) -> Option<Provider> {
    let dir = directory();
    let node = Command::new("node").arg("--version").output();
    if node.is_err() || !dir.join("node_modules/oidc-provider").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the interoperability tests need Node.js and `npm ci` in interop/oidc-provider; .ci/run does both"
        );
        eprintln!(
            "SKIPPED: Node.js or interop/oidc-provider/node_modules missing (npm ci --prefix interop/oidc-provider)"
        );
        return None;
    }
    let mut child = Command::new("node")
        .arg(dir.join("server.mjs"))
        .env("CLIENT_ID", CLIENT_ID)
        .env("CLIENT_JWK", jwk)
        .env("REQUIRE_NONCE", if require_nonce { "1" } else { "0" })
        .envs(tls.iter().flat_map(|pki| {
            [
                ("SERVER_CERT", pki.cert.clone()),
                ("SERVER_KEY", pki.key.clone()),
            ]
        }))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("oidc-provider did not start: {line:?}"));
    let scheme = if tls.is_some() { "https" } else { "http" };
    Some(Provider {
        url: format!("{scheme}://127.0.0.1:{port}"),
        child,
        ca: tls.map(|pki| pki.ca),
    })
}

/// A call to the provider's resource endpoint through the generated-code surface.
async fn resource(client: &Client) -> hh_runtime::Result<serde_json::Value> {
    crate::support::get_json(client, "/resource").await
}

fn client(provider: &Provider, key: Arc<SigningKey>) -> Client {
    provider
        .builder()
        .scope("api")
        .private_key_jwt(key)
        .dpop(SigningKey::generate(Algorithm::ES256).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn oidc_provider_accepts_our_assertions_and_dpop_proofs_with_each_algorithm() {
    for algorithm in [
        Algorithm::ES256,
        Algorithm::EdDSA,
        Algorithm::PS256,
        Algorithm::RS256,
    ] {
        let key = Arc::new(
            SigningKey::generate(algorithm)
                .unwrap()
                .with_key_id("interop"),
        );
        let Some(provider) = start(&key, false) else {
            return;
        };
        let client = client(&provider, key);
        let calls = (0..10).map(|_| resource(&client));
        for answer in futures_util::future::join_all(calls).await {
            let answer = answer.unwrap_or_else(|e| panic!("{algorithm}: {e}"));
            assert_eq!(answer["client"], CLIENT_ID);
        }
        assert_eq!(provider.token_requests().await, 1, "{algorithm}");
        assert!(
            client
                .authorization()
                .await
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("DPoP ")
        );
    }
}

#[tokio::test]
async fn oidc_providers_dpop_nonce_is_answered_with_one_retry_and_a_new_assertion() {
    let key = Arc::new(
        SigningKey::generate(Algorithm::ES256)
            .unwrap()
            .with_key_id("interop"),
    );
    let Some(provider) = start(&key, true) else {
        return;
    };
    let client = client(&provider, Arc::clone(&key));
    resource(&client).await.unwrap();
    // Refused for want of the nonce, then issued: oidc-provider refuses an assertion's `jti`
    // it saw, so the second request passed with a new one.
    assert_eq!(provider.token_requests().await, 2);

    // A key it does not know: refused, and said so.
    let stranger = provider
        .builder()
        .private_key_jwt(
            SigningKey::generate(Algorithm::ES256)
                .unwrap()
                .with_key_id("interop"),
        )
        .build()
        .unwrap();
    let error = stranger.access_token().await.unwrap_err();
    assert_eq!(
        error.oauth_error().unwrap().code.as_str(),
        "invalid_client",
        "{error}"
    );
}

/// A CA and a server certificate for 127.0.0.1 it signed, with its key (PEM).
struct Pki {
    ca: String,
    cert: String,
    key: String,
}

#[cfg(feature = "rustls")]
fn server_pki() -> Pki {
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    // Names of their own: a leaf named as its issuer looks self-signed to OpenSSL.
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "hh interop CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca, rcgen::KeyPair::generate().unwrap()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "oidc-provider");
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca: ca.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

/// A self-signed client certificate named `name`, and its key.
#[cfg(feature = "rustls")]
fn self_signed(name: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert, key)
}

#[cfg(feature = "rustls")]
#[tokio::test]
async fn oidc_provider_accepts_our_self_signed_client_certificate_and_binds_tokens_to_it() {
    use base64::Engine as _;
    use hh_runtime::ClientAuth;
    // The client's self-signed certificate, registered as a JWK with `x5c`.
    let (cert, key) = self_signed("hh-interop");
    let mut jwk: serde_json::Value = serde_json::from_str(
        &SigningKey::from_pem(&key.serialize_pem())
            .unwrap()
            .public_jwk(),
    )
    .unwrap();
    jwk["x5c"] = serde_json::json!([base64::engine::general_purpose::STANDARD.encode(cert.der())]);
    let Some(provider) = start_with(&jwk.to_string(), false, Some(server_pki())) else {
        return;
    };
    let by_certificate = |(cert, key): (rcgen::Certificate, rcgen::KeyPair)| {
        provider
            .builder()
            .scope("api")
            .client_auth(ClientAuth::SelfSignedTlsClientAuth)
            .client_certificate(cert.pem(), key.serialize_pem())
            .build()
            .unwrap()
    };
    let client = by_certificate((cert, key));
    let calls = (0..10).map(|_| resource(&client));
    for answer in futures_util::future::join_all(calls).await {
        assert_eq!(answer.unwrap()["bound"], "x5t#S256");
    }
    assert_eq!(provider.token_requests().await, 1);

    // Another certificate: refused by the provider, and said so.
    let stranger = by_certificate(self_signed("someone"));
    let error = stranger.access_token().await.unwrap_err();
    assert_eq!(
        error.oauth_error().unwrap().code.as_str(),
        "invalid_client",
        "{error}"
    );
}
