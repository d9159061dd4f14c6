//! The model of an annotated trait: its endpoints, their verbs, templates, arguments and roles,
//! their return types. Building it reports only what cannot be read at all (a malformed
//! attribute, a template that does not parse); every rule about what was read lives in
//! `check`.

use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ItemTrait, LitStr, Pat, PatType, PathArguments,
    ReturnType, TraitItem, TraitItemFn, Type,
};

use crate::attr::{self, ItemAttr, Options, Role, Site, StaticHeader};
use crate::ctxt::Ctxt;
use crate::template::{self, Piece};

pub(crate) struct Api<'a> {
    pub(crate) item: &'a ItemTrait,
    pub(crate) options: Options,
    pub(crate) headers: Vec<StaticHeader>,
    /// `#[timeout]` on the trait, for every method without its own (`check` wants one).
    pub(crate) timeouts: Vec<(u64, &'a Attribute)>,
    /// `#[call_timeout]` on the trait, likewise.
    pub(crate) call_timeouts: Vec<(u64, &'a Attribute)>,
    pub(crate) endpoints: Vec<Endpoint<'a>>,
    /// Trait items that are not methods (reported by `check`).
    pub(crate) others: Vec<&'a TraitItem>,
}

pub(crate) struct Endpoint<'a> {
    pub(crate) method: &'a TraitItemFn,
    /// Every verb attribute, in order (`check` wants exactly one).
    pub(crate) verbs: Vec<(Ident, LitStr, &'a Attribute)>,
    /// Some attribute of the method was malformed or unknown, and reported: "no verb" would
    /// only repeat it (it is often a misspelt verb).
    pub(crate) broken_attr: bool,
    /// The first verb's template, parsed, when it parsed.
    pub(crate) own_pieces: Option<Vec<Piece>>,
    /// Prefix and method template together, parsed.
    pub(crate) pieces: Vec<Piece>,
    pub(crate) headers: Vec<StaticHeader>,
    /// The per-call options, each as often as it was written (`check` wants one of each).
    pub(crate) options: CallOptions<'a>,
    pub(crate) args: Vec<Arg<'a>>,
    /// Arguments written as patterns rather than plain names (reported by `check`).
    pub(crate) patterns: Vec<&'a PatType>,
}

/// `#[timeout]`, `#[call_timeout]`, `#[retry]` and `#[idempotent]` on one method, with the
/// attributes that set them (for error spans).
#[derive(Default)]
pub(crate) struct CallOptions<'a> {
    pub(crate) timeouts: Vec<(u64, &'a Attribute)>,
    pub(crate) call_timeouts: Vec<(u64, &'a Attribute)>,
    pub(crate) retries: Vec<(syn::LitBool, &'a Attribute)>,
    pub(crate) idempotent: Vec<&'a Attribute>,
}

impl CallOptions<'_> {
    /// The per-attempt timeout in milliseconds: the method's own, else `trait_wide`'s.
    pub(crate) fn timeout_ms(&self, trait_wide: &[(u64, &Attribute)]) -> Option<u64> {
        self.timeouts
            .first()
            .or(trait_wide.first())
            .map(|(ms, _)| *ms)
    }

    /// The limit on the whole call in milliseconds: the method's own, else `trait_wide`'s.
    pub(crate) fn call_timeout_ms(&self, trait_wide: &[(u64, &Attribute)]) -> Option<u64> {
        self.call_timeouts
            .first()
            .or(trait_wide.first())
            .map(|(ms, _)| *ms)
    }

    /// `#[retry(false)]`: never sent twice.
    pub(crate) fn never_retried(&self) -> bool {
        self.retries.iter().any(|(value, _)| !value.value)
    }

    /// `#[idempotent]`: retried like a GET.
    pub(crate) fn is_idempotent(&self) -> bool {
        !self.idempotent.is_empty()
    }
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
        let mut timeouts = Vec::new();
        let mut call_timeouts = Vec::new();
        for a in &item.attrs {
            match attr::item_attr(cx, a, Site::Trait) {
                ItemAttr::Header(h) => headers.push(h),
                ItemAttr::Timeout(ms) => timeouts.push((ms, a)),
                ItemAttr::CallTimeout(ms) => call_timeouts.push((ms, a)),
                _ => {}
            }
        }
        let mut endpoints = Vec::new();
        let mut others = Vec::new();
        for trait_item in &item.items {
            match trait_item {
                // A default method without a verb is the user's own helper, kept as written.
                TraitItem::Fn(method) if is_helper(method) => {}
                TraitItem::Fn(method) => endpoints.push(Endpoint::from_syn(cx, &options, method)),
                other => others.push(other),
            }
        }
        Api {
            item,
            options,
            headers,
            timeouts,
            call_timeouts,
            endpoints,
            others,
        }
    }
}

impl<'a> Endpoint<'a> {
    fn from_syn(cx: &Ctxt, options: &Options, method: &'a TraitItemFn) -> Self {
        let mut verbs = Vec::new();
        let mut headers = Vec::new();
        let mut broken_attr = false;
        let mut call = CallOptions::default();
        for a in &method.attrs {
            match attr::item_attr(cx, a, Site::Method) {
                ItemAttr::Verb { verb, path } => verbs.push((verb, path, a)),
                ItemAttr::Header(h) => headers.push(h),
                ItemAttr::Timeout(ms) => call.timeouts.push((ms, a)),
                ItemAttr::CallTimeout(ms) => call.call_timeouts.push((ms, a)),
                ItemAttr::Retry(value) => call.retries.push((value, a)),
                ItemAttr::Idempotent => call.idempotent.push(a),
                ItemAttr::Invalid => broken_attr = true,
                ItemAttr::Other => {}
            }
        }

        let own_pieces = verbs.first().and_then(|(_, lit, _)| {
            template::parse(&lit.value())
                .map_err(|errors| {
                    for e in errors {
                        cx.error_spanned_by(lit, e);
                    }
                })
                .ok()
        });
        let prefix = options
            .prefix
            .as_ref()
            .map(|p| p.pieces.clone())
            .unwrap_or_default();
        let pieces = match &own_pieces {
            Some(own) => join(prefix, own.clone()),
            None => prefix,
        };

        let (args, patterns) = arguments(cx, method);
        Endpoint {
            method,
            verbs,
            broken_attr,
            own_pieces,
            pieces,
            headers,
            options: call,
            args,
            patterns,
        }
    }

    /// `Trait.method`: the endpoint's name in traces, in a fake's messages and in hh-sandbox's
    /// faults and counters.
    pub(crate) fn name(&self, item: &ItemTrait) -> String {
        format!("{}.{}", item.ident, self.method.sig.ident)
    }

    /// The method's verb, when it has one.
    pub(crate) fn verb(&self) -> Option<&Ident> {
        self.verbs.first().map(|(verb, _, _)| verb)
    }

    /// The method's own template literal, for error spans.
    pub(crate) fn path(&self) -> Option<&LitStr> {
        self.verbs.first().map(|(_, lit, _)| lit)
    }

    /// Whether `pieces` is the whole, valid template (there is a verb and its path parsed).
    /// Rules that compare placeholders with arguments only run then, so that one bad template
    /// does not also make every path argument look unused.
    pub(crate) fn template_ok(&self) -> bool {
        self.own_pieces.is_some()
    }

    /// `T` in `Result<T, Error>`, when the method returns a `Result`.
    pub(crate) fn ok_type(&self) -> Option<&'a Type> {
        match &self.method.sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => result_ok_type(ty),
        }
    }

    /// The declared path with the prefix, as documented and traced:
    /// `/api/v1/<client_id>/Traversals`.
    pub(crate) fn template_text(&self, options: &Options) -> String {
        let prefix = options.prefix.as_ref().map_or("", |p| p.text.as_str());
        let own = self.path().map(LitStr::value).unwrap_or_default();
        format!("{prefix}{own}")
    }
}

