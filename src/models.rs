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

use serde::{Deserialize, Deserializer};

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

// One module per API, as `api` declares them; every model is re-exported here, where users
// name it (`healthhero::models::X`). `nullable` and `string_enum!` above serve them all.
mod algos;
mod chat_traversals;
mod conclusions;
mod members;
mod reports;
mod traversals;

pub use algos::AlgoSearch;
pub use chat_traversals::{ChatResponse, ChatRevisit};
pub use conclusions::{Bullet, Conclusion, ConclusionReport, SummaryAnswer, SummaryQuestion};
pub use members::{Member, MemberCreate, PermanentHistoryItem};
pub use reports::{
    ComparisonSummary, HealthComparison, Risk, RiskOutput, Score, Snapshot, WellnessOutput,
};
pub use traversals::{
    Answer, AssessmentType, ControlType, InjectedHistory, InjectedHistoryType, Node, NodeError,
    Question, RespondItem, Revisit, TraversalCreate, TraversalResponse,
};
