//! Request bodies (JSON and form) and the shapes a successful response decodes into.

use hh_runtime::__private::{Json, Raw, Request, Text, Unit, WithResponse};
use hh_runtime::Method;
use serde::{Deserialize, Serialize};

use super::answering;
use crate::support::Reply;

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
