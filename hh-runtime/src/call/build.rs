//! Building one API call: what the `#[healthhero_api]` macro generates calls to. Each step
//! encodes its piece of the request (path segments, query, headers, body) as the arguments
//! arrive; `send` runs the call (its attempts are in `call::send`) and decodes the answer.

use std::fmt::{self, Display, Write as _};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde::ser::Serialize;
use tracing::Instrument as _;

use super::decode::Decode;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::telemetry::{self, Call, Endpoint};

/// Everything outside RFC 3986 `unreserved` (`ALPHA / DIGIT / "-" / "." / "_" / "~"`) is
/// percent-encoded inside a path segment, so a value can never add a segment, a query or a
/// fragment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) enum Body {
    None,
    Bytes {
        bytes: Bytes,
        /// The body's default `content-type` (a declared header wins over it).
        content_type: &'static HeaderValue,
    },
}

/// The default `content-type` of each kind of body, built at compile time.
static JSON: HeaderValue = HeaderValue::from_static("application/json");
static OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");
static TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
static FORM: HeaderValue = HeaderValue::from_static("application/x-www-form-urlencoded");

/// Percent-encodes everything written to it into the string it wraps.
struct SegmentWriter<'a>(&'a mut String);

impl fmt::Write for SegmentWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0
            .extend(percent_encoding::utf8_percent_encode(s, SEGMENT));
        Ok(())
    }
}

/// Appends `value` to `path` as one percent-encoded segment, written straight into it with
/// no intermediate string. A value that cannot be a segment (empty, `.` or `..`) leaves `path`
/// as it was, and the error says how it reads.
fn push_segment<T: Display + ?Sized>(path: &mut String, value: &T) -> Result<(), String> {
    let start = path.len();
    let _ = write!(SegmentWriter(path), "{value}");
    // `.` and `..` are unreserved, so they come out of the encoder unchanged.
    let written = &path[start..];
    if written.is_empty() || written == "." || written == ".." {
        let shown = if written.is_empty() {
            "an empty string".to_owned()
        } else {
            written.to_owned()
        };
        path.truncate(start);
        return Err(shown);
    }
    Ok(())
}

/// `value` as one percent-encoded path segment, or `None` when it cannot be one.
pub(crate) fn encoded_segment(value: &str) -> Option<Box<str>> {
    let mut encoded = String::new();
    push_segment(&mut encoded, value).ok()?;
    Some(encoded.into())
}

/// What a `#[header("Name")]` argument is sent as: its text. The macro tells an `Option` (or a
/// reference to one) and an `HeaderValue` by how the type is written, and calls `header_text`
/// on the value with no bound of ours in between, so a refused type gets this message on its
/// own type and no note about our internals. The impl is kept out of suggestions so that rustc
/// does not advise implementing `Display` where no one can (`Vec<String>`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a `#[header]` value",
    label = "not a header value",
    note = "a `#[header(\"Name\")]` argument is a string, a number, any other type that implements `Display`, or an `HeaderValue`; a reference to one; or an `Option` of one or a reference to that `Option` (`None` sends no header)",
    note = "join a list into one string before the call; for a type of your own, implement `Display` for it"
)]
pub trait HeaderText {
    /// The value, to be written as the header's text.
    fn header_text(&self) -> &dyn Display;
}

#[diagnostic::do_not_recommend]
impl<T: Display> HeaderText for T {
    fn header_text(&self) -> &dyn Display {
        self
    }
}

/// One API call being put together. Each step records its first error instead of returning
/// it, so generated code is a single chain that ends in `send`.
#[doc(hidden)]
#[must_use = "a request does nothing until it is sent"]
pub struct Request<'c> {
    pub(crate) client: &'c Client,
    pub(crate) method: Method,
    pub(crate) template: &'static str,
    /// The template as OpenTelemetry writes it (`/things/{id}`), for `url.template`.
    pub(crate) url_template: &'static str,
    /// The endpoint's name, `Trait.method`, for the call's span.
    pub(crate) endpoint: &'static str,
    pub(crate) path: String,
    pub(crate) query: String,
    /// The declaration's fixed headers (`#[header("name", "value")]`), built at compile time.
    pub(crate) static_headers: &'static [(HeaderName, HeaderValue)],
    /// Headers computed from the call's arguments, in order (few, and none for most calls:
    /// a list, not a map).
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Body,
    /// The first input that could not be encoded; `send` returns it without sending.
    pub(crate) error: Option<Error>,
    /// What the endpoint's declaration changes for this call (`#[timeout]`,
    /// `#[call_timeout]`, `#[retry]`, `#[idempotent]`).
    pub(crate) options: CallOptions,
}

