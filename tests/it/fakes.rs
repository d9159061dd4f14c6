//! Code that uses HealthHero's API, tested against `TraversalsFake` (hh-runtime's `testing`
//! feature, or healthhero's): what a team's own unit test looks like. `triage` has the shape of
//! the triage example's flow (`examples/triage.rs`): start, answer page after page (a page
//! that comes back with validation errors is answered again), then read the report.

#![allow(clippy::unwrap_used)]

use healthhero::api::TraversalsFake;
use healthhero::models::{ConclusionReport, RespondItem, TraversalCreate, TraversalResponse};
use healthhero::{Error, Traversals};
use hh_runtime::StatusCode;
use serde_json::json;

/// What a triage ended with.
#[derive(Debug, PartialEq)]
struct Triage {
    /// Pages answered (a page answered twice counts once).
    pages: usize,
    /// The report's most urgent priority.
    priority: Option<i32>,
}

/// The flow under test: generic over the trait, as the example's `run` is over the client.
async fn triage(
    api: &impl Traversals,
    product: &str,
    mut answer: impl FnMut(&TraversalResponse) -> Vec<RespondItem>,
) -> Result<Triage, Error> {
    let mut page = api.create(&TraversalCreate::new(product)).await?;
    let id = page.traversal_id.clone();
    let mut pages = 0;
    while !page.is_complete() {
        let next = api.respond(&id, &answer(&page)).await?;
        if next.all_errors().next().is_none() {
            pages += 1;
        }
        page = next;
    }
    let report = api.conclusion_report(&id).await?;
    Ok(Triage {
        pages,
        priority: report.highest_priority,
    })
}

/// A page with one yes/no question.
fn question(id: i32, text: &str, errors: &[&str]) -> TraversalResponse {
    let errors: Vec<_> = errors.iter().map(|e| json!(e)).collect();
    serde_json::from_value(json!({
        "traversalId": "t-42",
        "assessmentType": 1,
        "nodes": [{
            "nodeId": id,
            "errors": errors,
            "questions": [{
                "questionId": id * 10,
                "nodeId": id,
                "displayText": text,
                "answers": [
                    {"answerId": 1, "questionId": id * 10, "nodeId": id, "controlType": "Radio", "displayText": "Yes"},
                    {"answerId": 2, "questionId": id * 10, "nodeId": id, "controlType": "Radio", "displayText": "No"}
                ]
            }]
        }]
    }))
    .unwrap()
}

/// The last page: nothing left to show.
fn done() -> TraversalResponse {
    TraversalResponse {
        traversal_id: "t-42".into(),
        ..TraversalResponse::default()
    }
}

/// Answers "Yes" to every question.
fn yes(page: &TraversalResponse) -> Vec<RespondItem> {
    page.questions()
        .map(|q| q.answers[0].respond(None))
        .collect()
}

#[tokio::test]
async fn chest_pain_escalates_to_emergency_care() {
    let api = TraversalsFake::new();
    api.create.returns_with(|call| {
        assert_eq!(call.request, TraversalCreate::new("SYMPTOMS"));
        Ok(question(1, "Do you have chest pain?", &[]))
    });
    api.respond
        // The first answer is refused (the same page, with an error), then accepted.
        .returns(Ok(question(
            1,
            "Do you have chest pain?",
            &["Please answer"],
        )))
        .returns(Ok(question(2, "Is it crushing?", &[])))
        .returns(Ok(done()));
    api.conclusion_report.returns(Ok(ConclusionReport {
        highest_priority: Some(1),
        ..ConclusionReport::default()
    }));

    let outcome = triage(&api, "SYMPTOMS", yes).await.unwrap();
    assert_eq!(
        outcome,
        Triage {
            pages: 2,
            priority: Some(1)
        }
    );

    // Every call was for the traversal created, with the answers given: typed, no JSON.
    let responds = api.respond.calls();
    assert_eq!(responds.len(), 3);
    assert!(responds.iter().all(|c| c.traversal_id == "t-42"));
    assert_eq!(responds[2].answers[0].question_id, 20);
    assert_eq!(responds[2].answers[0].answer_id, 1);
    assert_eq!(api.conclusion_report.calls()[0].traversal_id, "t-42");
    api.verify();
}

#[tokio::test]
async fn an_outage_mid_triage_reaches_the_caller_and_no_report_is_asked_for() {
    let api = TraversalsFake::new();
    api.create
        .returns(Ok(question(1, "Do you have a fever?", &[])));
    api.respond.returns(Err(Error::from_status(
        StatusCode::SERVICE_UNAVAILABLE,
        "maintenance",
    )));
    // Nothing scripted for `conclusion_report`: were the flow to ask for it, the fake would
    // fail the test, naming the call.
    let e = triage(&api, "SYMPTOMS", yes).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(e.body_text(), Some("maintenance"));
    assert_eq!(
        api.log_of_calls(),
        ["Traversals.create", "Traversals.respond"]
    );
    api.verify();
}
