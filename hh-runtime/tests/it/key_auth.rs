//! Client authentication without a shared secret, against hh-sandbox, which checks every
//! assertion and proof as a real server does (registered keys, signature, `aud`, `exp`, each
//! `jti` once; DPoP's `htm`, `htu`, `iat`, `ath`, `cnf.jkt` and nonces):
//!
//! - private_key_jwt with each algorithm: a cold herd makes one token request, a revoked token
//!   one new token and one replay; a retried or nonce-challenged request signs a new
//!   assertion; rotation falls back to the previous key; every refusal is a clear error;
//! - DPoP: tokens bound to the key, a proof on every attempt, nonces at the token endpoint and
//!   the API answered with one retry each, and errors that name the refusal, never a hang.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hh_runtime::auth::{Algorithm, AssertionAudience, BoxError, BoxFuture, Signer, SigningKey};
use hh_runtime::{Client, ClientBuilder};
use hh_sandbox::{Fault, Sandbox};

use crate::support::{
    create_traversal as create, get_traversal as get, gets_after_revocation, new_traversal,
};

const CLIENT: &str = "keyed-client";

/// A sandbox that knows `keys` (public halves) for `CLIENT`.
async fn sandbox_with(keys: &[&SigningKey]) -> Sandbox {
    let mut builder = Sandbox::builder();
    for key in keys {
        builder = builder.client_key(CLIENT, &key.public_jwk());
    }
    builder.start().await.unwrap()
}

fn builder(sandbox: &Sandbox) -> ClientBuilder {
    Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(CLIENT)
}

fn key(algorithm: Algorithm, kid: &str) -> SigningKey {
    SigningKey::generate(algorithm).unwrap().with_key_id(kid)
}

/// Twenty calls at once on a cold client.
async fn herd(client: &Client) {
    let calls = (0..20).map(|_| create(client));
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
}

#[tokio::test]
async fn private_key_jwt_with_each_algorithm_makes_one_token_request_for_a_cold_herd() {
    for algorithm in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let key = key(algorithm, &format!("{algorithm}-1"));
        let sandbox = sandbox_with(&[&key]).await;
        let client = builder(&sandbox).private_key_jwt(key).build().unwrap();
        herd(&client).await;
        assert_eq!(sandbox.token_requests(), 1, "{algorithm}");
    }
}

