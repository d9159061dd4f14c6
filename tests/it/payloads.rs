//! Every example payload quoted in HealthHero's documentation
//! (<https://traversal-documentation.healthherotechnologies.co.uk/docs/>) deserialises into the models, one test
//! each. Where the documentation writes a type name instead of a value (`[ Node ]`, `int`),
//! the test says what stands in for it; everything else is verbatim.

#![allow(clippy::unwrap_used)]

use healthhero::models::*;
use serde::de::DeserializeOwned;

fn parse<T: DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}\n{json}"))
}

#[test]
fn token_response() {
    // Not a model of this crate (hh-runtime parses tokens), but the payload is valid JSON with
    // the documented fields and an extra one, which the models' rules would ignore.
    let v: serde_json::Value = parse(
        r#"{ "access_token": "<JWT>", "token_type": "Bearer", "expires_in": 3600, "...": "..." }"#,
    );
    assert_eq!(v["expires_in"], 3600);
}

#[test]
fn traversal_create() {
    // `[ InjectedHistory ]` replaced by one injected history entry.
    let t: TraversalCreate = parse(
        r#"{
  "shortCode": "string",
  "language": "string",
  "release": "string",
  "algoId": 0,
  "nodeId": 0,
  "memberReference": "string",
  "injectedHistory": [ { "assetId": 13045, "answerId": 7527, "injectedHistoryType": "PreAnswer", "isAnswered": true } ]
}"#,
    );
    assert_eq!(t.short_code, "string");
    assert_eq!(t.injected_history.unwrap()[0].asset_id, 13045);
}

#[test]
fn traversal_create_minimal() {
    let t: TraversalCreate = parse(r#"{ "shortCode": "XYZ" }"#);
    assert_eq!(t, TraversalCreate::new("XYZ"));
    assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"shortCode":"XYZ"}"#);
}

#[test]
fn injected_history() {
    let h: InjectedHistory = parse(
        r#"{ "traversalId": "Guid", "assetId": 0, "answerId": 0, "value": "string",
  "injectedHistoryType": "PreAnswer", "isAnswered": true }"#,
    );
    assert_eq!(h.injected_history_type, InjectedHistoryType::PreAnswer);
    // The vendor's client sends the type in lower case.
    let lower: InjectedHistory = parse(
        r#"{ "assetId": 1, "answerId": 2, "injectedHistoryType": "prepopulate", "isAnswered": true }"#,
    );
    assert_eq!(
        lower.injected_history_type,
        InjectedHistoryType::PrePopulate
    );
}

#[test]
fn traversal_response() {
    // `[ Node ]` replaced by `[]`.
    let r: TraversalResponse = parse(
        r#"{
  "traversalId": "Guid",
  "algoId": 0,
  "nodes": [],
  "assessmentType": 0,
  "algoName": "string",
  "errors": [ "string" ],
  "previousDisabled": false,
  "nextDisabled": false,
  "language": "string"
}"#,
    );
    assert_eq!(r.traversal_id, "Guid");
    assert_eq!(r.errors[0].text(), "string");
    assert!(r.is_complete(), "no nodes: complete");
}

#[test]
fn node() {
    // `[ Question ]` replaced by `[]`.
    let n: Node = parse(
        r#"{ "assetId": 0, "data": "JSONString", "displayText": "string", "errors": [],
  "explanation": "string", "isTable": false, "nodeId": 0, "questions": [], "title": "string" }"#,
    );
    assert_eq!(n.data, Some(serde_json::json!("JSONString")));
    // Node errors as the vendor's client types them.
    let detailed: Node =
        parse(r#"{ "nodeId": 533, "errors": [ { "questionId": 19063, "text": "Too old" } ] }"#);
    assert_eq!(detailed.errors[0].question_id(), Some(19063));
    assert_eq!(detailed.errors[0].text(), "Too old");
}

#[test]
fn question() {
    // `[ Answer ]` replaced by `[]`.
    let q: Question = parse(
        r#"{ "answers": [], "data": {}, "displayText": "string", "explanation": "string",
  "nodeId": 0, "questionId": 0, "title": "string" }"#,
    );
    assert_eq!(q.display_text.as_deref(), Some("string"));
    assert_eq!(q.algo_id, None);
}

#[test]
fn answer() {
    let a: Answer = parse(
        r#"{ "answerId": 0, "controlChecked": false, "controlType": "string", "controlValue": "string",
  "data": {}, "displayText": "string", "explanation": "string", "nodeId": 0, "questionId": 0 }"#,
    );
    assert_eq!(a.control_type, ControlType::Unknown("string".into()));
    let n: Answer = parse(
        r#"{ "answerId": 16309, "controlType": "Number", "controlValue": null, "data": {"Properties": {"Align": "AnswerLeft", "NumericKeypad": ""}}, "displayText": "years" }"#,
    );
    assert_eq!(n.control_type, ControlType::Number);
    assert_eq!(n.data.unwrap()["Properties"]["Align"], "AnswerLeft");
}

