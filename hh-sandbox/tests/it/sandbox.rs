//! The sandbox over real HTTP: every endpoint, the authentication failures, each fault. This
//! module holds the client the tests share; the tests are in its modules, by what they test.

#![allow(clippy::unwrap_used)]

use hh_sandbox::Sandbox;
use reqwest::StatusCode;
use serde_json::{Value, json};

mod faults;
mod identity;
mod reports;
mod serving;
mod traversals;

/// A client of one sandbox's APIs, holding a token for the sandbox's tenant.
struct Api {
    http: reqwest::Client,
    url: String,
    tenant: String,
    token: String,
}

/// The sandbox's token endpoint asked for a token with the client's form-encoded credentials.
async fn request_token(sandbox: &Sandbox, http: &reqwest::Client) -> reqwest::Response {
    http.post(format!("{}/connect/token", sandbox.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox.client_id()),
            ("client_secret", sandbox.client_secret()),
        ])
        .send()
        .await
        .unwrap()
}

/// A fresh access token for the sandbox's client, by the form-encoded credentials.
async fn token_for(sandbox: &Sandbox) -> String {
    let body: Value = request_token(sandbox, &reqwest::Client::new())
        .await
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

impl Api {
    async fn new(sandbox: &Sandbox) -> Api {
        Api {
            http: reqwest::Client::new(),
            url: sandbox.url(),
            tenant: sandbox.client_id().to_owned(),
            token: token_for(sandbox).await,
        }
    }

    fn path(&self, rest: &str) -> String {
        format!("{}/api/v1/{}{rest}", self.url, self.tenant)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        rest: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.path(rest))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, rest: &str) -> Value {
        let (status, body) = self.send(reqwest::Method::GET, rest, None).await;
        assert_eq!(status, StatusCode::OK, "GET {rest}: {body}");
        body
    }

    async fn post(&self, rest: &str, body: Value) -> Value {
        let (status, out) = self.send(reqwest::Method::POST, rest, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "POST {rest}: {out}");
        out
    }
}

fn answer(node: i64, question: i64, answer: i64, value: Option<&str>) -> Value {
    json!({"nodeId": node, "questionId": question, "answerId": answer, "value": value})
}

fn node_ids(response: &Value) -> Vec<i64> {
    response["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["nodeId"].as_i64().unwrap())
        .collect()
}

fn conclusion_ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["assetId"].as_i64().unwrap())
        .collect()
}
