//! Every rule about a declaration, one function each: the trait's shape, each method's
//! signature and verb, placeholders against arguments, bodies against verbs. The model they
//! read (`ast`) reports only what could not be read at all.

use syn::{FnArg, ReceiverKind, ReturnType, TraitItemFn};

use crate::ast::{Api, Arg, Endpoint, arg_span};
use crate::attr::Role;
use crate::ctxt::{Ctxt, did_you_mean};
use crate::template;

/// The placeholder HealthHero paths carry, filled from the client's configuration when no
/// argument has its name.
const CLIENT_ID: &str = "client_id";

pub(crate) fn check(cx: &Ctxt, api: &Api<'_>) {
    trait_shape(cx, api);
    names_apart(cx, api);
    at_most_once(cx, "the trait", api.timeouts.iter().map(|(_, a)| *a));
    at_most_once(cx, "the trait", api.call_timeouts.iter().map(|(_, a)| *a));
    for endpoint in &api.endpoints {
        one_verb(cx, endpoint);
        call_options(cx, endpoint);
        no_placeholder_twice(cx, api, endpoint);
        signature(cx, endpoint.method);
        receiver(cx, endpoint.method);
        plain_arguments(cx, endpoint);
        returns_result(cx, endpoint);
        if endpoint.template_ok() {
            placeholders_have_arguments(cx, api, endpoint);
            arguments_have_roles(cx, endpoint);
        }
        one_body(cx, endpoint);
        no_body_on_get_or_delete(cx, endpoint);
        no_authorization_header(cx, api, endpoint);
        flat_query_values(cx, endpoint);
        no_generated_name(cx, endpoint);
        distinct_argument_names(cx, endpoint);
        #[cfg(feature = "testing")]
        if api.options.writes_fake() {
            recordable_arguments(cx, api, endpoint);
        }
    }
}

/// With the `testing` feature, `<Trait>Fake` keeps every call's arguments owned: a type that
/// borrows other than through `&`, `[T]`, `str`, `Option`, `Vec` and `Cow` (which it knows how
/// to own), or an `impl Trait` it cannot name, cannot be kept.
#[cfg(feature = "testing")]
fn recordable_arguments(cx: &Ctxt, api: &Api<'_>, endpoint: &Endpoint<'_>) {
    use crate::fake::Unownable;
    let fake = api
        .options
        .fake
        .as_ref()
        .map_or_else(|| format!("{}Fake", api.item.ident), ToString::to_string);
    for arg in &endpoint.args {
        let name = &arg.name;
        match crate::fake::unownable(arg.ty) {
            None => {}
            Some(Unownable::Borrows(ty)) => cx.error_spanned_by(
                ty,
                format!(
                    "`{fake}` cannot record argument `{name}`: this type holds a borrow the fake cannot turn into an owned value, and a fake keeps every call's arguments after the call; use owned types inside it (`String` rather than `&str`, say); `&T`, `&str`, `&[T]`, `Option` and `Vec` of those are fine (hh-runtime's `testing` feature writes the fake; `#[healthhero_api(fake = false)]` writes none for this trait)"
                ),
            ),
            Some(Unownable::ImplTrait(ty)) => cx.error_spanned_by(
                ty,
                format!(
                    "`{fake}` cannot record argument `{name}`: `impl Trait` names no type for the fake to keep; declare a concrete type (hh-runtime's `testing` feature writes the fake; `#[healthhero_api(fake = false)]` writes none for this trait)"
                ),
            ),
        }
    }
}

/// Each argument has a name of its own: a second one of a name would fill the first one's
/// placeholder or key, and the fake's call struct has one field per name.
fn distinct_argument_names(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    for (i, arg) in endpoint.args.iter().enumerate() {
        if endpoint.args[..i].iter().any(|a| a.name == arg.name) {
            cx.error_spanned_by(
                arg.ident,
                format!(
                    "argument `{}` is declared twice; give each argument a name of its own",
                    arg.name
                ),
            );
        }
    }
}

/// `Authorization` carries the bearer token; a declared one would be silently replaced.
fn no_authorization_header(cx: &Ctxt, api: &Api<'_>, endpoint: &Endpoint<'_>) {
    let message = "the runtime sends `Authorization: Bearer <token>` on every call and would replace this header; to send other credentials, call the API with your own client and `Client::access_token`";
    let declared = endpoint.args.iter().filter_map(|a| match &a.role {
        Role::Header { name } => Some(name),
        _ => None,
    });
    let fixed = api.headers.iter().chain(&endpoint.headers).map(|h| &h.name);
    for name in declared.chain(fixed) {
        if name.value().eq_ignore_ascii_case("authorization") {
            cx.error_spanned_by(name, message);
        }
    }
}

