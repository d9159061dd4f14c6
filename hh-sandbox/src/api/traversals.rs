//! The Traversals and ChatTraversals controllers: create, page, respond, go back, and what
//! a traversal reports (conclusions, the conclusion report, the question summary, history).

// See the note on `Result<_, Response>` in `api`.
#![allow(clippy::result_large_err)]

use super::*;

/// `.../Traversals` and `.../ChatTraversals`: create (no id), or act on the traversal named.
pub(super) fn traversals(
    state: &State,
    chat: bool,
    tenant: &str,
    rest: &[String],
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let v3 = is_v3(headers);
    if rest.is_empty() {
        return create_traversal(state, chat, tenant, v3, body);
    }
    let Some(entry) = state.traversal(&rest[0]) else {
        return not_found(&format!("Traversal {} was not found", rest[0]));
    };
    let mut t = entry
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Another tenant's traversal, or a chat one under the paged path (or the reverse), is
    // not there for this caller.
    if !t.tenant.eq_ignore_ascii_case(tenant) || t.chat != chat {
        return not_found(&format!("Traversal {} was not found", rest[0]));
    }
    let action = rest.get(1).map(|a| a.to_ascii_lowercase());
    match action.as_deref() {
        None => ok_json(&t.response(&state.content, v3, Vec::new(), &HashMap::new())),
        Some("respond") => respond(state, &mut t, tenant, v3, body),
        Some("previous") => previous(state, &mut t, v3),
        Some("revisit") => revisit(state, &mut t, chat, v3, body),
        Some(report) => what_it_reports(state, &t, report),
    }
}

/// `respond`: the answers to the current page; the next page, or the same one with errors.
fn respond(state: &State, t: &mut Traversal, tenant: &str, v3: bool, body: &[u8]) -> Response {
    let content = &state.content;
    let items: Vec<RespondItem> = match parse_json(body) {
        Ok(i) => i,
        Err(r) => return r,
    };
    match t.respond(content, &items) {
        Outcome::Moved { permanent } => {
            if let Some(member) = t.member.clone() {
                state.record_permanent(tenant, &member, &t.id, permanent);
            }
            ok_json(&t.response(content, v3, Vec::new(), &HashMap::new()))
        }
        Outcome::Invalid {
            errors,
            node_errors,
        } => ok_json(&t.response(content, v3, errors, &node_errors)),
    }
}

/// `previous`: one page back.
fn previous(state: &State, t: &mut Traversal, v3: bool) -> Response {
    let errors = if t.previous() {
        Vec::new()
    } else {
        vec!["There is no previous page to go back to".to_owned()]
    };
    ok_json(&t.response(&state.content, v3, errors, &HashMap::new()))
}

