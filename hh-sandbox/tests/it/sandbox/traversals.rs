//! Traversals and chat traversals: pages, answers and their errors, going back, injected
//! history, and what a finished symptom assessment reports.

use hh_sandbox::Sandbox;
use serde_json::{Value, json};

use super::{Api, answer, conclusion_ids, node_ids};

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
    age_and_sex(&api, &id).await;
    chest_pain(&api, &id).await;
    chest_pain_report(&api, &id).await;
    what_was_asked(&api, &id).await;
    // Revisit the symptom question and take the headache branch instead: another conclusion.
    headache_instead(&api, &id).await;
}

/// The age and sex page: its controls, out-of-range and missing answers, and going back.
async fn age_and_sex(api: &Api, id: &str) {
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
    answer_age_and_sex_then_go_back(api, id).await;
}

/// Answers the page, goes back to it (the answers still shown), and answers it again.
async fn answer_age_and_sex_then_go_back(api: &Api, id: &str) {
    let at = |s: &str| format!("/Traversals/{id}{s}");
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
}

/// The chest pain branch to its end: a refused combination, a table page, a date in the
/// future.
async fn chest_pain(api: &Api, id: &str) {
    let at = |s: &str| format!("/Traversals/{id}{s}");
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
}

/// The conclusions the chest pain branch reached, and the report of them.
async fn chest_pain_report(api: &Api, id: &str) {
    let at = |s: &str| format!("/Traversals/{id}{s}");
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
}

/// The questions asked, the summary, the history lines, the track file, the algorithms,
/// and the finished traversal itself.
async fn what_was_asked(api: &Api, id: &str) {
    let at = |s: &str| format!("/Traversals/{id}{s}");
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
}

/// Back to the symptom question, then the headache branch: a text answer, and a pharmacist.
async fn headache_instead(api: &Api, id: &str) {
    let at = |s: &str| format!("/Traversals/{id}{s}");
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
    assert_eq!(questions(&t), [13045]);
    chat_to_a_conclusion(&api, &id).await;
    chat_reports(&api, &id).await;
}

/// The ids of the questions a response shows, in order.
fn questions(r: &Value) -> Vec<i64> {
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
}

/// One question at a time, back to one by its asset id, and on to the end.
async fn chat_to_a_conclusion(api: &Api, id: &str) {
    let at = |s: &str| format!("/ChatTraversals/{id}{s}");
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
}

/// What a finished chat traversal reports; it is not a paged traversal.
async fn chat_reports(api: &Api, id: &str) {
    let at = |s: &str| format!("/ChatTraversals/{id}{s}");
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
        id
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