/// A query value is a scalar or a list of scalars: a list of lists cannot be written as
/// `key=value` pairs. (A struct is caught at run time: its type does not show it.)
fn flat_query_values(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    for arg in &endpoint.args {
        if !matches!(arg.role, Role::Query { .. }) {
            continue;
        }
        let nested = crate::ast::sequence_element(arg.ty)
            .and_then(crate::ast::sequence_element)
            .is_some();
        if nested {
            cx.error_spanned_by(
                arg.ty,
                format!("`#[query]` argument `{}` is a list of lists, which a query string cannot express; send one list (`key=1&key=2`), or a struct with `#[query(flatten)]`", arg.name),
            );
        }
    }
}

/// Why the fake's name clashes with another the macro writes or reads (the client's, the
/// trait's), if it does: checked whatever the features, since a crate that builds without
/// `testing` must not break when a test build turns it on. Without a fake, nothing clashes.
pub(crate) fn fake_name_clash(api: &Api<'_>) -> Option<String> {
    if !api.options.writes_fake() {
        return None;
    }
    use syn::ext::IdentExt as _;
    // As the generated names are made: without `r#`.
    let trait_name = api.item.ident.unraw().to_string();
    let named = |given: &Option<syn::Ident>, suffix: &str| {
        given.as_ref().map_or_else(
            || format!("{trait_name}{suffix}"),
            |ident| ident.unraw().to_string(),
        )
    };
    let (client, fake) = (
        named(&api.options.client, "Client"),
        named(&api.options.fake, "Fake"),
    );
    if fake == client {
        Some(format!(
            "the fake and the client would both be `{fake}`: with hh-runtime's `testing` feature on, `#[healthhero_api]` writes both; name them apart (`fake = \"..\"`, `client = \"..\"`), or write no fake with `fake = false`"
        ))
    } else if fake == trait_name {
        Some(format!(
            "the fake would be `{fake}`, the trait's own name: with hh-runtime's `testing` feature on, `#[healthhero_api]` writes it beside the trait; give it another with `fake = \"..\"`, or write none with `fake = false`"
        ))
    } else {
        None
    }
}

/// The fake's name is its own (see [`fake_name_clash`]); reported at the option that names
/// it, or at the client's name that takes the fake's default.
fn names_apart(cx: &Ctxt, api: &Api<'_>) {
    let Some(message) = fake_name_clash(api) else {
        return;
    };
    match (&api.options.fake, &api.options.client) {
        (Some(fake), _) => cx.error_spanned_by(fake, message),
        (None, Some(client)) => cx.error_spanned_by(client, message),
        (None, None) => cx.error_spanned_by(&api.item.ident, message),
    }
}

/// An endpoint may not take the name of the generated `client()` accessor, which would shadow
/// it in method calls.
fn no_generated_name(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    let name = &endpoint.method.sig.ident;
    if name == "client" {
        cx.error_spanned_by(
            name,
            "an endpoint cannot be named `client`: the generated client's `client()` accessor (the runtime `Client`) would shadow it; rename the method",
        );
    }
}

/// The trait is not generic and holds only endpoint methods.
fn trait_shape(cx: &Ctxt, api: &Api<'_>) {
    if !api.item.generics.params.is_empty() {
        cx.error_spanned_by(&api.item.generics, "an API trait cannot be generic");
    }
    if let Some(unsafety) = &api.item.unsafety {
        cx.error_spanned_by(
            unsafety,
            "an API trait cannot be `unsafe`: its generated client implements it, and nothing about calling an endpoint is unsafe",
        );
    }
    for other in &api.others {
        cx.error_spanned_by(
            other,
            "an API trait holds only endpoint methods (`async fn name(&self, ..) -> Result<T, Error>;`)",
        );
    }
}

