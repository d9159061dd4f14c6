//! What a failed call's error keeps and says: status, headers, body (cut when huge), problem
//! details, and where a body of the wrong shape went wrong.

use hh_runtime::__private::{Json, Request, Text};
use hh_runtime::Method;
use serde::Deserialize;

use super::answering;
use crate::support::{Reply, get_json};

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
