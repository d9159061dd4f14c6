//! The sandbox over real HTTP: every endpoint, the authentication failures, each fault.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use hh_sandbox::{Fault, MalformedToken, Sandbox};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    url: String,
    tenant: String,
    token: String,
}

async fn token_for(sandbox: &Sandbox) -> String {
    let body: Value = reqwest::Client::new()
        .post(format!("{}/connect/token", sandbox.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox.client_id()),
            ("client_secret", sandbox.client_secret()),
        ])
        .send()
        .await
        .unwrap()
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

#[tokio::test]
async fn token_endpoint_issues_verifiable_rs256_jwts() {
    let sandbox = Sandbox::builder()
        .token_lifetime(Duration::from_secs(900))
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/connect/token", sandbox.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox.client_id()),
            ("client_secret", sandbox.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "traversal.api hra.api");
    let token = body["access_token"].as_str().unwrap();

    // Verify it with the key the JWKS publishes, as a resource server would.
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

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let sandbox = Sandbox::builder()
        .client("c:1 %", "s+e cr:t")
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/connect/token", sandbox.url());
    let call = |form: Vec<(&'static str, &'static str)>,
                basic: Option<(&'static str, &'static str)>| {
        let mut request = http.post(&url).form(&form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(
                url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>(),
                Some(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>()),
            );
        }
        async move {
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
    };
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
        .post(&url)
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 400);
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
    let challenge = |r: &reqwest::Response| {
        r.headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };

    let none = http.get(&url).send().await.unwrap();
    assert_eq!(
        (none.status().as_u16(), challenge(&none).as_str()),
        (401, "Bearer")
    );
    let garbage = http
        .get(&url)
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert!(challenge(&garbage).contains("invalid_token"));
    let mut tampered = api.token.clone();
    tampered.pop();
    tampered.push(if api.token.ends_with('A') { 'B' } else { 'A' });
    let bad_sig = http.get(&url).bearer_auth(&tampered).send().await.unwrap();
    assert_eq!(bad_sig.status(), 401);

    // A valid token of another tenant does not open this tenant's paths.
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
        .get(&url)
        .bearer_auth(other["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 401);
    assert!(challenge(&cross).contains("not issued to this tenant"));

    // The right token works (404: the member does not exist), until it is revoked.
    assert_eq!(
        http.get(&url)
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    sandbox.revoke_all_tokens();
    let revoked = http.get(&url).bearer_auth(&api.token).send().await.unwrap();
    assert!(challenge(&revoked).contains("revoked"));
    let fresh = token_for(&sandbox).await;
    assert_eq!(
        http.get(&url)
            .bearer_auth(&fresh)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

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

#[tokio::test]
async fn a_symptom_assessment_from_start_to_report() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    let t = api
        .post(
            "/Traversals",
            json!({"shortCode": "SYMPTOMS", "language": "EN"}),
        )
        .await;
    assert_eq!(node_ids(&t), [1]);
    assert_eq!(
        (t["assessmentType"].as_i64(), t["algoName"].as_str()),
        (Some(1), Some("Age & Gender"))
    );
    assert_eq!(
        (t["previousDisabled"].as_bool(), t["language"].as_str()),
        (Some(true), Some("EN"))
    );
    let id = t["traversalId"].as_str().unwrap().to_owned();
    let at = |s: &str| format!("/Traversals/{id}{s}");

    let page = api
        .post(&at("/respond"), json!([answer(1, 13045, 7527, None)]))
        .await;
    // A grouped page: two nodes at once.
    assert_eq!(node_ids(&page), [533, 534]);
    let number = &page["nodes"][0]["questions"][0]["answers"][0];
    assert_eq!(
        (
            number["controlType"].as_str(),
            number["min"].as_f64(),
            number["max"].as_f64()
        ),
        (Some("Number"), Some(0.0), Some(120.0))
    );

    // Out of range: the same page comes back with the errors, in a 200.
    let invalid = api
        .post(
            &at("/respond"),
            json!([
                answer(533, 19063, 16309, Some("130")),
                answer(534, 19064, 16310, None)
            ]),
        )
        .await;
    assert_eq!(node_ids(&invalid), [533, 534]);
    assert!(
        invalid["errors"][0]
            .as_str()
            .unwrap()
            .contains("between 0 and 120")
    );
    assert!(
        invalid["nodes"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("between 0 and 120")
    );
    let missing = api
        .post(
            &at("/respond"),
            json!([answer(533, 19063, 16309, Some("38"))]),
        )
        .await;
    assert!(
        missing["nodes"][1]["errors"][0]
            .as_str()
            .unwrap()
            .contains("What is your sex?")
    );

    let page = api
        .post(
            &at("/respond"),
            json!([
                answer(533, 19063, 16309, Some("38")),
                answer(534, 19064, 16310, None)
            ]),
        )
        .await;
    assert_eq!(node_ids(&page), [2]);
    assert_eq!(page["previousDisabled"], false);

    // Back one page: the answers are still shown, and can be changed.
    let back = api.post(&at("/previous"), json!(null)).await;
    assert_eq!(node_ids(&back), [533, 534]);
    assert_eq!(
        back["nodes"][0]["questions"][0]["answers"][0]["controlValue"],
        "38"
    );
    assert_eq!(
        back["nodes"][1]["questions"][0]["answers"][0]["controlChecked"],
        true
    );
    api.post(
        &at("/respond"),
        json!([
            answer(533, 19063, 16309, Some("38")),
            answer(534, 19064, 16310, None)
        ]),
    )
    .await;

    let page = api
        .post(&at("/respond"), json!([answer(2, 20000, 20001, None)]))
        .await;
    assert_eq!(
        (node_ids(&page), page["algoName"].as_str()),
        (vec![10], Some("Chest pain"))
    );
    // "None of these" together with a symptom is refused.
    let both = api
        .post(
            &at("/respond"),
            json!([
                answer(10, 21000, 21001, None),
                answer(10, 21000, 21005, None)
            ]),
        )
        .await;
    assert!(!both["errors"].as_array().unwrap().is_empty());
    let table = api
        .post(&at("/respond"), json!([answer(10, 21000, 21005, None)]))
        .await;
    assert_eq!(node_ids(&table), [11]);
    assert_eq!(table["nodes"][0]["isTable"], true);
    let kinds: Vec<&str> = table["nodes"][0]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["answers"][0]["controlType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Range", "Date", "Radio"]);
    let future = api
        .post(
            &at("/respond"),
            json!([
                answer(11, 21100, 21101, Some("4")),
                answer(11, 21200, 21201, Some("2999-01-01")),
                answer(11, 21300, 21301, None)
            ]),
        )
        .await;
    assert!(
        future["errors"][0]
            .as_str()
            .unwrap()
            .contains("not in the future")
    );
    let done = api
        .post(
            &at("/respond"),
            json!([
                answer(11, 21100, 21101, Some("4")),
                answer(11, 21200, 21201, Some("2026-01-02")),
                answer(11, 21300, 21301, None)
            ]),
        )
        .await;
    assert_eq!(done["nodes"], json!([]));
    assert_eq!(done["nextDisabled"], true);

    assert_eq!(
        conclusion_ids(&api.get(&at("/conclusions")).await),
        [60001, 50019]
    );
    let report = api.get(&at("/conclusion-report")).await;
    assert_eq!(report["highestPriority"], 50019);
    assert_eq!(report["reasonConclusions"][0]["assetId"], 50019);
    assert_eq!(report["informationConclusions"][0]["assetId"], 60001);
    assert_eq!(report["messageTitle"], "Speak to a GP today");
    assert!(!report["dangerBullets"].as_array().unwrap().is_empty());

    let questions = api.get(&at("/questions")).await;
    let asked: Vec<i64> = questions
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["assetId"].as_i64().unwrap())
        .collect();
    assert_eq!(
        asked,
        [13045, 19063, 19064, 20000, 21000, 21100, 21200, 21300]
    );
    assert_eq!(questions[1]["answers"][0]["value"], "38");
    let summary = api.get(&at("/summary")).await;
    assert_eq!(summary["completed"], true);
    let lines = api.get(&at("/history-lines")).await;
    assert_eq!(lines[1], "How old are you? 38 years");
    let track = api.get(&at("/track-file")).await;
    assert!(track.as_str().unwrap().contains("19063,16309,38"));
    let algos = api
        .http
        .get(format!("{}/Algos", api.url))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let algos: Value = algos.json().await.unwrap();
    assert_eq!(algos[1]["algoName"], "Chest pain");
    assert!(
        algos[1]["keywords"]
            .as_array()
            .unwrap()
            .contains(&json!("chest pain"))
    );
    assert_eq!(
        api.get(&format!("/Traversals/{id}")).await["nodes"],
        json!([])
    );

    // Revisit the symptom question and take the headache branch instead: another conclusion.
    let revisit = api
        .post(&at("/revisit"), json!({"nodeId": 2, "algoId": 100}))
        .await;
    assert_eq!(node_ids(&revisit), [2]);
    let headache = api
        .post(&at("/respond"), json!([answer(2, 20000, 20002, None)]))
        .await;
    let kinds: Vec<&str> = headache["nodes"][0]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["answers"][0]["controlType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Text", "Hidden"]);
    assert_eq!(
        headache["nodes"][0]["questions"][1]["answers"][0]["controlValue"],
        "ot-headache-v1"
    );
    let empty_text = api
        .post(&at("/respond"), json!([answer(20, 22000, 22001, Some(""))]))
        .await;
    assert!(
        empty_text["errors"][0]
            .as_str()
            .unwrap()
            .contains("Please enter some text")
    );
    api.post(
        &at("/respond"),
        json!([answer(20, 22000, 22001, Some("throbbing, behind the eyes"))]),
    )
    .await;
    api.post(&at("/respond"), json!([answer(21, 22100, 22104, None)]))
        .await;
    // Aged 38 with no red flags: a pharmacist; the silent audit conclusion is listed, not reported.
    assert_eq!(
        conclusion_ids(&api.get(&at("/conclusions")).await),
        [50030, 70001]
    );
    let report = api.get(&at("/conclusion-report")).await;
    assert_eq!(report["highestPriority"], 50030);
    assert_eq!(report["symptomConclusions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn red_flags_branch_to_a_and_e() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    // PreAnswer skips the first question; PrePopulate pre-selects the sex.
    let t = api
        .post("/Traversals", json!({"shortCode": "symptoms", "injectedHistory": [
            {"assetId": 13045, "answerId": 7527, "injectedHistoryType": "PreAnswer", "isAnswered": true},
            {"assetId": 13045, "answerId": 7528, "injectedHistoryType": "PreAnswer", "isAnswered": false},
            {"assetId": 19064, "answerId": 16311, "injectedHistoryType": "prepopulate", "isAnswered": true}
        ]}))
        .await;
    assert_eq!(node_ids(&t), [533, 534]);
    assert_eq!(
        t["previousDisabled"], true,
        "nothing shown before this page"
    );
    assert_eq!(
        t["nodes"][1]["questions"][0]["answers"][1]["controlChecked"],
        true
    );
    let id = t["traversalId"].as_str().unwrap().to_owned();
    api.post(
        &format!("/Traversals/{id}/respond"),
        json!([
            answer(533, 19063, 16309, Some("61")),
            answer(534, 19064, 16311, None)
        ]),
    )
    .await;
    api.post(
        &format!("/Traversals/{id}/respond"),
        json!([answer(2, 20000, 20001, None)]),
    )
    .await;
    let done = api
        .post(
            &format!("/Traversals/{id}/respond"),
            json!([
                answer(10, 21000, 21001, None),
                answer(10, 21000, 21003, None)
            ]),
        )
        .await;
    assert_eq!(done["nodes"], json!([]));
    assert_eq!(
        conclusion_ids(&api.get(&format!("/Traversals/{id}/conclusions")).await),
        [50014, 60001]
    );
    let report = api
        .get(&format!("/Traversals/{id}/conclusion-report"))
        .await;
    assert_eq!(
        (
            report["highestPriority"].as_i64(),
            report["reasonCategory"].as_str()
        ),
        (Some(50014), Some("A&E"))
    );
    assert_eq!(report["reasonTimeInMinutes"], 0);

    let (status, problem) = api.send(reqwest::Method::POST, "/Traversals", Some(json!({"shortCode": "SYMPTOMS", "injectedHistory": [{"assetId": 1, "answerId": 2}]}))).await;
    assert_eq!(
        (status.as_u16(), problem["title"].as_str()),
        (400, Some("Invalid injected history"))
    );
}

#[tokio::test]
async fn api_version_3_shows_textarea() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    let start = |v3: bool| {
        let mut r = api
            .http
            .post(api.path("/Traversals"))
            .bearer_auth(&api.token)
            .json(&json!({"shortCode": "SYMPTOMS", "nodeId": 30}));
        if v3 {
            r = r.header("x-api-version", "v3");
        }
        async move { r.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(
        start(false).await["nodes"][0]["questions"][1]["answers"][0]["controlType"],
        "Text"
    );
    assert_eq!(
        start(true).await["nodes"][0]["questions"][1]["answers"][0]["controlType"],
        "Textarea"
    );
}

#[tokio::test]
async fn chat_traversals_ask_one_question_at_a_time() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    let t = api
        .post("/ChatTraversals", json!({"shortCode": "SYMPTOMS"}))
        .await;
    let id = t["traversalId"].as_str().unwrap().to_owned();
    let at = |s: &str| format!("/ChatTraversals/{id}{s}");
    let questions = |r: &Value| -> Vec<i64> {
        r["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|n| {
                n["questions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|q| q["questionId"].as_i64().unwrap())
            })
            .collect()
    };
    assert_eq!(questions(&t), [13045]);
    let r = api
        .post(&at("/respond"), json!([answer(1, 13045, 7527, None)]))
        .await;
    assert_eq!(questions(&r), [19063], "the grouped page is split");
    let r = api
        .post(
            &at("/respond"),
            json!([answer(533, 19063, 16309, Some("30"))]),
        )
        .await;
    assert_eq!(questions(&r), [19064]);
    let r = api
        .post(&at("/respond"), json!([answer(534, 19064, 16310, None)]))
        .await;
    assert_eq!(questions(&r), [20000]);
    // Back to the age question by its asset id, and on again.
    let r = api
        .post(
            &at("/revisit"),
            json!({"nodeId": 533, "algoId": 100, "assetId": 19063}),
        )
        .await;
    assert_eq!(questions(&r), [19063]);
    api.post(
        &at("/respond"),
        json!([answer(533, 19063, 16309, Some("31"))]),
    )
    .await;
    api.post(&at("/respond"), json!([answer(534, 19064, 16310, None)]))
        .await;
    let r = api
        .post(&at("/respond"), json!([answer(2, 20000, 20003, None)]))
        .await;
    assert_eq!(questions(&r), [23000]);
    let r = api
        .post(&at("/respond"), json!([answer(30, 23000, 23002, None)]))
        .await;
    assert_eq!(questions(&r), [23100]);
    let done = api.post(&at("/respond"), json!([])).await;
    assert_eq!(done["nodes"], json!([]));
    assert_eq!(conclusion_ids(&api.get(&at("/conclusions")).await), [50025]);
    assert_eq!(
        api.get(&at("/conclusion-report")).await["highestPriority"],
        50025
    );
    for extra in ["/questions", "/summary", "/history-lines", "/track-file"] {
        api.get(&at(extra)).await;
    }
    assert_eq!(
        api.get(&format!("/ChatTraversals/{id}")).await["traversalId"],
        id.as_str()
    );
    // A chat traversal is not a paged one.
    let (status, _) = api
        .send(reqwest::Method::GET, &format!("/Traversals/{id}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = api
        .send(reqwest::Method::POST, &at("/previous"), None)
        .await;
    assert_eq!(status, 404, "chat has no `previous`");
}

async fn complete_hra(api: &Api, member: Option<&str>, smoker: bool) -> String {
    let mut create = json!({"shortCode": "HRA"});
    if let Some(m) = member {
        create["memberReference"] = m.into();
    }
    let t = api.post("/Traversals", create).await;
    let id = t["traversalId"].as_str().unwrap().to_owned();
    let at = format!("/Traversals/{id}/respond");
    let mut page = t;
    if node_ids(&page) == [201, 202] {
        page = api
            .post(
                &at,
                json!([
                    answer(201, 30100, 30101, Some("45")),
                    answer(202, 30200, 30202, None)
                ]),
            )
            .await;
    } else {
        assert_eq!(
            node_ids(&page),
            [201],
            "the permanent sex answer is pre-answered"
        );
        page = api
            .post(&at, json!([answer(201, 30100, 30101, Some("45"))]))
            .await;
    }
    assert_eq!(node_ids(&page), [203]);
    api.post(
        &at,
        json!([
            answer(203, 30300, 30301, Some("175")),
            answer(203, 30400, 30401, Some("95"))
        ]),
    )
    .await;
    api.post(
        &at,
        json!([answer(204, 30500, if smoker { 30503 } else { 30501 }, None)]),
    )
    .await;
    api.post(&at, json!([answer(205, 30600, 30601, Some("1"))]))
        .await;
    api.post(&at, json!([answer(206, 30700, 30701, Some("20"))]))
        .await;
    api.post(&at, json!([answer(207, 30800, 30801, None)]))
        .await;
    let done = api
        .post(
            &at,
            json!([
                answer(208, 30900, 30903, None),
                answer(208, 31000, 31001, Some("2020-05-01"))
            ]),
        )
        .await;
    assert_eq!(done["nodes"], json!([]));
    assert_eq!(done["assessmentType"], 2);
    id
}

#[tokio::test]
async fn hra_reports_depend_on_answers_and_what_ifs() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    let id = complete_hra(&api, None, true).await;
    let base = api.get(&format!("/reports/{id}/risks")).await;
    assert_eq!(base["risks"], json!([]));
    assert_eq!(
        (base["age"].as_i64(), base["gender"].as_str()),
        (Some(45), Some("M"))
    );
    assert!(
        base["healthAge"].as_i64().unwrap() > 45,
        "a smoker with BMI 31 is older than his age"
    );
    let checkable: Vec<i64> = base["checkableConclusions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_i64().unwrap())
        .collect();
    assert_eq!(checkable, [3495, 3497, 3501, 3505, 3566, 3579, 10076]);

    let risks = api
        .get(&format!("/Reports/{id}/risks?ages=80&ages=90"))
        .await;
    let list = risks["risks"].as_array().unwrap();
    assert_eq!(list.len(), 14, "two ages for each of seven risks");
    let lung = |r: &Value, age: i64| {
        r["risks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "Lung cancer" && x["time"] == age)
            .unwrap()["current"]
            .as_f64()
            .unwrap()
    };
    let what_if = api
        .get(&format!(
            "/reports/{id}/risks?ages=80&ages=90&conclusions=3495"
        ))
        .await;
    assert!(
        lung(&what_if, 80) < lung(&risks, 80) / 2.0,
        "stopping smoking cuts lung cancer risk"
    );
    assert!(what_if["healthAge"].as_i64() < risks["healthAge"].as_i64());
    assert!(lung(&risks, 90) >= lung(&risks, 80));

    let wellness = api.get(&format!("/reports/{id}/wellness")).await;
    let score = |w: &Value, name: &str| {
        w["scores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["score"]
            .as_f64()
            .unwrap()
    };
    let names: Vec<&str> = wellness["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Diet",
            "Stress",
            "Habits",
            "Fitness",
            "Prevention",
            "Screening",
            "Overall Wellbeing"
        ]
    );
    let better = api
        .get(&format!(
            "/reports/{id}/wellness?conclusions=3566&conclusions=3579"
        ))
        .await;
    assert!(score(&better, "Diet") > score(&wellness, "Diet"));
    assert!(score(&better, "Stress") > score(&wellness, "Stress"));
    assert!(score(&better, "Overall Wellbeing") > score(&wellness, "Overall Wellbeing"));

    let (status, problem) = api
        .send(
            reqwest::Method::GET,
            &format!("/reports/{id}/risks?ages=old"),
            None,
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["errors"]["ages"].is_array()),
        (400, true)
    );
    let symptoms = api
        .post("/Traversals", json!({"shortCode": "SYMPTOMS"}))
        .await;
    let (status, _) = api
        .send(
            reqwest::Method::GET,
            &format!(
                "/reports/{}/risks",
                symptoms["traversalId"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 400);
    let unfinished = api.post("/Traversals", json!({"shortCode": "HRA"})).await;
    let (status, problem) = api
        .send(
            reqwest::Method::GET,
            &format!(
                "/reports/{}/wellness",
                unfinished["traversalId"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["title"].as_str()),
        (400, Some("Health risk assessment not complete"))
    );
}

#[tokio::test]
async fn members_keep_permanent_history_and_hra_snapshots() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    let (status, problem) = api
        .send(
            reqwest::Method::POST,
            "/Traversals",
            Some(json!({"shortCode": "HRA", "memberReference": "ghost"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["title"].as_str()),
        (400, Some("Unknown member"))
    );

    let member = api
        .post("/Members", json!({"memberReference": "patient 7"}))
        .await;
    assert_eq!(
        (
            member["clientId"].as_str(),
            member["memberReference"].as_str()
        ),
        (Some(sandbox.client_id()), Some("patient 7"))
    );
    assert!(uuid::Uuid::parse_str(member["memberId"].as_str().unwrap()).is_ok());
    let (status, problem) = api
        .send(
            reqwest::Method::POST,
            "/Members",
            Some(json!({"memberReference": "patient 7"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["status"].as_i64()),
        (409, Some(409))
    );
    let (status, _) = api
        .send(reqwest::Method::GET, "/Members/nobody", None)
        .await;
    assert_eq!(status, 404);

    let first = complete_hra(&api, Some("patient 7"), true).await;
    let history = api.get("/Members/patient%207/permanent-history").await;
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            history[0]["assetId"].as_i64(),
            history[0]["answerId"].as_i64()
        ),
        (Some(30200), Some(30202))
    );
    assert_eq!(history[0]["traversalId"], first.as_str());

    // The second HRA skips the permanent question (asserted inside `complete_hra`).
    let second = complete_hra(&api, Some("patient 7"), false).await;
    let member = api.get("/Members/patient%207").await;
    assert_eq!(member["traversalIds"], json!([first, second]));
    let previous = api.get(&format!("/reports/{second}/previous")).await;
    assert_eq!(previous.as_array().unwrap().len(), 1);
    assert_eq!(previous[0]["traversalId"], first.as_str());
    let compare = api
        .get(&format!("/reports/{second}/compare/{first}/80"))
        .await;
    assert_eq!(compare["summary"]["risk"]["Lung cancer"], "better");
    assert_eq!(compare["summary"]["myNumbers"]["Health Age"], "better");
    assert_eq!(compare["previousSnapshot"]["traversalId"], first.as_str());
}

#[tokio::test]
async fn routes_are_case_insensitive_under_v1_and_v2() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    let t = api
        .post("/traversals", json!({"shortCode": "SYMPTOMS"}))
        .await;
    let id = t["traversalId"].as_str().unwrap();
    for path in [
        format!(
            "{}/api/v1/{}/Traversals/{id}",
            sandbox.url(),
            sandbox.client_id()
        ),
        format!(
            "{}/API/V2/{}/TRAVERSALS/{id}",
            sandbox.url(),
            sandbox.client_id()
        ),
        format!(
            "{}/api/v2/{}/traversals/{id}/QUESTIONS",
            sandbox.url(),
            sandbox.client_id()
        ),
    ] {
        let r = api
            .http
            .get(&path)
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let (status, problem) = api
        .send(
            reqwest::Method::GET,
            "/Traversals/00000000-0000-0000-0000-000000000000",
            None,
        )
        .await;
    assert_eq!(
        (
            status.as_u16(),
            problem["title"].as_str(),
            problem["traceId"].is_string()
        ),
        (404, Some("Not Found"), true)
    );
    let (status, problem) = api
        .send(
            reqwest::Method::POST,
            "/Traversals",
            Some(json!({"language": "EN"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        problem["errors"]["$"][0]
            .as_str()
            .unwrap()
            .contains("shortCode")
    );
    let raw = api
        .http
        .post(api.path(&format!("/Traversals/{id}/respond")))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(raw.headers()["content-type"], "application/problem+json");
    let (status, problem) = api
        .send(
            reqwest::Method::POST,
            "/Traversals",
            Some(json!({"shortCode": "NOPE"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), problem["title"].as_str()),
        (400, Some("Unknown product"))
    );
    let wrong_method = api
        .http
        .delete(api.path(&format!("/Traversals/{id}")))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            wrong_method.status().as_u16(),
            wrong_method.headers()["allow"].to_str().unwrap()
        ),
        (405, "GET")
    );
    // As the crate docs say: no body, unlike the unknown route below.
    assert!(wrong_method.bytes().await.unwrap().is_empty());
    let unknown = api
        .http
        .get(format!("{}/nothing/here", sandbox.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn faults_latency_status_fail_times_and_counters() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    let t = api
        .post("/Traversals", json!({"shortCode": "SYMPTOMS"}))
        .await;
    let get = format!("/Traversals/{}", t["traversalId"].as_str().unwrap());

    sandbox.inject("traversals.get", Fault::Latency { ms: 300 });
    let started = Instant::now();
    api.get(&get).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    sandbox.clear_faults();

    sandbox.inject(
        "traversals",
        Fault::Status {
            status: 429,
            retry_after: Some("7".into()),
            body: None,
        },
    );
    let r = api
        .http
        .get(api.path(&get))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["retry-after"].to_str().unwrap()
        ),
        (429, "7")
    );
    let members = api
        .http
        .get(api.path("/Members/x"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(members.status(), 404, "other groups are untouched");
    sandbox.clear_faults();

    sandbox.inject(
        "api",
        Fault::FailTimes {
            times: 2,
            status: 503,
            retry_after: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
        },
    );
    for _ in 0..2 {
        let r = api
            .http
            .get(api.path(&get))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "Wed, 21 Oct 2015 07:28:00 GMT");
    }
    api.get(&get).await;
    sandbox.clear_faults();

    assert_eq!(sandbox.requests("traversals.get"), 5);
    assert_eq!(sandbox.requests("traversals.create"), 1);
    assert_eq!(sandbox.api_requests(), 7);
    assert_eq!(sandbox.token_requests(), 1);
}

#[tokio::test]
async fn faults_drop_and_hang() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = Api::new(&sandbox).await;
    sandbox.inject("members.get", Fault::DropConnection);
    let r = api
        .http
        .get(api.path("/Members/x"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the status line arrives");
    assert!(r.bytes().await.is_err(), "the body is cut short");
    sandbox.clear_faults();

    sandbox.inject("members.get", Fault::Hang);
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = quick
        .get(api.path("/Members/x"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    // Shutting down releases hung requests.
    sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_token_responses() {
    let sandbox = Sandbox::start().await.unwrap();
    let shapes = [
        (MalformedToken::Html, "text/html"),
        (MalformedToken::Empty, ""),
        (MalformedToken::NotJson, "text/plain"),
        (MalformedToken::MissingAccessToken, "application/json"),
        (MalformedToken::ErrorWith200, "application/json"),
        (MalformedToken::Oversized, "application/json"),
        (MalformedToken::NotUtf8, "application/json"),
        (MalformedToken::MissingTokenType, "application/json"),
    ];
    for (shape, content_type) in shapes {
        sandbox.clear_faults();
        sandbox.inject("token", Fault::MalformedToken { shape });
        let r = reqwest::Client::new()
            .post(format!("{}/connect/token", sandbox.url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", sandbox.client_id()),
                ("client_secret", sandbox.client_secret()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{shape:?}");
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(ct.starts_with(content_type), "{shape:?}: {ct}");
        let body = r.bytes().await.unwrap();
        let parsed: Option<Value> = serde_json::from_slice(&body).ok();
        let usable = parsed.as_ref().is_some_and(|v| {
            v["access_token"].is_string() && v["token_type"] == "Bearer" && body.len() < 1024 * 1024
        });
        assert!(!usable, "{shape:?} must not be a usable token response");
    }
}

#[tokio::test]
async fn admin_routes_control_the_sandbox_over_http() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = reqwest::Client::new();
    let admin = |p: &str| format!("{}/_sandbox/{p}", sandbox.url());
    let r = http
        .post(admin("faults"))
        .json(&json!({"endpoint": "token", "fault": {"kind": "failTimes", "times": 1, "status": 503, "retryAfter": "2"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let bad = http
        .post(admin("faults"))
        .json(&json!({"endpoint": "token", "fault": {"kind": "explode"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let failed = http
        .post(format!("{}/connect/token", sandbox.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox.client_id()),
            ("client_secret", sandbox.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 503);
    let api = Api::new(&sandbox).await;
    assert_eq!(
        http.put(admin("token-lifetime"))
            .json(&json!({"seconds": 60}))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let short: Value = http
        .post(format!("{}/connect/token", sandbox.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox.client_id()),
            ("client_secret", sandbox.client_secret()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(short["expires_in"], 60);
    assert_eq!(
        http.post(admin("revoke")).send().await.unwrap().status(),
        204
    );
    let (status, _) = api.send(reqwest::Method::GET, "/Members/x", None).await;
    assert_eq!(status, 401);
    assert_eq!(
        http.delete(admin("faults")).send().await.unwrap().status(),
        204
    );
    let counters: Value = http
        .get(admin("counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["tokenRequests"], 3);
    assert_eq!(counters["apiRequests"], 1);
    assert_eq!(counters["endpoints"]["members.get"], 1);
}

// Real time on two threads: on the paused clock the listen backlog's real-time SYN retries
// would let the clock run ahead while connections queue in the kernel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_concurrent_requests_are_served_in_parallel() {
    let sandbox = Sandbox::start().await.unwrap();
    let api = std::sync::Arc::new(Api::new(&sandbox).await);
    let t = api
        .post("/Traversals", json!({"shortCode": "SYMPTOMS"}))
        .await;
    let path = format!("/Traversals/{}", t["traversalId"].as_str().unwrap());
    // Every 1,000 GETs wait 500 ms inside the server: served one at a time, they alone would
    // take 500 s; served together, about one wait. The bound is an eighth of the serial time,
    // so it tells the two apart on any machine that can run this suite at all.
    sandbox.inject("traversals.get", Fault::Latency { ms: 500 });
    let serial = Duration::from_millis(500) * 1_000;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..2_000 {
        let api = api.clone();
        let path = path.clone();
        tasks.spawn(async move {
            if i % 2 == 0 {
                api.get(&path).await;
            } else {
                api.post("/Traversals", json!({"shortCode": "HRA"})).await;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert!(started.elapsed() < serial / 8, "{:?}", started.elapsed());
    assert_eq!(sandbox.requests("traversals.get"), 1_000);
    assert_eq!(sandbox.requests("traversals.create"), 1_001);
}

#[tokio::test]
#[should_panic(expected = "unknown endpoint `tokn`; use `*`, `api`, a group (traversals")]
async fn injecting_a_fault_on_an_unknown_endpoint_panics_with_the_valid_names() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.inject(
        "tokn",
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
    );
}

#[tokio::test]
async fn a_fault_on_an_unknown_endpoint_is_refused_over_http() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/_sandbox/faults", sandbox.url()))
        .json(&json!({"endpoint": "tokn", "fault": {"kind": "status", "status": 503}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let problem: Value = r.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("unknown endpoint `tokn`"), "{detail}");
    assert!(detail.contains("traversals.respond"), "{detail}");
    // Every documented form is still accepted.
    for endpoint in [
        "*",
        "api",
        "token",
        "traversals",
        "traversals.respond",
        "algos",
    ] {
        let r = http
            .post(format!("{}/_sandbox/faults", sandbox.url()))
            .json(&json!({"endpoint": endpoint, "fault": {"kind": "latency", "ms": 1}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{endpoint}");
    }
}

#[tokio::test]
async fn unknown_routes_and_wrong_fields_are_named() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = reqwest::Client::new();
    for (method, path) in [
        (reqwest::Method::GET, "/api/v3/x/Traversals"),
        (reqwest::Method::POST, "/conect/token"),
        (reqwest::Method::GET, "/_sandbox/nothing"),
    ] {
        let r = http
            .request(method.clone(), format!("{}{path}", sandbox.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        // Plain text, not problem details (the APIs' answer for a resource they lack).
        assert_eq!(
            r.headers()["content-type"],
            "text/plain; charset=utf-8",
            "{path}"
        );
        let detail = r.text().await.unwrap();
        assert!(detail.contains(&format!("`{method} {path}`")), "{detail}");
        assert!(detail.contains("/api/v1/{clientId}/"), "{detail}");
    }

    let api = Api::new(&sandbox).await;
    let (status, problem) = api
        .send(
            reqwest::Method::POST,
            "/Traversals",
            Some(json!({"shortCode": 5})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(problem["errors"]["$.shortCode"][0].is_string(), "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("`$.shortCode`: invalid type"),
        "{detail}"
    );
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
