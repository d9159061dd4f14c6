//! The runtime against hh-sandbox: real RS256 tokens, real revocation, injected faults.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hh_runtime::Client;
use hh_sandbox::{Fault, MalformedToken, Sandbox};

mod support;

use support::{create_traversal as create, get_traversal as get};

fn client(sandbox: &Sandbox) -> Client {
    Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(sandbox.client_id())
        .client_secret(sandbox.client_secret())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_with_real_tokens_and_survives_revocation() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox);
    let t = create(&client).await.unwrap();
    let id = t["traversalId"].as_str().unwrap().to_owned();
    assert_eq!(get(&client, &id).await.unwrap()["traversalId"], id.as_str());
    assert_eq!(sandbox.token_requests(), 1);

    // Revoked server-side: the next call sees 401, fetches one new token and is replayed.
    sandbox.revoke_all_tokens();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(&client, &id).await.unwrap()["traversalId"], id.as_str());
    assert_eq!(sandbox.token_requests(), 2);
    assert_eq!(sandbox.requests("traversals.get"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_api_failures_are_retried_for_get_and_not_for_post() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox);
    let id = create(&client).await.unwrap()["traversalId"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.inject(
        "traversals.get",
        Fault::FailTimes {
            times: 2,
            status: 503,
            retry_after: Some("0".into()),
        },
    );
    get(&client, &id).await.unwrap();
    assert_eq!(sandbox.requests("traversals.get"), 3);

    sandbox.inject(
        "traversals.create",
        Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: None,
        },
    );
    let err = create(&client).await.unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 503);
    assert_eq!(err.problem().unwrap().status, Some(503));
    assert_eq!(
        sandbox.requests("traversals.create"),
        2,
        "the POST was sent once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_token_responses_from_the_sandbox_are_typed_errors() {
    for shape in [
        MalformedToken::Html,
        MalformedToken::Empty,
        MalformedToken::MissingAccessToken,
        MalformedToken::ErrorWith200,
        MalformedToken::Oversized,
        MalformedToken::NotUtf8,
    ] {
        let sandbox = Sandbox::start().await.unwrap();
        sandbox.inject("token", Fault::MalformedToken { shape });
        let err = create(&client(&sandbox)).await.unwrap_err();
        assert!(err.is_token(), "{shape:?}: {err}");
        assert_eq!(sandbox.api_requests(), 0, "{shape:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_a_permanent_invalid_client() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(sandbox.client_id())
        .client_secret("wrong")
        .client_auth(hh_runtime::ClientAuth::Basic)
        .build()
        .unwrap();
    let err = create(&client).await.unwrap_err();
    let oauth = err.oauth_error().unwrap();
    assert_eq!(oauth.code, hh_runtime::OAuthErrorCode::InvalidClient);
    assert_eq!(
        err.status().unwrap().as_u16(),
        401,
        "Basic credentials refused: 401"
    );
    assert!(!err.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_tokens_are_renewed_without_errors() {
    let sandbox = Sandbox::builder()
        .token_lifetime(Duration::from_secs(2))
        .clock_skew(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let client = client(&sandbox);
    let id = create(&client).await.unwrap()["traversalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        get(&client, &id).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // 2 s tokens over 5 s: renewed at half-life, never more than one request a second.
    let requests = sandbox.token_requests();
    assert!((3..=6).contains(&requests), "{requests}");
}
