//! Request and response models of HealthHero's APIs, as HealthHero documents them at
//! <https://traversal-documentation.healthherotechnologies.co.uk/docs/> (each model names its page there) and, where those pages are
//! silent, as the vendor's own JavaScript client (`@doctorlink/traversal-core`) sends and reads
//! them.
//!
//! They accept what the real service sends: unknown fields are ignored, `null` is accepted
//! wherever the docs show it (strings become `None`, lists become empty), enums have an
//! `Unknown` fallback, and node errors may be plain strings or `{questionId, text}` objects.
//! Ids documented as GUIDs are `String`s, because the documentation's own examples use
//! placeholders such as `"Guid"`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `null` or missing becomes the type's default (an empty list, `false`, `0`).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Enums HealthHero sends as strings, kept open for values added later.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this version does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            /// Case-insensitive, as the service is.
            fn from(s: &str) -> Self {
                $(if s.eq_ignore_ascii_case($wire) { return Self::$variant; })*
                Self::Unknown(s.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self::from(String::deserialize(d)?.as_str()))
            }
        }
    };
}

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

/// `/reports/{id}/risks` (pages `hra-risk-output` and `hra-wellness-output`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RiskOutput {
    /// Actual age.
    pub age: i32,
    /// Predicted age at death.
    pub age_at_death: i32,
    /// Best achievable age at death.
    pub minimum_age_at_death: i32,
    /// Health age.
    pub health_age: i32,
    /// Best achievable health age.
    pub minimum_health_age: i32,
    /// Average life expectancy.
    pub average_life_expectancy: i32,
    /// Maximum life expectancy.
    pub maximum_life_expectancy: i32,
    /// `F` or `M`.
    pub gender: Option<String>,
    /// Risks per requested age; empty without `ages`.
    #[serde(deserialize_with = "nullable")]
    pub risks: Vec<Risk>,
    /// Conclusions that could improve the results (for what-if queries).
    #[serde(deserialize_with = "nullable")]
    pub checkable_conclusions: Vec<i32>,
}

/// One risk at one age.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Risk {
    /// E.g. `Heart disease`.
    pub name: String,
    /// The age it is computed for.
    pub time: i32,
    /// Percent risk now.
    pub current: f64,
    /// Percent risk if all advice is followed.
    pub minimum: f64,
}

/// `/reports/{id}/wellness` (pages `hra-risk-output` and `hra-wellness-output`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WellnessOutput {
    /// Scores out of 100.
    #[serde(deserialize_with = "nullable")]
    pub scores: Vec<Score>,
    /// Conclusions that could improve the scores.
    #[serde(deserialize_with = "nullable")]
    pub checkable_conclusions: Vec<i32>,
}

/// A wellness score.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Score {
    /// E.g. `Diet`.
    pub name: String,
    /// Out of 100.
    pub score: f64,
}

/// An HRA result kept for a member.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Snapshot {
    /// Snapshot id.
    pub id: i64,
    /// The traversal.
    pub traversal_id: Option<String>,
    /// The member.
    pub member_ref: Option<String>,
    /// The tenant.
    pub client_id: Option<String>,
    /// Risks.
    pub risk_output: Option<RiskOutput>,
    /// Wellness.
    pub wellness_output: Option<WellnessOutput>,
    /// Number conclusions.
    #[serde(deserialize_with = "nullable")]
    pub my_numbers: Vec<Conclusion>,
    /// When.
    pub created_date: Option<String>,
}

/// `/reports/{id}/compare/...`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HealthComparison {
    /// Direction of each figure.
    pub summary: ComparisonSummary,
    /// The newer result.
    pub current_snapshot: Option<Snapshot>,
    /// The older result.
    pub previous_snapshot: Option<Snapshot>,
}

/// Which way each figure moved.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ComparisonSummary {
    /// Per risk.
    #[serde(deserialize_with = "nullable")]
    pub risk: std::collections::BTreeMap<String, String>,
    /// Per wellness score.
    #[serde(deserialize_with = "nullable")]
    pub wellness: std::collections::BTreeMap<String, String>,
    /// Per number.
    #[serde(deserialize_with = "nullable")]
    pub my_numbers: std::collections::BTreeMap<String, String>,
}

/// An algorithm for symptom search (the vendor's JavaScript client).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AlgoSearch {
    /// Its name.
    pub algo_name: String,
    /// Its id.
    pub asset_id: i32,
    /// Search keywords.
    #[serde(deserialize_with = "nullable")]
    pub keywords: Vec<String>,
}
