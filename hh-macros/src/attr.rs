//! Our attributes, one parser each: the macro's options, the verbs, `#[header]`, and the
//! argument roles.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitStr, Path, Token};

use crate::ctxt::{Ctxt, did_you_mean};
use crate::template::{self, Piece};

pub(crate) const VERBS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
pub(crate) const HEADER: &str = "header";
pub(crate) const QUERY: &str = "query";
pub(crate) const BODY: &str = "body";
pub(crate) const FORM: &str = "form";
/// Attributes of other tools that may sit on a method or an argument and are kept as they are.
pub(crate) const PASS_THROUGH: [&str; 10] = [
    "doc",
    "allow",
    "warn",
    "deny",
    "forbid",
    "expect",
    "cfg",
    "cfg_attr",
    "deprecated",
    "must_use",
];

mod kw {
    syn::custom_keyword!(prefix);
    syn::custom_keyword!(flatten);
}

/// `#[healthhero_api(prefix = "/api/v1", crate = "my_reexport::hh")]`.
pub(crate) struct Options {
    pub(crate) krate: Path,
    pub(crate) prefix: Option<(LitStr, Vec<Piece>)>,
}

impl Options {
    pub(crate) fn from_tokens(cx: &Ctxt, args: proc_macro2::TokenStream) -> Self {
        let mut options = Options {
            krate: syn::parse_quote!(::hh_runtime),
            prefix: None,
        };
        let parser = |input: ParseStream<'_>| -> syn::Result<()> {
            while !input.is_empty() {
                let lookahead = input.lookahead1();
                if lookahead.peek(Token![crate]) {
                    input.parse::<Token![crate]>()?;
                    input.parse::<Token![=]>()?;
                    let lit: LitStr = input.parse()?;
                    match lit.parse_with(Path::parse_mod_style) {
                        Ok(path) => options.krate = path,
                        Err(_) => cx.error_spanned_by(
                            &lit,
                            format!(
                                "`crate = {:?}` is not a path such as `my_crate::hh`",
                                lit.value()
                            ),
                        ),
                    }
                } else if lookahead.peek(kw::prefix) {
                    input.parse::<kw::prefix>()?;
                    input.parse::<Token![=]>()?;
                    let lit: LitStr = input.parse()?;
                    let value = lit.value();
                    let trimmed = value.strip_suffix('/').unwrap_or(&value);
                    // `prefix = "/"` (or `""`) means no prefix.
                    let parsed = if trimmed.is_empty() {
                        Ok(Vec::new())
                    } else {
                        template::parse(trimmed)
                    };
                    match parsed {
                        Ok(pieces) => options.prefix = Some((lit, pieces)),
                        Err(errors) => {
                            for e in errors {
                                cx.error_spanned_by(&lit, format!("in `prefix`: {e}"));
                            }
                        }
                    }
                } else if input.peek(Ident) {
                    let ident: Ident = input.parse()?;
                    let name = ident.to_string();
                    let hint = did_you_mean(&name, ["prefix", "crate"])
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    cx.error_spanned_by(
                        &ident,
                        format!("unknown option `{name}`{hint} (expected `prefix = \"/path\"` or `crate = \"path\"`)"),
                    );
                    if input.peek(Token![=]) {
                        input.parse::<Token![=]>()?;
                        input.parse::<syn::Expr>()?;
                    }
                } else {
                    return Err(lookahead.error());
                }
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
            }
            Ok(())
        };
        if let Err(e) = syn::parse::Parser::parse2(parser, args) {
            cx.syn_error(e);
        }
        options
    }
}

/// `#[header("Name", "value")]` on a trait or a method.
pub(crate) struct StaticHeader {
    pub(crate) name: LitStr,
    pub(crate) value: LitStr,
}

struct TwoStrings(LitStr, Option<LitStr>);

impl Parse for TwoStrings {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let first: LitStr = input.parse()?;
        let second = if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                None
            } else {
                Some(input.parse()?)
            }
        } else {
            None
        };
        if !input.is_empty() {
            return Err(input.error("expected at most two string literals"));
        }
        Ok(Self(first, second))
    }
}

/// What an attribute on a trait or a method turned out to be.
pub(crate) enum ItemAttr {
    Verb {
        verb: Ident,
        path: LitStr,
    },
    Header(StaticHeader),
    /// Someone else's attribute, kept on the output.
    Other,
    /// Ours, but malformed; already reported.
    Invalid,
}

fn name_of(attr: &Attribute) -> Option<String> {
    attr.path().get_ident().map(Ident::to_string)
}