/// Exactly one verb per method.
fn one_verb(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    let name = &endpoint.method.sig.ident;
    if let Some((first, _, _)) = endpoint.verbs.first() {
        for (_, _, attr) in &endpoint.verbs[1..] {
            cx.error_spanned_by(
                attr,
                format!("`{name}` already has `#[{first}]`; an endpoint has exactly one verb"),
            );
        }
    } else if !endpoint.broken_attr {
        cx.error_spanned_by(
            name,
            format!("`{name}` has no HTTP verb; add one of `#[get(\"/path\")]`, `#[post(..)]`, `#[put(..)]`, `#[patch(..)]`, `#[delete(..)]`"),
        );
    }
}

/// `#[timeout]`, `#[call_timeout]`, `#[retry]` and `#[idempotent]` once each, and only where
/// they change something: `#[idempotent]` on a verb that is not idempotent already,
/// `#[retry(false)]` (`true` is the default) and not on a method also marked idempotent.
fn call_options(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    let name = &endpoint.method.sig.ident;
    let owner = format!("`{name}`");
    let options = &endpoint.options;
    at_most_once(cx, &owner, options.timeouts.iter().map(|(_, a)| *a));
    at_most_once(cx, &owner, options.call_timeouts.iter().map(|(_, a)| *a));
    at_most_once(cx, &owner, options.retries.iter().map(|(_, a)| *a));
    at_most_once(cx, &owner, options.idempotent.iter().copied());
    for (value, _) in &options.retries {
        if value.value {
            cx.error_spanned_by(
                value,
                "`#[retry(true)]` is the default: idempotent methods are retried as the client's `RetryPolicy` says; to resend a POST or PATCH, mark it `#[idempotent]`",
            );
        }
    }
    let verb = endpoint.verb().map(|v| v.to_string().to_uppercase());
    if let (Some(attr), Some(verb)) = (options.idempotent.first(), &verb)
        && matches!(verb.as_str(), "GET" | "PUT" | "DELETE")
    {
        cx.error_spanned_by(
            attr,
            format!("`#[idempotent]` is for POST and PATCH: a {verb} is idempotent already and retried as such"),
        );
    }
    let never = options.retries.iter().find(|(value, _)| !value.value);
    if let (Some((_, retry)), Some(_)) = (never, options.idempotent.first()) {
        cx.error_spanned_by(
            retry,
            format!("{owner} is marked `#[idempotent]` (safe to resend) and `#[retry(false)]` (never resent); keep the one you mean"),
        );
    }
}

/// Reports every repeat of an attribute that may be written once on `owner`.
fn at_most_once<'a>(cx: &Ctxt, owner: &str, attrs: impl Iterator<Item = &'a syn::Attribute>) {
    for attr in attrs.skip(1) {
        let name = attr
            .path()
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        cx.error_spanned_by(
            attr,
            format!("{owner} already has `#[{name}]`; write it once"),
        );
    }
}

/// A placeholder of the trait's prefix is not repeated in a method's own path.
fn no_placeholder_twice(cx: &Ctxt, api: &Api<'_>, endpoint: &Endpoint<'_>) {
    let (Some(prefix), Some(own), Some(lit)) =
        (&api.options.prefix, &endpoint.own_pieces, endpoint.path())
    else {
        return;
    };
    for name in template::params(own) {
        if template::params(&prefix.pieces).any(|p| p == name) {
            cx.error_spanned_by(
                lit,
                format!("placeholder `<{name}>` is already in the trait's `prefix`"),
            );
        }
    }
}

/// An endpoint is a plain `async fn` without a body: the macro writes the body.
fn signature(cx: &Ctxt, method: &TraitItemFn) {
    let sig = &method.sig;
    let name = &sig.ident;
    if desugared(sig) {
        cx.error_spanned_by(
            &sig.output,
            format!("`{name}` is written desugared (`fn .. -> impl Future<..>`); declare `async fn {name}(..) -> Result<T, Error>` and the macro makes the future `Send`"),
        );
    } else if sig.asyncness.is_none() {
        cx.error_spanned_by(
            sig.fn_token,
            format!("`{name}` must be an `async fn`: endpoints are awaited"),
        );
    }
    if let Some(c) = &sig.constness {
        cx.error_spanned_by(c, "an endpoint cannot be `const`");
    }
    if let syn::Safety::Unsafe(u) = &sig.safety {
        cx.error_spanned_by(u, "an endpoint cannot be `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, "an endpoint cannot have an `extern` ABI");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &sig.generics,
            format!(
                "`{name}` cannot be generic: each endpoint has concrete argument and return types"
            ),
        );
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, "an endpoint cannot be variadic");
    }
    if let Some(body) = &method.default {
        cx.error_spanned_by(
            body,
            format!("`{name}` has a body; declare it as `async fn {name}(..) -> ..;` and the macro writes it"),
        );
    }
}