#[tokio::test(start_paused = true)]
async fn private_key_jwt_after_a_revocation_gets_one_new_token_and_one_replay() {
    let key = key(Algorithm::ES256, "k1");
    let sandbox = sandbox_with(&[&key]).await;
    let client = builder(&sandbox).private_key_jwt(key).build().unwrap();
    let id = new_traversal(&client).await;
    gets_after_revocation(&sandbox, &client, &id, 10).await;
    assert_eq!(sandbox.token_requests(), 2, "one new token for all ten");
    assert_eq!(
        sandbox.requests("traversals.get"),
        20,
        "each call replayed once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retried_token_request_signs_a_new_assertion() {
    let key = key(Algorithm::ES256, "k1");
    let sandbox = sandbox_with(&[&key]).await;
    // The server would refuse an assertion it saw before: the retry passes only with a new one.
    sandbox.inject(
        "token",
        Fault::FailTimes {
            times: 2,
            status: 503,
            retry_after: None,
        },
    );
    let client = builder(&sandbox).private_key_jwt(key).build().unwrap();
    create(&client).await.unwrap();
    assert_eq!(sandbox.token_requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_rotation_falls_back_to_the_previous_key_while_the_server_knows_only_it() {
    let (old, new) = (key(Algorithm::ES256, "2025"), key(Algorithm::EdDSA, "2026"));
    let sandbox = sandbox_with(&[&old]).await;
    let new_jwk = new.public_jwk();
    let client = builder(&sandbox)
        .private_key_jwt(new)
        .previous_private_key(old)
        .build()
        .unwrap();
    create(&client).await.unwrap();
    assert_eq!(
        sandbox.token_requests(),
        2,
        "the new key refused, the old one accepted"
    );
    // The key that worked is tried first from then on: one request per fetch.
    let fetch = async |requests: u64| {
        sandbox.revoke_all_tokens();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        create(&client).await.unwrap();
        assert_eq!(sandbox.token_requests(), requests);
    };
    fetch(3).await;

    // Once the server knows the new key, the old one can go: one refusal, then the new key
    // alone.
    sandbox.add_client_key(CLIENT, &new_jwk).unwrap();
    sandbox.remove_client_key(CLIENT, "2025");
    fetch(5).await;
    fetch(6).await;
}

/// The message of the error a token request ends with.
async fn token_error(client: &Client) -> hh_runtime::Error {
    let error = client.access_token().await.unwrap_err();
    assert!(error.is_token(), "{error}");
    error
}

#[tokio::test]
async fn each_refused_assertion_is_a_clear_error() {
    let registered = Arc::new(key(Algorithm::ES256, "k1"));
    let sandbox = sandbox_with(&[&registered]).await;

    // A key the server does not know under that kid.
    let stranger = builder(&sandbox)
        .private_key_jwt(key(Algorithm::ES256, "k1"))
        .build()
        .unwrap();
    let error = token_error(&stranger).await;
    assert_eq!(error.oauth_error().unwrap().code.as_str(), "invalid_client");
    assert!(
        error.to_string().contains("signature does not verify"),
        "{error}"
    );

    let unknown_kid = builder(&sandbox)
        .private_key_jwt(key(Algorithm::ES256, "k9"))
        .build()
        .unwrap();
    let error = token_error(&unknown_kid).await;
    assert!(
        error.to_string().contains("no key with kid `k9`"),
        "{error}"
    );

    // An audience the server does not answer to.
    let elsewhere = builder(&sandbox)
        .private_key_jwt(Arc::clone(&registered))
        .assertion_audience(AssertionAudience::Other("https://elsewhere.example".into()))
        .build()
        .unwrap();
    let error = token_error(&elsewhere).await;
    assert!(
        error
            .to_string()
            .contains("`aud` (https://elsewhere.example)"),
        "{error}"
    );

    // The client's clock two minutes behind the server's: the assertion has expired.
    sandbox.set_client_clock_behind(Duration::from_secs(120));
    let late = builder(&sandbox)
        .private_key_jwt(registered)
        .build()
        .unwrap();
    let error = token_error(&late).await;
    assert!(
        error.to_string().contains("the client assertion expired"),
        "{error}"
    );
    assert!(!error.is_retryable(), "invalid_client is permanent");
}

/// A signer that records every assertion it signs, to replay one by hand.
struct Recording {
    key: SigningKey,
    signed: std::sync::Mutex<Vec<String>>,
}

impl Signer for Recording {
    fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }
    fn key_id(&self) -> Option<&str> {
        self.key.key_id()
    }
    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, BoxError>> {
        Box::pin(async move {
            let signature = self.key.sign(message).await?;
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&signature);
            let jwt = format!("{}.{b64}", std::str::from_utf8(message).unwrap());
            self.signed.lock().unwrap().push(jwt);
            Ok(signature)
        })
    }
}

#[tokio::test]
async fn a_replayed_assertion_is_refused_by_its_jti() {
    let key = key(Algorithm::ES256, "k1");
    let sandbox = sandbox_with(&[&key]).await;
    let signer = Arc::new(Recording {
        key,
        signed: Default::default(),
    });
    let client = builder(&sandbox)
        .private_key_jwt(Arc::clone(&signer))
        .build()
        .unwrap();
    client.access_token().await.unwrap();
    let used = signer.signed.lock().unwrap()[0].clone();
    // The same assertion again, as an attacker who saw it would send it.
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", CLIENT)
        .append_pair(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )
        .append_pair("client_assertion", &used)
        .finish();
    let answer = reqwest::Client::new()
        .post(format!("{}/connect/token", sandbox.identity_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("`jti` was used before")
    );
}

/// A KMS that is down.
struct Unreachable(AtomicUsize);

impl Signer for Unreachable {
    fn algorithm(&self) -> Algorithm {
        Algorithm::PS256
    }
    fn key_id(&self) -> Option<&str> {
        Some("kms-key")
    }
    fn sign<'a>(&'a self, _: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, BoxError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err("the KMS answered 503".into()) })
    }
}