/// Parses an attribute found on a method (`on_trait` false) or the trait (`on_trait` true).
pub(crate) fn item_attr(cx: &Ctxt, attr: &Attribute, on_trait: bool) -> ItemAttr {
    let Some(name) = name_of(attr) else {
        return ItemAttr::Other;
    };
    if VERBS.contains(&name.as_str()) && !on_trait {
        let verb = attr
            .path()
            .get_ident()
            .cloned()
            .unwrap_or_else(|| Ident::new(&name, Span::call_site()));
        return match attr.parse_args::<LitStr>() {
            Ok(path) => ItemAttr::Verb { verb, path },
            Err(_) => {
                cx.error_spanned_by(
                    attr,
                    format!("expected `#[{name}(\"/path\")]` with one path template string"),
                );
                ItemAttr::Invalid
            }
        };
    }
    if name == HEADER {
        return match attr.parse_args::<TwoStrings>() {
            Ok(TwoStrings(name, Some(value))) => {
                let ok = check_header_name(cx, &name) & check_header_value(cx, &value);
                if ok {
                    ItemAttr::Header(StaticHeader { name, value })
                } else {
                    ItemAttr::Invalid
                }
            }
            _ => {
                let place = if on_trait { "a trait" } else { "a method" };
                cx.error_spanned_by(
                    attr,
                    format!("on {place}, `#[header]` takes a name and a value: `#[header(\"x-api-version\", \"v3\")]`"),
                );
                ItemAttr::Invalid
            }
        };
    }
    if on_trait || PASS_THROUGH.contains(&name.as_str()) {
        return ItemAttr::Other;
    }
    let mut ours: Vec<&str> = VERBS.to_vec();
    ours.push(HEADER);
    let hint = did_you_mean(&name, ours.iter().copied())
        .map(|s| format!("; did you mean `#[{s}]`?"))
        .unwrap_or_default();
    cx.error_spanned_by(
        attr.path(),
        format!(
            "unknown attribute `#[{name}]` on an endpoint method{hint} (expected one of `#[get]`, `#[post]`, `#[put]`, `#[patch]`, `#[delete]`, `#[header]`)"
        ),
    );
    ItemAttr::Invalid
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
    Body,
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
            Role::Body => "`#[body]`",
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
        let Some(name) = name_of(attr) else {
            continue;
        };
        let parsed = match name.as_str() {
            QUERY => {
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
                            cx.error_spanned_by(attr, "expected `#[query]`, `#[query(\"wire_name\")]` or `#[query(flatten)]`");
                            None
                        }
                    },
                }
            }
            BODY | FORM => {
                if let syn::Meta::Path(_) = attr.meta {
                    Some(if name == BODY { Role::Body } else { Role::Form })
                } else {
                    cx.error_spanned_by(attr, format!("`#[{name}]` takes no arguments"));
                    None
                }
            }
            HEADER => match attr.parse_args::<TwoStrings>() {
                Ok(TwoStrings(header, None)) => {
                    check_header_name(cx, &header).then_some(Role::Header { name: header })
                }
                _ => {
                    cx.error_spanned_by(
                        attr,
                        "on an argument, `#[header]` takes the header's name only: `#[header(\"x-correlation-id\")]`",
                    );
                    None
                }
            },
            other if PASS_THROUGH.contains(&other) => continue,
            other => {
                let hint = did_you_mean(other, [QUERY, BODY, FORM, HEADER])
                    .map(|s| format!("; did you mean `#[{s}]`?"))
                    .unwrap_or_default();
                cx.error_spanned_by(
                    attr.path(),
                    format!("unknown attribute `#[{other}]` on argument `{arg_name}`{hint} (expected `#[query]`, `#[body]`, `#[form]` or `#[header(\"Name\")]`)"),
                );
                broken = true;
                continue;
            }
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

/// RFC 9110 `token` characters: what a header name may contain.
fn check_header_name(cx: &Ctxt, name: &LitStr) -> bool {
    let value = name.value();
    let valid = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        cx.error_spanned_by(name, format!("`{value}` is not a valid HTTP header name"));
    }
    valid
}

/// Visible ASCII, spaces and tabs: never a line break that could forge another header.
fn check_header_value(cx: &Ctxt, value: &LitStr) -> bool {
    let text = value.value();
    let valid = text
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
    if !valid {
        cx.error_spanned_by(
            value,
            format!("header value {text:?} contains a line break or a character not allowed in HTTP headers"),
        );
    }
    valid
}
