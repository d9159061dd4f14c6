//! How a 2xx answer becomes the value a method declares: the [`Decode`] strategies the macro
//! picks from the return type, and [`Response`] for methods that want the status and headers.

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, HttpParts, Repr, Result};
use crate::token::{CachedToken, TokenSource};

/// A successful answer with its status and headers, for methods declared to return
/// `Response<T>`.
#[derive(Debug, Clone)]
pub struct Response<T> {
    status: StatusCode,
    headers: HeaderMap,
    value: T,
}

impl<T> Response<T> {
    /// A response as a call would return it, for tests and for the replies of a fake
    /// (`Ok(Response::new(StatusCode::CREATED, headers, value))`). The status is a 2xx, as a
    /// call's is (another status is the call's `Error`): a served fake reports another, and a
    /// 204 with a value that has a body, as a reply it cannot send.
    pub fn new(status: StatusCode, headers: HeaderMap, value: T) -> Self {
        Self {
            status,
            headers,
            value,
        }
    }

    /// The 2xx status the server answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The decoded body.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The decoded body, by value.
    pub fn into_value(self) -> T {
        self.value
    }

    /// Status, headers and body, by value.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, T) {
        (self.status, self.headers, self.value)
    }
}

/// A 2xx answer, read in full, waiting to be decoded.
#[doc(hidden)]
pub struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// What a decode error must scrub from the body it keeps; only used on that path.
    pub(crate) token: Arc<CachedToken>,
    pub(crate) tokens: TokenSource,
}

impl Answer {
    fn decode_error(
        self,
        message: String,
        path: Option<String>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::new(Repr::Decode {
            http: HttpParts {
                status: self.status,
                headers: self.headers,
                body: self.tokens.scrub(self.body, &self.token),
                truncated: false,
            },
            message,
            path,
            source,
        })
    }
}

/// How a successful answer becomes the declared return value. Implemented by the marker types
/// below; the macro picks one from the method's return type.
#[doc(hidden)]
pub trait Decode {
    /// The value the method returns.
    type Output;
    /// Turns the answer into the value.
    fn decode(answer: Answer) -> Result<Self::Output>;
    /// The value for a 404 Not Found, when that is not an error (see [`Optional`]).
    fn not_found() -> Option<Self::Output> {
        None
    }
}

/// `Option<T>`: absent is not an error. A 404 with problem details (`Error::means_absent`, the
/// one rule), a 204 and an empty or `null` body give `None`; anything else decodes as `T`
/// does.
#[doc(hidden)]
pub struct Optional<D>(PhantomData<fn() -> D>);

impl<D: Decode> Decode for Optional<D> {
    type Output = Option<D::Output>;
    fn decode(answer: Answer) -> Result<Self::Output> {
        let body = answer.body.trim_ascii();
        if answer.status == StatusCode::NO_CONTENT || body.is_empty() || body == b"null" {
            return Ok(None);
        }
        D::decode(answer).map(Some)
    }
    fn not_found() -> Option<Self::Output> {
        Some(None)
    }
}

/// Decodes the body as JSON into `T`.
#[doc(hidden)]
pub struct Json<T>(PhantomData<fn() -> T>);

impl<T: DeserializeOwned> Decode for Json<T> {
    type Output = T;
    fn decode(answer: Answer) -> Result<T> {
        // The fast path is plain serde_json (which also rejects trailing garbage). Only when it
        // fails is the body decoded again, tracking the path, to say where it went wrong: a
        // successful call never pays for the path tracking.
        match serde_json::from_slice(&answer.body) {
            Ok(value) => Ok(value),
            Err(plain) => {
                if let Some(not_json) = not_json(&answer) {
                    return Err(answer.decode_error(not_json, None, Some(Box::new(plain))));
                }
                let mut de = serde_json::Deserializer::from_slice(&answer.body);
                let (message, path, source) =
                    match serde_path_to_error::deserialize::<_, T>(&mut de) {
                        Err(e) => {
                            let path = e.path().to_string();
                            let inner = e.into_inner();
                            (inner.to_string(), Some(path), inner)
                        }
                        // Only trailing characters were wrong.
                        Ok(_) => (plain.to_string(), None, plain),
                    };
                Err(answer.decode_error(message, path, Some(Box::new(source))))
            }
        }
    }
}

/// When a body that failed to decode is not JSON at all (a proxy's or a login page's HTML,
/// plain text): a message that says so, with the status, the content type and the first
/// bytes, since "expected value at line 1 column 1" alone hides the real problem.
fn not_json(answer: &Answer) -> Option<String> {
    let content_type = answer
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    // Scrubbed whole before it is cut, so no token or secret can straddle the cut.
    let scrubbed = answer.tokens.scrub(answer.body.clone(), &answer.token);
    let text = String::from_utf8_lossy(&scrubbed[..scrubbed.len().min(120)]);
    let start = text.trim_start();
    let html = start.starts_with('<') || content_type.contains("html");
    let json_like = start.starts_with([
        '{', '[', '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
    ]) || ["true", "false", "null"]
        .iter()
        .any(|w| start.starts_with(w))
        || content_type.contains("json");
    if !html && json_like {
        return None;
    }
    let what = if html { "HTML" } else { "not JSON" };
    let first: String = start.chars().take(80).collect();
    Some(format!(
        "the body is {what} (HTTP {}, content-type {content_type}), starting {first:?}",
        answer.status
    ))
}

