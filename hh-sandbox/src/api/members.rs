//! The Members controller: members and their permanent history.

// See the note on `Result<_, Response>` in `api`.
#![allow(clippy::result_large_err)]

use super::*;

pub(super) fn members(state: &State, tenant: &str, rest: &[String], body: &[u8]) -> Response {
    match rest {
        [] => {
            let request: MemberCreate = match parse_json(body) {
                Ok(r) => r,
                Err(r) => return r,
            };
            if request.member_reference.trim().is_empty() {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "One or more validation errors occurred.",
                    None,
                    Some(json!({"MemberReference": ["The MemberReference field is required."]})),
                );
            }
            match state.create_member(tenant, &request.member_reference) {
                Some(member) => ok_json(&member),
                None => problem(
                    StatusCode::CONFLICT,
                    "Member already exists",
                    Some(format!(
                        "Member {} already exists",
                        request.member_reference
                    )),
                    None,
                ),
            }
        }
        [reference] => match state.member(tenant, reference) {
            Some(m) => ok_json(&m),
            None => not_found(&format!("Member {reference} was not found")),
        },
        [reference, _] => match state.permanent_history(tenant, reference) {
            Some(items) => ok_json::<Vec<PermanentHistoryItem>>(&items),
            None => not_found(&format!("Member {reference} was not found")),
        },
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
