use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::__private::Reader;
use super::script::Outcome;
use super::wire::{Encode, reply};
use super::{Piece, Route, ServedReply, ServedRequest};
use crate::call::decode::{Json, Optional, WithResponse};
use crate::{Error, Response};

static PIECES: [Piece; 4] = [
    Piece::Literal("/api/v1/"),
    Piece::Param("client_id"),
    Piece::Literal("/files/"),
    Piece::Param("name"),
];

fn route() -> Route {
    Route {
        name: "Files.get",
        method: Method::GET,
        pieces: &PIECES,
    }
}

fn request(query: &str) -> ServedRequest {
    ServedRequest {
        params: vec![("id", "42".into()), ("name", "a/b c".into())],
        query: query.into(),
        headers: HeaderMap::new(),
        body: Bytes::new(),
    }
}

#[test]
fn a_route_matches_whole_segments_and_decodes_them() {
    let params = route()
        .matches("/api/v1/acme/files/a%2Fb%3Fc%25d%20%C3%BC")
        .unwrap();
    assert_eq!(
        params,
        [("client_id", "acme".into()), ("name", "a/b?c%d ü".into())]
    );
    assert!(route().matches("/api/v1/acme/files/a/b").is_none());
    assert!(route().matches("/api/v1/acme/files/").is_none());
    assert!(route().matches("/api/v2/acme/files/x").is_none());
    // A placeholder followed by a literal in the same segment takes the shortest match.
    static DOTTED: [Piece; 3] = [
        Piece::Literal("/r/"),
        Piece::Param("id"),
        Piece::Literal(".json"),
    ];
    let dotted = Route {
        name: "R.get",
        method: Method::GET,
        pieces: &DOTTED,
    };
    assert_eq!(
        dotted.matches("/r/a.b.json").unwrap(),
        [("id", "a.b".into())]
    );
}

#[test]
fn arguments_are_read_back_by_role() {
    let req = request("tag=a&tag=b%20c&n=7");
    let reader = Reader(&req);
    assert_eq!(reader.path::<u64>("id"), Ok(42));
    assert_eq!(reader.path::<String>("name").unwrap(), "a/b c");
    assert_eq!(
        reader.query::<Vec<String>>("tag", "tags").unwrap(),
        ["a", "b c"]
    );
    assert_eq!(reader.query::<u32>("n", "n"), Ok(7));
    assert_eq!(reader.query::<Option<u32>>("missing", "m"), Ok(None));
    assert_eq!(reader.query::<Vec<u32>>("missing", "m"), Ok(Vec::new()));
    let e = reader.query::<u32>("tag", "tags").unwrap_err();
    assert!(e.starts_with("query argument `tags` (`tag`)"), "{e}");
    let e = reader.path::<u64>("name").unwrap_err();
    assert!(e.starts_with("path argument `name` (\"a/b c\")"), "{e}");
}

#[test]
fn a_served_request_never_shows_its_headers_values() {
    let mut req = request("");
    req.headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_static("Bearer eyJsecret"),
    );
    let shown = format!("{req:?}");
    assert!(
        shown.contains("authorization") && !shown.contains("eyJsecret"),
        "{shown}"
    );
}

fn answer(reply: ServedReply) -> http::Response<Bytes> {
    match reply {
        ServedReply::Answer(answer) => answer,
        other => panic!("{other:?}"),
    }
}

#[test]
fn replies_are_written_as_the_client_reads_them() {
    let none = answer(reply::<Optional<Json<u32>>>(Outcome::Reply(Ok(None))));
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    assert_eq!(none.headers()["content-type"], "application/problem+json");
    // What the client's `Option` reads as `None`: a 404 with problem details.
    let error = Error::answered(
        none.status(),
        none.headers().clone(),
        none.body().clone(),
        false,
    );
    assert!(error.means_absent());

    let mut headers = HeaderMap::new();
    headers.insert("location", HeaderValue::from_static("/r/1"));
    let created = Response::new(StatusCode::CREATED, headers, 5u32);
    let written = answer(reply::<WithResponse<Json<u32>>>(Outcome::Reply(Ok(
        created,
    ))));
    assert_eq!(written.status(), StatusCode::CREATED);
    assert_eq!(written.headers()["location"], "/r/1");
    assert_eq!(written.headers()["content-type"], "application/json");
    assert_eq!(written.body().as_ref(), b"5");
    assert_eq!(<Json<u32> as Encode>::encode(9).body().as_ref(), b"9");

    // `Response<Option<T>>`: the response's own status, and `None` as an empty body.
    let none = Response::new(StatusCode::OK, HeaderMap::new(), None::<u32>);
    let written = answer(reply::<WithResponse<Optional<Json<u32>>>>(Outcome::Reply(
        Ok(none),
    )));
    assert_eq!(written.status(), StatusCode::OK);
    assert!(written.body().is_empty());
    let some = Response::new(StatusCode::ACCEPTED, HeaderMap::new(), Some(3u32));
    let written = answer(reply::<WithResponse<Optional<Json<u32>>>>(Outcome::Reply(
        Ok(some),
    )));
    assert_eq!(written.status(), StatusCode::ACCEPTED);
    assert_eq!(written.body().as_ref(), b"3");
}

#[test]
fn error_replies_are_their_answer_and_failures_are_not_answered() {
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("3"));
    let e = Error::from_response(StatusCode::SERVICE_UNAVAILABLE, headers, "busy");
    let written = answer(reply::<Json<u32>>(Outcome::Reply(Err(e))));
    assert_eq!(written.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(written.headers()["retry-after"], "3");
    assert_eq!(written.body().as_ref(), b"busy");
    let timed_out = Error::timed_out(std::time::Duration::from_secs(1));
    assert!(matches!(
        reply::<Json<u32>>(Outcome::Reply(Err(timed_out))),
        ServedReply::Hang
    ));
    let refused = Error::connection_refused();
    assert!(matches!(
        reply::<Json<u32>>(Outcome::Reply(Err(refused))),
        ServedReply::Drop
    ));
    let unscripted = answer(reply::<Json<u32>>(Outcome::Failed("X.y was called".into())));
    assert_eq!(unscripted.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(unscripted.body().as_ref(), b"hh fake: X.y was called");
}
