//! `#[header]`: a name and a value on the trait or a method, a name alone on an argument; and
//! the checks that keep both within what HTTP allows.

use syn::parse::{Parse, ParseStream};
use syn::{Attribute, LitStr, Token};

use super::Site;
use crate::ctxt::Ctxt;

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

/// `#[header("name", "value")]` on the trait or a method. `None` once reported.
pub(super) fn static_header(cx: &Ctxt, attr: &Attribute, site: Site) -> Option<StaticHeader> {
    match attr.parse_args::<TwoStrings>() {
        Ok(TwoStrings(name, Some(value))) => {
            // `&`, not `&&`: both are checked, so both are reported.
            let ok = check_header_name(cx, &name) & check_header_value(cx, &value);
            ok.then_some(StaticHeader { name, value })
        }
        _ => {
            let on = match site {
                Site::Trait => "a trait",
                Site::Method | Site::Argument => "a method",
            };
            cx.error_spanned_by(
                attr,
                format!("on {on}, `#[header]` takes a name and a value: `#[header(\"x-api-version\", \"v3\")]`"),
            );
            None
        }
    }
}

/// `#[header("name")]` on an argument: the header's name. `None` once reported.
pub(super) fn argument_header(cx: &Ctxt, attr: &Attribute) -> Option<LitStr> {
    match attr.parse_args::<TwoStrings>() {
        Ok(TwoStrings(header, None)) => check_header_name(cx, &header).then_some(header),
        _ => {
            cx.error_spanned_by(
                attr,
                "on an argument, `#[header]` takes the header's name only: `#[header(\"x-correlation-id\")]`",
            );
            None
        }
    }
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
