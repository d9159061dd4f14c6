//! What each return type means, decided by what the type is, not how it is spelt, level by
//! level: hh's `Response<T>` (status and headers around `T`), `Bytes` (the raw body), std's
//! `String` (the body as text) and `Option<T>` (absent on a 404 with problem details, a 204 or
//! `null`); any other type is decoded from JSON, a user's own types named `Response`, `Bytes`,
//! `String` or `Option` included, inside hh's or around them.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use hh_runtime::{Error, healthhero_api};
use serde::Deserialize;

use crate::support;

/// A user's own types, named as hh's are.
pub mod own {
    use serde::Deserialize;

    /// An envelope the user's API wraps every answer in.
    #[derive(Debug, PartialEq, Deserialize)]
    pub struct Response<T> {
        /// The API's own status word.
        pub status: std::string::String,
        /// What was asked for.
        pub value: T,
    }

    /// A name, as the user's API sends it: a JSON string.
    #[derive(Debug, PartialEq, Deserialize)]
    pub struct String(pub std::string::String);

    /// Something the user's API may leave out, marked as such.
    #[derive(Debug, PartialEq, Deserialize)]
    pub struct Option<T> {
        /// What is there.
        pub some: T,
    }

    /// A size the user's API reports, in bytes.
    #[derive(Debug, PartialEq, Deserialize)]
    pub struct Bytes {
        /// How many.
        pub count: u64,
    }
}

/// A thing the API stores.
#[derive(Debug, PartialEq, Deserialize)]
pub struct Thing {
    /// Its name.
    pub name: String,
}

/// hh's types and the user's, side by side.
#[healthhero_api(client = "ShapesApi")]
pub trait Shapes {
    /// The user's envelope, from JSON.
    #[get("/wrapped")]
    async fn wrapped(&self) -> Result<own::Response<Thing>, Error>;

    /// The user's envelope, optional: a 404 with problem details is `None`.
    #[get("/wrapped/<id>")]
    async fn maybe_wrapped(&self, id: &str) -> Result<Option<own::Response<Thing>>, Error>;

    /// The user's size, from JSON.
    #[get("/size")]
    async fn size(&self) -> Result<own::Bytes, Error>;

    /// hh's response around the user's envelope: each level is what its type is.
    #[get("/wrapped")]
    async fn mixed(&self) -> Result<hh_runtime::Response<own::Response<Thing>>, Error>;

    /// The user's string, from JSON.
    #[get("/name")]
    async fn name(&self) -> Result<own::String, Error>;

    /// The user's option, from JSON.
    #[get("/optional")]
    async fn optional(&self) -> Result<own::Option<Thing>, Error>;

    /// hh's response: status and headers around the thing.
    #[get("/thing")]
    async fn thing(&self) -> Result<hh_runtime::Response<Thing>, Error>;

    /// hh's bytes: the raw body.
    #[get("/size")]
    async fn raw_size(&self) -> Result<hh_runtime::Bytes, Error>;

    /// hh's response around the body as text.
    #[get("/size")]
    async fn size_text(&self) -> Result<hh_runtime::Response<String>, Error>;
}

/// A user's crate that imports its own `Response` by its short name, as hh's docs write hh's.
pub mod short_names {
    use super::own::{Bytes, Response};
    use super::{Error, Thing, healthhero_api};

    /// The user's types, written as `Response<T>` and `Bytes`.
    #[healthhero_api(client = "ShortApi")]
    pub trait Short {
        /// The user's envelope.
        #[get("/wrapped")]
        async fn wrapped(&self) -> Result<Response<Thing>, Error>;

        /// The user's size.
        #[get("/size")]
        async fn size(&self) -> Result<Bytes, Error>;
    }
}

async fn server() -> String {
    let json = |body: &'static str| ([("content-type", "application/json")], body);
    let app = axum::Router::new()
        .route(
            "/connect/token",
            axum::routing::post(|| async { support::token_reply() }),
        )
        .route(
            "/wrapped",
            get(move || async move { json(r#"{"status":"ok","value":{"name":"lamp"}}"#) }),
        )
        .route(
            "/wrapped/{id}",
            get(|| async {
                (
                    StatusCode::NOT_FOUND,
                    [("content-type", "application/problem+json")],
                    r#"{"title":"Not Found","status":404}"#,
                )
                    .into_response()
            }),
        )
        .route(
            "/thing",
            get(move || async move { ([("x-version", "7")], json(r#"{"name":"lamp"}"#)) }),
        )
        .route("/size", get(move || async move { json(r#"{"count":12}"#) }))
        .route("/name", get(move || async move { json(r#""lamp""#) }))
        .route(
            "/optional",
            get(move || async move { json(r#"{"some":{"name":"lamp"}}"#) }),
        );
    support::serve(app).await
}

#[tokio::test]
async fn each_return_type_means_what_the_type_is() {
    let url = server().await;
    let api = ShapesApi::new(support::client(&url, "shapes"));
    let lamp = || Thing {
        name: "lamp".into(),
    };

    let wrapped = api.wrapped().await.unwrap();
    assert_eq!(
        wrapped,
        own::Response {
            status: "ok".into(),
            value: lamp(),
        }
    );
    assert_eq!(api.maybe_wrapped("gone").await.unwrap(), None);
    assert_eq!(api.size().await.unwrap(), own::Bytes { count: 12 });
    let mixed = api.mixed().await.unwrap();
    assert_eq!(mixed.status(), StatusCode::OK);
    assert_eq!(mixed.into_value().value, lamp());
    assert_eq!(api.name().await.unwrap(), own::String("lamp".into()));
    assert_eq!(api.optional().await.unwrap().some, lamp());

    let thing = api.thing().await.unwrap();
    assert_eq!(thing.status(), StatusCode::OK);
    assert_eq!(thing.headers()["x-version"], "7");
    assert_eq!(thing.into_value(), lamp());
    assert_eq!(&api.raw_size().await.unwrap()[..], br#"{"count":12}"#);
    assert_eq!(api.size_text().await.unwrap().value(), r#"{"count":12}"#);

    use short_names::Short as _;
    let short = short_names::ShortApi::new(support::client(&url, "short"));
    assert_eq!(short.wrapped().await.unwrap().value, lamp());
    assert_eq!(short.size().await.unwrap().count, 12);
}
