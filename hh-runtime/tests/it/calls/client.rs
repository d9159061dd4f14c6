//! The client itself: another API URL sharing the token cache, a call future that is `Send`,
//! the access token without the secrecy crate, and the `Authorization` value for requests of
//! one's own.

use tokio::time::sleep;

use super::{SECS, answering};
use crate::support::{Reply, Server, get_json};

#[tokio::test(start_paused = true)]
async fn with_api_url_shares_the_token_cache() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    let client = server.client();
    let hra = client
        .with_api_url(&format!("{}/hra/", server.url))
        .unwrap();
    get_json(&client, "/api/v1/a").await.unwrap();
    get_json(&hra, "/api/v1/b").await.unwrap();
    assert_eq!(server.api_log()[1].target, "/hra/api/v1/b");
    assert_eq!(server.token_requests(), 1);
    assert!(
        client
            .with_api_url("http://example.com")
            .unwrap_err()
            .is_config()
    );
}

#[tokio::test(start_paused = true)]
async fn the_call_future_is_send_and_spawnable() {
    let server = answering(Reply::json(200, serde_json::json!({"ok": true}))).await;
    let client = server.client();
    let handle = tokio::spawn(async move { get_json(&client, "/x").await });
    assert_eq!(handle.await.unwrap().unwrap()["ok"], true);
    sleep(SECS(0)).await;
}

#[tokio::test(start_paused = true)]
async fn the_access_token_needs_no_secrecy_dependency() {
    let server = Server::start().await;
    server.issue_tokens(3600);
    let token: hh_runtime::AccessToken = server.client().access_token().await.unwrap();
    assert_eq!(server.issued(), [token.expose_secret().to_owned()]);
    assert!(!format!("{token:?}").contains(token.expose_secret()));
}

#[tokio::test(start_paused = true)]
async fn the_authorization_value_is_the_calls_and_shows_no_token() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    let client = server.client();
    let value = client.authorization().await.unwrap();
    let token = server.issued().pop().unwrap();
    assert_eq!(value.to_str().unwrap(), format!("Bearer {token}"));
    assert!(value.is_sensitive());
    assert!(!format!("{value:?}").contains(&token));
    // The value a generated call sends, from the same cache: no second token request.
    get_json(&client, "/x").await.unwrap();
    assert_eq!(
        server.api_log()[0].header("authorization"),
        value.to_str().ok()
    );
    assert_eq!(server.token_requests(), 1);
}
