use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::__private::Reader;
use super::script::Outcome;
use super::wire::{Encode, read_call, reply};
use super::{FakeCore, Piece, Route, ServedReply, ServedRequest};
use crate::call::decode::{Json, Optional, Raw, Text, Unit, WithResponse};
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

/// [`reply`] for a fake whose problems no test looks at (a server's handle: no check on drop).
fn write<D: Encode>(outcome: Outcome<D::Output>) -> ServedReply {
    reply::<D>(&FakeCore::new().uncounted(), "X.y", outcome)
}

fn answer(reply: ServedReply) -> http::Response<Bytes> {
    match reply {
        ServedReply::Answer(answer) => answer,
        other => panic!("{other:?}"),
    }
}

#[test]
fn replies_are_written_as_the_client_reads_them() {
    let none = answer(write::<Optional<Json<u32>>>(Outcome::Reply(Ok(None))));
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
    let written = answer(write::<WithResponse<Json<u32>>>(Outcome::Reply(Ok(
        created,
    ))));
    assert_eq!(written.status(), StatusCode::CREATED);
    assert_eq!(written.headers()["location"], "/r/1");
    assert_eq!(written.headers()["content-type"], "application/json");
    assert_eq!(written.body().as_ref(), b"5");
    assert_eq!(
        <Json<u32> as Encode>::encode(9).unwrap().body().as_ref(),
        b"9"
    );

    // `Response<Option<T>>`: the response's own status, and `None` as an empty body.
    let none = Response::new(StatusCode::OK, HeaderMap::new(), None::<u32>);
    let written = answer(write::<WithResponse<Optional<Json<u32>>>>(Outcome::Reply(
        Ok(none),
    )));
    assert_eq!(written.status(), StatusCode::OK);
    assert!(written.body().is_empty());
    let some = Response::new(StatusCode::ACCEPTED, HeaderMap::new(), Some(3u32));
    let written = answer(write::<WithResponse<Optional<Json<u32>>>>(Outcome::Reply(
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
    let written = answer(write::<Json<u32>>(Outcome::Reply(Err(e))));
    assert_eq!(written.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(written.headers()["retry-after"], "3");
    assert_eq!(written.body().as_ref(), b"busy");
    let timed_out = Error::timed_out(std::time::Duration::from_secs(1));
    assert!(matches!(
        write::<Json<u32>>(Outcome::Reply(Err(timed_out))),
        ServedReply::Hang
    ));
    let refused = Error::connection_refused();
    assert!(matches!(
        write::<Json<u32>>(Outcome::Reply(Err(refused))),
        ServedReply::Drop
    ));
    let unscripted = answer(write::<Json<u32>>(Outcome::Failed("X.y was called".into())));
    assert_eq!(unscripted.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(unscripted.body().as_ref(), b"hh fake: X.y was called");
}

/// Ends a fake's check on drop by a `verify` that reports what the test just asserted.
fn settle(core: &FakeCore) {
    let verified = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| core.verify()));
    assert!(verified.is_err());
}

/// A reply the client would read as something else is not sent as it is: a 500 and a problem
/// on the fake, naming the endpoint and why.
#[test]
fn replies_the_wire_cannot_carry_are_problems() {
    fn refused<D: Encode>(outcome: Outcome<D::Output>, why: &str) {
        let core = FakeCore::new();
        let written = answer(reply::<D>(&core, "X.y", outcome));
        assert_eq!(written.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let problems = core.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("X.y: the reply could not be sent: ")
                && problems[0].contains(why),
            "{problems:?}"
        );
        settle(&core);
    }
    // `Some` of an empty or `null` body: the client reads `None`.
    refused::<Optional<Text>>(
        Outcome::Reply(Ok(Some(String::new()))),
        "reads back as `None`",
    );
    refused::<Optional<Unit>>(Outcome::Reply(Ok(Some(()))), "reads back as `None`");
    refused::<Optional<Json<Option<u8>>>>(Outcome::Reply(Ok(Some(None))), "reads back as `None`");
    let empty = Response::new(StatusCode::OK, HeaderMap::new(), Some(Bytes::new()));
    refused::<WithResponse<Optional<Raw>>>(Outcome::Reply(Ok(empty)), "reads back as `None`");
    // `Response<T>` with an error's status (the client's error), or a 204 with a body.
    let not_found = Response::new(StatusCode::NOT_FOUND, HeaderMap::new(), 3u8);
    refused::<WithResponse<Json<u8>>>(
        Outcome::Reply(Ok(not_found)),
        "status 404 Not Found reads back as an error",
    );
    let moved = Response::new(StatusCode::FOUND, HeaderMap::new(), 3u8);
    refused::<WithResponse<Json<u8>>>(Outcome::Reply(Ok(moved)), "reads back as an error");
    let no_content = Response::new(StatusCode::NO_CONTENT, HeaderMap::new(), Some(3u8));
    refused::<WithResponse<Optional<Json<u8>>>>(
        Outcome::Reply(Ok(no_content)),
        "204 No Content cannot carry a body",
    );
    // A value JSON cannot hold, and a `Serialize` that panics.
    let map = std::collections::HashMap::from([((1u8, 2u8), 3u8)]);
    refused::<Json<std::collections::HashMap<(u8, u8), u8>>>(
        Outcome::Reply(Ok(map)),
        "does not serialize to JSON",
    );
    struct Panics;
    impl serde::Serialize for Panics {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            panic!("no serializing this")
        }
    }
    refused::<Json<Panics>>(Outcome::Reply(Ok(Panics)), "panicked: no serializing this");
}

/// An answer's framing headers are the server's to write: a scripted error or `Response<T>`
/// built from a real answer's headers does not carry them over.
#[test]
fn framing_headers_are_not_copied_into_a_reply() {
    let mut headers = HeaderMap::new();
    headers.insert("content-length", HeaderValue::from_static("999"));
    headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
    headers.insert("connection", HeaderValue::from_static("close"));
    headers.insert("retry-after", HeaderValue::from_static("3"));
    let e = Error::from_response(StatusCode::SERVICE_UNAVAILABLE, headers.clone(), "busy");
    let written = answer(write::<Json<u32>>(Outcome::Reply(Err(e))));
    let names: Vec<_> = written.headers().keys().map(|n| n.as_str()).collect();
    assert_eq!(names, ["retry-after"]);
    let created = Response::new(StatusCode::CREATED, headers, 5u32);
    let written = answer(write::<WithResponse<Json<u32>>>(Outcome::Reply(Ok(
        created,
    ))));
    let mut names: Vec<_> = written.headers().keys().map(|n| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["content-type", "retry-after"]);
}

/// A request whose reading panics (a `Deserialize` or `FromStr` of the user's) is a 400 and a
/// problem, as one that cannot be read.
#[test]
fn a_panic_while_reading_a_request_is_a_400_and_a_problem() {
    let core = FakeCore::new();
    let read = read_call::<u8>(&core, "X.y", || panic!("bad FromStr"));
    let Err(reply) = read else {
        panic!("read a value")
    };
    let written = answer(*reply);
    assert_eq!(written.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        core.problems(),
        ["X.y: the request could not be read: reading it panicked: bad FromStr"]
    );
    assert!(matches!(read_call(&core, "X.y", || Ok(4u8)), Ok(4)));
    settle(&core);
}

/// Routes as `find` chooses them: the verb must match, then the most literal text wins.
#[test]
fn find_matches_the_verb_then_the_most_specific_route() {
    struct Two;
    static BY_ID: [Piece; 2] = [Piece::Literal("/bookings/"), Piece::Param("id")];
    static LATEST: [Piece; 1] = [Piece::Literal("/bookings/latest")];
    static ROUTES: [Route; 3] = [
        Route {
            name: "B.booking",
            method: Method::GET,
            pieces: &BY_ID,
        },
        Route {
            name: "B.latest",
            method: Method::GET,
            pieces: &LATEST,
        },
        Route {
            name: "B.cancel",
            method: Method::DELETE,
            pieces: &BY_ID,
        },
    ];
    impl super::Serve for Two {
        fn routes(&self) -> &'static [Route] {
            &ROUTES
        }
        fn handle(
            &self,
            _: usize,
            _: ServedRequest,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ServedReply> + Send>> {
            Box::pin(async { ServedReply::Hang })
        }
        fn detached(&self) -> Box<dyn super::Serve> {
            Box::new(Two)
        }
    }
    let found = |method: Method, path: &str| super::find(&Two, &method, path).map(|(i, _)| i);
    assert_eq!(found(Method::GET, "/bookings/7"), Some(0));
    assert_eq!(found(Method::GET, "/bookings/latest"), Some(1));
    assert_eq!(found(Method::DELETE, "/bookings/latest"), Some(2));
    // A path some route has, under a verb none of them has for it: no match.
    assert_eq!(found(Method::POST, "/bookings/7"), None);
    assert_eq!(found(Method::GET, "/bookings"), None);
}
