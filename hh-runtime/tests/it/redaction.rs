//! No secret reaches `Debug`, `Display` or TRACE-level tracing output, whatever happens.

#![allow(clippy::unwrap_used)]

use crate::support;

use std::time::Duration;

use hh_runtime::__private::{Json, Request, Text};
use hh_runtime::{Client, ClientAuth, Method};
use support::{CLIENT_SECRET, Capture, Reply, Server, get_json, post_json};
use tracing_subscriber::fmt::format::FmtSpan;

#[tokio::test(start_paused = true)]
async fn secrets_never_reach_debug_display_or_trace_output() {
    // Alone, so that every callsite is enabled for this test's subscriber.
    if !hh_sandbox::in_own_process() {
        return;
    }
    let (capture, _guard) = capture_trace();
    let mut printed: Vec<String> = Vec::new();

    let server = Server::start().await;
    // Distinctive tokens, so a leak of any of them is unmistakable.
    server.on_token(|n, _| Reply::token(&format!("eyJhbGciOi.token-{n}-payload.sig"), 3600));
    let client = server.builder().scope("api").build().unwrap();
    let builder = server.builder();
    printed.push(format!("{client:?} {client:#?} {builder:?} {builder:#?}"));

    a_call_and_a_replay(&server, &client).await;
    errors_echoing_the_authorization_header(&server, &client, &mut printed).await;
    token_errors_echoing_the_secret(&mut printed).await;
    token_answers_the_client_rejects(&mut printed).await;
    a_token_as_a_value(&client, &mut printed).await;

    let output = capture.text();
    std::fs::write(std::env::temp_dir().join("hh-trace.txt"), &output).ok();
    assert_the_capture_saw_the_runtime(&output);
    assert_no_secret_in(&server, &output, &printed);
}

/// Everything this thread's tracing writes, at TRACE with every span event, until the guard
/// is dropped.
fn capture_trace() -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (capture, tracing::subscriber::set_default(subscriber))
}

/// A normal call, then a 401 and its replay with a fresh token.
async fn a_call_and_a_replay(server: &Server, client: &Client) {
    get_json(client, "/api/v1/ok").await.unwrap();
    server
        .inner
        .issued
        .lock()
        .unwrap()
        .push("eyJhbGciOi.token-2-payload.sig".into());
    tokio::time::sleep(Duration::from_secs(2)).await;
    get_json(client, "/api/v1/after-revoke").await.unwrap();
}

/// An API whose error pages and bodies echo the request's Authorization header.
async fn errors_echoing_the_authorization_header(
    server: &Server,
    client: &Client,
    printed: &mut Vec<String>,
) {
    server.on_api(|n, seen| {
        let auth = seen.header("authorization").unwrap_or_default().to_owned();
        match n % 3 {
            0 => Reply::json(400, serde_json::json!({"title": "Bad", "detail": auth})),
            1 => Reply::new(200, format!("not json, but {auth}")),
            _ => Reply::new(500, format!("<pre>Authorization: {auth}</pre>")),
        }
    });
    for path in ["/a", "/b", "/c"] {
        let err = post_json(client, "/api/v1/echo", &serde_json::json!({"p": path}))
            .await
            .unwrap_err();
        let body = err.body_text().unwrap_or_default().to_owned();
        assert!(body.contains("[redacted]"), "{body}");
        printed.push(format!("{err} {err:?} {err:#?} {body} {:?}", err.json()));
    }
    let text = Request::new(client, Method::GET, "/t")
        .literal("/t")
        .send::<Text>()
        .await;
    // (A successful body is the caller's own data and is returned as sent.)
    assert!(text.is_ok());
}

/// Token endpoint errors that echo the client secret back, by both ways of sending it.
async fn token_errors_echoing_the_secret(printed: &mut Vec<String>) {
    let failing = Server::start().await;
    failing.on_token(|_, seen| {
        Reply::json(
            400,
            serde_json::json!({"error": "invalid_client", "error_description": format!("bad request: {}", seen.body_text())}),
        )
    });
    for auth in [ClientAuth::Post, ClientAuth::Basic] {
        let client = failing.builder().client_auth(auth).build().unwrap();
        let err = get_json(&client, "/x").await.unwrap_err();
        printed.push(format!("{err} {err:?} {:?}", err.oauth_error()));
        let token = client.access_token().await.unwrap_err();
        printed.push(format!("{token:?}"));
    }
}

