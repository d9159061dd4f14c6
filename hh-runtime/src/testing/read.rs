//! The reading half of serving a fake: a request's parts back into the call's arguments, by
//! their declared roles, as the runtime's `call::build` wrote them. Every error names the
//! argument.

use std::fmt::Display;
use std::str::FromStr;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::wire::ServedRequest;

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
