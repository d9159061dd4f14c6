//! The sandbox's own wire types, written from the HealthHero documentation (never shared with
//! the `healthhero` crate's models: an independent server is what catches a wrong model).

use serde::{Deserialize, Serialize};

/// `POST /Traversals` and `/ChatTraversals` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TraversalCreate {
    pub(crate) short_code: String,
    #[serde(default)]
    pub(crate) language: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) release: Option<String>,
    #[serde(default)]
    pub(crate) algo_id: Option<i32>,
    #[serde(default)]
    pub(crate) node_id: Option<i32>,
    #[serde(default)]
    pub(crate) member_reference: Option<String>,
    #[serde(default)]
    pub(crate) injected_history: Option<Vec<InjectedHistory>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum InjectedType {
    #[default]
    PreAnswer,
    PrePopulate,
}

impl<'de> Deserialize<'de> for InjectedType {
    /// Case-insensitive, as the vendor's own client sends `preanswer`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.to_ascii_lowercase().as_str() {
            "preanswer" => Ok(Self::PreAnswer),
            "prepopulate" => Ok(Self::PrePopulate),
            _ => Err(serde::de::Error::custom(format!(
                "unknown injectedHistoryType `{s}` (expected PreAnswer or PrePopulate)"
            ))),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InjectedHistory {
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) traversal_id: Option<String>,
    pub(crate) asset_id: i32,
    pub(crate) answer_id: i32,
    #[serde(default)]
    pub(crate) value: Option<String>,
    #[serde(default)]
    pub(crate) injected_history_type: InjectedType,
    #[serde(default = "yes")]
    pub(crate) is_answered: bool,
}

fn yes() -> bool {
    true
}

/// One element of the `respond` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RespondItem {
    pub(crate) node_id: i32,
    pub(crate) question_id: i32,
    pub(crate) answer_id: i32,
    #[serde(default)]
    pub(crate) value: Option<String>,
}

/// `revisit` body; `assetId` (the question) only for chat.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Revisit {
    pub(crate) node_id: i32,
    #[serde(default)]
    pub(crate) algo_id: Option<i32>,
    #[serde(default)]
    pub(crate) asset_id: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MemberCreate {
    pub(crate) member_reference: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TraversalResponse {
    pub(crate) traversal_id: String,
    pub(crate) algo_id: i32,
    pub(crate) nodes: Vec<NodeOut>,
    pub(crate) assessment_type: i32,
    pub(crate) algo_name: String,
    pub(crate) errors: Vec<String>,
    pub(crate) previous_disabled: bool,
    pub(crate) next_disabled: bool,
    pub(crate) language: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeOut {
    pub(crate) asset_id: i32,
    pub(crate) data: Option<serde_json::Value>,
    pub(crate) display_text: Option<String>,
    pub(crate) errors: Vec<String>,
    pub(crate) explanation: Option<String>,
    pub(crate) is_table: bool,
    pub(crate) node_id: i32,
    pub(crate) questions: Vec<QuestionOut>,
    pub(crate) title: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QuestionOut {
    pub(crate) answers: Vec<AnswerOut>,
    pub(crate) data: serde_json::Value,
    pub(crate) display_text: Option<String>,
    pub(crate) explanation: Option<String>,
    pub(crate) node_id: i32,
    pub(crate) question_id: i32,
    pub(crate) title: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AnswerOut {
    pub(crate) answer_id: i32,
    pub(crate) control_checked: bool,
    pub(crate) control_type: String,
    pub(crate) control_value: Option<String>,
    pub(crate) data: serde_json::Value,
    pub(crate) display_text: Option<String>,
    pub(crate) explanation: Option<String>,
    pub(crate) node_id: i32,
    pub(crate) question_id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Member {
    pub(crate) client_id: String,
    pub(crate) member_reference: String,
    pub(crate) member_id: String,
    pub(crate) traversal_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PermanentHistoryItem {
    pub(crate) asset_id: i32,
    pub(crate) answer_id: Option<i32>,
    pub(crate) value: Option<String>,
    pub(crate) traversal_id: String,
    pub(crate) created_date: String,
}
