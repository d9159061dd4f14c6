//! TLS client certificates (RFC 8705) against hh-sandbox over TLS: `tls_client_auth` with a
//! certificate its CA issued, `self_signed_tls_client_auth` with a registered one, tokens bound
//! to the certificate (`cnf.x5t#S256`) and taken by the API only over it.

#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use hh_runtime::{Client, ClientAuth, ClientBuilder};
use hh_sandbox::Sandbox;

use crate::support::{create_traversal as create, gets_after_revocation, new_traversal};

async fn tls_sandbox() -> Sandbox {
    Sandbox::builder().tls().start().await.unwrap()
}

fn builder(sandbox: &Sandbox, client_id: &str) -> ClientBuilder {
    Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(client_id)
        .root_certificate(sandbox.ca_certificate_pem().unwrap())
}

/// A client of `sandbox` as `client_id`, authenticating by `auth` with the certificate `cert`
/// and its `key` (PEM).
fn cert_client(
    sandbox: &Sandbox,
    client_id: &str,
    cert: &str,
    key: &str,
    auth: ClientAuth,
) -> Client {
    builder(sandbox, client_id)
        .client_certificate(cert, key)
        .client_auth(auth)
        .build()
        .unwrap()
}

/// A TLS sandbox, the certificate (PEM) its CA issued to `cert-clinic`, and a client of
/// `cert-clinic` authenticating with it (`tls_client_auth`).
async fn issued_client() -> (Sandbox, String, Client) {
    let sandbox = tls_sandbox().await;
    let (cert, key) = sandbox.issue_client_certificate("cert-clinic").unwrap();
    let client = cert_client(
        &sandbox,
        "cert-clinic",
        &cert,
        &key,
        ClientAuth::TlsClientAuth,
    );
    (sandbox, cert, client)
}

/// A self-signed certificate and its key, PEM.
fn self_signed(name: &str) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// The `cnf` claim of a JWT access token (read, not verified).
fn confirmation(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["cnf"].clone()
}

fn thumbprint(pem: &str) -> String {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[tokio::test]
async fn tls_client_auth_gets_certificate_bound_tokens_with_one_request_for_a_herd() {
    let (sandbox, cert, client) = issued_client().await;
    let calls = (0..20).map(|_| create(&client));
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(sandbox.token_requests(), 1);
    let token = client.access_token().await.unwrap();
    assert_eq!(
        confirmation(token.expose_secret())["x5t#S256"],
        thumbprint(&cert).as_str()
    );

    // Revoked: one new token, each call replayed once.
    let id = new_traversal(&client).await;
    gets_after_revocation(&sandbox, &client, &id, 10).await;
    assert_eq!(sandbox.token_requests(), 2);
}

#[tokio::test]
async fn self_signed_tls_client_auth_with_a_registered_certificate() {
    let sandbox = tls_sandbox().await;
    let (cert, key) = self_signed("self-signed-clinic");
    sandbox
        .register_client_certificate("self-signed-clinic", &cert)
        .unwrap();
    let client = cert_client(
        &sandbox,
        "self-signed-clinic",
        &cert,
        &key,
        ClientAuth::SelfSignedTlsClientAuth,
    );
    create(&client).await.unwrap();

    // Another certificate, not registered for the client: refused, and said so.
    let (other, other_key) = self_signed("someone");
    let stranger = cert_client(
        &sandbox,
        "self-signed-clinic",
        &other,
        &other_key,
        ClientAuth::SelfSignedTlsClientAuth,
    );
    let error = stranger.access_token().await.unwrap_err();
    assert_eq!(error.oauth_error().unwrap().code.as_str(), "invalid_client");
    assert!(
        error.to_string().contains(
            "the TLS client certificate is not registered for client `self-signed-clinic`"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_certificate_bound_token_is_refused_over_another_certificate() {
    let (sandbox, _, client) = issued_client().await;
    let id = new_traversal(&client).await;
    let token = client.access_token().await.unwrap();
    let url = format!("{}/api/v1/cert-clinic/Traversals/{id}", sandbox.api_url());
    let ca =
        reqwest::Certificate::from_pem(sandbox.ca_certificate_pem().unwrap().as_bytes()).unwrap();
    let (other, other_key) = self_signed("thief");
    // (The identity of the backend reqwest uses: native-tls when it is on.)
    #[cfg(not(feature = "native-tls"))]
    let thief = reqwest::Identity::from_pem(format!("{other}\n{other_key}").as_bytes()).unwrap();
    #[cfg(feature = "native-tls")]
    let thief = reqwest::Identity::from_pkcs8_pem(other.as_bytes(), other_key.as_bytes()).unwrap();
    for http in [
        reqwest::Client::builder()
            .add_root_certificate(ca.clone())
            .build()
            .unwrap(),
        reqwest::Client::builder()
            .add_root_certificate(ca)
            .identity(thief)
            .build()
            .unwrap(),
    ] {
        let answer = http
            .get(&url)
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401);
        let challenge = answer.headers()["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.contains("bound to a client certificate"),
            "{challenge}"
        );
    }
}
