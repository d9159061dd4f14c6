//! Our attributes, one parser each: the macro's options, the verbs, `#[header]`, and the
//! argument roles.

use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitStr, Path, Token};

use crate::ctxt::{Ctxt, did_you_mean};
use crate::template::{self, Piece};

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

mod kw {
    syn::custom_keyword!(prefix);
    syn::custom_keyword!(flatten);
    syn::custom_keyword!(client);
}

/// `#[healthhero_api(prefix = "/api/v1", crate = "my_reexport::hh")]`.
pub(crate) struct Options {
    pub(crate) krate: Path,
    pub(crate) prefix: Option<Prefix>,
    /// `client = "Name"`: the generated struct's name instead of `<Trait>Client`.
    pub(crate) client: Option<Ident>,
    /// `dyn`: endpoints return boxed futures, so the trait is dyn-compatible.
    pub(crate) dyn_compatible: bool,
}

/// A parsed `prefix = ".."`.
pub(crate) struct Prefix {
    /// As written, for error spans.
    pub(crate) lit: LitStr,
    /// As joined in front of each path (see `template::parse_prefix`).
    pub(crate) text: String,
    pub(crate) pieces: Vec<Piece>,
}

impl Options {
    pub(crate) fn from_tokens(cx: &Ctxt, args: proc_macro2::TokenStream) -> Self {
        let mut options = Options {
            krate: syn::parse_quote!(::hh_runtime),
            prefix: None,
            client: None,
            dyn_compatible: false,
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
                } else if lookahead.peek(Token![dyn]) {
                    input.parse::<Token![dyn]>()?;
                    options.dyn_compatible = true;
                } else if lookahead.peek(kw::client) {
                    input.parse::<kw::client>()?;
                    input.parse::<Token![=]>()?;
                    let lit: LitStr = input.parse()?;
                    match lit.parse::<Ident>() {
                        Ok(ident) => options.client = Some(ident),
                        Err(_) => cx.error_spanned_by(
                            &lit,
                            format!(
                                "`client = {:?}` is not a type name such as `TraversalApi`",
                                lit.value()
                            ),
                        ),
                    }
                } else if lookahead.peek(kw::prefix) {
                    input.parse::<kw::prefix>()?;
                    input.parse::<Token![=]>()?;
                    let lit: LitStr = input.parse()?;
                    match template::parse_prefix(&lit.value()) {
                        Ok((text, pieces)) => options.prefix = Some(Prefix { lit, text, pieces }),
                        Err(errors) => {
                            for e in errors {
                                cx.error_spanned_by(&lit, format!("in `prefix`: {e}"));
                            }
                        }
                    }
                } else if input.peek(Ident) {
                    let ident: Ident = input.parse()?;
                    let name = ident.to_string();
                    let hint = did_you_mean(&name, ["prefix", "crate", "client", "dyn"])
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    cx.error_spanned_by(
                        &ident,
                        format!("unknown option `{name}`{hint} (expected `prefix = \"/path\"`, `client = \"Name\"`, `dyn` or `crate = \"path\"`)"),
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
        return match attr.parse_args::<LitStr>() {
            Ok(path) => ItemAttr::Verb { verb, path },
            Err(_) => {
                cx.error_spanned_by(
                    attr,
                    format!("expected `#[{verb}(\"/path\")]` with one path template string"),
                );
                ItemAttr::Invalid
            }
        };
    }
    match attr.parse_args::<TwoStrings>() {
        Ok(TwoStrings(name, Some(value))) => {
            let ok = check_header_name(cx, &name) & check_header_value(cx, &value);
            if ok {
                ItemAttr::Header(StaticHeader { name, value })
            } else {
                ItemAttr::Invalid
            }
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
            ItemAttr::Invalid
        }
    }
}

/// `#[timeout("5s")]` and `#[call_timeout("30s")]`: one string with a duration, in
/// milliseconds; reported at the literal when it is not one (`example` is the duration the
/// message suggests). `None` once reported.
fn timeout(cx: &Ctxt, attr: &Attribute, example: &str) -> Option<u64> {
    let name = attr
        .path()
        .get_ident()
        .map(Ident::to_string)
        .unwrap_or_default();
    let Ok(lit) = attr.parse_args::<LitStr>() else {
        cx.error_spanned_by(
            arguments(attr),
            format!("expected `#[{name}(\"{example}\")]` with one duration string (units `ms`, `s`, `m`, `h`)"),
        );
        return None;
    };
    match parse_duration_ms(&lit.value()) {
        Ok(ms) => Some(ms),
        Err(why) => {
            let what = name.replace('_', " ");
            cx.error_spanned_by(&lit, format!("`{}` is not a {what}: {why}", lit.value()));
            None
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

/// What to underline when an attribute's arguments are wrong: the arguments, or the whole
/// attribute when it has none.
fn arguments(attr: &Attribute) -> &dyn quote::ToTokens {
    match &attr.meta {
        syn::Meta::List(list) if !list.tokens.is_empty() => &list.tokens,
        _ => attr,
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

/// Reads `"500ms"`, `"5s"`, `"1.5s"`, `"2m"`, `"1h"` or a sum such as `"1m30s"`, in whole
/// milliseconds. The error says what is wrong, for the message at the literal.
pub(crate) fn parse_duration_ms(text: &str) -> Result<u64, String> {
    const EXAMPLES: &str =
        "write a number and a unit, such as \"500ms\", \"5s\", \"1.5s\" or \"2m\"";
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(format!("it is empty; {EXAMPLES}"));
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        // With no digits at all (`"soon"`), the word in their place is what is not a number.
        let shown = if number.is_empty() {
            unit.trim()
        } else {
            number
        };
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{shown}` is not a number; {EXAMPLES}"))?;
        let scale = match unit.trim() {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" | "min" => 60_000.0,
            "h" => 3_600_000.0,
            "" => return Err(format!("`{number}` has no unit; {EXAMPLES}")),
            other => {
                return Err(format!(
                    "`{other}` is not a unit (expected `ms`, `s`, `m` or `h`)"
                ));
            }
        };
        total += value * scale;
        rest = after.trim_start();
    }
    if total < 1.0 {
        return Err("a timeout under one millisecond would fail every call".into());
    }
    if total > 86_400_000.0 {
        return Err("a timeout longer than a day is no timeout at all".into());
    }
    Ok(total.round() as u64)
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
        let parsed = match name.as_str() {
            QUERY => match &attr.meta {
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
            },
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
            BODY => match &attr.meta {
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
            },
            // `#[form]`.
            _ => {
                if let syn::Meta::Path(_) = attr.meta {
                    Some(Role::Form)
                } else {
                    cx.error_spanned_by(attr, format!("`#[{name}]` takes no arguments"));
                    None
                }
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

#[cfg(test)]
mod tests {
    use super::parse_duration_ms;

    #[test]
    fn durations_in_the_units_people_write() {
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("5s"), Ok(5_000));
        assert_eq!(parse_duration_ms("1.5s"), Ok(1_500));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        assert_eq!(parse_duration_ms("1m30s"), Ok(90_000));
        assert_eq!(parse_duration_ms("1m 30s"), Ok(90_000));
        assert_eq!(parse_duration_ms("1h"), Ok(3_600_000));
    }

    #[test]
    fn malformed_durations_say_why() {
        for (text, why) in [
            ("", "empty"),
            ("5", "no unit"),
            ("5 sec", "`sec` is not a unit"),
            ("s", "is not a number"),
            ("soon", "`soon` is not a number"),
            ("1..5s", "is not a number"),
            ("0s", "under one millisecond"),
            ("0.1ms", "under one millisecond"),
            ("25h", "longer than a day"),
        ] {
            let error = parse_duration_ms(text).expect_err(text);
            assert!(error.contains(why), "{text:?}: {error}");
        }
    }
}