/// The method's arguments other than `self`, each with its role; and those written as patterns,
/// which have no name to give a role to.
fn arguments<'a>(cx: &Ctxt, method: &'a TraitItemFn) -> (Vec<Arg<'a>>, Vec<&'a PatType>) {
    let mut args = Vec::new();
    let mut patterns = Vec::new();
    for input in &method.sig.inputs {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        let Some(ident) = plain_name(&pat_type.pat) else {
            patterns.push(pat_type);
            continue;
        };
        let arg_name = ident.to_string();
        let arg_name = arg_name.strip_prefix("r#").unwrap_or(&arg_name).to_owned();
        let (role, broken) = attr::arg_role(cx, &arg_name, &pat_type.attrs);
        let (role, role_attr) = match role {
            Some((role, a)) => (role, Some(a)),
            None if broken => (Role::Unknown, None),
            None => (Role::Path, None),
        };
        args.push(Arg {
            ident,
            name: arg_name,
            ty: &pat_type.ty,
            role,
            role_attr,
            whole: input,
        });
    }
    (args, patterns)
}

/// A method with a body and no verb attribute: a helper built on the endpoints, which the
/// macro leaves alone.
pub(crate) fn is_helper(method: &TraitItemFn) -> bool {
    method.default.is_some()
        && !method.attrs.iter().any(|a| {
            a.path()
                .get_ident()
                .is_some_and(|i| attr::VERBS.iter().any(|v| i == v))
        })
}