/// The receiver is `&self`: calls share the client, and nothing about a call mutates it.
fn receiver(cx: &Ctxt, method: &TraitItemFn) {
    let sig = &method.sig;
    let name = &sig.ident;
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) => match &r.kind {
            ReceiverKind::Typed(..) => {
                cx.error_spanned_by(r, format!("`{name}` must take `&self`"));
            }
            ReceiverKind::Reference(_, _, Some(m)) => {
                cx.error_spanned_by(m, format!("`{name}` takes `&mut self`; endpoints take `&self` so one client serves concurrent calls"));
            }
            ReceiverKind::Reference(_, _, None) => {}
            // `self`, `mut self`, and any receiver a later syn may add.
            _ => cx.error_spanned_by(
                r,
                format!("`{name}` takes `self` by value; endpoints take `&self`"),
            ),
        },
        _ => cx.syn_error(syn::Error::new(
            sig.paren_token.span.join(),
            format!("`{name}` has no receiver; endpoints take `&self` as their first argument"),
        )),
    }
}

/// Arguments are plain names: placeholders and query keys are named after them.
fn plain_arguments(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    for pattern in &endpoint.patterns {
        cx.error_spanned_by(
            &pattern.pat,
            "endpoint arguments must be plain names, like `id: &str`",
        );
    }
}

/// `fn name(..) -> impl Future<..>`: what the macro itself writes, declared by hand.
pub(crate) fn desugared(sig: &syn::Signature) -> bool {
    sig.asyncness.is_none()
        && matches!(&sig.output, ReturnType::Type(_, ty) if matches!(**ty, syn::Type::ImplTrait(_)))
}

/// The return type is `Result<T, Error>`, `T` being what the answer decodes into.
fn returns_result(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    let sig = &endpoint.method.sig;
    let name = &sig.ident;
    if desugared(sig) {
        return; // reported as such
    }
    match &sig.output {
        ReturnType::Default => cx.syn_error(syn::Error::new(
            sig.paren_token.span.close(),
            format!("`{name}` has no return type; endpoints return `Result<T, hh_runtime::Error>`"),
        )),
        ReturnType::Type(_, ty) if endpoint.ok_type().is_none() => cx.error_spanned_by(
            ty,
            format!("`{name}` must return `Result<T, hh_runtime::Error>` (or `hh_runtime::Result<T>`), where T is what the response decodes into"),
        ),
        ReturnType::Type(..) => {}
    }
}

fn placeholder_names<'e>(endpoint: &'e Endpoint<'_>) -> Vec<&'e str> {
    template::params(&endpoint.pieces).collect()
}

/// Each placeholder that has no argument of its name but is a likely typo of an argument
/// that fills no placeholder, with that argument: `(<referal_id>, referral_id)`. One mistake,
/// so it is reported once, at the placeholder, and the argument is not reported again as
/// having no role.
fn misspelt_placeholders<'e>(endpoint: &'e Endpoint<'_>) -> Vec<(&'e str, &'e str)> {
    let names = placeholder_names(endpoint);
    let roleless: Vec<&str> = endpoint
        .args
        .iter()
        .filter(|a| matches!(a.role, Role::Path) && !names.contains(&a.name.as_str()))
        .map(|a| a.name.as_str())
        .collect();
    names
        .iter()
        .filter(|n| **n != CLIENT_ID && !endpoint.args.iter().any(|a| a.name == **n))
        .filter_map(|n| did_you_mean(n, roleless.iter().copied()).map(|arg| (*n, arg)))
        .collect()
}

