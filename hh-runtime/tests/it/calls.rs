//! Request building, sending, retries and decoding, through the surface generated code calls.

#![allow(clippy::unwrap_used)]

use crate::support;

use std::time::Duration;

use hh_runtime::__private::{
    HeaderName, HeaderValue, Json, Raw, Request, Text, Unit, WithResponse,
};
use hh_runtime::{ErrorKind, Method, RetryPolicy};
use serde::{Deserialize, Serialize};
use support::{CLIENT_ID, Reply, Server, get_json, post_json};
use tokio::time::{Instant, sleep};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// A server whose API answers every request with `reply` (the token endpoint works).
async fn answering(reply: Reply) -> Server {
    let server = Server::start().await;
    server.on_api(move |_, _| reply.clone());
    server
}

#[tokio::test(start_paused = true)]
async fn path_values_are_percent_encoded_as_one_segment() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    let client = server.client();
    let values = [
        ("a/b", "a%2Fb"),
        ("q?x=1", "q%3Fx%3D1"),
        ("frag#1", "frag%231"),
        ("100%", "100%25"),
        ("two words", "two%20words"),
        ("Zoë-ü", "Zo%C3%AB-%C3%BC"),
        ("..x", "..x"),
        ("a.b_c~d-e", "a.b_c~d-e"),
        ("+&;=", "%2B%26%3B%3D"),
    ];
    for (value, _) in values {
        Request::new(&client, Method::GET, "/api/v1/<client_id>/Traversals/<id>")
            .literal("/api/v1/")
            .client_id()
            .literal("/Traversals/")
            .segment("id", value)
            .send::<Unit>()
            .await
            .unwrap();
    }
    let log = server.api_log();
    for ((_, encoded), seen) in values.iter().zip(&log) {
        assert_eq!(
            seen.target,
            format!("/api/v1/{CLIENT_ID}/Traversals/{encoded}")
        );
    }
}

#[tokio::test(start_paused = true)]
async fn dot_segments_and_empty_values_are_refused_before_sending() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    let client = server.client();
    for value in ["..", ".", ""] {
        let err = Request::new(&client, Method::DELETE, "/api/v1/Members/<id>")
            .literal("/api/v1/Members/")
            .segment("id", value)
            .send::<Unit>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("path parameter `id`"), "{err}");
        assert!(
            err.to_string().starts_with("DELETE /api/v1/Members/<id>: "),
            "{err}"
        );
    }
    assert_eq!(server.api_requests(), 0);
    assert_eq!(
        server.token_requests(),
        0,
        "nothing was sent, not even a token request"
    );
}

#[tokio::test(start_paused = true)]
async fn the_client_id_is_one_encoded_segment_and_refused_when_it_cannot_be_one() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    async fn call(client: &hh_runtime::Client) -> hh_runtime::Result<()> {
        Request::new(client, Method::GET, "/api/v1/<client_id>/Members")
            .literal("/api/v1/")
            .client_id()
            .literal("/Members")
            .send::<Unit>()
            .await
    }
    let odd = server.builder().client_id("tenant a/b?").build().unwrap();
    call(&odd).await.unwrap();
    call(&odd).await.unwrap();
    let log = server.api_log();
    for seen in &log {
        assert_eq!(seen.target, "/api/v1/tenant%20a%2Fb%3F/Members");
    }

    // `..` is a valid client id for the identity server, never a path segment.
    let dots = server.builder().client_id("..").build().unwrap();
    let err = call(&dots).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("path parameter `client_id` is .."),
        "{err}"
    );
    assert_eq!(server.api_requests(), 2, "the refused call sent nothing");
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum Sex {
    Female,
}

#[derive(Serialize)]
struct Filters {
    page: u32,
    sex: Sex,
    tags: Vec<&'static str>,
    skip: Option<u32>,
}

