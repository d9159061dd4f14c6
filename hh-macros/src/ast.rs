//! The model of an annotated trait: its endpoints, their arguments and roles, their return
//! types. Built by `from_syn`, which reports what it cannot understand and keeps going.

use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ItemTrait, LitStr, Pat, PathArguments, ReturnType,
    TraitItem, TraitItemFn, Type,
};

use crate::attr::{self, ItemAttr, Options, Role, StaticHeader};
use crate::ctxt::Ctxt;
use crate::template::{self, Piece};

pub(crate) struct Api<'a> {
    pub(crate) item: &'a ItemTrait,
    pub(crate) options: Options,
    pub(crate) headers: Vec<StaticHeader>,
    pub(crate) endpoints: Vec<Endpoint<'a>>,
}

pub(crate) struct Endpoint<'a> {
    pub(crate) method: &'a TraitItemFn,
    pub(crate) verb: Option<Ident>,
    /// The method's own template literal, for error spans.
    pub(crate) path: Option<LitStr>,
    /// Prefix and method template together, parsed.
    pub(crate) pieces: Vec<Piece>,
    /// Whether `pieces` is the whole, valid template (there is a verb and its path parsed).
    /// Rules that compare placeholders with arguments only run then, so that one bad template
    /// does not also make every path argument look unused.
    pub(crate) template_ok: bool,
    pub(crate) headers: Vec<StaticHeader>,
    pub(crate) args: Vec<Arg<'a>>,
    /// `T` in `Result<T, Error>`.
    pub(crate) ok_type: Option<&'a Type>,
}

pub(crate) struct Arg<'a> {
    pub(crate) ident: &'a Ident,
    /// The name without `r#`: what placeholders and query keys use.
    pub(crate) name: String,
    pub(crate) ty: &'a Type,
    pub(crate) role: Role,
    /// The attribute that set the role (`None` for path arguments).
    pub(crate) role_attr: Option<&'a Attribute>,
    pub(crate) whole: &'a FnArg,
}

impl<'a> Api<'a> {
    pub(crate) fn from_syn(cx: &Ctxt, options: Options, item: &'a ItemTrait) -> Self {
        let mut headers = Vec::new();
        for a in &item.attrs {
            if let ItemAttr::Header(h) = attr::item_attr(cx, a, true) {
                headers.push(h);
            }
        }
        if !item.generics.params.is_empty() {
            cx.error_spanned_by(&item.generics, "an API trait cannot be generic");
        }
        let mut endpoints = Vec::new();
        for trait_item in &item.items {
            match trait_item {
                TraitItem::Fn(method) => endpoints.push(Endpoint::from_syn(cx, &options, method)),
                other => cx.error_spanned_by(
                    other,
                    "an API trait holds only endpoint methods (`async fn name(&self, ..) -> Result<T, Error>;`)",
                ),
            }
        }
        Api {
            item,
            options,
            headers,
            endpoints,
        }
    }
}