#[tokio::test]
async fn a_signer_that_fails_is_a_retryable_token_error_with_its_cause() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = builder(&sandbox)
        .private_key_jwt(Unreachable(AtomicUsize::new(0)))
        .build()
        .unwrap();
    let error = token_error(&client).await;
    assert!(
        error
            .to_string()
            .contains("the client assertion could not be signed: the KMS answered 503"),
        "{error}"
    );
    assert!(error.is_retryable());
    assert_eq!(sandbox.token_requests(), 0, "nothing was sent");
}

/// A sandbox that requires DPoP, with `CLIENT`'s key registered; a client of it, and the
/// assertion key for more.
async fn dpop_pair() -> (Sandbox, Client, Arc<SigningKey>) {
    let assertion_key = Arc::new(key(Algorithm::ES256, "k1"));
    let sandbox = Sandbox::builder()
        .client_key(CLIENT, &assertion_key.public_jwk())
        .require_dpop()
        .start()
        .await
        .unwrap();
    let client = builder(&sandbox)
        .private_key_jwt(Arc::clone(&assertion_key))
        .dpop(key(Algorithm::ES256, "dpop"))
        .build()
        .unwrap();
    (sandbox, client, assertion_key)
}

#[tokio::test(start_paused = true)]
async fn dpop_binds_tokens_and_proves_the_key_on_every_attempt() {
    let (sandbox, client, _) = dpop_pair().await;
    herd(&client).await;
    assert_eq!(sandbox.token_requests(), 1);
    let authorization = client.authorization().await.unwrap();
    assert!(authorization.to_str().unwrap().starts_with("DPoP "));

    // Revoked: one new token, each call replayed once with a new proof (a proof's `jti` is
    // refused twice, so a replay with the old proof would fail).
    let id = new_traversal(&client).await;
    gets_after_revocation(&sandbox, &client, &id, 10).await;
    assert_eq!(sandbox.token_requests(), 2);
    assert_eq!(sandbox.requests("traversals.get"), 20);

    // A retried attempt (a 503) carries a new proof too.
    sandbox.inject(
        "traversals.get",
        Fault::FailTimes {
            times: 2,
            status: 503,
            retry_after: Some("0".into()),
        },
    );
    get(&client, &id).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn dpop_nonces_are_answered_with_one_retry_at_the_token_endpoint_and_the_api() {
    let (sandbox, client, _) = dpop_pair().await;
    sandbox.rotate_dpop_nonce();
    // The token endpoint asks for the nonce (and the assertion signed again is accepted:
    // the first one's `jti` was spent), then the API takes the origin's nonce at once.
    let id = new_traversal(&client).await;
    assert_eq!(sandbox.token_requests(), 2);
    assert_eq!(sandbox.requests("traversals.create"), 1);

    // A new nonce: the next call is refused once, and sent again at once, a POST included.
    sandbox.rotate_dpop_nonce();
    get(&client, &id).await.unwrap();
    assert_eq!(sandbox.requests("traversals.get"), 2);
    sandbox.rotate_dpop_nonce();
    create(&client).await.unwrap();
    assert_eq!(sandbox.requests("traversals.create"), 3);
    assert_eq!(
        sandbox.token_requests(),
        2,
        "a nonce is not a reason for a new token"
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_that_keeps_asking_for_a_new_nonce_fails_the_call_after_one_retry() {
    let (sandbox, client, assertion_key) = dpop_pair().await;
    create(&client).await.unwrap();
    sandbox.set_dpop_nonce_churn(true);
    let error = create(&client).await.unwrap_err();
    assert_eq!(error.status().unwrap(), 401);
    assert!(error.to_string().contains("DPoP use_dpop_nonce"), "{error}");
    // Sent, refused for its nonce, sent again with it, refused again: no more.
    assert_eq!(sandbox.requests("traversals.create"), 3);

    // At the token endpoint the same: one retry (with a new assertion, which the server
    // accepts), then the error names the refusal.
    let fresh = builder(&sandbox)
        .private_key_jwt(assertion_key)
        .dpop(key(Algorithm::ES256, "dpop"))
        .build()
        .unwrap();
    let error = token_error(&fresh).await;
    assert_eq!(
        error.oauth_error().unwrap().code.as_str(),
        "use_dpop_nonce",
        "{error}"
    );
    assert_eq!(sandbox.token_requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_proof_for_another_url_is_refused_and_says_so() {
    let (sandbox, client, _) = dpop_pair().await;
    let id = new_traversal(&client).await;
    let http = reqwest::Client::new();
    let base = format!("{}/api/v1/{CLIENT}/Traversals", sandbox.api_url());
    let mut request = http.get(format!("{base}/not-{id}")).build().unwrap();
    client.authorize(&mut request).await.unwrap();
    // The proof names one URL; the request goes to another.
    *request.url_mut() = format!("{base}/{id}").parse().unwrap();
    let answer = http.execute(request).await.unwrap();
    assert_eq!(answer.status(), 401);
    let challenge = answer.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("DPoP error=\"invalid_dpop_proof\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("the DPoP proof is for another URL"),
        "{challenge}"
    );

    // And a proof made for this URL is accepted: the call of one's own works.
    let mut request = http.get(format!("{base}/{id}")).build().unwrap();
    client.authorize(&mut request).await.unwrap();
    assert_eq!(http.execute(request).await.unwrap().status(), 200);
}

#[tokio::test(start_paused = true)]
async fn a_dpop_token_without_its_proof_is_refused() {
    let (sandbox, client, _) = dpop_pair().await;
    let id = new_traversal(&client).await;
    // A stolen token, sent without the key: as DPoP with no proof, and as a bearer token.
    let token = client.access_token().await.unwrap();
    let url = format!("{}/api/v1/{CLIENT}/Traversals/{id}", sandbox.api_url());
    for scheme in ["DPoP", "Bearer"] {
        let answer = reqwest::Client::new()
            .get(&url)
            .header(
                "authorization",
                format!("{scheme} {}", token.expose_secret()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401, "{scheme}");
    }
}

#[cfg(feature = "middleware")]
#[tokio::test(start_paused = true)]
async fn token_middleware_answers_nonces_and_keeps_the_token_on_a_refused_proof() {
    use hh_runtime::middleware::{TokenMiddleware, reqwest_middleware};
    let (sandbox, client, _) = dpop_pair().await;
    let id = new_traversal(&client).await;
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TokenMiddleware::new(&client))
        .build();
    let url = format!("{}/api/v1/{CLIENT}/Traversals/{id}", sandbox.api_url());
    sandbox.rotate_dpop_nonce();
    let answer = http.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        sandbox.requests("traversals.get"),
        2,
        "refused for the nonce, then sent again"
    );
    assert_eq!(
        sandbox.token_requests(),
        1,
        "a nonce is not a reason for a new token"
    );

    // A proof the server refuses (the client's clock two minutes behind): the answer is the
    // refusal, and the token is kept, for the generated calls as for the middleware.
    sandbox.set_client_clock_behind(Duration::from_secs(120));
    let answer = http.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    let error = get(&client, &id).await.unwrap_err();
    assert!(
        error.to_string().contains("DPoP invalid_dpop_proof"),
        "{error}"
    );
    assert!(error.to_string().contains("`iat`"), "{error}");
    assert_eq!(sandbox.token_requests(), 1, "the token was not at fault");
}

/// A KMS-like signer: a P-256 key that signs as KMSs do, in DER.
struct DerKms {
    pair: aws_lc_rs::signature::EcdsaKeyPair,
}

impl Signer for DerKms {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
    fn key_id(&self) -> Option<&str> {
        Some("kms-p256")
    }
    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, BoxError>> {
        Box::pin(async move {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            Ok(self
                .pair
                .sign(&rng, message)
                .map_err(|e| e.to_string())?
                .as_ref()
                .to_vec())
        })
    }
}

#[tokio::test]
async fn a_kms_signer_returning_der_is_accepted() {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING as DER, EcdsaKeyPair};
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&DER, &aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let public = SigningKey::from_der(pkcs8.as_ref())
        .unwrap()
        .with_key_id("kms-p256");
    let sandbox = sandbox_with(&[&public]).await;
    let kms = DerKms {
        pair: EcdsaKeyPair::from_pkcs8(&DER, pkcs8.as_ref()).unwrap(),
    };
    let client = builder(&sandbox).private_key_jwt(kms).build().unwrap();
    create(&client).await.unwrap();
    assert_eq!(sandbox.token_requests(), 1);
}