/// Per-endpoint overrides of the client's settings.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallOptions {
    /// The per-attempt timeout instead of the client's.
    pub(crate) timeout: Option<std::time::Duration>,
    /// The limit on the whole call instead of the client's `call_timeout`.
    pub(crate) call_timeout: Option<std::time::Duration>,
    /// `false`: never resend after a transport error or a retryable status.
    pub(crate) no_retry: bool,
    /// Safe to resend whatever its method.
    pub(crate) idempotent: bool,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("template", &self.template)
            .finish_non_exhaustive()
    }
}

/// Appends `key=value` pairs for one serialised query value: nothing for `null`, one pair per
/// element for an array (tuples and fixed-size arrays serialise as arrays too), one pair for a
/// string, number or boolean. Going through `serde_json::Value` gives enums their serde names
/// and costs nothing that matters next to a network round trip.
fn push_query(query: &mut String, key: &str, value: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    let mut push = |text: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        query.extend(url::form_urlencoded::byte_serialize(key.as_bytes()));
        query.push('=');
        query.extend(url::form_urlencoded::byte_serialize(text.as_bytes()));
    };
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for item in items.iter().filter(|i| !i.is_null()) {
                let text =
                    scalar(item).ok_or("a sequence element is not a string, number or boolean")?;
                push(&text);
            }
            Ok(())
        }
        Value::Object(_) => {
            Err("a map or struct cannot be one query value; use `#[query(flatten)]`".into())
        }
        v => {
            push(&scalar(v).unwrap_or_default());
            Ok(())
        }
    }
}

impl<'c> Request<'c> {
    /// Starts a call of `method` against the client's API URL. `template` is the declared path
    /// (`/api/v1/<client_id>/Traversals`), used in errors and tracing, never sent as such.
    pub fn new(client: &'c Client, method: Method, template: &'static str) -> Self {
        Self {
            client,
            method,
            template,
            url_template: template,
            endpoint: template,
            path: {
                // The API base's path first: the URL is the parsed base with this path set.
                let base = &client.inner.api.path;
                let mut path = String::with_capacity(base.len() + template.len() + 32);
                path.push_str(base);
                path
            },
            query: String::new(),
            static_headers: &[],
            headers: Vec::new(),
            body: Body::None,
            error: None,
            options: CallOptions::default(),
        }
    }

    /// The endpoint's name as traces show it, `Trait.method` (`Traversals.respond`); without
    /// it, the template given to `new` names the call.
    pub fn endpoint(mut self, name: &'static str) -> Self {
        self.endpoint = name;
        self
    }

    /// The route as traced in `url.template`, with OpenTelemetry's braces
    /// (`/things/{id}`); without it, the template given to `new` is used.
    pub fn url_template(mut self, url_template: &'static str) -> Self {
        self.url_template = url_template;
        self
    }

