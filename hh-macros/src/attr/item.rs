//! The attributes of the trait and its methods: the verb with its route (`#[get("/path")]`),
//! `#[header("name", "value")]`, `#[timeout]`, `#[call_timeout]`, `#[retry]` and
//! `#[idempotent]`.

use syn::{Attribute, Ident, LitStr};

use super::duration::timeout;
use super::header::{StaticHeader, static_header};
use super::{CALL_TIMEOUT, HEADER, IDEMPOTENT, Place, RETRY, Site, TIMEOUT};
use super::{arguments, place, report_misplaced};
use crate::ctxt::Ctxt;

/// What an attribute on a trait or a method turned out to be.
pub(crate) enum ItemAttr {
    Verb {
        verb: Ident,
        path: LitStr,
    },
    Header(StaticHeader),
    /// `#[timeout("5s")]`: the per-attempt timeout, in milliseconds.
    Timeout(u64),
    /// `#[call_timeout("30s")]`: the limit on the whole call, in milliseconds.
    CallTimeout(u64),
    /// `#[retry(false)]` (or `true`, which `check` reports as the default).
    Retry(syn::LitBool),
    /// `#[idempotent]`.
    Idempotent,
    /// Someone else's attribute, kept on the output.
    Other,
    /// Ours, but malformed; already reported.
    Invalid,
}

/// Parses an attribute found on the trait or a method.
pub(crate) fn item_attr(cx: &Ctxt, attr: &Attribute, site: Site) -> ItemAttr {
    let owner = match site {
        Site::Trait => "the trait",
        Site::Method | Site::Argument => "an endpoint method",
    };
    match place(site, attr) {
        Place::Consumed => {}
        Place::Misplaced => {
            report_misplaced(cx, site, attr, owner);
            return ItemAttr::Invalid;
        }
        Place::Declaration | Place::Both | Place::Implementation => return ItemAttr::Other,
    }
    let Some(verb) = attr.path().get_ident().cloned() else {
        return ItemAttr::Other;
    };
    match verb.to_string().as_str() {
        TIMEOUT => return timeout(cx, attr, "5s").map_or(ItemAttr::Invalid, ItemAttr::Timeout),
        CALL_TIMEOUT => {
            return timeout(cx, attr, "30s").map_or(ItemAttr::Invalid, ItemAttr::CallTimeout);
        }
        RETRY => return retry(cx, attr),
        IDEMPOTENT => return idempotent(cx, attr),
        _ => {}
    }
    if verb != HEADER {
        return route(cx, attr, verb);
    }
    static_header(cx, attr, site).map_or(ItemAttr::Invalid, ItemAttr::Header)
}

/// `#[get("/path")]` and the other verbs, with one path template string.
fn route(cx: &Ctxt, attr: &Attribute, verb: Ident) -> ItemAttr {
    match attr.parse_args::<LitStr>() {
        Ok(path) => ItemAttr::Verb { verb, path },
        Err(_) => {
            cx.error_spanned_by(
                attr,
                format!("expected `#[{verb}(\"/path\")]` with one path template string"),
            );
            ItemAttr::Invalid
        }
    }
}

/// `#[retry(false)]`, with a boolean literal.
fn retry(cx: &Ctxt, attr: &Attribute) -> ItemAttr {
    match attr.parse_args::<syn::LitBool>() {
        Ok(value) => ItemAttr::Retry(value),
        Err(_) => {
            cx.error_spanned_by(
                arguments(attr),
                "expected `#[retry(false)]`, which sends this method once even where the client's retry policy would send it again",
            );
            ItemAttr::Invalid
        }
    }
}

/// `#[idempotent]`, a bare word.
fn idempotent(cx: &Ctxt, attr: &Attribute) -> ItemAttr {
    if let syn::Meta::Path(_) = attr.meta {
        ItemAttr::Idempotent
    } else {
        cx.error_spanned_by(
            arguments(attr),
            "`#[idempotent]` takes no arguments: it says that sending this call twice has the effect of sending it once",
        );
        ItemAttr::Invalid
    }
}
