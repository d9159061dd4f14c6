//! Rules that relate parts of an endpoint to each other: placeholders against arguments,
//! bodies against verbs. Each rule is one function.

use crate::ast::{Api, Arg, Endpoint, arg_span};
use crate::attr::Role;
use crate::ctxt::{Ctxt, did_you_mean};
use crate::template;

/// The placeholder HealthHero paths carry, filled from the client's configuration when no
/// argument has its name.
const CLIENT_ID: &str = "client_id";

pub(crate) fn check(cx: &Ctxt, api: &Api<'_>) {
    for endpoint in &api.endpoints {
        if endpoint.template_ok {
            placeholders_have_arguments(cx, api, endpoint);
            arguments_have_roles(cx, endpoint);
        }
        one_body(cx, endpoint);
        no_body_on_get_or_delete(cx, endpoint);
    }
}

fn placeholder_names<'e>(endpoint: &'e Endpoint<'_>) -> Vec<&'e str> {
    template::params(&endpoint.pieces).collect()
}

/// Every `<name>` in the template binds an argument `name` that has no other role
/// (`<client_id>` may also come from the client's configuration).
fn placeholders_have_arguments(cx: &Ctxt, api: &Api<'_>, endpoint: &Endpoint<'_>) {
    let method = &endpoint.method.sig.ident;
    for name in placeholder_names(endpoint) {
        match endpoint.args.iter().find(|a| a.name == name) {
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
                let unbound: Vec<&str> = endpoint
                    .args
                    .iter()
                    .filter(|a| matches!(a.role, Role::Path))
                    .map(|a| a.name.as_str())
                    .collect();
                let hint = did_you_mean(name, unbound.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                let lit = endpoint.path.as_ref().filter(|lit| {
                    template::parse(&lit.value())
                        .is_ok_and(|p| template::params(&p).any(|n| n == name))
                });
                let place = match (lit, &api.options.prefix) {
                    (Some(lit), _) => quote::ToTokens::to_token_stream(lit),
                    (None, Some((prefix, _))) => quote::ToTokens::to_token_stream(prefix),
                    (None, None) => quote::ToTokens::to_token_stream(&endpoint.method.sig.ident),
                };
                cx.error_spanned_by(
                    place,
                    format!(
                        "placeholder `<{name}>` has no argument named `{name}` in `{method}`{hint}"
                    ),
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
        if names.contains(&arg.name.as_str()) {
            continue;
        }
        let name = &arg.name;
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
        .filter(|a| matches!(a.role, Role::Body | Role::Form))
        .collect()
}

/// A request has at most one body: one `#[body]` or one `#[form]`, never both.
fn one_body(cx: &Ctxt, endpoint: &Endpoint<'_>) {
    let bodies = body_args(endpoint);
    if bodies.len() < 2 {
        return;
    }
    let all: Vec<String> = bodies.iter().map(|a| format!("`{}`", a.name)).collect();
    let mixed = bodies.iter().any(|a| matches!(a.role, Role::Body))
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
    let Some(verb) = &endpoint.verb else { return };
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
