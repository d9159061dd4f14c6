//! Each documented flow (token, optional member, create, answer page by page, go back,
//! conclusions and reports, as HealthHero's quickstart pages describe it) through the declared
//! clients, against hh-sandbox.

#![allow(clippy::unwrap_used)]

use healthhero::models::*;
use healthhero::{
    Algos as _, ChatTraversals as _, HealthHero, Members as _, Reports as _, Traversals as _,
    TraversalsClient,
};
use hh_sandbox::Sandbox;

fn connect(sandbox: &Sandbox) -> HealthHero {
    let client = healthhero::Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(sandbox.client_id())
        .client_secret(sandbox.client_secret())
        .default_header("x-api-version", "v3")
        .build()
        .unwrap();
    HealthHero::new(client)
        .with_hra_url(&sandbox.hra_url())
        .unwrap()
        .with_algos_url(&sandbox.url())
        .unwrap()
}

/// The answer of `question` whose label is `label`.
fn pick(page: &TraversalResponse, question: i32, label: &str) -> RespondItem {
    let q = page
        .questions()
        .find(|q| q.question_id == question)
        .unwrap();
    q.answers
        .iter()
        .find(|a| a.display_text.as_deref() == Some(label))
        .unwrap()
        .respond(None)
}

fn value(page: &TraversalResponse, question: i32, value: &str) -> RespondItem {
    let q = page
        .questions()
        .find(|q| q.question_id == question)
        .unwrap();
    q.answers[0].respond(Some(value.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symptom_assessment_from_start_to_report() {
    let sandbox = Sandbox::start().await.unwrap();
    let hh = connect(&sandbox);
    let t = hh.traversals();
    let (id, page) = start_for_myself(t).await;
    let page = answer_age_and_go_back(t, &id, &page).await;
    answer_cough_to_the_end(t, &id, &page).await;
    assert_what_it_reports(t, &id).await;

    // Revisit the symptom question; the chest-pain branch ends elsewhere.
    let page = revisit_the_symptom_question(&sandbox, t, &id).await;
    answer_chest_pain_to_the_end(t, &id, &page).await;

    let err = t.get("no-such-traversal").await.unwrap_err();
    assert!(err.is_not_found());
}

/// A symptom assessment started for "Myself": its id, and the grouped page that asks age
/// (a number from 0 to 120) and sex.
async fn start_for_myself(t: &TraversalsClient) -> (String, TraversalResponse) {
    let page = t.create(&TraversalCreate::new("SYMPTOMS")).await.unwrap();
    assert!(page.assessment_type.is_symptom_checker());
    let id = page.traversal_id.clone();
    let page = t
        .respond(&id, &[pick(&page, 13045, "Myself")])
        .await
        .unwrap();
    assert_eq!(page.nodes.len(), 2, "a grouped page");
    let age = page.questions().next().unwrap().answers[0].clone();
    assert_eq!(
        (age.control_type.clone(), age.min, age.max),
        (ControlType::Number, Some(0.0), Some(120.0))
    );
    (id, page)
}

/// An age out of range refused, a valid one taken, `previous` back to the age page, and the
/// page answered again: the symptom page.
async fn answer_age_and_go_back(
    t: &TraversalsClient,
    id: &str,
    page: &TraversalResponse,
) -> TraversalResponse {
    let invalid = t
        .respond(
            id,
            &[value(page, 19063, "130"), pick(page, 19064, "Female")],
        )
        .await
        .unwrap();
    assert!(
        invalid
            .all_errors()
            .any(|e| e.text().contains("between 0 and 120"))
    );
    let forward = t
        .respond(id, &[value(page, 19063, "38"), pick(page, 19064, "Female")])
        .await
        .unwrap();
    assert_eq!(forward.nodes[0].node_id, 2);
    let back = t.previous(id).await.unwrap();
    assert_eq!(back.nodes[0].node_id, 533);
    let page = t
        .respond(
            id,
            &[value(&back, 19063, "38"), pick(&back, 19064, "Female")],
        )
        .await
        .unwrap();
    assert_eq!(page.nodes[0].node_id, 2);
    page
}

/// "Cough", then its follow-up page (with v3's Textarea answer) answered: complete.
async fn answer_cough_to_the_end(t: &TraversalsClient, id: &str, page: &TraversalResponse) {
    let page = t.respond(id, &[pick(page, 20000, "Cough")]).await.unwrap();
    // v3 shows the Textarea answer.
    assert!(
        page.questions()
            .any(|q| q.answers[0].control_type == ControlType::Textarea)
    );
    let done = t
        .respond(
            id,
            &[
                pick(&page, 23000, "Less than 3 weeks"),
                value(&page, 23100, "dry, worse at night"),
            ],
        )
        .await
        .unwrap();
    assert!(done.is_complete());
}

/// What the completed cough assessment reports: conclusions, the report, the questions asked,
/// the summary, history lines, track file and the traversal itself.
async fn assert_what_it_reports(t: &TraversalsClient, id: &str) {
    let conclusions = t.conclusions(id).await.unwrap();
    assert_eq!(conclusions[0].asset_id, 50040);
    let report = t.conclusion_report(id).await.unwrap();
    assert_eq!(report.highest_priority, Some(50040));
    assert_eq!(report.reason_category.as_deref(), Some("Self care"));
    let asked = t.questions(id).await.unwrap();
    assert_eq!(asked.len(), 6);
    assert!(t.summary(id).await.unwrap()["completed"].as_bool().unwrap());
    assert!(t.history_lines(id).await.unwrap().as_array().unwrap().len() >= 5);
    assert!(t.track_file(id).await.unwrap().contains("23100"));
    assert!(t.get(id).await.unwrap().is_complete());
}

/// Revisits the symptom question, again through a 503 (resent), and sees a 503 of `previous`
/// come back (not resent): the symptom page.
async fn revisit_the_symptom_question(
    sandbox: &Sandbox,
    t: &TraversalsClient,
    id: &str,
) -> TraversalResponse {
    let page = t
        .revisit(
            id,
            &Revisit {
                node_id: 2,
                algo_id: 100,
            },
        )
        .await
        .unwrap();
    // `revisit` is declared `#[idempotent]`: delivered twice it lands on the same page, so
    // an attempt that fails with a 503 is sent again. `previous` is not: its 503 comes back.
    let questions =
        |p: &TraversalResponse| p.questions().map(|q| q.question_id).collect::<Vec<_>>();
    sandbox.inject(
        "traversals.revisit",
        hh_sandbox::Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: None,
        },
    );
    let again = t
        .revisit(
            id,
            &Revisit {
                node_id: 2,
                algo_id: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(questions(&again), questions(&page));
    sandbox.inject(
        "traversals.previous",
        hh_sandbox::Fault::FailTimes {
            times: 1,
            status: 503,
            retry_after: None,
        },
    );
    let before = sandbox.requests("traversals.previous");
    let failed = t.previous(id).await.unwrap_err();
    assert_eq!(failed.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(sandbox.requests("traversals.previous"), before + 1);
    page
}

/// "Chest pain", then "Crushing or heavy chest pain": a report with danger bullets.
async fn answer_chest_pain_to_the_end(t: &TraversalsClient, id: &str, page: &TraversalResponse) {
    let page = t
        .respond(id, &[pick(page, 20000, "Chest pain")])
        .await
        .unwrap();
    t.respond(id, &[pick(&page, 21000, "Crushing or heavy chest pain")])
        .await
        .unwrap();
    let report = t.conclusion_report(id).await.unwrap();
    assert_eq!(report.highest_priority, Some(50014));
    assert!(!report.danger_bullets.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_traversal() {
    let sandbox = Sandbox::start().await.unwrap();
    let hh = connect(&sandbox);
    let chat = hh.chat();
    let page = chat
        .create(&TraversalCreate::new("SYMPTOMS"))
        .await
        .unwrap();
    let id = page.traversal_id.clone();
    let page = chat
        .respond(&id, &[pick(&page, 13045, "Someone else")])
        .await
        .unwrap();
    assert_eq!(page.questions().count(), 1);
    let page = chat
        .respond(&id, &[value(&page, 19063, "70")])
        .await
        .unwrap();
    let skipped_ahead = chat
        .respond(&id, &[pick(&page, 19064, "Male")])
        .await
        .unwrap();
    assert_eq!(skipped_ahead.questions().next().unwrap().question_id, 20000);
    let again = chat
        .revisit(
            &id,
            &ChatRevisit {
                node_id: 534,
                algo_id: 100,
                asset_id: 19064,
            },
        )
        .await
        .unwrap();
    assert_eq!(again.questions().next().unwrap().question_id, 19064);
    let page = chat
        .respond(&id, &[pick(&again, 19064, "Male")])
        .await
        .unwrap();
    assert_eq!(page.questions().next().unwrap().question_id, 20000);
    let page = chat
        .respond(&id, &[pick(&page, 20000, "Headache")])
        .await
        .unwrap();
    let page = chat
        .respond(&id, &[value(&page, 22000, "sudden and severe")])
        .await
        .unwrap();
    let done = chat
        .respond(&id, &[pick(&page, 22100, "None of these")])
        .await
        .unwrap();
    assert!(done.is_complete());
    // Over 50 with no red flags: a GP today.
    let report = chat.conclusion_report(&id).await.unwrap();
    assert_eq!(report.highest_priority, Some(50019));
    assert_eq!(
        chat.conclusions(&id).await.unwrap().len(),
        2,
        "GP today and the silent audit entry"
    );
    chat.questions(&id).await.unwrap();
    chat.summary(&id).await.unwrap();
    chat.history_lines(&id).await.unwrap();
    chat.track_file(&id).await.unwrap();
    assert_eq!(chat.get(&id).await.unwrap().traversal_id, id);
}

async fn hra(hh: &HealthHero, member: &str, smoker: bool) -> String {
    let t = hh.traversals();
    let mut page = t
        .create(&TraversalCreate::new("HRA").member(member))
        .await
        .unwrap();
    assert!(page.assessment_type.is_health_assessment());
    let id = page.traversal_id.clone();
    while !page.is_complete() {
        let mut answers = Vec::new();
        for q in page.questions() {
            let item = match q.question_id {
                30100 => value(&page, 30100, "52"),
                30200 => pick(&page, 30200, "Female"),
                30300 => value(&page, 30300, "165"),
                30400 => value(&page, 30400, "82"),
                30500 => pick(&page, 30500, if smoker { "Yes" } else { "I used to smoke" }),
                30600 => value(&page, 30600, "2"),
                30700 => value(&page, 30700, "18"),
                30800 => pick(&page, 30800, "2 to 4"),
                30900 => pick(&page, 30900, "Sometimes"),
                31000 => value(&page, 31000, "2021-03-04"),
                other => panic!("unexpected question {other}"),
            };
            answers.push(item);
        }
        page = t.respond(&id, &answers).await.unwrap();
        assert!(page.all_errors().next().is_none(), "{:?}", page.errors);
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_with_permanent_history() {
    let sandbox = Sandbox::start().await.unwrap();
    let hh = connect(&sandbox);
    let m = hh.members();
    let created = m
        .create(&MemberCreate {
            member_reference: "patient/42".into(),
        })
        .await
        .unwrap();
    assert_eq!(created.member_reference, "patient/42");
    let dup = m
        .create(&MemberCreate {
            member_reference: "patient/42".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(dup.status().unwrap().as_u16(), 409);
    let first = hra(&hh, "patient/42", true).await;
    let history = m.permanent_history("patient/42").await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].answer_id, Some(30201));
    // An anonymous traversal can be given the same history explicitly.
    let anon = hh
        .traversals()
        .create(&TraversalCreate::new("HRA").inject(history[0].to_injected().unwrap()))
        .await
        .unwrap();
    assert_eq!(anon.nodes.len(), 1, "the sex question is pre-answered");
    let second = hra(&hh, "patient/42", false).await;
    let member = m.get("patient/42").await.unwrap();
    assert_eq!(member.traversal_ids, [first, second]);
    assert!(m.get("nobody").await.unwrap_err().is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hra_risks_and_wellness_with_what_if_conclusions() {
    let sandbox = Sandbox::start().await.unwrap();
    let hh = connect(&sandbox);
    hh.members()
        .create(&MemberCreate {
            member_reference: "hra-1".into(),
        })
        .await
        .unwrap();
    let first = hra(&hh, "hra-1", true).await;
    let r = hh.reports();
    let health = r.risks(&first, &[], &[]).await.unwrap();
    assert!(health.risks.is_empty());
    assert_eq!((health.age, health.gender.as_deref()), (52, Some("F")));
    assert!(
        health.checkable_conclusions.contains(&3495),
        "stop smoking is on offer"
    );
    let at = r.risks(&first, &[80, 90], &[]).await.unwrap();
    assert_eq!(at.risks.len(), 14);
    let what_if = r.risks(&first, &[80, 90], &[3495, 3501]).await.unwrap();
    let lung = |o: &RiskOutput| {
        o.risks
            .iter()
            .find(|x| x.name == "Lung cancer" && x.time == 80)
            .unwrap()
            .current
    };
    assert!(lung(&what_if) < lung(&at));
    assert!(what_if.health_age < at.health_age);

    let wellness = r.wellness(&first, &[]).await.unwrap();
    let improved = r.wellness(&first, &[3501]).await.unwrap();
    let fitness = |w: &WellnessOutput| w.scores.iter().find(|s| s.name == "Fitness").unwrap().score;
    assert!(fitness(&improved) > fitness(&wellness));

    let second = hra(&hh, "hra-1", false).await;
    let previous = r.previous(&second).await.unwrap();
    assert_eq!(previous[0].traversal_id.as_deref(), Some(first.as_str()));
    let comparison = r.compare(&second, &first, 80).await.unwrap();
    assert_eq!(
        comparison
            .summary
            .risk
            .get("Lung cancer")
            .map(String::as_str),
        Some("better")
    );
    let algos = hh.algos().list().await.unwrap();
    assert!(
        algos
            .iter()
            .any(|a| a.algo_name == "Chest pain" && a.keywords.contains(&"angina".to_owned()))
    );
}