#[tokio::test(start_paused = true)]
async fn query_pairs_repeat_sequences_and_omit_none() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    let client = server.client();
    let none: Option<Vec<u32>> = None;
    Request::new(&client, Method::GET, "/risks")
        .literal("/risks")
        .query("ages", &[80u32, 90])
        .query("conclusions", &none)
        .query("conclusions", &Some(vec![7u32]))
        .query("q", "a b&c=d/é")
        .query("flag", &true)
        .query_flatten(&Filters {
            page: 2,
            sex: Sex::Female,
            tags: vec!["x", "y"],
            skip: None,
        })
        .send::<Unit>()
        .await
        .unwrap();
    assert_eq!(
        server.api_log()[0].target,
        "/risks?ages=80&ages=90&conclusions=7&q=a+b%26c%3Dd%2F%C3%A9&flag=true&page=2&sex=female&tags=x&tags=y"
    );
}

/// Fields in declaration order, not sorted: `to` before `from`.
#[derive(serde::Serialize)]
struct Window {
    to: u32,
    from: u32,
    label: Option<&'static str>,
}

#[tokio::test(start_paused = true)]
async fn flattened_query_fields_keep_their_declared_order() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    Request::new(&server.client(), Method::GET, "/range")
        .literal("/range")
        .query("z", &1)
        .query_flatten(&Window {
            to: 9,
            from: 3,
            label: Some("last week"),
        })
        .send::<Unit>()
        .await
        .unwrap();
    assert_eq!(
        server.api_log()[0].target,
        "/range?z=1&to=9&from=3&label=last+week"
    );
}

#[tokio::test(start_paused = true)]
async fn a_long_query_list_is_sent_whole() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    let ids: Vec<u32> = (0..2_000).collect();
    Request::new(&server.client(), Method::GET, "/many")
        .literal("/many")
        .query("id", &ids)
        .send::<Unit>()
        .await
        .unwrap();
    let target = &server.api_log()[0].target;
    assert_eq!(target.matches("id=").count(), 2_000);
    assert!(target.ends_with("&id=1999"));
}

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

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Answer {
    question_id: u32,
    value: String,
}

