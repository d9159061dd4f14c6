//! A 401 from the API (RELIABILITY.md D): one new token and one replay, never more, and a 403
//! neither.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::sleep;

use super::{SECS, token_of};
use crate::support::{Reply, Server, get_json};

#[tokio::test(start_paused = true)]
async fn one_401_means_one_new_token_and_one_replay() {
    let server = Server::start().await;
    let client = server.client();
    token_of(&client).await.unwrap();
    // The server forgets tok-1 (revoked); the API now only accepts tok-2.
    server.inner.issued.lock().unwrap().push("tok-2".into());
    sleep(SECS(2)).await;
    let body = get_json(&client, "/api/v1/things").await.unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(server.api_requests(), 2);
    assert_eq!(server.token_requests(), 2);
    let log = server.api_log();
    assert_eq!(log[0].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(log[1].header("authorization"), Some("Bearer tok-2"));
}

#[tokio::test(start_paused = true)]
async fn a_401_forever_is_exactly_two_attempts() {
    let server = Server::start().await;
    server.on_api(|_, _| Reply::json(401, serde_json::json!({"title": "Unauthorized"})));
    let client = server.client();
    let err = get_json(&client, "/api/v1/things").await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert_eq!(server.api_requests(), 2);
    assert_eq!(server.token_requests(), 2);
    assert_eq!(
        err.problem().unwrap().title.as_deref(),
        Some("Unauthorized")
    );
}

#[tokio::test(start_paused = true)]
async fn many_calls_rejected_together_cause_one_new_token() {
    let server = Server::start().await;
    let client = server.client();
    token_of(&client).await.unwrap();
    // tok-1 is rejected, and the rejections trickle in over 3 s: many arrive after tok-2 has
    // been cached, and must not throw it away.
    server.on_api(|n, seen| {
        if seen.header("authorization") == Some("Bearer tok-1") {
            Reply::new(401, "").after(Duration::from_millis((n as u64 % 30) * 100))
        } else {
            Reply::json(200, serde_json::json!({"ok": true}))
        }
    });
    let mut tasks = JoinSet::new();
    for _ in 0..300 {
        let client = client.clone();
        tasks.spawn(async move { get_json(&client, "/api/v1/things").await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    assert_eq!(
        server.token_requests(),
        2,
        "tok-2 was never invalidated by a late 401 for tok-1"
    );
    assert_eq!(server.api_requests(), 600);
}

#[tokio::test(start_paused = true)]
async fn a_403_is_neither_refreshed_nor_replayed() {
    let server = Server::start().await;
    server.on_api(|_, _| Reply::new(403, "forbidden"));
    let err = get_json(&server.client(), "/api/v1/things")
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 403);
    assert_eq!(server.api_requests(), 1);
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn replay_on_401_can_be_switched_off() {
    let server = Server::start().await;
    server.on_api(|_, _| Reply::new(401, ""));
    let client = server.builder().replay_on_401(false).build().unwrap();
    assert!(
        get_json(&client, "/api/v1/x")
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    assert_eq!(server.api_requests(), 1);
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn no_two_token_requests_within_a_second() {
    let server = Server::start().await;
    let client = server.client();
    token_of(&client).await.unwrap();
    // Revoked at once: the replay's token request waits for the one-second floor.
    server.inner.issued.lock().unwrap().push("tok-2".into());
    get_json(&client, "/api/v1/things").await.unwrap();
    let log = server.token_log();
    assert_eq!(log.len(), 2);
    assert!(log[1].at - log[0].at >= SECS(1));
}
