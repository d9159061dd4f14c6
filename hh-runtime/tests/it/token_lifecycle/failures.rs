//! Failures of the identity server (RELIABILITY.md C): invisible while the old token is valid,
//! fast and shared once it is not, permanent errors not looped, `Retry-After`, torn answers.

use std::time::Duration;

use hh_runtime::{Client, OAuthErrorCode};
use tokio::task::JoinSet;
use tokio::time::{Instant, advance, sleep};

use super::{SECS, token_of};
use crate::support::{CLIENT_ID, CLIENT_SECRET, Reply, Server, get_json};

#[tokio::test(start_paused = true)]
async fn refresh_failure_while_the_token_is_valid_is_invisible() {
    let server = Server::start().await;
    let client = server.client();
    get_json(&client, "/api/v1/warm").await.unwrap();
    server.on_token(|_, _| Reply::new(503, "identity down"));

    // Four minutes of calls, once a second, inside the refresh window while identity is down.
    advance(SECS(3600 - 290)).await;
    let before = server.token_requests();
    for _ in 0..240 {
        get_json(&client, "/api/v1/things").await.unwrap();
        sleep(SECS(1)).await;
    }
    let attempts = server.token_requests() - before;
    // Background attempts back off (1 s doubling to 30 s, jittered): a handful, not 240.
    assert!(
        (3..=16).contains(&attempts),
        "{attempts} background attempts"
    );
    let log = server.token_log();
    for pair in log.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= SECS(1),
            "two token requests within a second"
        );
    }

    // Identity comes back: the next attempt (within the 30 s backoff cap) succeeds.
    server.issue_tokens(3600);
    for _ in 0..35 {
        get_json(&client, "/api/v1/things").await.unwrap();
        sleep(SECS(1)).await;
    }
    assert!(token_of(&client).await.unwrap().starts_with("tok-"));
    assert_ne!(
        token_of(&client).await.unwrap(),
        "tok-1",
        "a new token replaced the old one"
    );
}

#[tokio::test(start_paused = true)]
async fn expired_token_with_identity_down_fails_fast_and_shares_the_failure() {
    let server = Server::start().await;
    let client = server.client();
    token_of(&client).await.unwrap();
    server.on_token(|_, _| Reply::new(503, "identity down").header("content-type", "text/plain"));
    advance(SECS(3600)).await;

    let before = server.token_requests();
    let err = token_of(&client).await.unwrap_err();
    assert!(err.is_token() && err.is_retryable(), "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.token_requests(), before + 1);

    // Callers right after get the same failure at once, without a request of their own.
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..1_000 {
        let client = client.clone();
        tasks.spawn(async move { token_of(&client).await.unwrap_err() });
    }
    while let Some(err) = tasks.join_next().await {
        assert!(err.unwrap().is_token());
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(server.token_requests(), before + 1);
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_are_not_retried_in_a_loop() {
    let server = Server::start().await;
    server.on_token(|_, _| {
        Reply::json(
            400,
            serde_json::json!({"error": "invalid_client", "error_description": "Unknown client or secret", "error_uri": "https://id.example/errors#client"}),
        )
    });
    let client = server.client();
    for _ in 0..60 {
        let err = get_json(&client, "/api/v1/things").await.unwrap_err();
        let oauth = err.oauth_error().unwrap();
        assert_eq!(oauth.code, OAuthErrorCode::InvalidClient);
        assert_eq!(
            oauth.description.as_deref(),
            Some("Unknown client or secret")
        );
        assert_eq!(
            oauth.uri.as_deref(),
            Some("https://id.example/errors#client")
        );
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("invalid_client"), "{err}");
        sleep(SECS(1)).await;
    }
    // A permanent error holds for 15 to 30 s (jittered), so calls over a minute (t = 0..59 s)
    // cause at most four requests (0, 15, 30, 45 s at the shortest holds) and at least two.
    let requests = server.token_requests();
    assert!((2..=4).contains(&requests), "{requests}");
    assert_eq!(server.api_requests(), 0);
}

#[tokio::test(start_paused = true)]
async fn retry_after_on_the_token_endpoint_is_honoured() {
    let server = Server::start().await;
    server.on_token(|n, _| {
        if n == 1 {
            Reply::new(429, "").header("retry-after", "20")
        } else {
            Reply::token(&format!("tok-{n}"), 3600)
        }
    });
    let client = server.client();
    assert_eq!(
        token_of(&client).await.unwrap_err().retry_after(),
        Some(SECS(20))
    );
    for _ in 0..19 {
        sleep(SECS(1)).await;
        assert!(
            token_of(&client).await.is_err(),
            "no request before Retry-After"
        );
    }
    assert_eq!(server.token_requests(), 1);
    sleep(SECS(2)).await;
    assert_eq!(token_of(&client).await.unwrap(), "tok-2");
}

/// A raw loopback server whose first answer breaks off mid-body; later ones are proper tokens.
async fn torn_then_good_token_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buf).await;
                if n == 1 {
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"access_tok";
                    let _ = socket.write_all(head.as_bytes()).await;
                    // Dropped here: the body ends 190 bytes early.
                } else {
                    let body = format!(
                        r#"{{"access_token":"good-{n}","token_type":"Bearer","expires_in":3600}}"#
                    );
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                }
            });
        }
    });
    (url, count)
}

#[tokio::test(start_paused = true)]
async fn a_torn_token_response_is_retryable_and_never_poisons_the_client() {
    let (url, count) = torn_then_good_token_server().await;
    let client = Client::builder()
        .token_url(format!("{url}/connect/token"))
        .api_url(&url)
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .build()
        .unwrap();
    let err = token_of(&client).await.unwrap_err();
    assert!(err.is_token() && err.is_retryable(), "{err}");
    assert!(err.status().is_none(), "no complete HTTP answer: {err}");
    sleep(SECS(3)).await;
    assert_eq!(token_of(&client).await.unwrap(), "good-2");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}
