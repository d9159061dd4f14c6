//! The runtime against hh-sandbox: real RS256 tokens, real revocation, injected faults. On
//! tokio's paused clock (the sandbox's tokens expire on it too), so what a test says about
//! time is exact and does not depend on the machine's speed.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hh_runtime::Client;
use hh_sandbox::{Fault, MalformedToken, Sandbox};

use crate::support::{create_traversal as create, get_traversal as get};

/// A builder set up for the sandbox's default client; tests change one setting on it.
fn builder(sandbox: &Sandbox) -> hh_runtime::ClientBuilder {
    Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(sandbox.client_id())
        .client_secret(sandbox.client_secret())
}

fn client(sandbox: &Sandbox) -> Client {
    builder(sandbox).build().unwrap()
}

#[tokio::test(start_paused = true)]
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

#[tokio::test(start_paused = true)]
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

#[tokio::test(start_paused = true)]
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

#[tokio::test(start_paused = true)]
async fn wrong_secret_is_a_permanent_invalid_client() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = builder(&sandbox)
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

#[tokio::test(start_paused = true)]
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
    let started = tokio::time::Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        get(&client, &id).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // 2 s tokens over 5 s: renewed at half-life, never more than one request a second.
    let requests = sandbox.token_requests();
    assert!((3..=6).contains(&requests), "{requests}");
}

/// README's own example: one 503 (with `Retry-After: 1`) from the identity server is waited
/// out inside the call, which then succeeds with the second token request.
#[tokio::test(start_paused = true)]
async fn a_call_waits_out_a_transient_token_failure() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox);
    sandbox.inject(
        "token",
        Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: Some("1".into()),
        },
    );
    let started = tokio::time::Instant::now();
    // A POST: nothing reached the API while there was no token, so it may wait too.
    create(&client).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sandbox.token_requests(), 2);
    assert_eq!(sandbox.requests("traversals.create"), 1);
}

/// Many calls waiting out the same failure still cause one token request at a time.
#[tokio::test(start_paused = true)]
async fn waiting_calls_share_one_token_request() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox);
    sandbox.inject(
        "token",
        Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: None,
        },
    );
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let client = client.clone();
        calls.spawn(async move { create(&client).await.map(|_| ()) });
    }
    while let Some(outcome) = calls.join_next().await {
        outcome.unwrap().unwrap();
    }
    assert_eq!(sandbox.token_requests(), 2);
}

/// An identity server that refuses connections is waited out for the call's time budget, then
/// the call fails with the token error.
#[tokio::test(start_paused = true)]
async fn an_unreachable_identity_server_fails_the_call_when_its_budget_is_spent() {
    let sandbox = Sandbox::start().await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let identity = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = builder(&sandbox)
        .identity_url(identity)
        .retry(hh_runtime::RetryPolicy::default().max_elapsed(Duration::from_millis(2500)))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let err = get(&client, "any").await.unwrap_err();
    let took = started.elapsed();
    assert!(err.is_token() && err.is_connect(), "{err}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(3500),
        "waited {took:?}"
    );
    assert_eq!(sandbox.api_requests(), 0);
}

/// A permanent error is not waited out: the call fails at once.
#[tokio::test(start_paused = true)]
async fn a_permanent_token_error_fails_the_call_at_once() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = builder(&sandbox).client_secret("wrong").build().unwrap();
    let started = tokio::time::Instant::now();
    let err = get(&client, "any").await.unwrap_err();
    assert!(err.oauth_error().is_some(), "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sandbox.token_requests(), 1);
}

/// A typo in `identity_url`: the error names the URL it tried and what to check, and is not
/// waited out (the URL will not start working).
#[tokio::test(start_paused = true)]
async fn a_wrong_identity_url_is_named_in_the_error() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = builder(&sandbox)
        .identity_url(format!("{}/typo", sandbox.identity_url()))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let err = get(&client, "any").await.unwrap_err();
    let text = err.to_string();
    let url = format!("{}/typo/connect/token", sandbox.identity_url());
    assert!(text.contains(&url), "{text}");
    assert!(text.contains("check identity_url / token_url"), "{text}");
    assert!(!text.contains("unusable"), "{text}");
    assert!(!text.contains(sandbox.client_secret()), "{text}");
    assert_eq!(err.token_endpoint(), Some(url.as_str()));
    assert!(!err.is_retryable());
    assert!(started.elapsed() < Duration::from_millis(500));
}

/// An outage is called one, with its status named once.
#[tokio::test(start_paused = true)]
async fn an_identity_outage_is_named_once() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.inject(
        "token",
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
    );
    let err = client(&sandbox).access_token().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("the identity server is unavailable (HTTP 503 Service Unavailable)"),
        "{text}"
    );
    assert_eq!(text.matches("503").count(), 1, "{text}");
    assert!(err.is_retryable());
}

/// `https://` pointed at a plain-HTTP server says so, for tokens and for API calls.
#[tokio::test(start_paused = true)]
async fn https_to_a_plain_http_server_says_so() {
    let sandbox = Sandbox::start().await.unwrap();
    let https = sandbox.identity_url().replacen("http://", "https://", 1);
    let client = builder(&sandbox).identity_url(&https).build().unwrap();
    let err = client.access_token().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the server answered plain HTTP, not TLS"),
        "{err}"
    );
    let api = builder(&sandbox)
        .api_url(sandbox.api_url().replacen("http://", "https://", 1))
        .retry(hh_runtime::RetryPolicy::none())
        .build()
        .unwrap();
    let err = get(&api, "any").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the server answered plain HTTP, not TLS"),
        "{err}"
    );
}