/// `revisit`: back to the page of a node (for chat, of one of its questions).
fn revisit(state: &State, t: &mut Traversal, chat: bool, v3: bool, body: &[u8]) -> Response {
    let content = &state.content;
    let revisit: Revisit = match parse_json(body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let _ = revisit.algo_id;
    let question = if chat { revisit.asset_id } else { None };
    let errors = if t.revisit(content, revisit.node_id, question) {
        Vec::new()
    } else {
        vec![format!(
            "Node {} has not been answered in this traversal",
            revisit.node_id
        )]
    };
    ok_json(&t.response(content, v3, errors, &HashMap::new()))
}

/// The read-only actions (lower-cased): conclusions, the conclusion report, the question
/// summary, the history lines and the track file. Any other action is 404.
fn what_it_reports(state: &State, t: &Traversal, action: &str) -> Response {
    match action {
        "conclusions" => ok_json(&conclusions(state, t)),
        "conclusion-report" => {
            if t.assessment_type != 1 {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "Conclusion reports are only available for symptom assessments",
                    Some(format!("{} is not an online triage product", t.short_code)),
                    None,
                );
            }
            ok_json(&conclusion_report(state, t))
        }
        "questions" => ok_json(&question_summary(state, t)),
        "summary" => ok_json(&json!({
            "traversalId": t.id,
            "shortCode": t.short_code,
            "assessmentType": t.assessment_type,
            "completed": t.is_complete(),
            "language": t.language,
            "questions": question_summary(state, t),
            "conclusions": conclusions(state, t),
        })),
        "history-lines" => ok_json(&history_lines(state, t)),
        "track-file" => track_file(t),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `track-file`: one line per answer given, `page,node,question,answer,value`.
fn track_file(t: &Traversal) -> Response {
    let lines: Vec<String> = t
        .answered()
        .iter()
        .flat_map(|(q, g)| {
            g.items.iter().map(move |(a, v)| {
                format!(
                    "{},{},{},{},{}",
                    g.page,
                    g.node_id,
                    q,
                    a,
                    v.clone().unwrap_or_default()
                )
            })
        })
        .collect();
    // "A string": sent as text, not as a JSON string.
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        lines.join("\n"),
    )
        .into_response()
}

/// `POST .../Traversals`: a new traversal, its first page the response.
fn create_traversal(state: &State, chat: bool, tenant: &str, v3: bool, body: &[u8]) -> Response {
    let request: TraversalCreate = match parse_json(body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if request.short_code.trim().is_empty() {
        return problem(
            StatusCode::BAD_REQUEST,
            "One or more validation errors occurred.",
            None,
            Some(json!({"ShortCode": ["The ShortCode field is required."]})),
        );
    }
    let mut injected = request.injected_history.unwrap_or_default();
    if let Some(member) = &request.member_reference
        && let Err(unknown) = inject_permanent_history(state, tenant, member, &mut injected)
    {
        return unknown;
    }
    let created = Traversal::create(
        &state.content,
        tenant,
        chat,
        &request.short_code,
        request.language.as_deref(),
        (request.algo_id, request.node_id),
        request.member_reference.clone(),
        injected,
    );
    let traversal = match created {
        Ok(t) => t,
        Err(e) => return create_problem(e),
    };
    if let Some(member) = &request.member_reference {
        state.add_member_traversal(tenant, member, &traversal.id);
    }
    let response = traversal.response(&state.content, v3, Vec::new(), &HashMap::new());
    state
        .traversals
        .insert(traversal.id.clone(), Arc::new(Mutex::new(traversal)));
    ok_json(&response)
}

/// Adds the member's permanent answers to the injected history, as `PreAnswer`; 400 if the
/// member does not exist.
fn inject_permanent_history(
    state: &State,
    tenant: &str,
    member: &str,
    injected: &mut Vec<crate::wire::InjectedHistory>,
) -> Result<(), Response> {
    match state.permanent_history(tenant, member) {
        // A member's permanent answers are injected silently, unless the caller sent them.
        Some(items) => {
            for item in items {
                if !injected.iter().any(|i| i.asset_id == item.asset_id)
                    && let Some(answer) = item.answer_id
                {
                    injected.push(crate::wire::InjectedHistory {
                        traversal_id: Some(item.traversal_id.clone()),
                        asset_id: item.asset_id,
                        answer_id: answer,
                        value: item.value.clone(),
                        injected_history_type: crate::wire::InjectedType::PreAnswer,
                        is_answered: true,
                    });
                }
            }
            Ok(())
        }
        None => Err(problem(
            StatusCode::BAD_REQUEST,
            "Unknown member",
            Some(format!(
                "Member {member} does not exist; create it with POST .../Members first"
            )),
            None,
        )),
    }
}

/// The 400 for a traversal the engine would not create.
fn create_problem(error: CreateError) -> Response {
    match error {
        CreateError::UnknownProduct(p) => problem(
            StatusCode::BAD_REQUEST,
            "Unknown product",
            Some(format!("No product has the short code {p}")),
            None,
        ),
        CreateError::UnknownLanguage(l) => problem(
            StatusCode::BAD_REQUEST,
            "Unknown language",
            Some(format!("The product has no {l} content")),
            None,
        ),
        CreateError::UnknownStart(s) => problem(
            StatusCode::BAD_REQUEST,
            "Unknown start",
            Some(format!("There is no {s} in this product")),
            None,
        ),
        CreateError::BadInjection(m) => problem(
            StatusCode::BAD_REQUEST,
            "Invalid injected history",
            Some(m),
            None,
        ),
    }
}

/// The reached conclusions as the API serves them: the content's fields plus where each was
/// reached.
pub(super) fn conclusions(state: &State, t: &Traversal) -> Vec<Value> {
    t.conclusions()
        .into_iter()
        .enumerate()
        .filter_map(|(i, (id, node))| {
            let mut c = state.content.conclusion(id)?.clone();
            let algo = state.content.node(node).map_or(0, |n| n.algo_id);
            c.insert("algoId".into(), algo.into());
            c.insert("nodeId".into(), node.into());
            c.insert("groupId".into(), 0.into());
            c.insert("counter".into(), (i + 1).into());
            c.insert("nextNodeId".into(), 0.into());
            c.insert("data".into(), json!({}));
            if let Some(Value::Array(bullets)) = c.get_mut("bullets") {
                for b in bullets.iter_mut() {
                    let bullet_id = b["bulletId"].as_i64().unwrap_or(0);
                    b["conclusionId"] = id.into();
                    b["bulletUniqueId"] = (i64::from(id) * 1000 + bullet_id).into();
                    b["data"] = json!({});
                }
            }
            Some(Value::Object(c))
        })
        .collect()
}

fn conclusion_report(state: &State, t: &Traversal) -> Value {
    let all = conclusions(state, t);
    let visible: Vec<&Value> = all.iter().filter(|c| c["silent"] != true).collect();
    let mut symptom: Vec<&Value> = visible
        .iter()
        .copied()
        .filter(|c| c["information"] != true)
        .collect();
    symptom.sort_by_key(|c| c["priority"].as_i64().unwrap_or(i64::MAX));
    let information: Vec<&Value> = visible
        .iter()
        .copied()
        .filter(|c| c["information"] == true)
        .collect();
    let reason = symptom.first().copied();
    let bullets = |list: &[&Value], kind: &str| -> Vec<Value> {
        list.iter()
            .flat_map(|c| c["bullets"].as_array().cloned().unwrap_or_default())
            .filter(|b| kind.is_empty() || b["category2"] == kind)
            .collect()
    };
    let title = reason
        .and_then(|r| r["title"].as_str())
        .map(|t| t.split('|').next().unwrap_or(t).to_owned());
    json!({
        "highestPriority": reason.map(|r| r["priority"].clone()).unwrap_or(Value::Null),
        "symptomConclusions": symptom,
        "reasonConclusionTitle": "Why we made this recommendation",
        "reasonConclusions": reason.into_iter().collect::<Vec<_>>(),
        "otherConclusionTitle": "Other things we considered",
        "otherConclusions": symptom.iter().skip(1).collect::<Vec<_>>(),
        "informationConclusionTitle": "Information for you",
        "informationConclusions": information,
        "contactBulletTitle": "Who to contact",
        "contactBullets": bullets(&symptom, "contact"),
        "dangerBulletTitle": "Get help urgently if",
        "dangerBullets": bullets(&symptom, "danger"),
        "reasonBulletTitle": "What you can do",
        "reasonBullets": bullets(&symptom, "reason"),
        "mainBullets": bullets(&reason.into_iter().collect::<Vec<_>>(), ""),
        "reasonCategory": reason.map(|r| r["category1"].clone()).unwrap_or(Value::Null),
        "reasonSubCat1": reason.map(|r| r["subCategory"].clone()).unwrap_or(Value::Null),
        "reasonDisposition": reason.map(|r| r["displayText"].clone()).unwrap_or(Value::Null),
        "messageTitle": title,
        "messageLevel": reason.and_then(|r| r["priority"].as_i64()).map_or(0, message_level),
        "messageDescription": reason.map(|r| r["explanation"].clone()).unwrap_or(Value::Null),
        "reasonTimeInMinutes": reason.and_then(|r| r["priority"].as_i64()).map_or(0, minutes_to_act),
    })
}

/// 1 (emergency) to 4 (routine), from the disposition's priority.
fn message_level(priority: i64) -> i64 {
    match priority {
        ..=50014 => 1,
        50015..=50019 => 2,
        50020..=50025 => 3,
        _ => 4,
    }
}

/// How soon to act on the disposition, in minutes (0: now).
fn minutes_to_act(priority: i64) -> i64 {
    match priority {
        50015..=50016 => 240,
        50017..=50019 => 480,
        50020..=50025 => 20_160,
        50026..=50030 => 1_440,
        _ => 0,
    }
}

fn question_summary(state: &State, t: &Traversal) -> Vec<Value> {
    let content = &state.content;
    t.answered()
        .into_iter()
        .filter_map(|(question_id, given)| {
            let (node, question) = content.question(question_id)?;
            let answers: Vec<Value> = given
                .items
                .iter()
                .map(|(answer_id, value)| {
                    let label = question
                        .answers
                        .iter()
                        .find(|a| a.answer_id == *answer_id)
                        .and_then(|a| a.display_text.clone());
                    json!({
                        "id": format!("{}-{}-{}", t.id, question_id, answer_id),
                        "traversalId": t.id,
                        "algoId": node.algo_id,
                        "groupId": 0,
                        "nodeId": given.node_id,
                        "assetId": question_id,
                        "nodeType": "Question",
                        "nodeTypeId": 1,
                        "answerId": answer_id,
                        "nextNodeId": 0,
                        "value": value,
                        "counter": given.counter,
                        "previousCounter": given.counter.saturating_sub(1),
                        "createdDateTime": given.at,
                        "displayText": label,
                        "summaryText": label,
                        "clinicalText": label,
                        "isAnswered": true,
                    })
                })
                .collect();
            Some(json!({
                "algoId": node.algo_id,
                "nodeId": given.node_id,
                "assetId": question_id,
                "groupId": 0,
                "displayText": question.display_text,
                "summaryText": question.display_text,
                "clinicalText": question.display_text,
                "nodeType": "Question",
                "nodeTypeId": 1,
                "answers": answers,
            }))
        })
        .collect()
}

fn history_lines(state: &State, t: &Traversal) -> Vec<String> {
    t.answered()
        .into_iter()
        .filter_map(|(question_id, given)| {
            let (_, question) = state.content.question(question_id)?;
            let text = question.display_text.clone()?;
            let answers: Vec<String> = given
                .items
                .iter()
                .map(|(a, v)| {
                    let label = question
                        .answers
                        .iter()
                        .find(|x| x.answer_id == *a)
                        .and_then(|x| x.display_text.clone())
                        .unwrap_or_default();
                    match v {
                        Some(v) if label.is_empty() => v.clone(),
                        Some(v) => format!("{v} {label}"),
                        None => label,
                    }
                })
                .collect();
            Some(format!("{text} {}", answers.join(", ")))
        })
        .collect()
}