/// Token answers the client cannot use: garbage containing the secret, and shapes it rejects.
async fn token_answers_the_client_rejects(printed: &mut Vec<String>) {
    // A token endpoint that hangs, and one that answers garbage containing the secret.
    let odd = Server::start().await;
    odd.on_token(|_, _| Reply::new(200, format!("<html>{CLIENT_SECRET}</html>")));
    let err = odd.client().access_token().await.unwrap_err();
    printed.push(format!("{err} {err:?}"));

    // Token answers the client rejects, each carrying a live-looking token: the error keeps
    // what it can of the answer, never the token.
    let rejected = [
        r#"{"access_token":"eyJrejected.mac-type.sig","token_type":"mac","expires_in":3600}"#,
        r#"{"access_token":"eyJrejected.soon-lifetime.sig","token_type":"Bearer","expires_in":"soon"}"#,
        r#"{"token_type":"Bearer","access_token":"eyJrejected.truncated.sig"#,
        r#"{"access_token":"eyJrejected.crlf.sig
X-Evil: 1","token_type":"Bearer"}"#,
        "access_token=eyJrejected.form-encoded.sig&token_type=bearer",
        r#"{"error":"temporarily_unavailable","access_token":"eyJrejected.with-error.sig"}"#,
    ];
    let shapes = Server::start().await;
    shapes.on_token(move |n, _| {
        let body = rejected[(n - 1) % rejected.len()];
        Reply::new(if n == 6 { 503 } else { 200 }, body).header("content-type", "application/json")
    });
    for _ in 0..rejected.len() {
        // A client each, so that no failure is shared and every shape is requested.
        let err = shapes.client().access_token().await.unwrap_err();
        assert!(err.body().is_some_and(|b| !b.is_empty()), "{err:?}");
        printed.push(format!("{err} {err:?} {err:#?} {:?}", err.body_text()));
    }
    assert_eq!(shapes.token_requests(), rejected.len());
}

/// A token as a value: Debug of `AccessToken`; and a decoded body's Debug.
async fn a_token_as_a_value(client: &Client, printed: &mut Vec<String>) {
    let token = client.access_token().await.unwrap();
    printed.push(format!("{token:?}"));
    let decoded = Request::new(client, Method::GET, "/j")
        .literal("/j")
        .send::<Json<serde_json::Value>>()
        .await;
    printed.push(format!("{decoded:?}"));
}

/// The capture really saw the runtime's spans and fields.
fn assert_the_capture_saw_the_runtime(output: &str) {
    for expected in [
        "hh.call",
        "hh.attempt",
        "hh.token.fetch",
        "hh.token.request",
        "http.response.status_code=",
        "http.request.resend_count=",
        "url.template=",
        "error.type=",
    ] {
        assert!(output.contains(expected), "trace output lacks {expected:?}");
    }
}

