//! The model of the Algos API: an algorithm with its search keywords.

use serde::{Deserialize, Serialize};

use super::nullable;

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
