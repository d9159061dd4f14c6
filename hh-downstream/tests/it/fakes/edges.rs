//! The edges of serving a fake: optional query values and bodies, problem details, two fakes
//! of one trait, replies the wire cannot carry, a method removed by `#[cfg]`, and a method a
//! served path lacks. A trait of this test's own, so that the
//! clinic's API stays what README shows.

use hh_runtime::{Error, ProblemDetails, StatusCode, healthhero_api};
use hh_sandbox::Sandbox;
use serde::{Deserialize, Serialize};

use crate::support::sandbox_builder;

/// A note, sent as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Note {
    /// Its text.
    text: String,
}

/// Endpoints whose arguments and replies sit at the edges of what the wire says.
#[healthhero_api(prefix = "/edges", serve)]
trait Edges {
    /// Never compiled: its route goes with it, and the routes of the endpoints after it still
    /// reach their own handlers (every test here calls one of them).
    #[cfg(any())]
    #[get("/gone")]
    async fn gone(&self) -> Result<(), Error>;

    /// Optional query values: a string (which may be empty) and a number.
    #[get("/search")]
    async fn search(
        &self,
        #[query] name: Option<&str>,
        #[query] limit: Option<u32>,
    ) -> Result<Vec<String>, Error>;

    /// An optional JSON body.
    #[put("/notes/<id>")]
    async fn note(&self, id: u32, #[body] note: Option<&Note>) -> Result<(), Error>;

    /// A code, read back with a `FromStr` of the user's that panics on some input.
    #[get("/codes/<code>")]
    async fn code(&self, code: &Code) -> Result<(), Error>;

    /// A text that may be absent.
    #[get("/texts/<id>")]
    async fn text(&self, id: u32) -> Result<Option<String>, Error>;
}

/// A path value whose `FromStr` panics on `boom`: a bug in the user's own type.
#[derive(Debug, Clone, PartialEq)]
struct Code(String);

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Code {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        assert_ne!(s, "boom", "a code that blows up");
        Ok(Code(s.to_owned()))
    }
}

async fn served(fakes: &[&EdgesFake]) -> (Sandbox, EdgesClient) {
    let sandbox = Sandbox::start().await.unwrap();
    for fake in fakes {
        sandbox.serve(*fake);
    }
    let client = sandbox_builder(&sandbox).build().unwrap();
    (sandbox, EdgesClient::new(client))
}

#[tokio::test]
async fn optional_query_values_and_bodies_round_trip() {
    let fake = EdgesFake::new();
    let (_sandbox, client) = served(&[&fake]).await;
    fake.search.always(|_| Ok(Vec::new()));
    client.search(Some(""), Some(0)).await.unwrap();
    client.search(None, None).await.unwrap();
    client.search(Some("ü & =?"), Some(7)).await.unwrap();
    let seen: Vec<_> = fake
        .search
        .calls()
        .into_iter()
        .map(|c| (c.name, c.limit))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(String::new()), Some(0)),
            (None, None),
            (Some("ü & =?".to_owned()), Some(7)),
        ]
    );

    fake.note.always(|_| Ok(()));
    let note = Note { text: "x".into() };
    client.note(1, Some(&note)).await.unwrap();
    client.note(2, None).await.unwrap();
    let bodies: Vec<_> = fake.note.calls().into_iter().map(|c| c.note).collect();
    assert_eq!(bodies, [Some(note), None]);
    fake.verify();
}

#[tokio::test]
async fn a_problem_reply_reaches_the_client_as_problem_details() {
    let fake = EdgesFake::new();
    let (_sandbox, client) = served(&[&fake]).await;
    let mut problem = ProblemDetails::new("Search is closed");
    problem.detail = Some("try after 18:00".into());
    fake.search.returns(Err(Error::from_problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        &problem,
    )));
    let e = client.search(None, None).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::UNPROCESSABLE_ENTITY));
    let sent = e.problem().unwrap();
    assert_eq!(sent.title.as_deref(), Some("Search is closed"));
    assert_eq!(sent.detail.as_deref(), Some("try after 18:00"));
    assert_eq!(sent.status, Some(422));
    fake.verify();
}

#[tokio::test]
async fn of_two_fakes_of_one_trait_the_first_served_answers() {
    let first = EdgesFake::new();
    let second = EdgesFake::new();
    let (_sandbox, client) = served(&[&first, &second]).await;
    first.text.returns(Ok(Some("first".into())));
    assert_eq!(client.text(1).await.unwrap().as_deref(), Some("first"));
    assert_eq!(second.text.call_count(), 0);
    first.verify();
    second.verify();
}

#[tokio::test]
async fn a_reply_the_wire_cannot_carry_fails_the_call_and_the_fake() {
    let fake = EdgesFake::new();
    let (_sandbox, client) = served(&[&fake]).await;
    // `Some("")` is an empty body, which the client reads as `None`: not sent as it is.
    fake.text.returns(Ok(Some(String::new())));
    let e = client.text(1).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(
        fake.problems(),
        [
            "Edges.text: the reply could not be sent: a `Some(..)` reply whose body is empty or `null` reads back as `None` over the wire; script `Ok(None)`, or a value with a body"
        ]
    );
    // In process the same reply is what it is.
    fake.text.returns(Ok(Some(String::new())));
    assert_eq!(Edges::text(&fake, 1).await.unwrap().as_deref(), Some(""));
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify())).is_err());
}

#[tokio::test]
async fn a_served_path_under_a_method_it_lacks_is_a_405_naming_the_others() {
    let fake = EdgesFake::new();
    let (sandbox, _client) = served(&[&fake]).await;
    let url = format!("{}/edges/texts/1", sandbox.api_url());
    let answer = reqwest::Client::new().post(&url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers()["allow"], "GET");
    // A path no route has stays a 404.
    let url = format!("{}/edges/nowhere", sandbox.api_url());
    let answer = reqwest::Client::new().post(&url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert!(fake.log_of_calls().is_empty());
    fake.verify();
}

#[tokio::test]
async fn a_panic_in_a_users_from_str_is_a_400_and_a_problem() {
    let fake = EdgesFake::new();
    let (_sandbox, client) = served(&[&fake]).await;
    fake.code.always(|_| Ok(()));
    client.code(&Code("fine".into())).await.unwrap();
    let e = client.code(&Code("boom".into())).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
    let problems = fake.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("Edges.code: the request could not be read: reading it panicked:")
            && problems[0].contains("a code that blows up"),
        "{problems:?}"
    );
    assert_eq!(fake.code.call_count(), 1);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify())).is_err());
}

#[tokio::test]
async fn status_replies_over_the_wire_a_redirect_sent_a_success_refused() {
    let fake = EdgesFake::new();
    let (_sandbox, client) = served(&[&fake]).await;
    // A 3xx is an error the client returns (it follows no redirect): sent as it is.
    fake.text
        .returns(Err(Error::from_status(StatusCode::FOUND, "moved")));
    let e = client.text(1).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::FOUND));
    assert_eq!(e.body_text(), Some("moved"));
    assert!(fake.problems().is_empty());
    // A 2xx is not an error the client returns: a 500, and one problem.
    fake.text
        .returns(Err(Error::from_status(StatusCode::OK, "")));
    let e = client.text(2).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(
        fake.problems(),
        [
            "Edges.text: an `Err` status reply of 200 OK is one the client never returns (it reads a 1xx or 2xx answer as a success); script `Ok(..)`, or a status of 300 or more"
        ]
    );
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.verify())).is_err());
}
