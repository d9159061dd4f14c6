//! HealthHero's documented endpoints (Traversals, ChatTraversals, Members, HRA reports and the
//! Algos search of <https://traversal-documentation.healthherotechnologies.co.uk/docs/>), declared once with
//! `#[healthhero_api]`.

use hh_runtime::{Error, healthhero_api};

use crate::models::{
    AlgoSearch, ChatRevisit, Conclusion, ConclusionReport, HealthComparison, Member, MemberCreate,
    PermanentHistoryItem, RespondItem, Revisit, RiskOutput, Snapshot, SummaryQuestion,
    TraversalCreate, TraversalResponse, WellnessOutput,
};

/// The Traversals controller: a paged assessment that may show several nodes per page.
#[healthhero_api(prefix = "/api/v1/<client_id>")]
pub trait Traversals {
    /// Starts a traversal of a product.
    #[post("/Traversals")]
    async fn create(&self, #[body] request: &TraversalCreate) -> Result<TraversalResponse, Error>;

    /// The traversal's current state (to resume it).
    #[get("/Traversals/<traversal_id>")]
    async fn get(&self, traversal_id: &str) -> Result<TraversalResponse, Error>;

    /// Answers the current page. Validation problems come back in the response's `errors`.
    ///
    /// Never resent after it may have reached the server: a second delivery would answer
    /// whichever page the first one moved the traversal to.
    #[post("/Traversals/<traversal_id>/respond")]
    async fn respond(
        &self,
        traversal_id: &str,
        #[body] answers: &[RespondItem],
    ) -> Result<TraversalResponse, Error>;

    /// Goes back to an earlier node; later answers must be given again.
    ///
    /// `#[idempotent]`: the body names the node to go back to, so a second delivery lands on
    /// the same page, and a failed attempt is retried like a GET.
    #[post("/Traversals/<traversal_id>/revisit")]
    #[idempotent]
    async fn revisit(
        &self,
        traversal_id: &str,
        #[body] revisit: &Revisit,
    ) -> Result<TraversalResponse, Error>;

    /// Goes back one page.
    ///
    /// Not marked idempotent: it moves relative to where the traversal is, so a second
    /// delivery would go back two pages. A failed attempt is returned, not resent.
    #[post("/Traversals/<traversal_id>/previous")]
    async fn previous(&self, traversal_id: &str) -> Result<TraversalResponse, Error>;

    /// The conclusions reached.
    #[get("/Traversals/<traversal_id>/conclusions")]
    async fn conclusions(&self, traversal_id: &str) -> Result<Vec<Conclusion>, Error>;

    /// The symptom report (online-triage products only).
    #[get("/Traversals/<traversal_id>/conclusion-report")]
    async fn conclusion_report(&self, traversal_id: &str) -> Result<ConclusionReport, Error>;

    /// The questions asked and the answers given.
    #[get("/Traversals/<traversal_id>/questions")]
    async fn questions(&self, traversal_id: &str) -> Result<Vec<SummaryQuestion>, Error>;

    /// The full summary (its shape is not documented).
    #[get("/Traversals/<traversal_id>/summary")]
    async fn summary(&self, traversal_id: &str) -> Result<serde_json::Value, Error>;

    /// The history lines (their shape is not documented).
    #[get("/Traversals/<traversal_id>/history-lines")]
    async fn history_lines(&self, traversal_id: &str) -> Result<serde_json::Value, Error>;

    /// The track file, as text.
    #[get("/Traversals/<traversal_id>/track-file")]
    async fn track_file(&self, traversal_id: &str) -> Result<String, Error>;
}

/// The ChatTraversals controller: the same engine, one question per response.
#[healthhero_api(prefix = "/api/v1/<client_id>")]
pub trait ChatTraversals {
    /// Starts a chat traversal.
    #[post("/ChatTraversals")]
    async fn create(&self, #[body] request: &TraversalCreate) -> Result<TraversalResponse, Error>;

    /// The current question.
    #[get("/ChatTraversals/<traversal_id>")]
    async fn get(&self, traversal_id: &str) -> Result<TraversalResponse, Error>;

    /// Answers the current question. Never resent, like [`Traversals::respond`].
    #[post("/ChatTraversals/<traversal_id>/respond")]
    async fn respond(
        &self,
        traversal_id: &str,
        #[body] answers: &[RespondItem],
    ) -> Result<TraversalResponse, Error>;

    /// Goes back to an earlier question. `#[idempotent]`, like [`Traversals::revisit`]: the
    /// body names the question.
    #[post("/ChatTraversals/<traversal_id>/revisit")]
    #[idempotent]
    async fn revisit(
        &self,
        traversal_id: &str,
        #[body] revisit: &ChatRevisit,
    ) -> Result<TraversalResponse, Error>;

    /// The conclusions reached.
    #[get("/ChatTraversals/<traversal_id>/conclusions")]
    async fn conclusions(&self, traversal_id: &str) -> Result<Vec<Conclusion>, Error>;

    /// The symptom report.
    #[get("/ChatTraversals/<traversal_id>/conclusion-report")]
    async fn conclusion_report(&self, traversal_id: &str) -> Result<ConclusionReport, Error>;

    /// The questions asked and the answers given.
    #[get("/ChatTraversals/<traversal_id>/questions")]
    async fn questions(&self, traversal_id: &str) -> Result<Vec<SummaryQuestion>, Error>;

    /// The full summary (its shape is not documented).
    #[get("/ChatTraversals/<traversal_id>/summary")]
    async fn summary(&self, traversal_id: &str) -> Result<serde_json::Value, Error>;

    /// The history lines (their shape is not documented).
    #[get("/ChatTraversals/<traversal_id>/history-lines")]
    async fn history_lines(&self, traversal_id: &str) -> Result<serde_json::Value, Error>;

    /// The track file, as text.
    #[get("/ChatTraversals/<traversal_id>/track-file")]
    async fn track_file(&self, traversal_id: &str) -> Result<String, Error>;
}

/// The Members controller: your patients, and their permanent history.
#[healthhero_api(prefix = "/api/v1/<client_id>")]
pub trait Members {
    /// Creates a member; do it before starting a traversal with their reference.
    #[post("/Members")]
    async fn create(&self, #[body] member: &MemberCreate) -> Result<Member, Error>;

    /// A member and their traversals.
    #[get("/Members/<member_reference>")]
    async fn get(&self, member_reference: &str) -> Result<Member, Error>;

    /// The answers kept for the member across traversals.
    #[get("/Members/<member_reference>/permanent-history")]
    async fn permanent_history(
        &self,
        member_reference: &str,
    ) -> Result<Vec<PermanentHistoryItem>, Error>;
}

/// The Health Risk Assessment reports of a completed HRA traversal (a separate service).
#[healthhero_api(prefix = "/api/v1/<client_id>")]
pub trait Reports {
    /// Health age and risks; `ages` adds risks at those ages, `conclusions` asks "what if the
    /// user followed this advice" (ids from `checkable_conclusions`).
    #[get("/reports/<traversal_id>/risks")]
    async fn risks(
        &self,
        traversal_id: &str,
        #[query] ages: &[i32],
        #[query] conclusions: &[i32],
    ) -> Result<RiskOutput, Error>;

    /// Wellness scores, with optional what-if `conclusions`.
    #[get("/reports/<traversal_id>/wellness")]
    async fn wellness(
        &self,
        traversal_id: &str,
        #[query] conclusions: &[i32],
    ) -> Result<WellnessOutput, Error>;

    /// The member's earlier results.
    #[get("/reports/<traversal_id>/previous")]
    async fn previous(&self, traversal_id: &str) -> Result<Vec<Snapshot>, Error>;

    /// This result against an earlier one, with risks at `risk_at_age`.
    #[get("/reports/<traversal_id>/compare/<compare_traversal_id>/<risk_at_age>")]
    async fn compare(
        &self,
        traversal_id: &str,
        compare_traversal_id: &str,
        risk_at_age: u32,
    ) -> Result<HealthComparison, Error>;
}

/// The online-triage Algos service (symptom search; a separate service).
#[healthhero_api]
pub trait Algos {
    /// Every algorithm with its search keywords.
    #[get("/Algos")]
    async fn list(&self) -> Result<Vec<AlgoSearch>, Error>;
}
