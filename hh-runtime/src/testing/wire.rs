//! A fake as a server would see it: which request is which endpoint ([`Route`]), and the reply
//! written as the generated client reads it (the arguments are read back in `read`). No
//! server here: hh-sandbox (or any server) takes requests off the socket and hands them to
//! [`Serve`]. Both halves live beside the runtime's writing and reading (`call::build`,
//! `call::decode`), so the two are one pair of rules.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::script::{FakeCore, Outcome};
use crate::call::decode::{Json, Optional, Raw, Response, Text, Unit, WithResponse, Yields};
use crate::error::Error;

/// A fake that can answer HTTP requests: what `#[healthhero_api(serve)]` generates for
/// `<Trait>Fake` when the `testing` feature is on. A server (hh-sandbox's `Sandbox::serve`)
/// finds the endpoint a request is for with [`find`], then calls [`handle`](Serve::handle).
pub trait Serve: Send + Sync + 'static {
    /// Every endpoint of the trait, in declaration order.
    fn routes(&self) -> &'static [Route];
    /// Answers a request for `routes()[route]`: the arguments read back from it, the scripted
    /// reply written as the client expects it. What goes wrong is answered with an error
    /// status and recorded on the fake, whose `verify` then fails: a request that cannot be
    /// read, or whose reading panics, is a 400; a call with nothing scripted, a reply that
    /// panics, and a reply the wire cannot carry (a `Some` the client would read as `None`, an
    /// `Ok(Response)` with an error's status, a value that does not serialize) are a 500.
    fn handle(
        &self,
        route: usize,
        request: ServedRequest,
    ) -> Pin<Box<dyn Future<Output = ServedReply> + Send>>;
    /// The copy a server keeps: it shares the fake's script, but does not keep the fake's
    /// check on drop from running when the test lets go of its own clones.
    fn detached(&self) -> Box<dyn Serve>;
}

/// One endpoint as served: its name (`Trait.method`, the name faults and counters use), its
/// verb, and its path template, prefix included.
#[derive(Debug)]
pub struct Route {
    /// `Trait.method`.
    pub name: &'static str,
    /// The declared verb.
    pub method: Method,
    /// The template, in pieces.
    pub pieces: &'static [Piece],
}

/// A piece of a path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// Text matched as written.
    Literal(&'static str),
    /// A `<name>` placeholder: one path segment, percent-decoded.
    Param(&'static str),
}

impl Route {
    /// The placeholders' values, percent-decoded, when `path` (as received, still encoded) is
    /// this route's; `None` otherwise.
    pub fn matches(&self, path: &str) -> Option<Vec<(&'static str, String)>> {
        let mut params = Vec::new();
        match_pieces(self.pieces, path, &mut params).then_some(params)
    }
}

/// The endpoint of `fake` that `method` and `path` are for: its index, and the placeholders'
/// values. Of the routes that match, the most specific answers (the one with the most literal
/// text: `/bookings/latest` before `/bookings/<id>`), then the first declared. A path that
/// matches with another verb is not a match (the server answers as it sees fit).
pub fn find(
    fake: &dyn Serve,
    method: &Method,
    path: &str,
) -> Option<(usize, Vec<(&'static str, String)>)> {
    let literal = |route: &Route| -> usize {
        route
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(text) => text.len(),
                Piece::Param(_) => 0,
            })
            .sum()
    };
    fake.routes()
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == *method)
        .filter_map(|(i, r)| r.matches(path).map(|p| (i, literal(r), p)))
        // `max_by_key` keeps the last of equals: reversed, so the first declared wins a tie.
        .rev()
        .max_by_key(|(_, literal, _)| *literal)
        .map(|(i, _, params)| (i, params))
}

/// Matches pieces against the rest of a path; a placeholder takes one whole or partial
/// segment, the shortest that lets the rest match.
fn match_pieces(pieces: &[Piece], path: &str, params: &mut Vec<(&'static str, String)>) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return path.is_empty();
    };
    match first {
        Piece::Literal(text) => path
            .strip_prefix(text)
            .is_some_and(|after| match_pieces(rest, after, params)),
        Piece::Param(name) => {
            let segment_end = path.find('/').unwrap_or(path.len());
            for end in 1..=segment_end {
                if !path.is_char_boundary(end) {
                    continue;
                }
                let mark = params.len();
                let Ok(value) = percent_encoding::percent_decode_str(&path[..end]).decode_utf8()
                else {
                    continue;
                };
                params.push((name, value.into_owned()));
                if match_pieces(rest, &path[end..], params) {
                    return true;
                }
                params.truncate(mark);
            }
            false
        }
    }
}

/// A request for a served endpoint, as the server received it. Its `Debug` shows header names
/// only: the request carries the caller's bearer token.
pub struct ServedRequest {
    /// The placeholders' values, percent-decoded (from [`find`]).
    pub params: Vec<(&'static str, String)>,
    /// The query string as received, without `?`.
    pub query: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl std::fmt::Debug for ServedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedRequest")
            .field("params", &self.params)
            .field("query", &self.query)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body", &format_args!("{} bytes", self.body.len()))
            .finish()
    }
}

