//! Headers: static, per call and client defaults, how they combine, and values refused.

use hh_runtime::__private::{HeaderName, HeaderValue, Request, Unit};
use hh_runtime::Method;

use super::answering;
use crate::support::{Reply, get_json};

#[tokio::test(start_paused = true)]
async fn headers_static_dynamic_and_default() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    let client = server
        .builder()
        .default_header("x-api-version", "v3")
        .user_agent("my-app/1.0")
        .build()
        .unwrap();
    Request::new(&client, Method::GET, "/h")
        .literal("/h")
        .static_headers({
            static FIXED: [(HeaderName, HeaderValue); 1] = [(
                HeaderName::from_static("x-static"),
                HeaderValue::from_static("fixed"),
            )];
            &FIXED
        })
        .header("x-correlation-id", &uuid_like())
        .send::<Unit>()
        .await
        .unwrap();
    let seen = &server.api_log()[0];
    assert_eq!(seen.header("x-api-version"), Some("v3"));
    assert_eq!(seen.header("user-agent"), Some("my-app/1.0"));
    assert_eq!(seen.header("x-static"), Some("fixed"));
    assert_eq!(seen.header("x-correlation-id"), Some(uuid_like().as_str()));
    assert_eq!(seen.header("accept"), Some("application/json"));
    assert_eq!(seen.header("authorization"), Some("Bearer tok-1"));
}

#[tokio::test(start_paused = true)]
async fn a_default_header_given_twice_is_sent_with_both_values() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    let client = server
        .builder()
        .default_header("x-feature", "a")
        .default_header("x-feature", "b")
        .default_header("accept", "application/problem+json")
        .build()
        .unwrap();
    get_json(&client, "/h").await.unwrap();
    let seen = &server.api_log()[0];
    let values = |name: &str| -> Vec<String> {
        seen.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(values("x-feature"), ["a", "b"]);
    // A default of ours is replaced, not joined.
    assert_eq!(values("accept"), ["application/problem+json"]);
}

#[tokio::test(start_paused = true)]
async fn a_declared_header_replaces_a_client_default_of_the_same_name() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    let client = server
        .builder()
        .default_header("x-api-version", "v2")
        .build()
        .unwrap();
    Request::new(&client, Method::GET, "/h")
        .literal("/h")
        .static_headers({
            static FIXED: [(HeaderName, HeaderValue); 1] = [(
                HeaderName::from_static("x-api-version"),
                HeaderValue::from_static("v3"),
            )];
            &FIXED
        })
        .send::<Unit>()
        .await
        .unwrap();
    let seen = &server.api_log()[0];
    let values: Vec<&str> = seen
        .headers
        .get_all("x-api-version")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(values, ["v3"]);
}

fn uuid_like() -> String {
    "5f0c1a2b-0000-4000-8000-000000000001".to_owned()
}

#[tokio::test(start_paused = true)]
async fn header_values_with_line_breaks_are_refused() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    for value in ["a\r\nX-Injected: 1", "a\nb", "a\rb"] {
        let err = Request::new(&server.client(), Method::GET, "/h")
            .literal("/h")
            .header("x-correlation-id", value)
            .send::<Unit>()
            .await
            .unwrap_err();
        assert!(err.is_invalid_input());
        assert!(
            err.to_string().contains("header `x-correlation-id`"),
            "{err}"
        );
    }
    assert_eq!(server.api_requests(), 0);
}
