//! Building and sending one API call: what the `#[healthhero_api]` macro generates calls to.

use std::fmt::{self, Display, Write as _};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::ser::Serialize;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::body::{read_capped, scrub};
use crate::client::{Client, MAX_ERROR_BODY_BYTES};
use crate::error::{Error, HttpParts, ProblemDetails, Repr, Result};
use crate::retry::retry_after;
use crate::token::{AccessToken, TokenSource};

/// Everything outside RFC 3986 `unreserved` (`ALPHA / DIGIT / "-" / "." / "_" / "~"`) is
/// percent-encoded inside a path segment, so a value can never add a segment, a query or a
/// fragment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A successful answer with its status and headers, for methods declared to return
/// `Response<T>`.
#[derive(Debug, Clone)]
pub struct Response<T> {
    status: StatusCode,
    headers: HeaderMap,
    value: T,
}

impl<T> Response<T> {
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
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    /// What a decode error must scrub from the body it keeps; only used on that path.
    token: Arc<AccessToken>,
    tokens: TokenSource,
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
                body: scrub_secrets(self.body, &self.token, &self.tokens),
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

enum Body {
    None,
    Bytes {
        bytes: Bytes,
        content_type: HeaderValue,
    },
}

/// Percent-encodes everything written to it into the string it wraps.
struct SegmentWriter<'a>(&'a mut String);

impl fmt::Write for SegmentWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0
            .extend(percent_encoding::utf8_percent_encode(s, SEGMENT));
        Ok(())
    }
}

