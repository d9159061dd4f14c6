//! The models of the Traversals API that ChatTraversals shares: the request that starts a
//! traversal, the page it shows (nodes, questions, answers), and the answers sent back.

use std::fmt;

// `string_enum!` expands to impls that name the serde traits and `fmt` where it is invoked.
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::nullable;

string_enum! {
    /// How an answer is shown and what it takes.
    ControlType {
        /// Tick any number of these.
        Checkbox = "Checkbox",
        /// Pick one.
        Radio = "Radio",
        /// A line of text.
        Text = "Text",
        /// A number, validated against `min`/`max` by the server.
        Number = "Number",
        /// A date, `YYYY-MM-DD`.
        Date = "Date",
        /// A number on a slider between `min` and `max`.
        Range = "Range",
        /// Not shown; carries a value set by the content.
        Hidden = "Hidden",
        /// Multi-line text (API v3 only, `x-api-version: v3`).
        Textarea = "Textarea",
        /// A symptom-search drop-down fed by the Algos service.
        Dropdown = "Dropdown",
    }
}

string_enum! {
    /// How injected history is applied.
    InjectedHistoryType {
        /// Answer the question silently; it is not shown.
        PreAnswer = "PreAnswer",
        /// Show the question with this answer already chosen.
        PrePopulate = "PrePopulate",
    }
}

// Written out: the enum comes from `string_enum!`, which derives no `Default`.
#[allow(clippy::derivable_impls)]
impl Default for InjectedHistoryType {
    fn default() -> Self {
        Self::PreAnswer
    }
}

/// The kind of assessment a traversal runs (`assessmentType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssessmentType(pub i32);

impl AssessmentType {
    /// Online triage / symptom checker: has a conclusion report.
    pub const SYMPTOM_CHECKER: AssessmentType = AssessmentType(1);
    /// Health risk assessment: has HRA reports.
    pub const HEALTH_ASSESSMENT: AssessmentType = AssessmentType(2);

    /// Whether this is an online-triage symptom assessment.
    pub fn is_symptom_checker(self) -> bool {
        self == Self::SYMPTOM_CHECKER
    }

    /// Whether this is a health risk assessment.
    pub fn is_health_assessment(self) -> bool {
        self == Self::HEALTH_ASSESSMENT
    }
}

/// Body of `POST .../Traversals` and `.../ChatTraversals`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraversalCreate {
    /// The product's short code (the only required field), e.g. `"SYMPTOMS"` or `"HRA"`.
    pub short_code: String,
    /// Content language, when not the product's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Content release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Start at this algorithm (experts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algo_id: Option<i32>,
    /// Start at this node (experts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<i32>,
    /// Your patient id; the member must exist. Omit for an anonymous traversal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_reference: Option<String>,
    /// Answers to pre-set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_history: Option<Vec<InjectedHistory>>,
}

impl TraversalCreate {
    /// A request for `short_code` with nothing else set.
    pub fn new(short_code: impl Into<String>) -> Self {
        Self {
            short_code: short_code.into(),
            ..Self::default()
        }
    }

    /// For this member.
    pub fn member(mut self, reference: impl Into<String>) -> Self {
        self.member_reference = Some(reference.into());
        self
    }

    /// In this language.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// With one more injected answer.
    pub fn inject(mut self, history: InjectedHistory) -> Self {
        self.injected_history
            .get_or_insert_with(Vec::new)
            .push(history);
        self
    }
}

/// A pre-set answer (page `injected-history`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InjectedHistory {
    /// The traversal the answer came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traversal_id: Option<String>,
    /// The question's id.
    pub asset_id: i32,
    /// The answer's id.
    pub answer_id: i32,
    /// The value, for Text, Date and Number answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// How it is applied (default `PreAnswer`).
    #[serde(default)]
    pub injected_history_type: InjectedHistoryType,
    /// Whether this answer is the chosen one.
    #[serde(default)]
    pub is_answered: bool,
}

/// What a traversal shows now (page `traversal-response`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TraversalResponse {
    /// The traversal's id.
    pub traversal_id: String,
    /// The current algorithm.
    pub algo_id: i32,
    /// What to show; empty once the traversal is complete.
    #[serde(deserialize_with = "nullable")]
    pub nodes: Vec<Node>,
    /// The kind of assessment.
    pub assessment_type: AssessmentType,
    /// The algorithm's name.
    pub algo_name: Option<String>,
    /// Problems with the last request, such as answers that failed validation.
    #[serde(deserialize_with = "nullable")]
    pub errors: Vec<NodeError>,
    /// The user may not go back.
    #[serde(deserialize_with = "nullable")]
    pub previous_disabled: bool,
    /// The user may not answer.
    #[serde(deserialize_with = "nullable")]
    pub next_disabled: bool,
    /// The content language (`"DEFAULT"` for the product's default).
    pub language: Option<String>,
}

