//! A fake as a server would see it: which request is which endpoint ([`Route`]), the call's
//! arguments read back from the request by their declared roles, and the reply written as the
//! generated client reads it. No server here: hh-sandbox (or any server) takes requests off
//! the socket and hands them to [`Serve`]. Reading lives beside the runtime's writing
//! (`call::build`, `call::decode`), so the two are one pair of rules.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::de::DeserializeOwned;

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
    /// reply written as the client expects it. A request that cannot be read, or a call with
    /// nothing scripted, is answered with an error status and recorded on the fake, whose
    /// `verify` then fails.
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
    /// An `Error` reply as the server would have sent it: its status, headers and body; a
    /// timeout hangs; a connection failure cuts the connection; any other error (one that
    /// cannot come from an answer) is a 500 with its message.
    fn of_error(error: &Error) -> Self {
        if let (Some(status), Some(headers)) = (error.status(), error.headers()) {
            let mut response =
                http::Response::new(Bytes::copy_from_slice(error.body().unwrap_or_default()));
            *response.status_mut() = status;
            *response.headers_mut() = headers.clone();
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

/// How a served fake writes a success value: the mirror of the decoder the client reads it
/// with, implemented by the same markers.
#[doc(hidden)]
pub trait Encode: Yields {
    /// The value as the answer the decoder turns back into it.
    fn encode(value: Self::Output) -> http::Response<Bytes>;
    /// The same inside `Response<..>`, whose own status the answer takes: only `Option`
    /// differs (`None` is then an empty body, which the client reads as `None` with a success
    /// status; the client takes any status of 400 or more for an error).
    fn encode_in_response(value: Self::Output) -> http::Response<Bytes> {
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
    fn encode(value: T) -> http::Response<Bytes> {
        match value.to_json() {
            Ok(json) => answer(StatusCode::OK, "application/json", json),
            Err(e) => answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                TEXT,
                format!("the fake's reply is not JSON: {e}"),
            ),
        }
    }
}

impl Encode for Unit {
    fn encode((): ()) -> http::Response<Bytes> {
        http::Response::new(Bytes::new())
    }
}

impl Encode for Text {
    fn encode(value: String) -> http::Response<Bytes> {
        answer(StatusCode::OK, TEXT, value)
    }
}

impl Encode for Raw {
    fn encode(value: Bytes) -> http::Response<Bytes> {
        answer(StatusCode::OK, "application/octet-stream", value)
    }
}

impl<D: Encode> Encode for Optional<D> {
    fn encode_in_response(value: Option<D::Output>) -> http::Response<Bytes> {
        match value {
            Some(value) => D::encode_in_response(value),
            None => http::Response::new(Bytes::new()),
        }
    }

    /// `None` is what the client reads as absent: a 404 with problem details.
    fn encode(value: Option<D::Output>) -> http::Response<Bytes> {
        match value {
            Some(value) => D::encode(value),
            None => answer(
                StatusCode::NOT_FOUND,
                "application/problem+json",
                Bytes::from_static(br#"{"title":"Not Found","status":404}"#),
            ),
        }
    }
}

impl<D: Encode> Encode for WithResponse<D> {
    fn encode(value: Response<D::Output>) -> http::Response<Bytes> {
        let (status, headers, value) = value.into_parts();
        let mut response = D::encode_in_response(value);
        *response.status_mut() = status;
        // The value's headers replace the encoder's of the same name, every value kept
        // (`set-cookie`, `link`).
        for name in headers.keys() {
            response.headers_mut().remove(name);
        }
        for (name, value) in &headers {
            response.headers_mut().append(name, value.clone());
        }
        response
    }
}

/// The reply to a served call: the scripted value written by `D`, an `Error` as its answer,
/// or, for a call with nothing scripted, a 500 naming it (recorded on the fake already).
#[doc(hidden)]
pub fn reply<D: Encode>(outcome: Outcome<D::Output>) -> ServedReply {
    match outcome {
        Outcome::Reply(Ok(value)) => ServedReply::Answer(D::encode(value)),
        Outcome::Reply(Err(error)) => ServedReply::of_error(&error),
        Outcome::Failed(message) => ServedReply::failed(message),
    }
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
    outcome: Outcome<D::Output>,
) -> ServedReply {
    reply::<D>(outcome)
}

/// A request the fake could not read back into the call's arguments: a 400 naming what, and a
/// problem recorded on the fake (a client and its fake that disagree is a bug to see).
#[doc(hidden)]
pub fn unreadable(core: &FakeCore, endpoint: &str, what: String) -> ServedReply {
    let message = format!("{endpoint}: the request could not be read: {what}");
    core.unreadable(message.clone());
    ServedReply::Answer(answer(
        StatusCode::BAD_REQUEST,
        TEXT,
        format!("hh fake: {message}"),
    ))
}

/// What a served fake reads from one path segment, a header or a text body.
#[diagnostic::on_unimplemented(
    message = "a served fake cannot read `{Self}` from text",
    label = "needs `FromStr` (with an error that is `Display`)",
    note = "`#[healthhero_api(serve)]` reads a path argument, a `#[header]` and a `#[body(text)]` back from the request's text with `FromStr`, whose error it shows; implement it for this type, or leave `serve` out"
)]
pub trait FromText: Sized {
    /// The value from its text.
    fn from_text(text: &str) -> Result<Self, String>;
}

#[diagnostic::do_not_recommend]
impl<T: FromStr> FromText for T
where
    T::Err: Display,
{
    fn from_text(text: &str) -> Result<Self, String> {
        text.parse().map_err(|e: T::Err| e.to_string())
    }
}

/// What a served fake reads from JSON, a query or a form.
#[diagnostic::on_unimplemented(
    message = "a served fake cannot read `{Self}` back from the request",
    label = "needs `Deserialize`",
    note = "`#[healthhero_api(serve)]` reads a `#[body]`, a `#[query]` and a `#[form]` argument back with serde; derive `Deserialize` for this type, or leave `serve` out"
)]
pub trait FromWire: Sized {
    /// The value, deserialized.
    fn from_json(bytes: &[u8]) -> Result<Self, String>;
    /// The value, from `application/x-www-form-urlencoded` text.
    fn from_form(text: &str) -> Result<Self, String>;
    /// One query argument, from the values of its key written as `v=..&v=..` (nothing for
    /// none: `None`, or an empty sequence).
    fn from_query(pairs: &str) -> Result<Self, String>;
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned> FromWire for T {
    fn from_json(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
    fn from_form(text: &str) -> Result<Self, String> {
        serde_html_form::from_str(text).map_err(|e| e.to_string())
    }
    fn from_query(pairs: &str) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct One<T> {
            v: T,
        }
        match serde_html_form::from_str::<One<T>>(pairs) {
            Ok(one) => Ok(one.v),
            // No value: an empty list, which the client sends as nothing.
            Err(e) if pairs.is_empty() => {
                let empty = serde::de::value::SeqDeserializer::<_, serde::de::value::Error>::new(
                    std::iter::empty::<&str>(),
                );
                T::deserialize(empty).map_err(|_| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// What a served fake reads from a `#[body(bytes)]`.
#[diagnostic::on_unimplemented(
    message = "a served fake cannot read `{Self}` from a body of bytes",
    label = "not `Vec<u8>`, `Bytes` or `String`",
    note = "`#[healthhero_api(serve)]` reads a `#[body(bytes)]` argument back as `Vec<u8>`, `bytes::Bytes`, `Box<[u8]>` or `String`; declare one of those (or a reference to one), or leave `serve` out"
)]
pub trait FromBytes: Sized {
    /// The value from the body.
    fn from_bytes(bytes: Bytes) -> Result<Self, String>;
}

impl FromBytes for Vec<u8> {
    fn from_bytes(bytes: Bytes) -> Result<Self, String> {
        Ok(bytes.into())
    }
}

impl FromBytes for Box<[u8]> {
    fn from_bytes(bytes: Bytes) -> Result<Self, String> {
        Ok(Vec::from(bytes).into())
    }
}

impl FromBytes for Bytes {
    fn from_bytes(bytes: Bytes) -> Result<Self, String> {
        Ok(bytes)
    }
}

impl FromBytes for String {
    fn from_bytes(bytes: Bytes) -> Result<Self, String> {
        String::from_utf8(bytes.into()).map_err(|e| e.to_string())
    }
}

/// Reads the arguments of one served call back from the request, by their declared roles:
/// what generated code calls, one method per role. Each error names the argument.
#[doc(hidden)]
pub struct Reader<'r>(pub &'r ServedRequest);

impl Reader<'_> {
    /// A path argument: the placeholder's value.
    pub fn path<T: FromText>(&self, name: &str) -> Result<T, String> {
        let (_, text) = self
            .0
            .params
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("path argument `{name}`: no such placeholder"))?;
        T::from_text(text).map_err(|e| format!("path argument `{name}` ({text:?}): {e}"))
    }

    /// `#[query("key")]`: the values of `key`.
    pub fn query<T: FromWire>(&self, key: &str, arg: &str) -> Result<T, String> {
        let pairs = url::form_urlencoded::parse(self.0.query.as_bytes())
            .filter(|(k, _)| k == key)
            .fold(String::new(), |mut out, (_, v)| {
                if !out.is_empty() {
                    out.push('&');
                }
                out.push_str("v=");
                out.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
                out
            });
        T::from_query(&pairs).map_err(|e| format!("query argument `{arg}` (`{key}`): {e}"))
    }

    /// `#[query(flatten)]`: the whole query.
    pub fn query_flatten<T: FromWire>(&self, arg: &str) -> Result<T, String> {
        T::from_form(&self.0.query).map_err(|e| format!("query argument `{arg}`: {e}"))
    }

    /// `#[header("name")]`, required.
    pub fn header<T: FromText>(&self, name: &str, arg: &str) -> Result<T, String> {
        self.header_opt(name, arg)?
            .ok_or_else(|| format!("header argument `{arg}`: no `{name}` header"))
    }

    /// `#[header("name")]` of an `Option`: `None` when absent.
    pub fn header_opt<T: FromText>(&self, name: &str, arg: &str) -> Result<Option<T>, String> {
        let Some(value) = self.0.headers.get(name) else {
            return Ok(None);
        };
        // As the client wrote it: a value's text, UTF-8 (which `to_str` would refuse beyond
        // ASCII).
        let text = std::str::from_utf8(value.as_bytes())
            .map_err(|_| format!("header argument `{arg}`: `{name}` is not UTF-8"))?;
        T::from_text(text)
            .map(Some)
            .map_err(|e| format!("header argument `{arg}` ({text:?}): {e}"))
    }

    /// `#[body]`, JSON.
    pub fn json<T: FromWire>(&self, arg: &str) -> Result<T, String> {
        T::from_json(&self.0.body).map_err(|e| format!("body argument `{arg}`: {e}"))
    }

    /// `#[body]` of an `Option`: no body is `None`.
    pub fn json_opt<T: FromWire>(&self, arg: &str) -> Result<Option<T>, String> {
        if self.0.body.is_empty() {
            return Ok(None);
        }
        self.json(arg).map(Some)
    }

    /// `#[body(bytes)]`.
    pub fn bytes<T: FromBytes>(&self, arg: &str) -> Result<T, String> {
        T::from_bytes(self.0.body.clone()).map_err(|e| format!("body argument `{arg}`: {e}"))
    }

    /// `#[body(text)]`.
    pub fn text<T: FromText>(&self, arg: &str) -> Result<T, String> {
        let text = std::str::from_utf8(&self.0.body)
            .map_err(|e| format!("body argument `{arg}`: not UTF-8 ({e})"))?;
        T::from_text(text).map_err(|e| format!("body argument `{arg}`: {e}"))
    }

    /// `#[form]`.
    pub fn form<T: FromWire>(&self, arg: &str) -> Result<T, String> {
        let text = std::str::from_utf8(&self.0.body)
            .map_err(|e| format!("form argument `{arg}`: not UTF-8 ({e})"))?;
        T::from_form(text).map_err(|e| format!("form argument `{arg}`: {e}"))
    }
}