/// One API call being put together. Each step records its first error instead of returning
/// it, so generated code is a single chain that ends in `send`.
#[doc(hidden)]
#[must_use = "a request does nothing until it is sent"]
pub struct Request<'c> {
    client: &'c Client,
    method: Method,
    template: &'static str,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Body,
    error: Option<Error>,
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
            path: String::with_capacity(template.len() + 32),
            query: String::new(),
            headers: HeaderMap::new(),
            body: Body::None,
            error: None,
        }
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
        // Encoded while it is written, straight into the path: no intermediate string.
        let start = self.path.len();
        let _ = write!(SegmentWriter(&mut self.path), "{value}");
        // `.` and `..` are unreserved, so they come out of the encoder unchanged.
        let written = &self.path[start..];
        if written.is_empty() || written == "." || written == ".." {
            let shown = if written.is_empty() {
                "an empty string".to_owned()
            } else {
                written.to_owned()
            };
            self.path.truncate(start);
            self.fail(Error::invalid_input(format!(
                "path parameter `{name}` is {shown}, which cannot be sent as a path segment"
            )));
        }
        self
    }

    /// Appends the client's configured client id as one path segment (HealthHero's paths
    /// carry the tenant).
    pub fn client_id(self) -> Self {
        let client = self.client;
        self.segment("client_id", client.client_id())
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

    /// Appends every field of a `Serialize` struct or map to the query, as `query` does for one.
    pub fn query_flatten<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
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
    pub fn header<T: Display + ?Sized>(mut self, name: &str, value: &T) -> Self {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            self.fail(Error::invalid_input(format!(
                "`{name}` is not a valid HTTP header name"
            )));
            return self;
        };
        let mut text = String::new();
        let _ = write!(text, "{value}");
        match HeaderValue::from_str(&text) {
            Ok(v) => {
                self.headers.append(name, v);
            }
            Err(_) => self.fail(Error::invalid_input(format!(
                "the value of header `{name}` contains a line break or another character not \
                 allowed in HTTP headers"
            ))),
        }
        self
    }

    /// Adds a header whose value is fixed in the declaration.
    pub fn static_header(self, name: &'static str, value: &'static str) -> Self {
        self.header(name, value)
    }

    /// Sends `value` as the JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                self.body = Body::Bytes {
                    bytes: bytes.into(),
                    content_type: HeaderValue::from_static("application/json"),
                }
            }
            Err(e) => self.fail(Error::invalid_input(format!(
                "the request body cannot be serialised to JSON: {e}"
            ))),
        }
        self
    }

    /// Sends `value` as an `application/x-www-form-urlencoded` body.
    pub fn form<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_html_form::to_string(value) {
            Ok(text) => {
                self.body = Body::Bytes {
                    bytes: text.into(),
                    content_type: HeaderValue::from_static("application/x-www-form-urlencoded"),
                }
            }
            Err(e) => self.fail(Error::invalid_input(format!(
                "the request body cannot be form-encoded: {e}"
            ))),
        }
        self
    }

    /// Sends the call, with retries and the 401 replay, and decodes the answer with `D`.
    pub async fn send<D: Decode>(self) -> Result<D::Output> {
        let span = tracing::debug_span!(
            target: "hh_runtime::call",
            "hh.call",
            method = %self.method,
            path = self.template,
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let method = self.method.clone();
        let template = self.template;
        self.run::<D>()
            .instrument(span)
            .await
            .map_err(|e| e.with_call(&method, template))
    }

    async fn run<D: Decode>(self) -> Result<D::Output> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let inner = &*self.client.inner;
        let mut url_text =
            String::with_capacity(inner.api_base.len() + self.path.len() + self.query.len() + 1);
        url_text.push_str(&inner.api_base);
        url_text.push_str(&self.path);
        if !self.query.is_empty() {
            url_text.push('?');
            url_text.push_str(&self.query);
        }
        let parse = || {
            reqwest::Url::parse(&url_text)
                .map_err(|e| Error::invalid_input(format!("the request URL is invalid: {e}")))
        };
        // Parsed for each attempt rather than cloned: the first attempt, nearly always the
        // only one, takes it by value.
        let mut url = Some(parse()?);
        let policy = &inner.retry;
        let started = Instant::now();
        let span = tracing::Span::current();
        let mut attempt = 0u32;
        let mut retries = 0u32;
        let mut replayed = false;

        loop {
            attempt += 1;
            span.record("attempt", attempt);
            let token = inner.tokens.get().await?;

            let target = match url.take() {
                Some(u) => u,
                None => parse()?,
            };
            let mut request = reqwest::Request::new(self.method.clone(), target);
            let headers = request.headers_mut();
            for (name, value) in &inner.default_headers {
                headers.insert(name, value.clone());
            }
            // A header declared on the method or trait replaces a client default of that name.
            for name in self.headers.keys() {
                headers.remove(name);
                for value in self.headers.get_all(name) {
                    headers.append(name, value.clone());
                }
            }
            headers.insert(http::header::AUTHORIZATION, token.header.clone());
            if let Body::Bytes {
                bytes,
                content_type,
            } = &self.body
            {
                headers.insert(CONTENT_TYPE, content_type.clone());
                *request.body_mut() = Some(bytes.clone().into());
            }

            let sent = Instant::now();
            let exchange = async {
                let mut response = inner.http.execute(request).await?;
                let status = response.status();
                // Moved out, not copied: the body is read without them.
                let headers = std::mem::take(response.headers_mut());
                let cap = if status.is_success() {
                    inner.max_response_bytes.saturating_add(1)
                } else {
                    MAX_ERROR_BODY_BYTES
                };
                if status == StatusCode::UNAUTHORIZED && inner.replay_on_401 && !replayed {
                    // Before reading a body we won't use: the token is the problem.
                    return Ok((status, headers, Bytes::new(), false));
                }
                let (body, truncated) = read_capped(response, cap).await?;
                Ok::<_, reqwest::Error>((status, headers, body, truncated))
            };
            // One timer for the whole attempt, headers and body (reqwest's own per-request
            // timeout would arm one for each).
            let outcome = match inner.request_timeout {
                Some(limit) => match tokio::time::timeout(limit, exchange).await {
                    Ok(result) => result.map_err(Some),
                    Err(_) => Err(None),
                },
                None => exchange.await.map_err(Some),
            };
            span.record("latency_ms", sent.elapsed().as_millis() as u64);

            let (status, headers, body, truncated) = match outcome {
                Ok(parts) => parts,
                Err(e) => {
                    // A request that never connected never reached the server: safe to resend
                    // whatever the method. Otherwise (a timeout, a reset) only when the method
                    // allows it.
                    let connect = e.as_ref().is_some_and(reqwest::Error::is_connect);
                    if connect || policy.may_resend(&self.method) {
                        if let Some(wait) = next_retry(policy, retries, started, None) {
                            retries += 1;
                            tracing::debug!(
                                timeout = e.is_none(),
                                wait_ms = wait.as_millis() as u64,
                                "retrying after a transport error"
                            );
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                    }
                    let timeout = match &e {
                        None => inner.request_timeout,
                        Some(e) if e.is_timeout() && !e.is_connect() => inner.request_timeout,
                        Some(_) => None,
                    };
                    return Err(Error::new(Repr::Transport {
                        source: e.map(reqwest::Error::without_url),
                        timeout,
                    }));
                }
            };
            span.record("status", status.as_u16());

            if status == StatusCode::UNAUTHORIZED && inner.replay_on_401 && !replayed {
                replayed = true;
                tracing::debug!("401 Unauthorized: replaying once with a fresh token");
                inner.tokens.invalidate(&token);
                continue;
            }

            if status.is_success() {
                if truncated {
                    return Err(Error::new(Repr::Decode {
                        http: HttpParts {
                            status,
                            headers,
                            body: Bytes::new(),
                            truncated: true,
                        },
                        message: format!(
                            "the body is larger than the {} byte limit (see ClientBuilder::max_response_bytes)",
                            inner.max_response_bytes
                        ),
                        path: None,
                        source: None,
                    }));
                }
                let answer = Answer {
                    status,
                    headers,
                    body,
                    token,
                    tokens: inner.tokens.clone(),
                };
                return D::decode(answer);
            }

            let wait_at_least = retry_after(&headers);
            if policy.statuses.contains(&status) && policy.may_resend(&self.method) {
                if let Some(wait) = next_retry(policy, retries, started, wait_at_least) {
                    retries += 1;
                    tracing::debug!(
                        status = status.as_u16(),
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            return Err(status_error(
                status,
                headers,
                scrub_secrets(body, &token, &inner.tokens),
                truncated,
                wait_at_least,
            ));
        }
    }
}

/// The body without the token it was sent with or the client secret, in case the server
/// echoed them.
fn scrub_secrets(body: Bytes, token: &AccessToken, tokens: &TokenSource) -> Bytes {
    let [encoded_secret, raw_secret] = tokens.config().secret_forms();
    scrub(body, &[token.secret_bytes(), &encoded_secret, &raw_secret])
}

/// The wait before the next retry, or `None` when attempts or time are used up. A
/// `Retry-After` longer than what remains of the budget means no retry at all: retrying
/// earlier than the server asked is never right.
fn next_retry(
    policy: &crate::RetryPolicy,
    retries: u32,
    started: Instant,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    if retries + 1 >= policy.max_attempts {
        return None;
    }
    let wait = policy
        .backoff(retries + 1)
        .max(retry_after.unwrap_or_default());
    (started.elapsed() + wait <= policy.max_elapsed).then_some(wait)
}

fn status_error(
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    truncated: bool,
    retry_after: Option<Duration>,
) -> Error {
    let json: Option<serde_json::Value> = if truncated {
        None
    } else {
        serde_json::from_slice(&body).ok()
    };
    let problem = json
        .as_ref()
        .and_then(|v| v.as_object())
        .filter(|o| {
            ["type", "title", "status", "detail"]
                .iter()
                .any(|k| o.contains_key(*k))
        })
        .and_then(|o| {
            serde_json::from_value::<ProblemDetails>(serde_json::Value::Object(o.clone())).ok()
        });
    Error::new(Repr::Status {
        http: HttpParts {
            status,
            headers,
            body,
            truncated,
        },
        json,
        problem,
        retry_after,
    })
}

#[cfg(test)]
mod tests {
    //! Property tests run by `cargo test` (256 cases each); for a longer run:
    //! `PROPTEST_CASES=200000 cargo test -p hh-runtime --lib fuzz`.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_error_body_parser_never_panics(
            status in 400u16..600,
            body in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..400),
                "\\PC{0,200}".prop_map(String::into_bytes),
                Just(br#"{"type":"t","title":"x","status":"not a number","detail":null,"errors":{"a":["b"]}}"#.to_vec()),
                Just(br#"{"title":5,"extra":[1,2,3]}"#.to_vec()),
            ],
            truncated in any::<bool>(),
            retry in prop::option::of("\\PC{0,40}"),
        ) {
            let mut headers = HeaderMap::new();
            if let Some(v) = retry.as_deref().and_then(|r| http::HeaderValue::from_str(r).ok()) {
                headers.insert(http::header::RETRY_AFTER, v);
            }
            let wait = retry_after(&headers);
            prop_assert!(wait.is_none_or(|w| w <= Duration::from_secs(86_400)));
            let err = status_error(StatusCode::from_u16(status).unwrap(), headers, Bytes::from(body.clone()), truncated, wait);
            prop_assert_eq!(err.body(), Some(&body[..]));
            // Display and Debug never fail or panic.
            let _ = format!("{err} {err:?}");
            if truncated {
                prop_assert!(err.json().is_none());
            }
        }

        #[test]
        fn fuzz_scrub_removes_every_secret(
            prefix in proptest::collection::vec(any::<u8>(), 0..64),
            secret in proptest::collection::vec(any::<u8>(), 4..24),
            middle in proptest::collection::vec(any::<u8>(), 0..64),
            suffix in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut body = prefix.clone();
            body.extend_from_slice(&secret);
            body.extend_from_slice(&middle);
            body.extend_from_slice(&secret);
            body.extend_from_slice(&suffix);
            let out = scrub(Bytes::from(body), &[&secret]);
            prop_assert!(!out.windows(secret.len()).any(|w| w == &secret[..]));
        }
    }
}