/// Ignores the body.
#[doc(hidden)]
pub struct Unit;

impl Decode for Unit {
    type Output = ();
    fn decode(_: Answer) -> Result<()> {
        Ok(())
    }
}

/// The body as UTF-8 text.
#[doc(hidden)]
pub struct Text;

impl Decode for Text {
    type Output = String;
    fn decode(answer: Answer) -> Result<String> {
        match String::from_utf8(answer.body.to_vec()) {
            Ok(text) => Ok(text),
            Err(e) => Err(answer.decode_error(
                format!("the body is not valid UTF-8 ({})", e.utf8_error()),
                None,
                None,
            )),
        }
    }
}

/// The body as raw bytes.
#[doc(hidden)]
pub struct Raw;

impl Decode for Raw {
    type Output = Bytes;
    fn decode(answer: Answer) -> Result<Bytes> {
        Ok(answer.body)
    }
}

/// Status and headers around the value another decoder makes.
#[doc(hidden)]
pub struct WithResponse<D>(PhantomData<fn() -> D>);

impl<D: Decode> Decode for WithResponse<D> {
    type Output = Response<D::Output>;
    fn decode(answer: Answer) -> Result<Self::Output> {
        let status = answer.status;
        let headers = answer.headers.clone();
        Ok(Response {
            status,
            headers,
            value: D::decode(answer)?,
        })
    }
}

/// What a decoder makes, with no bound on it (`Decode` needs the value decodable): what
/// [`Pick`] compares with the type an endpoint returns.
#[doc(hidden)]
pub trait Yields {
    /// The value made.
    type Output;
}

impl Yields for Unit {
    type Output = ();
}
impl Yields for Text {
    type Output = String;
}
impl Yields for Raw {
    type Output = Bytes;
}
impl<T> Yields for Json<T> {
    type Output = T;
}
impl<D: Yields> Yields for WithResponse<D> {
    type Output = Response<D::Output>;
}
impl<D: Yields> Yields for Optional<D> {
    type Output = Option<D::Output>;
}

/// How a return type written with `Option`, `Response`, `Bytes` or `String` is decoded,
/// chosen by what the type is, not how it is spelt, one level of the type at a time: `D`
/// (hh's meaning of the name at this level, around what was chosen for the level inside) when
/// it makes exactly `T`, else `Json<T>`, which takes the name for the user's own type. A proc
/// macro sees only names; the compiler decides here, on the types: method lookup tries
/// `&Pick` (the [`pick::HhPickByName`] impl, whose bound is the check) before `Pick` (the
/// [`pick::HhPickByJson`] impl).
#[doc(hidden)]
pub struct Pick<T, D>(Marker<T>, Marker<D>);

/// A type carried, not held (and `Send`, `Sync` whatever it is).
type Marker<T> = PhantomData<fn() -> T>;

// By hand: derived, they would ask `T` and `D` to be `Copy`.
impl<T, D> Clone for Pick<T, D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, D> Copy for Pick<T, D> {}

impl<T, D> Pick<T, D> {
    /// The choice for `T` between `D` and JSON: `(&Pick::<T, D>::NEW).__hh_decoder()`.
    pub const NEW: Self = Pick(PhantomData, PhantomData);

    /// The same, `D` given as the value a level inside chose:
    /// `(&Pick::<T, _>::of(d)).__hh_decoder()`.
    pub const fn of(_hh_meaning: PhantomData<D>) -> Self {
        Self::NEW
    }
}

/// `Option` around the decoder chosen inside.
#[doc(hidden)]
pub const fn optional<D>(_inner: PhantomData<D>) -> PhantomData<Optional<D>> {
    PhantomData
}

/// hh's `Response` around the decoder chosen inside.
#[doc(hidden)]
pub const fn with_response<D>(_inner: PhantomData<D>) -> PhantomData<WithResponse<D>> {
    PhantomData
}

/// The two choices of [`Pick`], in a module of their own so that generated code brings both
/// into scope with one glob (one of them is always used, so the glob never warns) and names
/// nothing a user's crate might also name.
#[doc(hidden)]
pub mod pick {
    use std::marker::PhantomData;

    use super::{Json, Pick, Yields};

    /// The choice of [`Pick`] when hh's reading of the name makes the declared type.
    pub trait HhPickByName {
        /// The decoder chosen.
        type Decoder;
        /// The decoder, as a value.
        fn __hh_decoder(self) -> PhantomData<Self::Decoder>;
    }

    impl<T, D: Yields<Output = T>> HhPickByName for &Pick<T, D> {
        type Decoder = D;
        fn __hh_decoder(self) -> PhantomData<D> {
            PhantomData
        }
    }

    /// The choice of [`Pick`] otherwise: the name is the user's own type.
    pub trait HhPickByJson {
        /// The decoder chosen.
        type Decoder;
        /// The decoder, as a value. By value, on `Pick` itself: method lookup reaches it
        /// only after `&Pick` found nothing.
        fn __hh_decoder(self) -> PhantomData<Self::Decoder>;
    }

    impl<T, D> HhPickByJson for Pick<T, D> {
        type Decoder = Json<T>;
        fn __hh_decoder(self) -> PhantomData<Json<T>> {
            PhantomData
        }
    }
}
