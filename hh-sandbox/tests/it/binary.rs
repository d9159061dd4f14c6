//! `hh-sandbox` the program: prints its URLs and credentials, serves them, stops on a signal.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_working_credentials_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hh-sandbox"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut vars = std::collections::HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some((k, v)) = line.trim().split_once('=') {
            vars.insert(k.to_owned(), v.to_owned());
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let result = async {
        for key in [
            "HH_IDENTITY_URL",
            "HH_API_URL",
            "HH_HRA_URL",
            "HH_CLIENT_ID",
            "HH_CLIENT_SECRET",
        ] {
            assert!(
                vars.contains_key(key),
                "{key} missing from the banner: {vars:?}"
            );
        }
        let token: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/connect/token", vars["HH_IDENTITY_URL"]))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", vars["HH_CLIENT_ID"].as_str()),
                ("client_secret", vars["HH_CLIENT_SECRET"].as_str()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let access = token["access_token"].as_str().unwrap();
        let created = reqwest::Client::new()
            .post(format!(
                "{}/api/v1/{}/Traversals",
                vars["HH_API_URL"], vars["HH_CLIENT_ID"]
            ))
            .bearer_auth(access)
            .json(&serde_json::json!({"shortCode": "SYMPTOMS"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 200);
    }
    .await;
    // Stop it the way Ctrl-C does.
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().unwrap();
    assert!(status.success(), "exited with {status}");
    result
}
