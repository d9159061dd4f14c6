//! The identity server: issuing tokens (and their errors), checking bearer tokens, and the
//! signing key, which the crate does not ship.

use std::time::Duration;

use hh_sandbox::Sandbox;
use serde_json::{Value, json};

use super::{Api, request_token, token_for};

#[tokio::test]
async fn token_endpoint_issues_verifiable_rs256_jwts() {
    let sandbox = Sandbox::builder()
        .token_lifetime(Duration::from_secs(900))
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token = issue_by_form(&sandbox, &http).await;

    // Verify it with the key the JWKS publishes, as a resource server would.
    verify_with_the_published_key(&sandbox, &http, &token).await;

    // HTTP Basic with form-encoded parts, and a narrower scope.
    let basic = http
        .post(format!("{}/connect/token", sandbox.url()))
        .basic_auth(sandbox.client_id(), Some(sandbox.client_secret()))
        .form(&[("grant_type", "client_credentials"), ("scope", "hra.api")])
        .send()
        .await
        .unwrap();
    let body: Value = basic.json().await.unwrap();
    assert_eq!(body["scope"], "hra.api");
    assert_eq!(sandbox.token_requests(), 2);
}

/// A token by the form-encoded credentials, the response checked on the way.
async fn issue_by_form(sandbox: &Sandbox, http: &reqwest::Client) -> String {
    let response = request_token(sandbox, http).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "traversal.api hra.api");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Finds the key through discovery and the JWKS, and checks the token's signature, claims
/// and key id with it.
async fn verify_with_the_published_key(sandbox: &Sandbox, http: &reqwest::Client, token: &str) {
    let discovery: Value = http
        .get(format!(
            "{}/.well-known/openid-configuration",
            sandbox.url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], sandbox.url());
    assert_eq!(
        discovery["token_endpoint"],
        format!("{}/connect/token", sandbox.url())
    );
    let jwks: Value = http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str()),
        (Some("RSA"), Some("RS256"))
    );
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["healthhero-api"]);
    validation.set_issuer(&[sandbox.url()]);
    let claims = jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["client_id"], sandbox.client_id());
    assert_eq!(claims["scope"], json!(["traversal.api", "hra.api"]));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
    for claim in ["nbf", "jti"] {
        assert!(claims.get(claim).is_some(), "{claim}");
    }
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let sandbox = Sandbox::builder()
        .client("c:1 %", "s+e cr:t")
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/connect/token", sandbox.url());
    credentials_are_checked(&http, &url).await;
    grants_scopes_and_bodies_are_checked(&http, &url).await;
}

/// A token request with `form` and, if given, HTTP Basic credentials (each part
/// form-encoded): its status, its `error` (empty if none) and its `WWW-Authenticate`.
async fn token_call(
    http: &reqwest::Client,
    url: &str,
    form: Vec<(&'static str, &'static str)>,
    basic: Option<(&'static str, &'static str)>,
) -> (u16, String, Option<String>) {
    let mut request = http.post(url).form(&form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(
            url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>(),
            Some(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>()),
        );
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = r.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
        challenge,
    )
}

/// Good credentials in the form or by Basic; wrong or missing ones are `invalid_client`.
async fn credentials_are_checked(http: &reqwest::Client, url: &str) {
    let call = |form, basic| token_call(http, url, form, basic);
    let good = vec![
        ("grant_type", "client_credentials"),
        ("client_id", "c:1 %"),
        ("client_secret", "s+e cr:t"),
    ];
    assert_eq!(call(good.clone(), None).await.1, "");
    assert_eq!(
        call(
            vec![("grant_type", "client_credentials")],
            Some(("c:1 %", "s+e cr:t"))
        )
        .await
        .1,
        ""
    );
    let wrong = vec![
        ("grant_type", "client_credentials"),
        ("client_id", "c:1 %"),
        ("client_secret", "nope"),
    ];
    assert_eq!(
        call(wrong, None).await,
        (400, "invalid_client".into(), None)
    );
    let (status, error, challenge) = call(
        vec![("grant_type", "client_credentials")],
        Some(("c:1 %", "nope")),
    )
    .await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));
    assert!(challenge.unwrap().starts_with("Basic"));
    assert_eq!(
        call(vec![("grant_type", "client_credentials")], None)
            .await
            .1,
        "invalid_client"
    );
}

/// Another grant, no grant, a scope the client lacks, credentials twice, a JSON body.
async fn grants_scopes_and_bodies_are_checked(http: &reqwest::Client, url: &str) {
    let call = |form, basic| token_call(http, url, form, basic);
    let password = vec![
        ("grant_type", "password"),
        ("client_id", "c:1 %"),
        ("client_secret", "s+e cr:t"),
    ];
    assert_eq!(
        call(password, None).await,
        (400, "unsupported_grant_type".into(), None)
    );
    let no_grant = vec![("client_id", "c:1 %"), ("client_secret", "s+e cr:t")];
    assert_eq!(call(no_grant, None).await.1, "invalid_request");
    let scope = vec![
        ("grant_type", "client_credentials"),
        ("client_id", "c:1 %"),
        ("client_secret", "s+e cr:t"),
        ("scope", "admin"),
    ];
    assert_eq!(call(scope, None).await, (400, "invalid_scope".into(), None));
    let both = vec![
        ("grant_type", "client_credentials"),
        ("client_secret", "s+e cr:t"),
    ];
    assert_eq!(
        call(both, Some(("c:1 %", "s+e cr:t"))).await.1,
        "invalid_request"
    );
    let json_body = http
        .post(url)
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 400);
}