    /// This endpoint's per-attempt timeout, instead of the client's (`#[timeout("5s")]`).
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// This endpoint's limit on the whole call (token wait, attempts and backoffs), instead of
    /// the client's [`ClientBuilder::call_timeout`](crate::ClientBuilder::call_timeout)
    /// (`#[call_timeout("30s")]`).
    pub fn call_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.options.call_timeout = Some(timeout);
        self
    }

    /// Whether this endpoint may be resent after a transport error or a retryable status
    /// (`#[retry(false)]` says no). Waiting for a token and the replay after a 401 are not
    /// retries: nothing reached the API, or it refused the token rather than the request.
    pub fn retry(mut self, retry: bool) -> Self {
        self.options.no_retry = !retry;
        self
    }

    /// This endpoint is safe to send twice whatever its method (`#[idempotent]`), so the
    /// client's retry policy resends it as it would a GET.
    pub fn idempotent(mut self) -> Self {
        self.options.idempotent = true;
        self
    }

    fn fail(&mut self, error: Error) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    /// Appends a literal piece of the template. The macro has already checked that it holds
    /// only characters valid in a path.
    pub fn literal(mut self, piece: &str) -> Self {
        self.path.push_str(piece);
        self
    }

    /// Appends one path segment holding `value`, percent-encoded.
    ///
    /// `.` and `..` (which would move up the path) and the empty string (which would change the
    /// route) are refused.
    pub fn segment<T: Display + ?Sized>(mut self, name: &str, value: &T) -> Self {
        if let Err(shown) = push_segment(&mut self.path, value) {
            self.fail(Error::invalid_input(format!(
                "path parameter `{name}` is {shown}, which cannot be sent as a path segment"
            )));
        }
        self
    }

    /// Appends the client's configured client id as one path segment (HealthHero's paths
    /// carry the tenant), encoded once when the client was built.
    pub fn client_id(mut self) -> Self {
        let client = self.client;
        match &client.inner.client_id_segment {
            Some(encoded) => {
                self.path.push_str(encoded);
                self
            }
            // Not a valid segment: `segment` says why.
            None => self.segment("client_id", client.client_id()),
        }
    }

    /// Appends `key=value` to the query. `None` adds nothing, a sequence repeats the key, and
    /// scalars are written the way serde writes them (enums by their serde names).
    pub fn query<T: Serialize + ?Sized>(mut self, key: &str, value: &T) -> Self {
        let result = serde_json::to_value(value)
            .map_err(|e| e.to_string())
            .and_then(|v| push_query(&mut self.query, key, &v));
        if let Err(e) = result {
            self.fail(Error::invalid_input(format!(
                "query parameter `{key}` cannot be written to a URL: {e}"
            )));
        }
        self
    }

    /// Appends every field of a `Serialize` struct or map to the query, as `query` does for
    /// one, in the order the fields serialise.
    pub fn query_flatten<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        // serde_html_form keeps the fields' order (a JSON map sorts them unless serde_json's
        // `preserve_order` is on, which we do not impose on the user's build); what it
        // refuses goes through the JSON path below, which accepts a little more and, when it
        // refuses too, names the field at fault.
        if let Ok(text) = serde_html_form::to_string(value) {
            if !text.is_empty() {
                if !self.query.is_empty() {
                    self.query.push('&');
                }
                self.query.push_str(&text);
            }
            return self;
        }
        let result = match serde_json::to_value(value) {
            Ok(serde_json::Value::Object(fields)) => fields.iter().try_for_each(|(k, v)| {
                push_query(&mut self.query, k, v).map_err(|e| format!("field `{k}`: {e}"))
            }),
            Ok(serde_json::Value::Null) => Ok(()),
            Ok(_) => Err("the value is not a struct or map".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = result {
            self.fail(Error::invalid_input(format!(
                "query parameters cannot be written to a URL: {e}"
            )));
        }
        self
    }

    /// Adds a header whose value is computed from a method argument.
    pub fn header<T: Display + ?Sized>(self, name: &str, value: &T) -> Self {
        let mut text = String::new();
        let _ = write!(text, "{value}");
        let value = HeaderValue::from_str(&text).map_err(|_| {
            format!(
                "the value of header `{name}` contains a line break or another character not \
                 allowed in HTTP headers"
            )
        });
        self.push_header(name, value)
    }

    /// Adds a header from an optional argument: `None` sends no header.
    pub fn header_opt(self, name: &str, value: Option<&dyn Display>) -> Self {
        match value {
            Some(value) => self.header(name, value),
            None => self,
        }
    }

    /// Adds a header from an argument that is already a [`HeaderValue`], sent as it is.
    pub fn header_value(self, name: &str, value: &HeaderValue) -> Self {
        self.push_header(name, Ok(value.clone()))
    }

    /// Adds a header from an optional [`HeaderValue`]: `None` sends no header.
    pub fn header_value_opt(self, name: &str, value: Option<&HeaderValue>) -> Self {
        match value {
            Some(value) => self.header_value(name, value),
            None => self,
        }
    }

    /// Appends one header, or records why its name or value cannot be sent.
    fn push_header(mut self, name: &str, value: Result<HeaderValue, String>) -> Self {
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            self.fail(Error::invalid_input(format!(
                "`{name}` is not a valid HTTP header name"
            )));
            return self;
        };
        match value {
            Ok(value) => {
                self.headers.push((header, value));
            }
            Err(message) => self.fail(Error::invalid_input(message)),
        }
        self
    }

    /// The headers fixed in the declaration: the macro writes them as a `static`, so a call
    /// neither parses nor allocates them.
    pub fn static_headers(mut self, headers: &'static [(HeaderName, HeaderValue)]) -> Self {
        self.static_headers = headers;
        self
    }

    /// Every header the declaration sends, fixed ones first, then those from arguments.
    pub(crate) fn declared_headers(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.static_headers
            .iter()
            .chain(&self.headers)
            .map(|(name, value)| (name, value))
    }

    /// Sends `value` as the JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                self.body = Body::Bytes {
                    bytes: bytes.into(),
                    content_type: &JSON,
                }
            }
            Err(e) => self.fail(Error::invalid_input(format!(
                "the request body cannot be serialised to JSON: {e}"
            ))),
        }
        self
    }

    /// Sends `Some(value)` as the JSON body, and no body at all for `None`.
    pub fn json_opt<T: Serialize>(self, value: &Option<T>) -> Self {
        match value {
            Some(value) => self.json(value),
            None => self,
        }
    }

    /// Sends the bytes as they are, as `application/octet-stream` unless a `content-type`
    /// header is declared.
    pub fn bytes<T: AsRef<[u8]> + ?Sized>(mut self, value: &T) -> Self {
        self.body = Body::Bytes {
            bytes: Bytes::copy_from_slice(value.as_ref()),
            content_type: &OCTET_STREAM,
        };
        self
    }

    /// Sends the value's text, as `text/plain; charset=utf-8` unless a `content-type` header
    /// is declared.
    pub fn text<T: Display + ?Sized>(mut self, value: &T) -> Self {
        self.body = Body::Bytes {
            bytes: value.to_string().into(),
            content_type: &TEXT,
        };
        self
    }

    /// Sends `value` as an `application/x-www-form-urlencoded` body.
    pub fn form<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_html_form::to_string(value) {
            Ok(text) => {
                self.body = Body::Bytes {
                    bytes: text.into(),
                    content_type: &FORM,
                }
            }
            Err(e) => self.fail(Error::invalid_input(format!(
                "the request body cannot be form-encoded: {e}"
            ))),
        }
        self
    }

    /// [`send`](Self::send) with the decoder given as a value, as [`Pick`](super::decode::Pick)
    /// chooses it.
    pub fn send_as<D: Decode>(
        self,
        _decoder: std::marker::PhantomData<D>,
    ) -> impl Future<Output = Result<D::Output>> + use<'c, D> {
        self.send::<D>()
    }

    /// Sends the call, with retries and the 401 replay, and decodes the answer with `D`.
    //
    // One `async fn` from here to reqwest's future, holding the request once: the loop borrows
    // it, and the transport's future is not wrapped in another `async fn` (every level would
    // keep its own copy of its arguments in the call's future).
    pub async fn send<D: Decode>(mut self) -> Result<D::Output> {
        let client = self.client;
        let endpoint = Endpoint {
            name: self.endpoint,
            method: telemetry::method_name(&self.method),
            url_template: self.url_template,
        };
        // The one deadline of the call: `run` enforces it, telemetry tells a cut-short attempt
        // by it.
        let deadline = self
            .call_limit()
            .map(|limit| tokio::time::Instant::now() + limit);
        let call = Call::start(
            endpoint,
            &client.inner.api.server,
            client.client_id(),
            deadline,
        );
        // Entered only when a subscriber wants it (see `Call::start`).
        let answered = if call.span.is_disabled() {
            self.run(&call).await
        } else {
            self.run(&call).instrument(call.span.clone()).await
        };
        let status = match &answered {
            Ok(answer) => Some(answer.status),
            Err(e) => e.api_status(),
        };
        let result = match answered {
            Ok(answer) => D::decode(answer),
            // `Option<T>` methods: absent is an answer, not an error, when the 404 says so.
            Err(e) if e.means_absent() => match D::not_found() {
                Some(none) => {
                    call.absent();
                    Ok(none)
                }
                None => Err(e),
            },
            Err(e) => Err(e),
        };
        call.finish(status, result.as_ref().err());
        result.map_err(|e| e.with_call(&self.method, self.template))
    }
}
