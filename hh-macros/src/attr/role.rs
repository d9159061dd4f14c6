//! The roles of an endpoint's arguments: a path placeholder (no attribute), `#[query]`,
//! `#[body]`, `#[form]` or `#[header("name")]`.

use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitStr};

use super::header::argument_header;
use super::{BODY, HEADER, Place, QUERY, Site, place, report_misplaced};
use crate::ctxt::Ctxt;

mod kw {
    syn::custom_keyword!(flatten);
}

/// How a `#[body]` argument is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// `#[body]`: serialised as JSON.
    Json,
    /// `#[body(bytes)]`: the bytes as they are.
    Bytes,
    /// `#[body(text)]`: the value's text.
    Text,
}

/// The role an argument plays in the request.
#[derive(Clone)]
pub(crate) enum Role {
    /// No attribute: fills the placeholder of the same name.
    Path,
    Query {
        key: String,
    },
    QueryFlatten,
    Body(BodyKind),
    Form,
    Header {
        name: LitStr,
    },
    /// Its attribute was malformed and already reported; no further rule looks at it.
    Unknown,
}

impl Role {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Role::Path => "a path placeholder",
            Role::Query { .. } | Role::QueryFlatten => "`#[query]`",
            Role::Body(_) => "`#[body]`",
            Role::Form => "`#[form]`",
            Role::Header { .. } => "`#[header]`",
            Role::Unknown => "an unknown role",
        }
    }
}

enum QueryArgs {
    Name(LitStr),
    Flatten,
}

impl Parse for QueryArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let args = if input.peek(kw::flatten) {
            input.parse::<kw::flatten>()?;
            QueryArgs::Flatten
        } else {
            QueryArgs::Name(input.parse()?)
        };
        if !input.is_empty() {
            return Err(input.error("unexpected tokens"));
        }
        Ok(args)
    }
}

/// Reads the role attributes of one argument. Returns the role (if one was given and it
/// parsed) with the attribute that set it, and whether some attribute was already reported as
/// malformed or unknown (the argument's role is then unknown, not missing).
pub(crate) fn arg_role<'a>(
    cx: &Ctxt,
    arg_name: &str,
    attrs: &'a [Attribute],
) -> (Option<(Role, &'a Attribute)>, bool) {
    let mut role: Option<(Role, &Attribute)> = None;
    let mut broken = false;
    for attr in attrs {
        match place(Site::Argument, attr) {
            Place::Consumed => {}
            Place::Misplaced => {
                report_misplaced(cx, Site::Argument, attr, &format!("argument `{arg_name}`"));
                broken = true;
                continue;
            }
            Place::Declaration | Place::Both | Place::Implementation => continue,
        }
        let Some(name) = attr.path().get_ident().map(Ident::to_string) else {
            continue;
        };
        // Parsed (and reported when malformed) before the check for a second role.
        let parsed = match name.as_str() {
            QUERY => query(cx, arg_name, attr),
            HEADER => argument_header(cx, attr).map(|name| Role::Header { name }),
            BODY => body(cx, attr),
            _ => form(cx, attr, &name),
        };
        if let Some((first, _)) = &role {
            cx.error_spanned_by(
                attr,
                format!(
                    "argument `{arg_name}` already has the role {}; an argument has one role",
                    first.describe()
                ),
            );
            continue;
        }
        match parsed {
            Some(parsed) => role = Some((parsed, attr)),
            None => broken = true,
        }
    }
    (role, broken)
}

/// `#[query]` (the argument's name is the key), `#[query("wire_name")]` or
/// `#[query(flatten)]`. `None` once reported.
fn query(cx: &Ctxt, arg_name: &str, attr: &Attribute) -> Option<Role> {
    match &attr.meta {
        syn::Meta::Path(_) => Some(Role::Query {
            key: arg_name.to_owned(),
        }),
        _ => match attr.parse_args::<QueryArgs>() {
            Ok(QueryArgs::Name(lit)) if !lit.value().is_empty() => {
                Some(Role::Query { key: lit.value() })
            }
            Ok(QueryArgs::Flatten) => Some(Role::QueryFlatten),
            _ => {
                cx.error_spanned_by(
                    attr,
                    "expected `#[query]`, `#[query(\"wire_name\")]` or `#[query(flatten)]`",
                );
                None
            }
        },
    }
}

/// `#[body]`, `#[body(bytes)]` or `#[body(text)]`. `None` once reported.
fn body(cx: &Ctxt, attr: &Attribute) -> Option<Role> {
    match &attr.meta {
        syn::Meta::Path(_) => Some(Role::Body(BodyKind::Json)),
        _ => match attr.parse_args::<Ident>().map(|i| i.to_string()).as_deref() {
            Ok("bytes") => Some(Role::Body(BodyKind::Bytes)),
            Ok("text") => Some(Role::Body(BodyKind::Text)),
            _ => {
                cx.error_spanned_by(
                    attr,
                    "expected `#[body]` (JSON), `#[body(bytes)]` (the bytes as they are) or `#[body(text)]` (the value's text)",
                );
                None
            }
        },
    }
}

/// `#[form]`, a bare word (`name` as written, for the message). `None` once reported.
fn form(cx: &Ctxt, attr: &Attribute, name: &str) -> Option<Role> {
    if let syn::Meta::Path(_) = attr.meta {
        Some(Role::Form)
    } else {
        cx.error_spanned_by(attr, format!("`#[{name}]` takes no arguments"));
        None
    }
}