/// What a served endpoint does with a request.
#[derive(Debug)]
pub enum ServedReply {
    /// Answers with this response.
    Answer(http::Response<Bytes>),
    /// Never answers (a timeout reply: the client's own timeout ends the attempt).
    Hang,
    /// Cuts the connection (a connection-failure reply).
    Drop,
}

impl ServedReply {
    /// An `Error` reply as the server would have sent it: its status, headers (but those of
    /// the connection it came over) and body; a timeout hangs; a connection failure cuts the
    /// connection; any other error (one that cannot come from an answer) is a 500 with its
    /// message. (An error with a 2xx status never gets here: the script refuses it, as one the
    /// client never returns.)
    fn of_error(error: &Error) -> Self {
        if let (Some(status), Some(headers)) = (error.status(), error.headers()) {
            let mut response =
                http::Response::new(Bytes::copy_from_slice(error.body().unwrap_or_default()));
            *response.status_mut() = status;
            *response.headers_mut() = without_framing(headers);
            return ServedReply::Answer(response);
        }
        if error.is_timeout() {
            return ServedReply::Hang;
        }
        if error.is_connect() {
            return ServedReply::Drop;
        }
        ServedReply::Answer(answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            TEXT,
            error.to_string(),
        ))
    }
}

/// A reply's headers without those that describe the connection or the body's framing
/// (`content-length`, `transfer-encoding`, `connection` and the other hop-by-hop ones): an
/// error or a `Response<T>` built from a real answer carries them, and the server writes its
/// own for the body it sends.
fn without_framing(headers: &HeaderMap) -> HeaderMap {
    const FRAMING: [&str; 8] = [
        "connection",
        "content-length",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    let mut kept = headers.clone();
    for name in FRAMING {
        kept.remove(name);
    }
    kept
}

/// How a served fake writes a success value: the mirror of the decoder the client reads it
/// with, implemented by the same markers.
#[doc(hidden)]
pub trait Encode: Yields {
    /// The value as the answer the decoder turns back into it, or why there is none (a value
    /// that does not serialize, a `Some` the client would read as `None`).
    fn encode(value: Self::Output) -> Result<http::Response<Bytes>, String>;
    /// The same inside `Response<..>`, whose own status (a 2xx) the answer takes: only
    /// `Option` differs (`None` is then an empty body, which the client reads as `None` with a
    /// success status).
    fn encode_in_response(value: Self::Output) -> Result<http::Response<Bytes>, String> {
        Self::encode(value)
    }
}

/// The `content-type` of the fake's own messages (a 400, a 500).
const TEXT: &str = "text/plain; charset=utf-8";

/// An answer with this status, content type and body: every answer a fake writes.
fn answer(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> http::Response<Bytes> {
    let mut response = http::Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// What a served fake sends as JSON.
#[diagnostic::on_unimplemented(
    message = "a served fake sends `{Self}` as JSON, which needs `serde::Serialize`",
    label = "not `Serialize`",
    note = "`#[healthhero_api(serve)]` answers requests with the values scripted on the fake; derive `Serialize` for the return type, or leave `serve` out"
)]
pub trait SendJson {
    /// The value as JSON.
    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error>;
}

#[diagnostic::do_not_recommend]
impl<T: serde::Serialize> SendJson for T {
    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

impl<T: SendJson> Encode for Json<T> {
    fn encode(value: T) -> Result<http::Response<Bytes>, String> {
        let json = value
            .to_json()
            .map_err(|e| format!("the reply does not serialize to JSON: {e}"))?;
        Ok(answer(StatusCode::OK, "application/json", json))
    }
}

impl Encode for Unit {
    fn encode((): ()) -> Result<http::Response<Bytes>, String> {
        Ok(http::Response::new(Bytes::new()))
    }
}

impl Encode for Text {
    fn encode(value: String) -> Result<http::Response<Bytes>, String> {
        Ok(answer(StatusCode::OK, TEXT, value))
    }
}

impl Encode for Raw {
    fn encode(value: Bytes) -> Result<http::Response<Bytes>, String> {
        Ok(answer(StatusCode::OK, "application/octet-stream", value))
    }
}

impl<D: Encode> Optional<D> {
    /// `Some(value)` written by `write`, unless the client would read it back as `None` (an
    /// empty or `null` body: `Some(())`, `Some(String::new())`), which the wire cannot say.
    fn some(
        value: D::Output,
        write: fn(D::Output) -> Result<http::Response<Bytes>, String>,
    ) -> Result<http::Response<Bytes>, String> {
        let response = write(value)?;
        let body = response.body().trim_ascii();
        if body.is_empty() || body == b"null" {
            return Err(
                "a `Some(..)` reply whose body is empty or `null` reads back as `None` over the wire; script `Ok(None)`, or a value with a body".into(),
            );
        }
        Ok(response)
    }
}

impl<D: Encode> Encode for Optional<D> {
    fn encode_in_response(value: Option<D::Output>) -> Result<http::Response<Bytes>, String> {
        match value {
            Some(value) => Self::some(value, D::encode_in_response),
            None => Ok(http::Response::new(Bytes::new())),
        }
    }

    /// `None` is what the client reads as absent: a 404 with problem details.
    fn encode(value: Option<D::Output>) -> Result<http::Response<Bytes>, String> {
        match value {
            Some(value) => Self::some(value, D::encode),
            None => Ok(answer(
                StatusCode::NOT_FOUND,
                "application/problem+json",
                Bytes::from_static(br#"{"title":"Not Found","status":404}"#),
            )),
        }
    }
}

impl<D: Encode> Encode for WithResponse<D> {
    /// The status must be a success's, which is what the client returns a `Response<T>` for
    /// (another is its error); a 204 has no body, so a value with one cannot go with it.
    fn encode(value: Response<D::Output>) -> Result<http::Response<Bytes>, String> {
        let (status, headers, value) = value.into_parts();
        if !status.is_success() {
            return Err(format!(
                "an `Ok(Response)` reply with status {status} reads back as an error (the client returns `Ok` for a 2xx only); script `Err(Error::from_response(..))`, or a 2xx status"
            ));
        }
        let mut response = D::encode_in_response(value)?;
        if status == StatusCode::NO_CONTENT && !response.body().is_empty() {
            return Err(
                "an `Ok(Response)` reply with status 204 No Content cannot carry a body; script another 2xx status, or no value".into(),
            );
        }
        *response.status_mut() = status;
        // The value's headers replace the encoder's of the same name, every value kept
        // (`set-cookie`, `link`).
        let headers = without_framing(&headers);
        for name in headers.keys() {
            response.headers_mut().remove(name);
        }
        for (name, value) in &headers {
            response.headers_mut().append(name, value.clone());
        }
        Ok(response)
    }
}

/// The reply to a served call: the scripted value written by `D`, an `Error` as its answer,
/// or, for a call with nothing scripted, a 500 naming it (recorded on the fake already). A
/// reply the wire cannot carry (see [`Encode::encode`]), or whose
/// writing panics (a `Serialize` impl), is a 500 and a problem recorded on the fake.
#[doc(hidden)]
pub fn reply<D: Encode>(
    core: &FakeCore,
    endpoint: &str,
    outcome: Outcome<D::Output>,
) -> ServedReply {
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match outcome {
        Outcome::Reply(Ok(value)) => D::encode(value).map(ServedReply::Answer),
        Outcome::Reply(Err(error)) => Ok(ServedReply::of_error(&error)),
        Outcome::Failed(message) => Ok(ServedReply::failed(message)),
    }))
    .unwrap_or_else(|panic| {
        Err(format!(
            "writing the reply panicked: {}",
            super::script::panic_message(&*panic)
        ))
    });
    written.unwrap_or_else(|why| {
        let message = format!("{endpoint}: the reply could not be sent: {why}");
        core.record_problem(message.clone());
        ServedReply::failed(message)
    })
}

impl ServedReply {
    fn failed(message: String) -> Self {
        ServedReply::Answer(answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            TEXT,
            format!("hh fake: {message}"),
        ))
    }
}

