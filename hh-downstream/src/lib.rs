//! Endpoints declared the way an hh user declares them, with every feature of
//! `#[healthhero_api]`. The tests in `tests/` call them against a loopback server and check the
//! exact request each one sends.
//!
//! The crate is built with `#![deny(warnings)]` and `#![forbid(unsafe_code)]`, so anything the
//! macro generates that trips a lint fails the build.

#![deny(warnings)]
#![forbid(unsafe_code)]

pub mod clinic;

use hh_runtime::{Bytes, Error, Response, healthhero_api};
use serde::{Deserialize, Serialize};

/// hh-runtime under another name, as a crate that re-exports its dependencies would have it.
pub use hh_runtime as hh;

/// Body of `create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraversalCreate {
    /// Which product to run.
    pub product_short_code: String,
    /// The patient's age.
    pub age: u32,
}

/// What the traversal endpoints answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraversalResponse {
    /// The traversal's id.
    pub traversal_id: String,
}

/// One answer sent to `respond`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RespondItem {
    /// The question answered.
    pub question_id: u32,
    /// The answer's value.
    pub value: String,
}

/// A form body.
#[derive(Debug, Clone, Serialize)]
pub struct Notes {
    /// Free text.
    pub text: String,
}

/// Query parameters sent together.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Filters {
    /// Page number.
    pub page: u32,
    /// Tags; repeated in the query.
    pub tags: Vec<String>,
    /// Omitted when `None`.
    pub language: Option<String>,
}

/// HRA risks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RiskOutput {
    /// Risk scores.
    pub risks: Vec<u32>,
}

/// Traversal endpoints, under a shared prefix, all sending `x-api-version: v3`.
#[healthhero_api(prefix = "/api/v1/<client_id>")]
#[header("x-api-version", "v3")]
pub trait Traversals {
    /// Starts a traversal.
    #[post("/Traversals")]
    async fn create(
        &self,
        #[body] request: &TraversalCreate,
        #[header("x-correlation-id")] correlation: &str,
    ) -> Result<TraversalResponse, Error>;

    /// Reads a traversal, with the status and headers of the answer.
    #[get("/Traversals/<id>")]
    async fn get(&self, id: &str) -> Result<Response<TraversalResponse>, Error>;

    /// Answers the current questions.
    #[post("/Traversals/<id>/respond")]
    #[header("x-static", "fixed value")]
    async fn respond(
        &self,
        id: &str,
        #[body] answers: &[RespondItem],
    ) -> Result<TraversalResponse, Error>;

    /// Deletes a traversal; the body of the answer is ignored.
    #[delete("/Traversals/<id>")]
    async fn delete(&self, id: u64) -> Result<(), Error>;

    /// Attaches notes, sent as a form; the answer is text.
    #[put("/Traversals/<id>/notes")]
    async fn notes(&self, id: u64, #[form] notes: &Notes) -> Result<String, Error>;

    /// Goes back; the answer is raw bytes.
    #[patch("/Traversals/<id>/revisit")]
    async fn revisit(&self, id: u64, #[body] answers: &[RespondItem]) -> hh_runtime::Result<Bytes>;
}

/// Reports, with queries of every kind.
#[healthhero_api]
pub trait Reports {
    /// Risks, with what-if conclusions.
    #[get("/api/v1/<client_id>/reports/<traversal_id>/risks")]
    async fn risks(
        &self,
        traversal_id: &str,
        #[query] ages: &[u32],
        #[query("conclusions")] picked: Option<Vec<u32>>,
        #[query(flatten)] filters: &Filters,
    ) -> Result<RiskOutput, Error>;

    /// A member of another tenant: an explicit `client_id` argument wins over the configured one.
    #[get("/api/v2/<client_id>/Members/<member_reference>")]
    async fn member(&self, client_id: &str, member_reference: &str) -> Result<String, Error>;

    /// The raw query key can differ from the argument name, and `r#` names work.
    #[get("/search")]
    async fn search(
        &self,
        #[query] r#type: &str,
        #[query("q")] text: Option<&str>,
    ) -> Result<(), Error>;
}

/// Declared against the runtime re-exported under another path.
#[hh_runtime::healthhero_api(crate = "crate::hh")]
pub trait ViaReexport {
    /// A plain GET.
    #[get("/ping")]
    async fn ping(&self) -> hh::Result<String>;
}

/// An annotated trait in a module where the prelude's names mean something else.
pub mod hygiene {
    /// Shadows `Result`.
    pub struct Result;
    /// Shadows `Ok`.
    pub struct Ok;
    /// Shadows `Err`.
    pub struct Err;
    /// Shadows `Option`.
    pub struct Option;
    /// Shadows `Some`.
    pub struct Some;
    /// Shadows `None`.
    pub struct None;
    /// Shadows `String`.
    pub struct String;
    /// Shadows `Vec`.
    pub struct Vec;
    /// Shadows `Box`.
    pub struct Box;

    /// Declared where nothing in the prelude can be taken for granted.
    #[hh_runtime::healthhero_api]
    pub trait Shadowed {
        /// A GET with a path value, queries and a header.
        #[get("/shadow/<id>")]
        async fn fetch(
            &self,
            id: &str,
            #[query] tags: ::core::option::Option<::std::vec::Vec<u32>>,
            #[header("x-trace")] trace: &str,
        ) -> hh_runtime::Result<::std::string::String>;

        /// A POST with a body.
        #[post("/shadow")]
        async fn send(
            &self,
            #[body] value: &[u32],
        ) -> ::core::result::Result<(), hh_runtime::Error>;
    }
}
