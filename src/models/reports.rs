//! The models of the HRA Reports API: risks, wellness scores, earlier results and comparisons.

use serde::{Deserialize, Serialize};

use super::{Conclusion, nullable};

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
