//! What a traversal (paged or chat) reached and what it asked: its conclusions and their
//! bullets, the symptom report, and the questions with the answers given.

use serde::{Deserialize, Serialize};

use super::nullable;

/// A conclusion (page `conclusion`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Conclusion {
    /// The conclusion's id.
    pub asset_id: i32,
    /// Disposition or category, e.g. `A&E`.
    pub category1: Option<String>,
    /// E.g. `now`.
    pub sub_category: Option<String>,
    /// E.g. `doctor`.
    pub category2: Option<String>,
    /// Pipe-delimited title, e.g. `Go to A&E now|1|...`.
    pub title: Option<String>,
    /// Extra detail (XML rules for HRA numbers).
    pub more_detail: Option<String>,
    /// Lower is more urgent.
    pub priority: i32,
    /// Property priority.
    pub property_priority: i32,
    /// Informational only.
    #[serde(deserialize_with = "nullable")]
    pub information: bool,
    /// Category type.
    pub category_type_id: i32,
    /// Not for display.
    #[serde(deserialize_with = "nullable")]
    pub silent: bool,
    /// Content hints.
    pub data: Option<serde_json::Value>,
    /// Where it was reached: algorithm.
    pub algo_id: i32,
    /// Where it was reached: node.
    pub node_id: i32,
    /// Group.
    pub group_id: i32,
    /// Patient-facing text.
    pub display_text: Option<String>,
    /// Clinician-facing text.
    pub clinical_text: Option<String>,
    /// Counter.
    pub counter: i32,
    /// Next node.
    pub next_node_id: i32,
    /// Advice.
    pub explanation: Option<String>,
    /// Bullet points.
    #[serde(deserialize_with = "nullable")]
    pub bullets: Vec<Bullet>,
    /// Shortened explanation.
    pub truncated: Option<String>,
}

impl Conclusion {
    /// The first part of the pipe-delimited title.
    pub fn headline(&self) -> Option<&str> {
        self.title
            .as_deref()
            .map(|t| t.split('|').next().unwrap_or(t))
    }
}

/// A bullet point of a conclusion.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Bullet {
    /// The bullet's id.
    pub bullet_id: i32,
    /// Unique id.
    pub bullet_unique_id: i64,
    /// The conclusion it belongs to.
    pub conclusion_id: i32,
    /// Order.
    pub priority: i32,
    /// The text.
    pub display_text: Option<String>,
    /// Kind, e.g. `danger`, `contact`.
    pub category2: Option<String>,
    /// Content hints.
    pub data: Option<serde_json::Value>,
}

/// The symptom report of an online-triage traversal (page `conclusion-report`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConclusionReport {
    /// The most urgent priority reached.
    pub highest_priority: Option<i32>,
    /// The symptom conclusions.
    #[serde(deserialize_with = "nullable")]
    pub symptom_conclusions: Vec<Conclusion>,
    /// Heading for `reason_conclusions`.
    pub reason_conclusion_title: Option<String>,
    /// Why the recommendation was made.
    #[serde(deserialize_with = "nullable")]
    pub reason_conclusions: Vec<Conclusion>,
    /// Heading for `other_conclusions`.
    pub other_conclusion_title: Option<String>,
    /// Other conclusions.
    #[serde(deserialize_with = "nullable")]
    pub other_conclusions: Vec<Conclusion>,
    /// Heading for `information_conclusions`.
    pub information_conclusion_title: Option<String>,
    /// Information.
    #[serde(deserialize_with = "nullable")]
    pub information_conclusions: Vec<Conclusion>,
    /// Heading for `contact_bullets`.
    pub contact_bullet_title: Option<String>,
    /// Who to contact.
    #[serde(deserialize_with = "nullable")]
    pub contact_bullets: Vec<Bullet>,
    /// Heading for `danger_bullets`.
    pub danger_bullet_title: Option<String>,
    /// When to get help urgently.
    #[serde(deserialize_with = "nullable")]
    pub danger_bullets: Vec<Bullet>,
    /// Heading for `reason_bullets`.
    pub reason_bullet_title: Option<String>,
    /// What to do.
    #[serde(deserialize_with = "nullable")]
    pub reason_bullets: Vec<Bullet>,
    /// The main points.
    #[serde(deserialize_with = "nullable")]
    pub main_bullets: Vec<Bullet>,
    /// The recommendation's category.
    pub reason_category: Option<String>,
    /// Its sub-category.
    pub reason_sub_cat1: Option<String>,
    /// The disposition in words.
    pub reason_disposition: Option<String>,
    /// Message title.
    pub message_title: Option<String>,
    /// Message level.
    pub message_level: Option<i32>,
    /// Message.
    pub message_description: Option<String>,
    /// How soon to act, in minutes.
    pub reason_time_in_minutes: Option<i32>,
}

/// A question asked and its answers (the vendor's JavaScript client).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SummaryQuestion {
    /// Algorithm.
    pub algo_id: i32,
    /// Node.
    pub node_id: i32,
    /// The question's id.
    pub asset_id: i32,
    /// Group.
    pub group_id: i32,
    /// The question text.
    pub display_text: Option<String>,
    /// Summary text.
    pub summary_text: Option<String>,
    /// Clinician-facing text.
    pub clinical_text: Option<String>,
    /// Node type.
    pub node_type: Option<String>,
    /// Node type id.
    pub node_type_id: i32,
    /// The answers given.
    #[serde(deserialize_with = "nullable")]
    pub answers: Vec<SummaryAnswer>,
}

/// An answer given (the vendor's JavaScript client).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SummaryAnswer {
    /// Record id.
    pub id: Option<String>,
    /// The traversal.
    pub traversal_id: Option<String>,
    /// Algorithm.
    pub algo_id: i32,
    /// Group.
    pub group_id: i32,
    /// Node.
    pub node_id: i32,
    /// The question's id.
    pub asset_id: i32,
    /// Node type.
    pub node_type: Option<String>,
    /// Node type id.
    pub node_type_id: i32,
    /// The answer's id.
    pub answer_id: i32,
    /// The next node.
    pub next_node_id: i32,
    /// The value given.
    pub value: Option<String>,
    /// Counter.
    pub counter: i32,
    /// Previous counter.
    pub previous_counter: i32,
    /// When it was answered.
    pub created_date_time: Option<String>,
    /// The answer's label.
    pub display_text: Option<String>,
    /// Summary text.
    pub summary_text: Option<String>,
    /// Clinician-facing text.
    pub clinical_text: Option<String>,
    /// Whether it was chosen.
    #[serde(deserialize_with = "nullable")]
    pub is_answered: bool,
}
