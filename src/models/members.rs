//! The models of the Members API: creating a member, a member, and their permanent history.

use serde::{Deserialize, Serialize};

use super::{InjectedHistory, InjectedHistoryType, nullable};

/// Body of `POST .../Members`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberCreate {
    /// Your id for the patient.
    pub member_reference: String,
}

/// A member (page `traversal-members`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Member {
    /// Your tenant.
    pub client_id: Option<String>,
    /// Your id for the patient.
    pub member_reference: String,
    /// HealthHero's id.
    pub member_id: Option<String>,
    /// Their traversals, oldest first.
    #[serde(deserialize_with = "nullable")]
    pub traversal_ids: Vec<String>,
}

/// A permanent answer kept for a member (page `traversal-members`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PermanentHistoryItem {
    /// The question's asset id.
    pub asset_id: i32,
    /// The answer's id, if it was an answer.
    pub answer_id: Option<i32>,
    /// The value.
    pub value: Option<String>,
    /// The traversal it came from.
    pub traversal_id: Option<String>,
    /// When.
    pub created_date: Option<String>,
}

impl PermanentHistoryItem {
    /// As injected history for a new traversal of an anonymous user.
    pub fn to_injected(&self) -> Option<InjectedHistory> {
        Some(InjectedHistory {
            traversal_id: self.traversal_id.clone(),
            asset_id: self.asset_id,
            answer_id: self.answer_id?,
            value: self.value.clone(),
            injected_history_type: InjectedHistoryType::PreAnswer,
            is_answered: true,
        })
    }
}
