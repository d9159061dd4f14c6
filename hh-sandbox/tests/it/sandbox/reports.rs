//! Health risk assessments: their reports (risks, wellness, what-ifs) and members, whose
//! permanent answers and earlier assessments the reports draw on.

use hh_sandbox::Sandbox;
use serde_json::{Value, json};

use super::{Api, answer, node_ids};

/// Answers an HRA to its end (as a smoker or not), for `member` if given: its traversal id.
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
    risks_depend_on_answers(&api, &id).await;
    wellness_depends_on_what_ifs(&api, &id).await;
    reports_need_a_finished_hra(&api, &id).await;
}

/// The risks with no ages asked for, then at two ages, then with a what-if.
async fn risks_depend_on_answers(api: &Api, id: &str) {
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
}

/// The lung cancer risk at `age` in a risks report.
fn lung(r: &Value, age: i64) -> f64 {
    r["risks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "Lung cancer" && x["time"] == age)
        .unwrap()["current"]
        .as_f64()
        .unwrap()
}

/// The score named `name` in a wellness report.
fn score(w: &Value, name: &str) -> f64 {
    w["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()["score"]
        .as_f64()
        .unwrap()
}

/// The wellness scores, and better ones with what-ifs.
async fn wellness_depends_on_what_ifs(api: &Api, id: &str) {
    let wellness = api.get(&format!("/reports/{id}/wellness")).await;
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
}

/// A bad age is a 400; so are the reports of a symptom traversal and of an unfinished HRA.
async fn reports_need_a_finished_hra(api: &Api, id: &str) {
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