impl TraversalResponse {
    /// Whether the traversal has ended: no nodes left, or neither forward nor back allowed.
    pub fn is_complete(&self) -> bool {
        self.nodes.is_empty() || (self.next_disabled && self.previous_disabled)
    }

    /// Every validation message, of the traversal and of its nodes.
    pub fn all_errors(&self) -> impl Iterator<Item = &NodeError> {
        self.errors
            .iter()
            .chain(self.nodes.iter().flat_map(|n| n.errors.iter()))
    }

    /// Every question on the page, in order.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.nodes.iter().flat_map(|n| n.questions.iter())
    }
}

/// A validation message: a string in the documentation, `{questionId, text}` in the vendor's
/// own client; both are accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NodeError {
    /// A message.
    Text(String),
    /// A message about one question.
    Detailed {
        /// The message.
        text: String,
        /// The question it is about.
        #[serde(rename = "questionId", default)]
        question_id: Option<i32>,
    },
}

impl NodeError {
    /// The message.
    pub fn text(&self) -> &str {
        match self {
            NodeError::Text(t) | NodeError::Detailed { text: t, .. } => t,
        }
    }

    /// The question it is about, when the server said.
    pub fn question_id(&self) -> Option<i32> {
        match self {
            NodeError::Text(_) => None,
            NodeError::Detailed { question_id, .. } => *question_id,
        }
    }
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// One node of a page (page `node`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Node {
    /// The node's id.
    pub node_id: i32,
    /// The node's asset id.
    pub asset_id: i32,
    /// A message to show.
    pub display_text: Option<String>,
    /// The title.
    pub title: Option<String>,
    /// Help text.
    pub explanation: Option<String>,
    /// Content authors' UI hints: a JSON string or object, or `null`.
    pub data: Option<serde_json::Value>,
    /// Show the questions as a table.
    #[serde(deserialize_with = "nullable")]
    pub is_table: bool,
    /// Validation problems of this node.
    #[serde(deserialize_with = "nullable")]
    pub errors: Vec<NodeError>,
    /// The questions.
    #[serde(deserialize_with = "nullable")]
    pub questions: Vec<Question>,
}

/// A question (page `question`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Question {
    /// The question's id (its asset id).
    pub question_id: i32,
    /// The node it belongs to.
    pub node_id: i32,
    /// The algorithm (only some versions send it).
    pub algo_id: Option<i32>,
    /// The question text.
    pub display_text: Option<String>,
    /// The title.
    pub title: Option<String>,
    /// Help text.
    pub explanation: Option<String>,
    /// UI hints.
    pub data: Option<serde_json::Value>,
    /// The possible answers.
    #[serde(deserialize_with = "nullable")]
    pub answers: Vec<Answer>,
}

/// A possible answer (page `answer`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Answer {
    /// The answer's id.
    pub answer_id: i32,
    /// The question's id.
    pub question_id: i32,
    /// The node's id.
    pub node_id: i32,
    /// How it is shown.
    pub control_type: ControlType,
    /// The current value (Text, Number, Date, Range, Textarea, Hidden).
    pub control_value: Option<String>,
    /// Whether it is ticked (Checkbox, Radio).
    #[serde(deserialize_with = "nullable")]
    pub control_checked: bool,
    /// The label.
    pub display_text: Option<String>,
    /// Help text.
    pub explanation: Option<String>,
    /// UI hints.
    pub data: Option<serde_json::Value>,
    /// The least value (Number, Range).
    pub min: Option<f64>,
    /// The greatest value (Number, Range).
    pub max: Option<f64>,
}

impl Default for Answer {
    fn default() -> Self {
        Self {
            answer_id: 0,
            question_id: 0,
            node_id: 0,
            control_type: ControlType::Unknown(String::new()),
            control_value: None,
            control_checked: false,
            display_text: None,
            explanation: None,
            data: None,
            min: None,
            max: None,
        }
    }
}

impl Answer {
    /// This answer chosen, with `value` for Text/Number/Date/Range answers.
    pub fn respond(&self, value: Option<String>) -> RespondItem {
        RespondItem {
            node_id: self.node_id,
            question_id: self.question_id,
            answer_id: self.answer_id,
            value,
        }
    }
}

/// One answer sent to `.../respond` (page `quickstart`); the body is a list of them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RespondItem {
    /// The node.
    pub node_id: i32,
    /// The question.
    pub question_id: i32,
    /// The chosen answer.
    pub answer_id: i32,
    /// The value, for Text/Number/Date/Range answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Body of `Traversals/{id}/revisit` (the vendor's JavaScript client).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revisit {
    /// The node to go back to.
    pub node_id: i32,
    /// Its algorithm.
    pub algo_id: i32,
}
