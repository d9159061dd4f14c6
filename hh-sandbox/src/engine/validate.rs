//! How answers are checked: against the page, and each value against its control type.

use crate::content::{Answer, Node, Question, chrono_free::Date};
use crate::wire::RespondItem;

/// Errors for answers that are not on the current page.
pub(super) fn unknown_items(visible: &[(&Node, &Question)], items: &[RespondItem]) -> Vec<String> {
    items
        .iter()
        .filter(|item| {
            !visible.iter().any(|(n, q)| {
                q.question_id == item.question_id
                    && n.node_id == item.node_id
                    && q.answers.iter().any(|a| a.answer_id == item.answer_id)
            })
        })
        .map(|item| {
            format!(
                "Answer {} to question {} on node {} is not part of the current page",
                item.answer_id, item.question_id, item.node_id
            )
        })
        .collect()
}

/// What is wrong with the value given for one answer, by its control type.
pub(super) fn value_error(
    answer: &Answer,
    value: &str,
    label: &str,
    optional: bool,
) -> Option<String> {
    match answer.control_type.as_str() {
        "Number" | "Range" => match value.parse::<f64>() {
            Ok(x)
                if x.is_finite()
                    && answer.min.is_none_or(|m| x >= m)
                    && answer.max.is_none_or(|m| x <= m) =>
            {
                None
            }
            _ => Some(match (answer.min, answer.max) {
                (Some(lo), Some(hi)) => format!(
                    "Please enter a number between {} and {} for: {label}",
                    trim_number(lo),
                    trim_number(hi)
                ),
                _ => format!("Please enter a number for: {label}"),
            }),
        },
        "Date" => match Date::parse(value) {
            Some(d) if d <= Date::today() => None,
            _ => Some(format!(
                "Please enter a date (YYYY-MM-DD) that is not in the future for: {label}"
            )),
        },
        "Text" | "Textarea" => {
            let len = value.chars().count();
            if len == 0 && !optional {
                Some(format!("Please enter some text for: {label}"))
            } else if answer.max_length.is_some_and(|m| len > m)
                || answer.min_length.is_some_and(|m| len < m)
            {
                Some(format!(
                    "Please enter between {} and {} characters for: {label}",
                    answer.min_length.unwrap_or(0),
                    answer.max_length.unwrap_or(usize::MAX)
                ))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A number as people write it: `5`, not `5.0`.
fn trim_number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}