/// The `WWW-Authenticate` of a refused request.
fn challenge(r: &reqwest::Response) -> String {
    r.headers()
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

// On the paused clock, which the sandbox's follows: the short token's expiry costs no real time.
#[tokio::test(start_paused = true)]
async fn bearer_tokens_are_checked() {
    let sandbox = Sandbox::builder()
        .extra_client("other-tenant", "other-secret")
        .clock_skew(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let api = Api::new(&sandbox).await;
    let http = reqwest::Client::new();
    let url = api.path("/Members/nobody");
    no_or_bad_tokens_are_refused(&api, &http, &url).await;

    // A valid token of another tenant does not open this tenant's paths.
    another_tenants_token_is_refused(&sandbox, &http, &url).await;

    // The right token works (404: the member does not exist), until it is revoked.
    revoked_tokens_are_refused(&sandbox, &api, &http, &url).await;

    // Short lifetimes expire.
    sandbox.set_token_lifetime(Duration::from_secs(1));
    let short = token_for(&sandbox).await;
    assert_eq!(
        http.get(&url)
            .bearer_auth(&short)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = http.get(&url).bearer_auth(&short).send().await.unwrap();
    assert!(challenge(&expired).contains("expired"));
}

/// No token, one that is not a JWT, and one with a tampered signature.
async fn no_or_bad_tokens_are_refused(api: &Api, http: &reqwest::Client, url: &str) {
    let none = http.get(url).send().await.unwrap();
    assert_eq!(
        (none.status().as_u16(), challenge(&none).as_str()),
        (401, "Bearer")
    );
    let garbage = http.get(url).bearer_auth("not.a.jwt").send().await.unwrap();
    assert!(challenge(&garbage).contains("invalid_token"));
    let mut tampered = api.token.clone();
    tampered.pop();
    tampered.push(if api.token.ends_with('A') { 'B' } else { 'A' });
    let bad_sig = http.get(url).bearer_auth(&tampered).send().await.unwrap();
    assert_eq!(bad_sig.status(), 401);
}

async fn another_tenants_token_is_refused(sandbox: &Sandbox, http: &reqwest::Client, url: &str) {
    let other: Value = http
        .post(format!("{}/connect/token", sandbox.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "other-tenant"),
            ("client_secret", "other-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cross = http
        .get(url)
        .bearer_auth(other["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 401);
    assert!(challenge(&cross).contains("not issued to this tenant"));
}

async fn revoked_tokens_are_refused(
    sandbox: &Sandbox,
    api: &Api,
    http: &reqwest::Client,
    url: &str,
) {
    assert_eq!(
        http.get(url)
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    sandbox.revoke_all_tokens();
    let revoked = http.get(url).bearer_auth(&api.token).send().await.unwrap();
    assert!(challenge(&revoked).contains("revoked"));
    let fresh = token_for(sandbox).await;
    assert_eq!(
        http.get(url)
            .bearer_auth(&fresh)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// The sandbox's clock follows tokio's: on the paused clock an hour's token is good until the
/// test's clock passes its expiry, and rejected as expired after, with no real time passing.
#[tokio::test(start_paused = true)]
async fn tokens_expire_on_the_paused_clock() {
    let sandbox = Sandbox::builder()
        .clock_skew(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let api = Api::new(&sandbox).await;
    let url = api.path("/Members/nobody");
    let http = reqwest::Client::new();
    let status = |r: &reqwest::Response| r.status().as_u16();
    let real = std::time::Instant::now();

    tokio::time::advance(Duration::from_secs(3598)).await;
    let before = http.get(&url).bearer_auth(&api.token).send().await.unwrap();
    assert_eq!(status(&before), 404, "still valid 2 s before it expires");
    tokio::time::advance(Duration::from_secs(4)).await;
    let after = http.get(&url).bearer_auth(&api.token).send().await.unwrap();
    assert_eq!(status(&after), 401);
    let challenge = after.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("expired"), "{challenge}");
    assert!(real.elapsed() < Duration::from_secs(3598), "no hour passed");
}

/// No private key ships in the crate (secret scanners flag one, and a shipped key signs tokens
/// anyone could forge): the signing key is made when the process starts its first sandbox,
/// and it verifies the tokens the sandbox issues (checked above, through the JWKS).
#[test]
fn no_private_key_ships_in_the_crate() {
    let begin = format!("-----BEGIN {}", "PRIVATE KEY");
    let rsa = format!("-----BEGIN {}", "RSA PRIVATE KEY");
    let mut dirs = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))];
    let mut files = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                files += 1;
                assert!(
                    !text.contains(&begin) && !text.contains(&rsa),
                    "{} holds a private key",
                    path.display()
                );
            }
        }
    }
    assert!(files > 10, "{files} files read");
}