/// Every `<name>` in the template binds an argument `name` that has no other role
/// (`<client_id>` may also come from the client's configuration).
fn placeholders_have_arguments(cx: &Ctxt, api: &Api<'_>, endpoint: &Endpoint<'_>) {
    let method = &endpoint.method.sig.ident;
    let misspelt = misspelt_placeholders(endpoint);
    for name in placeholder_names(endpoint) {
        match endpoint.args.iter().find(|a| a.name == name) {
            // Its role attribute was malformed and is reported already.
            Some(Arg {
                role: Role::Unknown,
                ..
            }) => {}
            Some(arg) => {
                if !matches!(arg.role, Role::Path) {
                    let span_tokens = arg.role_attr.map(|a| a.to_owned());
                    cx.error_spanned_by(
                        span_tokens,
                        format!(
                            "argument `{name}` fills the path placeholder `<{name}>`, so it cannot also be {}; remove the attribute",
                            arg.role.describe()
                        ),
                    );
                }
            }
            None if name == CLIENT_ID => {}
            None => {
                let own = endpoint
                    .own_pieces
                    .as_ref()
                    .is_some_and(|p| template::params(p).any(|n| n == name));
                let lit = endpoint.path().filter(|_| own);
                let place = match (lit, &api.options.prefix) {
                    (Some(lit), _) => quote::ToTokens::to_token_stream(lit),
                    (None, Some(prefix)) => quote::ToTokens::to_token_stream(&prefix.lit),
                    (None, None) => quote::ToTokens::to_token_stream(&endpoint.method.sig.ident),
                };
                if let Some((_, arg)) = misspelt.iter().find(|(p, _)| *p == name) {
                    cx.error_spanned_by(
                        place,
                        format!(
                            "placeholder `<{name}>` has no argument named `{name}` in `{method}`; did you mean `{arg}`?"
                        ),
                    );
                    continue;
                }
                cx.error_spanned_by(
                    place,
                    format!("placeholder `<{name}>` has no argument named `{name}` in `{method}`"),
                );
                cx.syn_error(syn::Error::new(
                    endpoint.method.sig.paren_token.span.join(),
                    format!("`{method}` needs an argument `{name}` to fill `<{name}>` in its path"),
                ));
            }
        }
    }
}

/// Every argument has a role: a placeholder of its name, or one of our attributes.
fn arguments_have_roles(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    let names = placeholder_names(endpoint);
    let misspelt = misspelt_placeholders(endpoint);
    let unfilled: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !endpoint.args.iter().any(|a| a.name == *n))
        .collect();
    for arg in endpoint
        .args
        .iter()
        .filter(|a| matches!(a.role, Role::Path))
    {
        let name = arg.name.as_str();
        // Filling a placeholder, or named by a misspelt one's error already.
        if names.contains(&name) || misspelt.iter().any(|(_, a)| *a == name) {
            continue;
        }
        let hint = did_you_mean(name, unfilled.iter().copied())
            .map(|s| format!("; did you mean the placeholder `<{s}>`?"))
            .unwrap_or_default();
        cx.syn_error(syn::Error::new(
            arg_span(arg),
            format!(
                "argument `{name}` has no role: add `<{name}>` to the path, or mark it `#[query]`, `#[body]`, `#[form]` or `#[header(\"Name\")]`{hint}"
            ),
        ));
    }
}

fn body_args<'e, 'a>(endpoint: &'e Endpoint<'a>) -> Vec<&'e Arg<'a>> {
    endpoint
        .args
        .iter()
        .filter(|a| matches!(a.role, Role::Body(_) | Role::Form))
        .collect()
}

/// A request has at most one body: one `#[body]` or one `#[form]`, never both.
fn one_body(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    let bodies = body_args(endpoint);
    if bodies.len() < 2 {
        return;
    }
    let all: Vec<String> = bodies.iter().map(|a| format!("`{}`", a.name)).collect();
    let mixed = bodies.iter().any(|a| matches!(a.role, Role::Body(_)))
        && bodies.iter().any(|a| matches!(a.role, Role::Form));
    for arg in &bodies {
        let message = if mixed {
            format!(
                "`#[body]` and `#[form]` both set the request body ({}); a request has one body",
                all.join(" and ")
            )
        } else {
            format!(
                "a request has one body, but {} are each marked {}",
                all.join(" and "),
                arg.role.describe()
            )
        };
        cx.error_spanned_by(arg.role_attr, message);
    }
}

/// GET and DELETE carry no body (servers and proxies may drop or refuse one).
fn no_body_on_get_or_delete(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    let Some(verb) = endpoint.verb() else { return };
    if verb != "get" && verb != "delete" {
        return;
    }
    for arg in body_args(endpoint) {
        cx.error_spanned_by(
            arg.role_attr,
            format!(
                "`#[{verb}]` requests carry no body; send `{}` with `#[post]`, `#[put]` or `#[patch]`, or as `#[query]`",
                arg.name
            ),
        );
    }
}
