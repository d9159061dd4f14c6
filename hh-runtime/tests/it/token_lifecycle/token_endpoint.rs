//! The token endpoint's answers and our requests to it (RELIABILITY.md F): malformed answers,
//! OAuth errors, redirects, and client authentication byte for byte.

use hh_runtime::OAuthErrorCode;
use tokio::time::sleep;

use super::{SECS, token_of};
use crate::support::{CLIENT_ID, CLIENT_SECRET, Reply, Server};

#[tokio::test(start_paused = true)]
async fn invalid_client_with_401_and_www_authenticate_is_parsed() {
    let server = Server::start().await;
    server.on_token(|_, _| {
        Reply::json(401, serde_json::json!({"error": "invalid_client"}))
            .header("www-authenticate", "Basic realm=\"identity\"")
    });
    let err = token_of(&server.client()).await.unwrap_err();
    assert_eq!(
        err.oauth_error().unwrap().code,
        OAuthErrorCode::InvalidClient
    );
    assert_eq!(err.status().unwrap().as_u16(), 401);
    assert!(err.headers().unwrap().contains_key("www-authenticate"));
}

#[tokio::test(start_paused = true)]
async fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let server = Server::start().await;
    let target = format!("{}/elsewhere/token", server.url);
    server.on_token(move |_, _| Reply::new(307, "").header("location", &target));
    let err = token_of(&server.client()).await.unwrap_err();
    assert!(err.is_token() && !err.is_retryable());
    assert!(err.to_string().contains("redirect"), "{err}");
    assert_eq!(err.status().unwrap().as_u16(), 307);
    assert_eq!(
        server.api_requests(),
        0,
        "the redirect target was never asked"
    );
}

#[tokio::test(start_paused = true)]
async fn malformed_token_responses_give_typed_errors_and_cache_nothing() {
    let big = format!(
        r#"{{"access_token":"{}","token_type":"Bearer","expires_in":3600}}"#,
        "a".repeat(1024 * 1024)
    );
    let cases: Vec<(&str, Reply, &str)> = vec![
        (
            "HTML 502",
            Reply::new(502, "<html><body>Bad Gateway</body></html>")
                .header("content-type", "text/html"),
            // An outage, named once, not an "unusable response".
            "the identity server is unavailable (HTTP 502 Bad Gateway)",
        ),
        ("empty 200", Reply::new(200, ""), "empty"),
        ("not JSON", Reply::new(200, "access_token=abc"), "not JSON"),
        (
            "no access_token",
            Reply::json(
                200,
                serde_json::json!({"token_type": "Bearer", "expires_in": 3600}),
            ),
            "no `access_token`",
        ),
        (
            "200 with error",
            Reply::json(200, serde_json::json!({"error": "temporarily_unavailable"})),
            "temporarily_unavailable",
        ),
        (
            "no token_type",
            Reply::json(
                200,
                serde_json::json!({"access_token": "abc", "expires_in": 3600}),
            ),
            "token_type",
        ),
        (
            "over 1 MiB",
            Reply::new(200, big).header("content-type", "application/json"),
            "larger than 1024 KiB",
        ),
        (
            "not UTF-8",
            Reply::new(200, b"{\"access_token\":\"\xff\xfe\"}".to_vec()),
            "UTF-8",
        ),
        (
            "bad expires_in",
            Reply::json(
                200,
                serde_json::json!({"access_token": "abc", "token_type": "Bearer", "expires_in": "soon"}),
            ),
            "expires_in",
        ),
    ];
    for (name, reply, expect) in cases {
        let server = Server::start().await;
        server.on_token(move |_, _| reply.clone());
        let client = server.client();
        let err = token_of(&client).await.unwrap_err();
        assert!(err.is_token(), "{name}: {err}");
        assert!(err.to_string().contains(expect), "{name}: {err}");
        // Nothing was cached: once the server behaves, the next call fetches a token.
        server.issue_tokens(3600);
        sleep(SECS(31)).await;
        assert_eq!(token_of(&client).await.unwrap(), "tok-2", "{name}");
        assert_eq!(server.token_requests(), 2, "{name}");
    }
}

#[tokio::test(start_paused = true)]
async fn client_secret_post_sends_credentials_in_the_body() {
    let server = Server::start().await;
    let client = server.builder().scope("traversal.api hra").build().unwrap();
    token_of(&client).await.unwrap();
    let seen = &server.token_log()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.target, "/connect/token");
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(
        seen.body_text(),
        format!(
            "grant_type=client_credentials&scope=traversal.api+hra&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn client_secret_basic_form_encodes_id_and_secret() {
    use base64::Engine as _;
    let server = Server::start().await;
    let client = server
        .builder()
        .client_id("id:with %+ ü")
        .client_secret("se:cr%et+ ü")
        .client_auth(hh_runtime::ClientAuth::Basic)
        .build()
        .unwrap();
    token_of(&client).await.unwrap();
    let seen = &server.token_log()[0];
    assert_eq!(seen.body_text(), "grant_type=client_credentials");
    let basic = seen
        .header("authorization")
        .unwrap()
        .strip_prefix("Basic ")
        .unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic)
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        "id%3Awith+%25%2B+%C3%BC:se%3Acr%25et%2B+%C3%BC"
    );
}
