//! The HRA reports: risks, wellness, previous snapshots and comparisons.

// See the note on `Result<_, Response>` in `api`.
#![allow(clippy::result_large_err)]

use super::*;

use super::traversals::conclusions;

fn query_ints(query: &str, key: &str) -> Result<Vec<i32>, Response> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| {
            v.trim().parse::<i32>().map_err(|_| {
                problem(
                    StatusCode::BAD_REQUEST,
                    "One or more validation errors occurred.",
                    None,
                    Some(json!({ key: [format!("The value '{v}' is not valid.")] })),
                )
            })
        })
        .collect()
}

/// `.../reports/{traversalId}/...`: the reports of a completed HRA traversal.
pub(super) fn reports(state: &State, tenant: &str, rest: &[String], query: &str) -> Response {
    let content = &state.content;
    let Some(entry) = state.traversal(&rest[0]) else {
        return not_found(&format!("Traversal {} was not found", rest[0]));
    };
    let t = entry
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !t.tenant.eq_ignore_ascii_case(tenant) {
        return not_found(&format!("Traversal {} was not found", rest[0]));
    }
    if let Err(r) = completed_hra(&t) {
        return r;
    }
    let conclusions_param = match query_ints(query, "conclusions") {
        Ok(c) => c,
        Err(r) => return r,
    };
    match rest[1].to_ascii_lowercase().as_str() {
        "risks" => {
            let ages = match query_ints(query, "ages") {
                Ok(a) => a,
                Err(r) => return r,
            };
            ok_json(&hra::risks(content, &t, &ages, &conclusions_param))
        }
        "wellness" => ok_json(&hra::wellness(content, &t, &conclusions_param)),
        "previous" => previous_snapshots(state, &t),
        _ => compare(state, tenant, rest, &entry, &t),
    }
}

/// 400 unless `t` is an HRA traversal with every question answered.
fn completed_hra(t: &Traversal) -> Result<(), Response> {
    if t.assessment_type != 2 {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "Not a health risk assessment",
            Some(format!(
                "Traversal {} is a {} traversal; reports need an HRA traversal",
                t.id, t.short_code
            )),
            None,
        ));
    }
    if !t.is_complete() {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "Health risk assessment not complete",
            Some(format!("Traversal {} has questions left to answer", t.id)),
            None,
        ));
    }
    Ok(())
}

/// `previous`: a snapshot of each of the member's other HRA traversals.
fn previous_snapshots(state: &State, t: &Traversal) -> Response {
    let others = state.member_hra_traversals(t, Some(&t.id));
    let snapshots: Vec<Value> = others
        .iter()
        .enumerate()
        .filter_map(|(i, other)| {
            let o = other.lock().ok()?;
            Some(hra::snapshot(
                &state.content,
                &o,
                i + 1,
                90,
                conclusions(state, &o),
            ))
        })
        .collect();
    ok_json(&snapshots)
}

/// `compare/{otherTraversalId}/{age}`: this traversal's snapshot against the other's.
/// `entry` is `t`'s own lock, held: comparing a traversal with itself must not lock it again.
fn compare(
    state: &State,
    tenant: &str,
    rest: &[String],
    entry: &Arc<Mutex<Traversal>>,
    t: &Traversal,
) -> Response {
    let content = &state.content;
    let Ok(age) = rest[3].parse::<i32>() else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid age",
            Some(format!("`{}` is not an age", rest[3])),
            None,
        );
    };
    let Some(other) = state.traversal(&rest[2]) else {
        return not_found(&format!("Traversal {} was not found", rest[2]));
    };
    if Arc::ptr_eq(&other, entry) {
        let snap = hra::snapshot(content, t, 1, age, conclusions(state, t));
        return ok_json(&hra::compare(snap.clone(), snap));
    }
    let o = other
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !o.tenant.eq_ignore_ascii_case(tenant) || o.assessment_type != 2 || !o.is_complete() {
        return not_found(&format!(
            "No completed HRA traversal {} for this tenant",
            rest[2]
        ));
    }
    let current = hra::snapshot(content, t, 2, age, conclusions(state, t));
    let previous = hra::snapshot(content, &o, 1, age, conclusions(state, &o));
    ok_json(&hra::compare(current, previous))
}