/// The name of an argument written as a plain name (`id: &str`), not a pattern.
fn plain_name(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none() => {
            Some(&p.ident)
        }
        _ => None,
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

/// `T` from a type written `Response<T>` (any path ending in `Response`).
pub(crate) fn response_inner(ty: &Type) -> Option<&Type> {
    single_type_argument(ty, "Response")
}

/// `T` from a type written `Option<T>` (any path ending in `Option`).
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    single_type_argument(ty, "Option")
}

/// The one type argument of a type written `Name<T>`.
fn single_type_argument<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if p.qself.is_some() || last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match (args.args.len(), args.args.first()) {
        (1, Some(GenericArgument::Type(inner))) => Some(inner),
        _ => None,
    }
}

/// Whether the type is written as (a path ending in) `HeaderValue`, or a reference to one.
pub(crate) fn is_header_value(ty: &Type) -> bool {
    let (_, ty) = dereferenced(ty);
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "HeaderValue"))
}

/// The type under its references (and parentheses), and how many references there were.
pub(crate) fn dereferenced(mut ty: &Type) -> (usize, &Type) {
    let mut depth = 0;
    loop {
        match ty {
            Type::Reference(r) => {
                depth += 1;
                ty = &r.elem;
            }
            Type::Paren(p) => ty = &p.elem,
            Type::Group(g) => ty = &g.elem,
            other => return (depth, other),
        }
    }
}

/// For a type written `Option<T>`, `&Option<T>` (any number of references): how many
/// references there are, and `T`.
pub(crate) fn maybe_option(ty: &Type) -> Option<(usize, &Type)> {
    let (depth, ty) = dereferenced(ty);
    option_inner(ty).map(|inner| (depth, inner))
}

/// The element type of a type written as a sequence: `Vec<T>`, `[T]`, `[T; N]`, `&[T]`,
/// `Option<..>` of one, or a reference to one.
pub(crate) fn sequence_element(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Reference(r) => sequence_element(&r.elem),
        Type::Slice(s) => Some(&s.elem),
        Type::Array(a) => Some(&a.elem),
        Type::Paren(p) => sequence_element(&p.elem),
        other => single_type_argument(other, "Vec")
            .or_else(|| option_inner(other).and_then(sequence_element)),
    }
}

/// How the response becomes `T`, chosen from how `T` is written.
pub(crate) enum Decoder<'a> {
    Unit,
    Text,
    Raw,
    Json(&'a Type),
    WithResponse(Box<Decoder<'a>>),
    /// `Option<T>`: a 404 with problem details, 204 and an empty body are `None`.
    Optional(Box<Decoder<'a>>),
}

impl<'a> Decoder<'a> {
    /// The type decoded from JSON, if any.
    pub(crate) fn json_type(&self) -> Option<&'a Type> {
        match self {
            Decoder::Json(ty) => Some(ty),
            Decoder::WithResponse(inner) | Decoder::Optional(inner) => inner.json_type(),
            Decoder::Unit | Decoder::Text | Decoder::Raw => None,
        }
    }

    /// Whether the decoder gives a name its meaning (`Option`, `Response`, `Bytes`, `String`):
    /// then the compiler checks the reading against the type, level by level
    /// (`__private::Pick`), the other choice being the user's own type, from JSON.
    pub(crate) fn reads_names(&self) -> bool {
        match self {
            Decoder::Text | Decoder::Raw | Decoder::WithResponse(_) | Decoder::Optional(_) => true,
            Decoder::Unit | Decoder::Json(_) => false,
        }
    }

    pub(crate) fn for_type(ty: &'a Type) -> Self {
        if let Some(inner) = option_inner(ty) {
            return Decoder::Optional(Box::new(Decoder::for_type(inner)));
        }
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