#[tokio::test(start_paused = true)]
async fn json_and_form_bodies() {
    let server = answering(Reply::json(200, serde_json::json!({}))).await;
    let client = server.client();
    let answers = [Answer {
        question_id: 3,
        value: "yes".into(),
    }];
    Request::new(&client, Method::POST, "/respond")
        .literal("/respond")
        .json(&answers[..])
        .send::<Unit>()
        .await
        .unwrap();
    Request::new(&client, Method::PUT, "/form")
        .literal("/form")
        .form(&Answer {
            question_id: 4,
            value: "a b".into(),
        })
        .send::<Unit>()
        .await
        .unwrap();
    let log = server.api_log();
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].header("content-type"), Some("application/json"));
    assert_eq!(log[0].body_text(), r#"[{"questionId":3,"value":"yes"}]"#);
    assert_eq!(log[1].method, "PUT");
    assert_eq!(
        log[1].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(log[1].body_text(), "questionId=4&value=a+b");
}

#[tokio::test(start_paused = true)]
async fn decoding_into_each_return_shape() {
    let server = answering(
        Reply::json(201, serde_json::json!({"questionId": 1, "value": "v"}))
            .header("x-trace", "t1"),
    )
    .await;
    let client = server.client();
    let call = || Request::new(&client, Method::GET, "/d").literal("/d");
    let typed: Answer = call().send::<Json<Answer>>().await.unwrap();
    assert_eq!(
        typed,
        Answer {
            question_id: 1,
            value: "v".into()
        }
    );
    call().send::<Unit>().await.unwrap();
    let text: String = call().send::<Text>().await.unwrap();
    assert_eq!(text, r#"{"questionId":1,"value":"v"}"#);
    let raw = call().send::<Raw>().await.unwrap();
    assert_eq!(&raw[..], text.as_bytes());
    let full = call().send::<WithResponse<Json<Answer>>>().await.unwrap();
    assert_eq!(full.status().as_u16(), 201);
    assert_eq!(full.headers()["x-trace"], "t1");
    assert_eq!(full.value().question_id, 1);
    let (status, _, value) = full.into_parts();
    assert_eq!((status.as_u16(), value.value.as_str()), (201, "v"));
}

#[tokio::test(start_paused = true)]
async fn a_body_of_the_wrong_shape_keeps_bytes_and_the_json_path() {
    let body = r#"{"nodes":[{"questions":[{"id":1},{"id":"two"}]}]}"#;
    let server = answering(Reply::new(200, body)).await;

    #[derive(Deserialize, Debug)]
    struct Page {
        #[allow(dead_code)]
        nodes: Vec<Node>,
    }
    #[derive(Deserialize, Debug)]
    struct Node {
        #[allow(dead_code)]
        questions: Vec<Q>,
    }
    #[derive(Deserialize, Debug)]
    struct Q {
        #[allow(dead_code)]
        id: u32,
    }
    let err = Request::new(&server.client(), Method::GET, "/page")
        .literal("/page")
        .send::<Json<Page>>()
        .await
        .unwrap_err();
    assert!(err.is_decode(), "{err}");
    assert_eq!(err.decode_path(), Some("nodes[0].questions[1].id"));
    assert_eq!(err.body_text(), Some(body));
    assert_eq!(err.status().unwrap().as_u16(), 200);
    assert!(
        err.to_string().contains("at `nodes[0].questions[1].id`"),
        "{err}"
    );
    assert!(std::error::Error::source(&err).is_some());

    let server = answering(Reply::new(200, "{not json")).await;
    let err = get_json(&server.client(), "/x").await.unwrap_err();
    assert!(err.is_decode());
    assert_eq!(err.body(), Some(&b"{not json"[..]));
    let server = answering(Reply::new(200, vec![0xff, 0xfe])).await;
    let err = Request::new(&server.client(), Method::GET, "/x")
        .literal("/x")
        .send::<Text>()
        .await
        .unwrap_err();
    assert!(
        err.is_decode() && err.to_string().contains("UTF-8"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn errors_keep_status_headers_body_and_problem_details() {
    let problem = serde_json::json!({
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.4",
        "title": "Not Found",
        "status": 404,
        "detail": "Traversal 42 does not exist",
        "traceId": "00-abc-01"
    });
    let server = answering(
        Reply::json(404, problem.clone())
            .header("content-type", "application/problem+json")
            .header("x-request-id", "r-1"),
    )
    .await;
    let err = get_json(&server.client(), "/api/v1/Traversals/42")
        .await
        .unwrap_err();
    assert!(err.is_status() && err.is_not_found() && !err.is_retryable());
    assert_eq!(err.status().unwrap().as_u16(), 404);
    assert_eq!(err.headers().unwrap()["x-request-id"], "r-1");
    assert_eq!(err.json(), Some(&problem));
    let p = err.problem().unwrap();
    assert_eq!(p.title.as_deref(), Some("Not Found"));
    assert_eq!(p.status, Some(404));
    assert_eq!(p.extensions["traceId"], "00-abc-01");
    assert_eq!(err.call().unwrap().1, "/api/v1/Traversals/42");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 404") && text.contains("Traversal 42 does not exist"),
        "{text}"
    );

    let server = answering(Reply::new(500, "plain failure")).await;
    let err = get_json(&server.client(), "/x").await.unwrap_err();
    assert_eq!(err.body_text(), Some("plain failure"));
    assert!(err.json().is_none() && err.problem().is_none());
}

#[tokio::test(start_paused = true)]
async fn a_huge_error_body_is_cut_and_memory_stays_bounded() {
    let server = answering(Reply::new(500, vec![b'x'; 10 * 1024 * 1024])).await;
    let err = get_json(&server.client(), "/x").await.unwrap_err();
    assert_eq!(err.body().unwrap().len(), hh_runtime::Error::MAX_BODY_BYTES);
    assert!(err.is_body_truncated());
}

#[tokio::test(start_paused = true)]
async fn a_success_body_over_the_cap_is_an_error() {
    let server = answering(Reply::new(200, vec![b'1'; 4096])).await;
    let client = server.builder().max_response_bytes(1024).build().unwrap();
    let err = get_json(&client, "/x").await.unwrap_err();
    assert!(err.is_decode() && err.is_body_truncated(), "{err}");
}

#[tokio::test(start_paused = true)]
async fn idempotent_calls_are_retried_on_retryable_statuses() {
    let server = Server::start().await;
    server.on_api(|n, _| match n {
        1 => Reply::new(503, ""),
        2 => Reply::new(502, ""),
        _ => Reply::json(200, serde_json::json!({"ok": true})),
    });
    assert_eq!(get_json(&server.client(), "/x").await.unwrap()["ok"], true);
    assert_eq!(server.api_requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_after_max_attempts() {
    let server = answering(Reply::new(504, "")).await;
    let err = get_json(&server.client(), "/x").await.unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 504);
    assert!(err.is_retryable());
    assert_eq!(server.api_requests(), 3);

    let server = answering(Reply::new(504, "")).await;
    let client = server.builder().retry(RetryPolicy::none()).build().unwrap();
    get_json(&client, "/x").await.unwrap_err();
    assert_eq!(server.api_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_post_is_not_retried_once_it_may_have_reached_the_server() {
    let server = answering(Reply::new(503, "")).await;
    let err = post_json(&server.client(), "/create", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 503);
    assert_eq!(server.api_requests(), 1);

    // Nor after a timeout: the server may have acted on it.
    let server = answering(Reply::json(200, serde_json::json!({})).after(SECS(60))).await;
    let err = post_json(&server.client(), "/create", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(server.api_requests(), 1);

    let server = answering(Reply::new(503, "")).await;
    let client = server
        .builder()
        .retry(RetryPolicy::default().retry_non_idempotent(true))
        .build()
        .unwrap();
    post_json(&client, "/create", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(server.api_requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_honoured() {
    let server = Server::start().await;
    server.on_api(|n, _| match n {
        1 => Reply::new(429, "").header("retry-after", "4"),
        _ => Reply::json(200, serde_json::json!({})),
    });
    get_json(&server.client(), "/x").await.unwrap();
    let log = server.api_log();
    assert!(log[1].at - log[0].at >= SECS(4));
}

#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = Server::start().await;
    // HTTP dates have one-second resolution: the date the server sends, as it sends it.
    let date = httpdate::parse_http_date(&httpdate::fmt_http_date(
        std::time::SystemTime::now() + SECS(3),
    ))
    .unwrap();
    server.on_api(move |n, _| match n {
        1 => Reply::new(503, "").header("retry-after", &httpdate::fmt_http_date(date)),
        _ => Reply::json(200, serde_json::json!({})),
    });
    let started = Instant::now();
    get_json(&server.client(), "/x").await.unwrap();
    // The client waits until the date by the wall clock it reads when the answer arrives,
    // which is before `now`: so at least `date - now`, whatever the machine's speed. (The
    // paused clock measures the wait; it does not move the wall clock.)
    let now = std::time::SystemTime::now();
    let least = date.duration_since(now).unwrap_or_default();
    assert!(
        started.elapsed() >= least,
        "{:?} < {least:?}",
        started.elapsed()
    );
    assert_eq!(server.api_requests(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_budget_fails_at_once() {
    let server = answering(Reply::new(503, "").header("retry-after", "3600")).await;
    let started = Instant::now();
    let err = get_json(&server.client(), "/x").await.unwrap_err();
    assert_eq!(err.retry_after(), Some(SECS(3600)));
    assert_eq!(server.api_requests(), 1);
    assert!(started.elapsed() < SECS(1));
}

#[tokio::test(start_paused = true)]
async fn a_request_that_never_answers_times_out() {
    let server = answering(Reply::json(200, serde_json::json!({})).after(SECS(3600))).await;
    let client = server
        .builder()
        .request_timeout(SECS(5))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = get_json(&client, "/x").await.unwrap_err();
    assert!(err.is_timeout() && err.is_retryable(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(started.elapsed() >= SECS(5) && started.elapsed() < SECS(6));
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    // A port with nothing listening: bind, note the address, close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let server = Server::start().await;
    let client = server
        .builder()
        .api_url(&dead)
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
        .build()
        .unwrap();
    let err = post_json(&client, "/x", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(err.is_connect() && err.is_retryable(), "{err}");
    assert!(
        !format!("{err}").contains(&dead),
        "messages name the path template, not the URL: {err}"
    );
}

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
async fn an_html_page_with_200_says_so() {
    let server = answering(
        Reply::new(
            200,
            "<!DOCTYPE html><html><body>Please sign in</body></html>",
        )
        .header("content-type", "text/html; charset=utf-8"),
    )
    .await;
    let err = get_json(&server.client(), "/x").await.unwrap_err();
    assert!(err.is_decode(), "{err}");
    let text = err.to_string();
    for part in ["HTML", "200 OK", "text/html", "<!DOCTYPE html><html>"] {
        assert!(text.contains(part), "missing {part:?} in {text}");
    }
    assert!(!text.contains("line 1 column 1"), "{text}");
    assert_eq!(err.status().unwrap().as_u16(), 200);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_after_retries_says_how_many_attempts() {
    let server = answering(Reply::json(200, serde_json::json!({})).after(SECS(3600))).await;
    let client = server
        .builder()
        .request_timeout(SECS(1))
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(400)))
        .build()
        .unwrap();
    let err = get_json(&client, "/x").await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("no response within 1s (3 attempts each, "),
        "{text}"
    );
    assert_eq!(server.api_requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_access_token_needs_no_secrecy_dependency() {
    use hh_runtime::ExposeSecret as _;
    let server = Server::start().await;
    server.issue_tokens(3600);
    let token: hh_runtime::SecretString = server.client().access_token().await.unwrap();
    assert_eq!(server.issued(), [token.expose_secret().to_owned()]);
    assert!(!format!("{token:?}").contains(token.expose_secret()));
}

/// One call with the per-endpoint options the macro's `#[timeout]`, `#[retry]` and
/// `#[idempotent]` set.
async fn call_with(
    client: &hh_runtime::Client,
    method: Method,
    options: impl FnOnce(Request<'_>) -> Request<'_>,
) -> hh_runtime::Result<serde_json::Value> {
    options(Request::new(client, method, "/x").literal("/x"))
        .send::<Json<serde_json::Value>>()
        .await
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_timeout_replaces_the_client_timeout() {
    let server = answering(Reply::json(200, serde_json::json!({})).after(SECS(10))).await;
    let client = server.builder().retry(RetryPolicy::none()).build().unwrap();
    let started = Instant::now();
    let err = call_with(&client, Method::GET, |r| r.timeout(SECS(2)))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("2s"), "{err}");
    assert!(started.elapsed() < SECS(3));
    // Without it, the client's 30 s: the 10 s answer arrives.
    call_with(&client, Method::GET, |r| r).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn retry_false_sends_an_idempotent_call_once() {
    let server = answering(Reply::new(503, "")).await;
    call_with(&server.client(), Method::GET, |r| r.retry(false))
        .await
        .unwrap_err();
    assert_eq!(server.api_requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_idempotent_post_is_retried_like_a_get() {
    let server = Server::start().await;
    server.on_api(|n, _| match n {
        1 => Reply::new(503, ""),
        _ => Reply::json(200, serde_json::json!({"ok": true})),
    });
    let answer = call_with(&server.client(), Method::POST, |r| r.idempotent())
        .await
        .unwrap();
    assert_eq!(answer["ok"], true);
    assert_eq!(server.api_requests(), 2);
    // And a 401 replay is still one replay, retries or not.
    let server = Server::start().await;
    server.on_api(|n, _| match n {
        1 => Reply::new(401, ""),
        _ => Reply::json(200, serde_json::json!({})),
    });
    call_with(&server.client(), Method::GET, |r| r.retry(false))
        .await
        .unwrap();
    assert_eq!(server.api_requests(), 2);
}