impl<'a> Endpoint<'a> {
    fn from_syn(cx: &Ctxt, options: &Options, method: &'a TraitItemFn) -> Self {
        let sig = &method.sig;
        let name = &sig.ident;
        let mut verb: Option<Ident> = None;
        let mut path: Option<LitStr> = None;
        let mut headers = Vec::new();
        // A malformed or unknown attribute (often a misspelt verb) was reported already; don't
        // add "no verb" on top of it.
        let mut reported = false;
        for a in &method.attrs {
            match attr::item_attr(cx, a, false) {
                ItemAttr::Verb { verb: v, path: p } => {
                    if let Some(first) = &verb {
                        cx.error_spanned_by(
                            a,
                            format!("`{name}` already has `#[{first}]`; an endpoint has exactly one verb"),
                        );
                    } else {
                        verb = Some(v);
                        path = Some(p);
                    }
                }
                ItemAttr::Header(h) => headers.push(h),
                ItemAttr::Invalid => reported = true,
                ItemAttr::Other => {}
            }
        }
        if verb.is_none() && !reported {
            cx.error_spanned_by(
                name,
                format!("`{name}` has no HTTP verb; add one of `#[get(\"/path\")]`, `#[post(..)]`, `#[put(..)]`, `#[patch(..)]`, `#[delete(..)]`"),
            );
        }

        let mut pieces = options
            .prefix
            .as_ref()
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let mut template_ok = false;
        if let Some(lit) = &path {
            match template::parse(&lit.value()) {
                Ok(own) => {
                    template_ok = true;
                    for piece in &own {
                        if let Piece::Param { name: p, .. } = piece
                            && template::params(&pieces).any(|q| q == p)
                        {
                            cx.error_spanned_by(
                                lit,
                                format!("placeholder `<{p}>` is already in the trait's `prefix`"),
                            );
                        }
                    }
                    pieces = join(pieces, own);
                }
                Err(errors) => {
                    for e in errors {
                        cx.error_spanned_by(lit, e);
                    }
                }
            }
        }

        if sig.asyncness.is_none() {
            cx.error_spanned_by(
                sig.fn_token,
                format!("`{name}` must be an `async fn`: endpoints are awaited"),
            );
        }
        if let Some(c) = &sig.constness {
            cx.error_spanned_by(c, "an endpoint cannot be `const`");
        }
        if let Some(u) = &sig.unsafety {
            cx.error_spanned_by(u, "an endpoint cannot be `unsafe`");
        }
        if let Some(abi) = &sig.abi {
            cx.error_spanned_by(abi, "an endpoint cannot have an `extern` ABI");
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &sig.generics,
                format!("`{name}` cannot be generic: each endpoint has concrete argument and return types"),
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
        check_receiver(cx, method);

        let mut args = Vec::new();
        for input in &sig.inputs {
            let FnArg::Typed(pat_type) = input else {
                continue;
            };
            let Pat::Ident(pat) = &*pat_type.pat else {
                cx.error_spanned_by(
                    &pat_type.pat,
                    "endpoint arguments must be plain names, like `id: &str`",
                );
                continue;
            };
            if pat.by_ref.is_some() || pat.mutability.is_some() || pat.subpat.is_some() {
                cx.error_spanned_by(
                    &pat_type.pat,
                    "endpoint arguments must be plain names, like `id: &str`",
                );
                continue;
            }
            let arg_name = pat.ident.to_string();
            let arg_name = arg_name.strip_prefix("r#").unwrap_or(&arg_name).to_owned();
            let (role, broken) = attr::arg_role(cx, &arg_name, &pat_type.attrs);
            let (role, role_attr) = match role {
                Some((role, a)) => (role, Some(a)),
                None if broken => (Role::Unknown, None),
                None => (Role::Path, None),
            };
            args.push(Arg {
                ident: &pat.ident,
                name: arg_name,
                ty: &pat_type.ty,
                role,
                role_attr,
                whole: input,
            });
        }

        let ok_type = match &sig.output {
            ReturnType::Default => {
                cx.syn_error(syn::Error::new(
                    sig.paren_token.span.close(),
                    format!("`{name}` has no return type; endpoints return `Result<T, hh_runtime::Error>`"),
                ));
                None
            }
            ReturnType::Type(_, ty) => {
                let ok = result_ok_type(ty);
                if ok.is_none() {
                    cx.error_spanned_by(
                        ty,
                        format!("`{name}` must return `Result<T, hh_runtime::Error>` (or `hh_runtime::Result<T>`), where T is what the response decodes into"),
                    );
                }
                ok
            }
        };

        Endpoint {
            method,
            verb,
            path,
            pieces,
            template_ok,
            headers,
            args,
            ok_type,
        }
    }

    pub(crate) fn template_text(&self, options: &Options) -> String {
        let prefix = options
            .prefix
            .as_ref()
            .map(|(lit, _)| lit.value().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let own = self.path.as_ref().map(LitStr::value).unwrap_or_default();
        format!("{prefix}{own}")
    }
}

/// Joins prefix and path pieces, merging the literal at the seam.
fn join(mut a: Vec<Piece>, b: Vec<Piece>) -> Vec<Piece> {
    for piece in b {
        match (a.last_mut(), piece) {
            (Some(Piece::Literal(left)), Piece::Literal(right)) => left.push_str(&right),
            (_, piece) => a.push(piece),
        }
    }
    a
}

/// The receiver must be `&self`: calls share the client, and nothing about a call mutates it.
fn check_receiver(cx: &Ctxt, method: &TraitItemFn) {
    let sig = &method.sig;
    let name = &sig.ident;
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) => {
            if r.colon_token.is_some() && r.reference.is_none() {
                cx.error_spanned_by(r, format!("`{name}` must take `&self`"));
            } else if r.reference.is_none() {
                cx.error_spanned_by(
                    r,
                    format!("`{name}` takes `self` by value; endpoints take `&self`"),
                );
            } else if let Some(m) = &r.mutability {
                cx.error_spanned_by(m, format!("`{name}` takes `&mut self`; endpoints take `&self` so one client serves concurrent calls"));
            } else if r.colon_token.is_some() {
                cx.error_spanned_by(r, format!("`{name}` must take plain `&self`"));
            }
        }
        _ => cx.syn_error(syn::Error::new(
            sig.paren_token.span.join(),
            format!("`{name}` has no receiver; endpoints take `&self` as their first argument"),
        )),
    }
}

/// `T` from `Result<T, E>` or `Result<T>` (any path ending in `Result`).
fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let first = types.next()?;
    (types.count() <= 1).then_some(first)
}

/// How the response becomes `T`, chosen from how `T` is written.
pub(crate) enum Decoder<'a> {
    Unit,
    Text,
    Raw,
    Json(&'a Type),
    WithResponse(Box<Decoder<'a>>),
}

impl<'a> Decoder<'a> {
    /// The type decoded from JSON, if any.
    pub(crate) fn json_type(&self) -> Option<&'a Type> {
        match self {
            Decoder::Json(ty) => Some(ty),
            Decoder::WithResponse(inner) => inner.json_type(),
            Decoder::Unit | Decoder::Text | Decoder::Raw => None,
        }
    }

    pub(crate) fn for_type(ty: &'a Type) -> Self {
        match ty {
            Type::Tuple(t) if t.elems.is_empty() => Decoder::Unit,
            Type::Paren(p) => Decoder::for_type(&p.elem),
            Type::Path(p) if p.qself.is_none() => {
                let Some(last) = p.path.segments.last() else {
                    return Decoder::Json(ty);
                };
                match (&last.arguments, last.ident.to_string().as_str()) {
                    (PathArguments::None, "String") => Decoder::Text,
                    (PathArguments::None, "Bytes") => Decoder::Raw,
                    (PathArguments::AngleBracketed(args), "Response") if args.args.len() == 1 => {
                        match args.args.first() {
                            Some(GenericArgument::Type(inner)) => {
                                Decoder::WithResponse(Box::new(Decoder::for_type(inner)))
                            }
                            _ => Decoder::Json(ty),
                        }
                    }
                    _ => Decoder::Json(ty),
                }
            }
            _ => Decoder::Json(ty),
        }
    }
}

/// The best span for "this argument": the whole `name: Type`.
pub(crate) fn arg_span(arg: &Arg<'_>) -> proc_macro2::Span {
    arg.whole.span()
}