#[test]
fn respond_items() {
    let items: Vec<RespondItem> =
        parse(r#"[ { "nodeId": 533, "questionId": 19063, "answerId": 16309, "value": "38" } ]"#);
    assert_eq!(items[0].value.as_deref(), Some("38"));
}

#[test]
fn revisit_bodies() {
    // `int` replaced by numbers.
    let r: Revisit = parse(r#"{ "nodeId": 533, "algoId": 100 }"#);
    assert_eq!(r.node_id, 533);
    let c: ChatRevisit = parse(r#"{ "nodeId": 533, "algoId": 100, "assetId": 19063 }"#);
    assert_eq!(c.asset_id, 19063);
}

#[test]
fn conclusion() {
    let c: Conclusion = parse(
        r#"{
  "category1": "string", "subCategory": "string", "category2": "string",
  "title": "string", "moreDetail": "string", "priority": 0, "propertyPriority": 0,
  "information": false, "categoryTypeId": 0, "silent": false, "data": {},
  "algoId": 0, "nodeId": 0, "assetId": 0, "groupId": 0,
  "displayText": "string", "clinicalText": "string", "counter": 0, "nextNodeId": 0,
  "explanation": "string",
  "bullets": [ { "data": {}, "bulletId": 0, "bulletUniqueId": 0, "conclusionId": 0,
                 "priority": 0, "displayText": "string", "category2": "string" } ],
  "truncated": "string"
}"#,
    );
    assert_eq!(c.bullets.len(), 1);
    let a_and_e: Conclusion = parse(
        r#"{ "category1": "A&E", "title": "Go to A&E now|1|Get someone to drive you to A&E now...", "priority": 50014 }"#,
    );
    assert_eq!(a_and_e.headline(), Some("Go to A&E now"));
}

#[test]
fn chat_response() {
    // `[ Answer ]` replaced by `[]`.
    let c: ChatResponse = parse(
        r#"{
  "traversalId": "Guid", "algoId": 0, "nodeId": 0, "assessmentType": 0,
  "completed": false, "answerId": 0,
  "questions": [ { "algoId": 0, "nodeId": 0, "questionId": 0, "displayText": "string",
                   "title": "string", "explanation": "string", "data": {},
                   "answers": [] } ],
  "errors": [ { "text": "string", "questionId": 0 } ]
}"#,
    );
    assert_eq!(c.questions[0].algo_id, Some(0));
    assert_eq!(c.errors[0].question_id(), Some(0));
}

#[test]
fn conclusion_report() {
    // The documented sample is cut off after these two fields.
    let r: ConclusionReport = parse(
        r#"{ "highestPriority": 50014, "symptomConclusions": [ { "assetId": 1, "priority": 50014 } ] }"#,
    );
    assert_eq!(r.highest_priority, Some(50014));
    assert!(r.danger_bullets.is_empty());
}

#[test]
fn member() {
    let m: Member = parse(
        r#"{ "clientId": "string", "memberReference": "string", "memberId": "Guid", "traversalIds": ["Guid"] }"#,
    );
    assert_eq!(m.traversal_ids, ["Guid"]);
    let create: MemberCreate = parse(r#"{ "memberReference": "MEMBER_REFERENCE" }"#);
    assert_eq!(create.member_reference, "MEMBER_REFERENCE");
}

#[test]
fn risk_output() {
    let r: RiskOutput = parse(
        r#"{ "age": 38, "ageAtDeath": 85, "minimumAgeAtDeath": 91, "healthAge": 35,
  "minimumHealthAge": 29, "averageLifeExpectancy": 82, "maximumLifeExpectancy": 91,
  "gender": "F",
  "risks": [ { "name": "Breast cancer", "time": 42, "current": 9.69, "minimum": 6.57 } ],
  "checkableConclusions": [3497, 10076, 3505] }"#,
    );
    assert_eq!(r.risks[0].current, 9.69);
    assert_eq!(r.checkable_conclusions, [3497, 10076, 3505]);
}

#[test]
fn wellness_output() {
    let w: WellnessOutput = parse(
        r#"{ "scores": [ { "name": "Diet", "score": 25.0 } ], "checkableConclusions": [3566, 3579] }"#,
    );
    assert_eq!(w.scores[0].score, 25.0);
}

#[test]
fn algo_search() {
    // `string`/`int` replaced by values.
    let a: Vec<AlgoSearch> =
        parse(r#"[ { "algoName": "Chest pain", "assetId": 110, "keywords": ["chest pain"] } ]"#);
    assert_eq!(a[0].asset_id, 110);
}

#[test]
fn nulls_and_unknown_fields_are_accepted() {
    let r: TraversalResponse = parse(
        r#"{ "traversalId": "t", "nodes": null, "errors": null, "algoName": null, "previousDisabled": null,
             "somethingNew": {"x": 1} }"#,
    );
    assert!(r.nodes.is_empty() && r.errors.is_empty() && !r.previous_disabled);
    let n: Node = parse(
        r#"{ "nodeId": 1, "displayText": null, "title": null, "explanation": null, "data": null, "questions": [ { "questionId": 2, "answers": [ { "answerId": 3, "controlType": "Dropdown" }, { "answerId": 4, "controlType": "Slider" } ] } ] }"#,
    );
    assert_eq!(
        n.questions[0].answers[0].control_type,
        ControlType::Dropdown
    );
    assert_eq!(n.questions[0].answers[1].control_type.as_str(), "Slider");
}