/// [`reply`], with the decoder given as the value `__private::Pick` chose.
#[doc(hidden)]
pub fn reply_as<D: Encode>(
    _decoder: std::marker::PhantomData<D>,
    core: &FakeCore,
    endpoint: &str,
    outcome: Outcome<D::Output>,
) -> ServedReply {
    reply::<D>(core, endpoint, outcome)
}

/// The call's arguments read back from the request by `read` (generated: one [`Reader`]
/// method per argument), or the reply to a request that cannot be: a 400, recorded on the
/// fake, for what `read` reports or a panic in a `Deserialize` or `FromStr` impl it calls.
#[doc(hidden)]
pub fn read_call<C>(
    core: &FakeCore,
    endpoint: &str,
    read: impl FnOnce() -> Result<C, String>,
) -> Result<C, Box<ServedReply>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read))
        .unwrap_or_else(|panic| {
            Err(format!(
                "reading it panicked: {}",
                super::script::panic_message(&*panic)
            ))
        })
        .map_err(|what| Box::new(unreadable(core, endpoint, what)))
}

/// A request the fake could not read back into the call's arguments: a 400 naming what, and a
/// problem recorded on the fake (a client and its fake that disagree is a bug to see).
#[doc(hidden)]
pub fn unreadable(core: &FakeCore, endpoint: &str, what: String) -> ServedReply {
    let message = format!("{endpoint}: the request could not be read: {what}");
    core.record_problem(message.clone());
    ServedReply::Answer(answer(
        StatusCode::BAD_REQUEST,
        TEXT,
        format!("hh fake: {message}"),
    ))
}