/// No secret (the client secret, a rejected answer's token, a token `server` issued) in the
/// trace `output` or in anything `printed`.
fn assert_no_secret_in(server: &Server, output: &str, printed: &[String]) {
    let mut secrets = vec![CLIENT_SECRET.to_owned()];
    secrets.extend(
        [
            "mac-type",
            "soon-lifetime",
            "rejected.truncated",
            "crlf.sig",
            "form-encoded",
            "with-error",
        ]
        .map(str::to_owned),
    );
    secrets.extend(server.issued().into_iter().filter(|t| t.starts_with("eyJ")));
    assert!(secrets.len() >= 3, "{secrets:?}");
    let everything = format!("{output}\n{}", printed.join("\n"));
    for secret in &secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "`{secret}` leaked:\n{}",
            everything
                .lines()
                .filter(|l| l.contains(secret.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// With private_key_jwt and DPoP: no private key, no client assertion, no DPoP proof and no
/// token reaches `Debug`, `Display` or TRACE output, even from servers that echo the whole
/// token request and the API's headers in their errors.
#[cfg(all(feature = "private-key-jwt", feature = "dpop"))]
#[tokio::test(start_paused = true)]
async fn keys_assertions_and_proofs_never_reach_debug_display_or_trace_output() {
    use aws_lc_rs::encoding::AsBigEndian as _;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING as P256, EcdsaKeyPair};
    use hh_runtime::auth::{Algorithm, SigningKey};

    if !hh_sandbox::in_own_process() {
        return;
    }
    let (capture, _guard) = capture_trace();

    // The assertion key as a private JWK, so its private scalar `d` is a string to look for.
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&P256, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&P256, pkcs8.as_ref()).unwrap();
    let public = SigningKey::from_der(pkcs8.as_ref()).unwrap();
    let mut jwk: serde_json::Value = serde_json::from_str(&public.public_jwk()).unwrap();
    let d = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        pair.private_key().as_be_bytes().unwrap().as_ref(),
    );
    jwk["d"] = d.clone().into();
    let key = SigningKey::from_jwk(&jwk.to_string()).unwrap();

    let server = Server::start().await;
    // The token endpoint refuses the first request echoing it whole (the assertion, the DPoP
    // proof), then issues DPoP tokens; the API echoes its request's headers in a 400.
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = std::sync::Arc::clone(&requests);
    server.on_token(move |n, request| {
        let _ = n;
        let echo = format!("{} {:?}", request.body_text(), request.headers);
        let mut seen = seen.lock().unwrap();
        seen.push(echo.clone());
        if seen.len() == 1 {
            // In the body and in headers, the proof among them.
            let proof = request.header("dpop").unwrap_or_default().to_owned();
            return Reply::json(400, serde_json::json!({"error": "invalid_client", "error_description": echo}))
                .header("x-echo", request.body_text())
                .header("x-echo-proof", &proof);
        }
        Reply::json(
            200,
            serde_json::json!({"access_token": format!("eyJhbGciOi.dpop-token-{n}.sig"), "token_type": "DPoP", "expires_in": 3600}),
        )
    });
    let api_seen = std::sync::Arc::clone(&requests);
    server.on_api(move |n, request| {
        let echo = format!("{:?}", request.headers);
        api_seen.lock().unwrap().push(echo.clone());
        if n % 2 == 1 {
            return Reply::json(400, serde_json::json!({"title": "Bad", "detail": echo}));
        }
        // The token and the proof echoed in headers, the challenge's description among them.
        let header = |name: &str| request.header(name).unwrap_or_default().to_owned();
        let (authorization, proof) = (header("authorization"), header("dpop"));
        Reply::new(401, "")
            .header("x-echo", &format!("{authorization} {proof}"))
            .header(
                "www-authenticate",
                &format!(r#"DPoP error="invalid_dpop_proof", error_description="{proof} {authorization}""#),
            )
    });
    let builder = Client::builder()
        .identity_url(&server.url)
        .api_url(&server.url)
        .client_id("keyed")
        .private_key_jwt(key)
        .dpop(SigningKey::generate(Algorithm::ES256).unwrap());
    let mut printed = vec![format!("{builder:?} {builder:#?}")];
    let client = builder.build().unwrap();
    printed.push(format!("{client:?}"));
    let refused = client.access_token().await.unwrap_err();
    printed.push(format!(
        "{refused} {refused:?} {:?} {:?}",
        refused.body_text(),
        refused.headers()
    ));
    tokio::time::sleep(Duration::from_secs(40)).await;
    for _ in 0..2 {
        let failed = get_json(&client, "/api/v1/echo").await.unwrap_err();
        printed.push(format!(
            "{failed} {failed:?} {:?} {:?}",
            failed.body_text(),
            failed.headers()
        ));
    }

    let output = capture.text();
    let printed = printed.join("\n");
    let mut secrets = vec![d];
    for request in requests.lock().unwrap().iter() {
        // Each assertion and proof sent: the JWTs in the form body and the `dpop` header.
        for part in request.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c))) {
            if part.starts_with("eyJ") && part.matches('.').count() == 2 && part.len() > 60 {
                secrets.push(part.to_owned());
            }
        }
    }
    assert!(
        secrets.len() >= 3,
        "the key, an assertion and a proof at least: {secrets:?}"
    );
    for secret in &secrets {
        assert!(!output.contains(secret.as_str()), "in the trace: {secret}");
        assert!(
            !printed.contains(secret.as_str()),
            "printed: {secret}\n{printed}"
        );
    }
}
