//! Our attributes: the one table of where each goes (`place`), the report of one written in
//! the wrong place, and a module per parser: the macro's options, the attributes of the trait
//! and its methods, `#[header]`, durations, and the argument roles.

mod duration;
mod header;
mod item;
mod options;
mod role;

pub(crate) use header::StaticHeader;
pub(crate) use item::{ItemAttr, item_attr};
pub(crate) use options::Options;
pub(crate) use role::{BodyKind, Role, arg_role};

use syn::{Attribute, Ident};

use crate::ctxt::{Ctxt, did_you_mean};

pub(crate) const VERBS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
pub(crate) const HEADER: &str = "header";
pub(crate) const QUERY: &str = "query";
pub(crate) const BODY: &str = "body";
pub(crate) const FORM: &str = "form";
pub(crate) const TIMEOUT: &str = "timeout";
pub(crate) const CALL_TIMEOUT: &str = "call_timeout";
pub(crate) const RETRY: &str = "retry";
pub(crate) const IDEMPOTENT: &str = "idempotent";

/// Where an attribute the user wrote is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Site {
    /// On the trait.
    Trait,
    /// On an endpoint method.
    Method,
    /// On an argument of an endpoint method.
    Argument,
}

/// Where an attribute ends up in the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// One of ours, read by the macro and removed.
    Consumed,
    /// Kept where the user wrote it, on the emitted trait, and nowhere else.
    Declaration,
    /// Kept on the trait and copied to the generated counterpart: for a trait attribute the
    /// client struct and its impls (so `#[cfg]` removes them together), for a method or an
    /// argument the generated method or argument.
    Both,
    /// Moved to the generated method, which has a body: attributes of other tools written
    /// as paths, such as `#[tracing::instrument]` (a trait declaration has no body for them).
    Implementation,
    /// One of ours in the wrong place, or an unknown name: reported.
    Misplaced,
}

/// The one table of where each attribute goes, for every site. Parsing, the generated code
/// and the fallback all ask it, so they cannot disagree.
pub(crate) fn place(site: Site, attr: &Attribute) -> Place {
    let Some(name) = attr.path().get_ident().map(Ident::to_string) else {
        // Written as a path (`rustfmt::skip`, `tracing::instrument`): another tool's.
        return match site {
            Site::Method => Place::Implementation,
            Site::Trait | Site::Argument => Place::Declaration,
        };
    };
    let name = name.as_str();
    let ours_on_arguments = [QUERY, BODY, FORM];
    match (site, name) {
        (_, HEADER) => Place::Consumed,
        (Site::Method, verb) if VERBS.contains(&verb) => Place::Consumed,
        (Site::Trait | Site::Method, TIMEOUT | CALL_TIMEOUT) => Place::Consumed,
        (Site::Method, RETRY | IDEMPOTENT) => Place::Consumed,
        (Site::Argument, TIMEOUT | CALL_TIMEOUT)
        | (Site::Trait | Site::Argument, RETRY | IDEMPOTENT) => Place::Misplaced,
        (Site::Argument, role) if ours_on_arguments.contains(&role) => Place::Consumed,
        (Site::Trait | Site::Argument, verb) if VERBS.contains(&verb) => Place::Misplaced,
        (Site::Trait | Site::Method, role) if ours_on_arguments.contains(&role) => Place::Misplaced,
        (Site::Trait, "cfg") => Place::Both,
        // Anything else on the trait may be another attribute macro the user imported.
        (Site::Trait, _) => Place::Declaration,
        (Site::Method, "cfg" | "doc") => Place::Both,
        (Site::Method, "allow" | "warn" | "deny" | "forbid" | "expect") => Place::Declaration,
        (Site::Method, "cfg_attr" | "deprecated" | "must_use") => Place::Declaration,
        // The generated request uses every argument, so one that `cfg` may remove cannot be
        // supported; reported.
        (Site::Argument, "cfg") => Place::Misplaced,
        (Site::Argument, "allow" | "warn" | "deny" | "forbid" | "expect") => Place::Both,
        (Site::Argument, "cfg_attr" | "doc") => Place::Declaration,
        (Site::Method | Site::Argument, _) => Place::Misplaced,
    }
}

/// Our attributes, with where each belongs, for "did you mean" and misplacement messages.
const OURS: [(&str, &str); 13] = [
    ("get", "a method"),
    ("post", "a method"),
    ("put", "a method"),
    ("patch", "a method"),
    ("delete", "a method"),
    ("header", "the trait, a method or an argument"),
    ("timeout", "the trait or a method"),
    ("call_timeout", "the trait or a method"),
    ("retry", "a method"),
    ("idempotent", "a method"),
    ("query", "an argument"),
    ("body", "an argument"),
    ("form", "an argument"),
];

/// Reports an attribute that `place` calls misplaced: one of ours where it does not belong,
/// or an unknown name (with the closest of ours that fits there).
pub(crate) fn report_misplaced(cx: &Ctxt, site: Site, attr: &Attribute, owner: &str) {
    let name = attr
        .path()
        .get_ident()
        .map(Ident::to_string)
        .unwrap_or_default();
    if site == Site::Argument && name == "cfg" {
        cx.error_spanned_by(
            attr,
            format!("`#[cfg]` on {owner} is not supported: the generated request uses every argument, and this one may not exist; put `#[cfg]` on the method (or declare one method per configuration)"),
        );
        return;
    }
    if let Some((_, belongs)) = OURS.iter().find(|(n, _)| *n == name) {
        cx.error_spanned_by(
            attr.path(),
            format!("`#[{name}]` goes on {belongs}, not on {owner}"),
        );
        return;
    }
    let fitting: Vec<&str> = match site {
        Site::Method => VERBS
            .iter()
            .copied()
            .chain([HEADER, TIMEOUT, CALL_TIMEOUT, RETRY, IDEMPOTENT])
            .collect(),
        Site::Argument | Site::Trait => vec![QUERY, BODY, FORM, HEADER],
    };
    let hint = did_you_mean(&name, fitting.iter().copied())
        .map(|s| format!("; did you mean `#[{s}]`?"))
        .unwrap_or_default();
    let expected = match site {
        Site::Method => {
            "one of `#[get]`, `#[post]`, `#[put]`, `#[patch]`, `#[delete]`, `#[header]`, `#[timeout]`, `#[call_timeout]`, `#[retry]`, `#[idempotent]`; write other tools' attributes with their path, like `#[tracing::instrument]`"
        }
        Site::Argument | Site::Trait => "`#[query]`, `#[body]`, `#[form]` or `#[header(\"Name\")]`",
    };
    cx.error_spanned_by(
        attr.path(),
        format!("unknown attribute `#[{name}]` on {owner}{hint} (expected {expected})"),
    );
}

/// What to underline when an attribute's arguments are wrong: the arguments, or the whole
/// attribute when it has none.
fn arguments(attr: &Attribute) -> &dyn quote::ToTokens {
    match &attr.meta {
        syn::Meta::List(list) if !list.tokens.is_empty() => &list.tokens,
        _ => attr,
    }
}
