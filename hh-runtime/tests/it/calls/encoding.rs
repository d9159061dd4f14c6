//! Path segments and query strings: how values are encoded, and which are refused before
//! anything is sent.

use hh_runtime::__private::{Request, Unit};
use hh_runtime::{ErrorKind, Method};
use serde::Serialize;

use super::answering;
use crate::support::{CLIENT_ID, Reply};

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
