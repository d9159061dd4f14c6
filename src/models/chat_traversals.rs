//! The models of the ChatTraversals API of its own: its revisit body and the chat response of
//! the vendor's v2 client.

use serde::{Deserialize, Serialize};

use super::{AssessmentType, NodeError, Question, nullable};

/// Body of `ChatTraversals/{id}/revisit` (the vendor's JavaScript client).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatRevisit {
    /// The node to go back to.
    pub node_id: i32,
    /// Its algorithm.
    pub algo_id: i32,
    /// The question to go back to.
    pub asset_id: i32,
}

/// The chat response of the vendor's v2 client (the vendor's JavaScript client).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChatResponse {
    /// The traversal's id.
    pub traversal_id: String,
    /// The algorithm.
    pub algo_id: i32,
    /// The node.
    pub node_id: i32,
    /// The kind of assessment.
    pub assessment_type: AssessmentType,
    /// Whether it has ended.
    #[serde(deserialize_with = "nullable")]
    pub completed: bool,
    /// The last answer.
    pub answer_id: i32,
    /// The conversation so far; the last one is current.
    #[serde(deserialize_with = "nullable")]
    pub questions: Vec<Question>,
    /// Problems with the last answer.
    #[serde(deserialize_with = "nullable")]
    pub errors: Vec<NodeError>,
}
