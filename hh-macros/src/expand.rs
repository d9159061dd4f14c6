//! The attribute from start to end (parse, check, then generate or fall back), and the code
//! generation itself, which never reports user errors: by then the model is valid.
//!
//! ```text
//! #[healthhero_api] pub trait Reports {            pub trait Reports {
//!     #[get("/r/<id>")]                     ==>        fn risks(&self, id: &str)
//!     async fn risks(&self, id: &str)                     -> impl Future<Output = Result<R, Error>> + Send;
//!         -> Result<R, Error>;                     }
//! }                                                pub struct ReportsClient { client: hh_runtime::Client }
//!                                                  impl Reports for ReportsClient {
//!                                                      async fn risks(&self, id: &str) -> Result<R, Error> {
//!                                                          Request::new(..).literal("/r/").segment("id", &id)
//!                                                              .send::<Json<R>>().await
//!                                                      }
//!                                                  }
//! ```

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemTrait, ReturnType, Signature, TraitItem, Type};

use crate::ast::{
    Api, Decoder, Endpoint, is_header_value, maybe_option, option_inner, response_inner,
};
use crate::attr::{BodyKind, Options, Role};
use crate::template::Piece;
use crate::{boxed, check, ctxt::Ctxt, fallback, skeleton};

/// The whole attribute: parse, check, then generate or fall back.
pub(crate) fn healthhero_api(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: ItemTrait = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => return not_a_trait(input),
    };
    let cx = Ctxt::new();
    let options = Options::from_tokens(&cx, args);
    let api = Api::from_syn(&cx, options, &item);
    check::check(&cx, &api);
    match cx.check() {
        Ok(()) => generate(&api),
        Err(errors) => {
            let fallback = fallback::expand(&api);
            let errors = errors.to_compile_error();
            quote!(#fallback #errors)
        }
    }
}

/// Points at the item's keyword (`struct`, `fn`, …) and passes the item through unchanged.
fn not_a_trait(input: TokenStream) -> TokenStream {
    let span = match syn::parse2::<syn::Item>(input.clone()) {
        Ok(syn::Item::Struct(s)) => s.struct_token.span(),
        Ok(syn::Item::Enum(e)) => e.enum_token.span(),
        Ok(syn::Item::Fn(f)) => f.sig.fn_token.span(),
        Ok(syn::Item::Impl(i)) => i.impl_token.span(),
        Ok(syn::Item::Mod(m)) => m.mod_token.span(),
        Ok(syn::Item::Type(t)) => t.type_token.span(),
        Ok(other) => other.span(),
        Err(_) => proc_macro2::Span::call_site(),
    };
    let error = syn::Error::new(
        span,
        "`#[healthhero_api]` goes on a trait: `#[healthhero_api] pub trait Name { #[get(\"/path\")] async fn call(&self) -> Result<T, Error>; }`",
    )
    .to_compile_error();
    quote!(#error #input)
}

/// The trait as declared and its client, for an API that passed every check.
pub(crate) fn generate(api: &Api<'_>) -> TokenStream {
    let mut declared = skeleton::declaration(api.item);
    let mut methods = Vec::new();
    #[cfg(feature = "testing")]
    let mut fake_methods = Vec::new();
    for trait_item in &mut declared.items {
        if let TraitItem::Fn(method) = trait_item {
            // Helpers (default methods without a verb) stay as written.
            let Some(endpoint) = api
                .endpoints
                .iter()
                .find(|e| e.method.sig.ident == method.sig.ident)
            else {
                continue;
            };
            methods.push(self::method(api, endpoint, &method.sig));
            #[cfg(feature = "testing")]
            if api.options.writes_fake() {
                fake_methods.push(crate::fake::method(api, endpoint, &method.sig));
            }
            if api.options.dyn_compatible {
                method.sig = boxed::signature(&method.sig);
            } else {
                method.sig.asyncness = None;
                let output = match &method.sig.output {
                    ReturnType::Type(_, ty) => ty.clone(),
                    ReturnType::Default => continue,
                };
                method.sig.output = syn::parse_quote! {
                    -> impl ::core::future::Future<Output = #output> + ::core::marker::Send
                };
            }
            let line = format!(
                " `{}`{}",
                endpoint_line(endpoint, &api.options),
                options_note(api, endpoint)
            );
            let has_docs = method.attrs.iter().any(|a| a.path().is_ident("doc"));
            if has_docs {
                method.attrs.push(syn::parse_quote!(#[doc = ""]));
            }
            method.attrs.push(syn::parse_quote!(#[doc = #line]));
        }
    }
    #[allow(unused_mut)]
    let mut output = skeleton::emit(api, &declared, Some(quote!(#(#methods)*)));
    #[cfg(feature = "testing")]
    if api.options.writes_fake() {
        output.extend(crate::fake::expand(api, &fake_methods, true));
    }
    output
}

/// What the per-call options change, for docs: ` (idempotent: retried like a GET; timeout
/// 5s per attempt; 30s for the whole call)`, or nothing.
fn options_note(api: &Api<'_>, endpoint: &Endpoint<'_>) -> String {
    let options = &endpoint.options;
    let mut notes = Vec::new();
    if options.is_idempotent() {
        notes.push("idempotent: retried like a GET".to_owned());
    }
    if options.never_retried() {
        notes.push("never retried".to_owned());
    }
    if let Some(ms) = options.timeout_ms(&api.timeouts) {
        notes.push(format!("timeout {} per attempt", shown_ms(ms)));
    }
    if let Some(ms) = options.call_timeout_ms(&api.call_timeouts) {
        notes.push(format!("{} for the whole call", shown_ms(ms)));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

/// `5s` or `1500ms`, for docs.
fn shown_ms(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `GET /api/v1/<client_id>/Traversals`, for docs.
fn endpoint_line(endpoint: &Endpoint<'_>, options: &Options) -> String {
    let verb = endpoint
        .verb()
        .map(|v| v.to_string().to_uppercase())
        .unwrap_or_default();
    format!("{verb} {}", endpoint.template_text(options))
}

/// One generated method. `declared` is its signature on the emitted trait, before it became
/// `-> impl Future`.
fn method(api: &Api<'_>, endpoint: &Endpoint<'_>, declared: &Signature) -> TokenStream {
    let krate = &api.options.krate;
    let sig = skeleton::impl_signature(declared);
    let attrs = skeleton::impl_attrs(&endpoint.method.attrs);

    let verb = endpoint
        .verb()
        .map(|v| format_ident!("{}", v.to_string().to_uppercase(), span = v.span()));
    let template = endpoint.template_text(&api.options);
    let path = endpoint.pieces.iter().map(|piece| match piece {
        Piece::Literal(text) => quote!(.literal(#text)),
        Piece::Param { name, .. } => match endpoint.args.iter().find(|a| &a.name == name) {
            Some(arg) => {
                let value = arg.ident;
                quote_spanned!(arg.ty.span()=> .segment(#name, &#value))
            }
            None => quote!(.client_id()),
        },
    });
    let headers = static_headers(krate, api, endpoint);
    let args = endpoint.args.iter().filter_map(|arg| {
        let value = arg.ident;
        let span = arg.ty.span();
        Some(match &arg.role {
            Role::Path | Role::Unknown => return None,
            Role::Query { key } => quote_spanned!(span=> .query(#key, &#value)),
            Role::QueryFlatten => quote_spanned!(span=> .query_flatten(&#value)),
            Role::Body(BodyKind::Json) if option_inner(arg.ty).is_some() => {
                quote_spanned!(span=> .json_opt(&#value))
            }
            Role::Body(BodyKind::Json) => quote_spanned!(span=> .json(&#value)),
            Role::Body(BodyKind::Bytes) => quote_spanned!(span=> .bytes(&#value)),
            Role::Body(BodyKind::Text) => quote_spanned!(span=> .text(&#value)),
            Role::Form => quote_spanned!(span=> .form(&#value)),
            Role::Header { name } => header(krate, name, arg.ident, arg.ty),
        })
    });
    let options = call_options(api, endpoint);
    // OpenTelemetry's `url.template` writes placeholders in braces; only sent when it differs.
    let url_template = otel_template(endpoint);
    let url_template = (url_template != template).then(|| quote!(.url_template(#url_template)));
    let send = send(krate, endpoint.ok_type());
    // The call's span name, `Trait.method`, as traces show it.
    let name = endpoint.name(api.item);

    let body = quote! {
        let __hh_request = #krate::__private::Request::new(&self.client, #krate::__private::Method::#verb, #template)
            .endpoint(#name)
            #(#path)*
            #headers
            #(#args)*
            #url_template
            #options;
        #send
    };
    implemented(api, attrs, &sig, &body)
}

/// A method of an impl of the trait with `body` (which `.await`s): as written for the default
/// form, boxed and pinned for `dyn` (the client's methods and a fake's alike).
pub(crate) fn implemented<'a>(
    api: &Api<'_>,
    attrs: impl IntoIterator<Item = &'a syn::Attribute>,
    sig: &Signature,
    body: &TokenStream,
) -> TokenStream {
    let attrs = attrs.into_iter();
    if api.options.dyn_compatible {
        let sig = boxed::signature(sig);
        return quote! {
            #(#attrs)*
            #sig {
                ::std::boxed::Box::pin(async move { #body })
            }
        };
    }
    quote! {
        #(#attrs)*
        #sig {
            #body
        }
    }
}

/// The step that sends a `#[header("name")]` argument: its text (`HeaderText::header_text`) or
/// an `HeaderValue` as it is, and for an `Option` (or a reference to one) only when `Some`.
/// What `header_text` is given is spanned from the first to the last token of its type, so a
/// type that cannot be a header is reported on the type, in `HeaderText`'s words.
fn header(krate: &syn::Path, name: &syn::LitStr, value: &syn::Ident, ty: &Type) -> TokenStream {
    let span = ty.span();
    let Some((depth, inner)) = maybe_option(ty) else {
        if is_header_value(ty) {
            return quote_spanned!(span=> .header_value(#name, &#value));
        }
        let text = over_type(ty, quote!(&), value);
        return quote_spanned!(span=> .header(#name, #krate::__private::HeaderText::header_text(#text)));
    };
    // A reference to the `Option`: `&value` for `Option<T>`, `value` for `&Option<T>`, `*value`
    // for `&&Option<T>`..
    let option = if depth == 0 {
        quote_spanned!(span=> &#value)
    } else {
        let stars = (1..depth).map(|_| quote!(*));
        quote_spanned!(span=> #(#stars)* #value)
    };
    let some = format_ident!("__hh_value", span = last_span(inner));
    if is_header_value(inner) {
        quote_spanned!(span=> .header_value_opt(#name, match #option {
            ::core::option::Option::Some(#some) => ::core::option::Option::Some::<&#krate::__private::HeaderValue>(#some),
            ::core::option::Option::None => ::core::option::Option::None,
        }))
    } else {
        let text = over_type(inner, quote!(&*), &some);
        quote_spanned!(span=> .header_opt(#name, match #option {
            ::core::option::Option::Some(#some) => ::core::option::Option::Some(#krate::__private::HeaderText::header_text(#text)),
            ::core::option::Option::None => ::core::option::Option::None,
        }))
    }
}

/// `#prefix #value`, with the prefix spanned at `ty`'s first token and the value at its last.
fn over_type(ty: &Type, prefix: TokenStream, value: &syn::Ident) -> TokenStream {
    let first = ty.span();
    let mut value = value.clone();
    value.set_span(last_span(ty));
    let prefix: TokenStream = prefix
        .into_iter()
        .map(|mut t| {
            t.set_span(first);
            t
        })
        .collect();
    quote!(#prefix #value)
}

/// The span of the last token of `ty` as written.
fn last_span(ty: &Type) -> proc_macro2::Span {
    quote::ToTokens::to_token_stream(ty)
        .into_iter()
        .last()
        .map_or_else(|| ty.span(), |t| t.span())
}

/// `.static_headers(..)` with the trait's and the method's `#[header("name", "value")]`, as a
/// `static` built at compile time (names lowercased, as `HeaderName` keeps them; both were
/// checked valid, so `from_static` cannot fail); nothing when there are none.
fn static_headers(krate: &syn::Path, api: &Api<'_>, endpoint: &Endpoint<'_>) -> TokenStream {
    let pairs: Vec<TokenStream> = api
        .headers
        .iter()
        .chain(&endpoint.headers)
        .map(|h| {
            let name = h.name.value().to_ascii_lowercase();
            let value = &h.value;
            quote! {
                (
                    #krate::__private::HeaderName::from_static(#name),
                    #krate::__private::HeaderValue::from_static(#value),
                )
            }
        })
        .collect();
    if pairs.is_empty() {
        return TokenStream::new();
    }
    let n = pairs.len();
    quote! {
        .static_headers({
            static HEADERS: [(#krate::__private::HeaderName, #krate::__private::HeaderValue); #n] =
                [#(#pairs),*];
            &HEADERS
        })
    }
}

/// The template with `{name}` placeholders: `/api/v1/{client_id}/Traversals/{traversal_id}`.
fn otel_template(endpoint: &Endpoint<'_>) -> String {
    endpoint
        .pieces
        .iter()
        .map(|piece| match piece {
            Piece::Literal(text) => text.clone(),
            Piece::Param { name, .. } => format!("{{{name}}}"),
        })
        .collect()
}

/// `.timeout(..)` and `.call_timeout(..)` (each the method's, else the trait's),
/// `.retry(false)` and `.idempotent()`, for the options the declaration sets; nothing
/// otherwise.
fn call_options(api: &Api<'_>, endpoint: &Endpoint<'_>) -> TokenStream {
    let options = &endpoint.options;
    let timeout = options
        .timeout_ms(&api.timeouts)
        .map(|ms| quote!(.timeout(::core::time::Duration::from_millis(#ms))));
    let call_timeout = options
        .call_timeout_ms(&api.call_timeouts)
        .map(|ms| quote!(.call_timeout(::core::time::Duration::from_millis(#ms))));
    let retry = options.never_retried().then(|| quote!(.retry(false)));
    let idempotent = options.is_idempotent().then(|| quote!(.idempotent()));
    quote!(#timeout #call_timeout #retry #idempotent)
}

/// The call's `send`, with the decoder for the return type `ty`. The `send` call carries the
/// decoder's bound (`T: DeserializeOwned`), so the whole call expression is spanned at the
/// user's `T`: a type that cannot be decoded is underlined where it is written, not at the
/// macro. A type written with `Option`, `Response`, `Bytes` or `String` is given hh's meaning
/// only where it is hh's (or std's) type: the compiler picks, level by level
/// (`__private::Pick`), since a macro sees only names.
fn send(krate: &syn::Path, ty: Option<&syn::Type>) -> TokenStream {
    with_decoder(
        krate,
        ty,
        |decoder, span| quote_spanned!(span=> __hh_request.send::<#decoder>().await),
        |chosen, span| quote_spanned!(span=> __hh_request.send_as(#chosen).await),
    )
}

/// An expression that needs the decoder of the return type `ty`: `by_type` given its type,
/// or, when the compiler chooses it (`__private::Pick`), `by_value` given an expression of type
/// `PhantomData<D>`, in a block that brings the choice's traits into scope. Each is given the
/// span to write the expression at (see [`send`]). A served fake writes its replies with the
/// same decoder (`fake::serve`).
pub(crate) fn with_decoder(
    krate: &syn::Path,
    ty: Option<&syn::Type>,
    by_type: impl FnOnce(TokenStream, proc_macro2::Span) -> TokenStream,
    by_value: impl FnOnce(TokenStream, proc_macro2::Span) -> TokenStream,
) -> TokenStream {
    let decoder = ty.map(Decoder::for_type);
    let Some(ty) = ty.filter(|_| decoder.as_ref().is_some_and(Decoder::reads_names)) else {
        let span = decoder
            .as_ref()
            .and_then(Decoder::json_type)
            .map_or_else(proc_macro2::Span::call_site, Spanned::span);
        let decoder = decoder.map(|d| decoder_tokens(krate, &d));
        return by_type(quote!(#decoder), span);
    };
    // Every token of the call at one span, so that what it requires is reported once: the
    // type decoded from JSON in hh's reading if there is one (the usual culprit), else the
    // type's first token.
    let span = decoder
        .as_ref()
        .and_then(Decoder::json_type)
        .map_or_else(|| ty.span(), Spanned::span);
    match choose(krate, ty) {
        Chosen::Value(chosen) => {
            let chosen = respan(chosen, span);
            let call = by_value(chosen, span);
            quote_spanned! {span=> {
                use #krate::__private::pick::*;
                #call
            }}
        }
        Chosen::Type(decoder) => by_type(decoder, span),
    }
}

/// What [`choose`] made for a level of a return type.
enum Chosen {
    /// The decoder's type, when nothing at this level or inside it needs the compiler's choice.
    Type(TokenStream),
    /// An expression of type `PhantomData<D>`, `D` the decoder the compiler chose.
    Value(TokenStream),
}

/// The decoder for `ty`: each level written with a name hh gives a meaning to (`Option`,
/// `Response`, `Bytes`, `String`) is one `Pick` between that meaning, around what was chosen
/// inside, and the user's own type decoded from JSON; one expression, the innermost choice
/// made first.
fn choose(krate: &syn::Path, ty: &syn::Type) -> Chosen {
    let private = quote!(#krate::__private);
    let wrap = |inner: Chosen, ty: TokenStream, function: TokenStream| match inner {
        Chosen::Type(d) => Chosen::Type(quote!(#private::#ty<#d>)),
        Chosen::Value(v) => Chosen::Value(quote!(#private::#function(#v))),
    };
    let hh_meaning = match Decoder::for_type(ty) {
        Decoder::Optional(_) => match option_inner(ty) {
            Some(inner) => wrap(choose(krate, inner), quote!(Optional), quote!(optional)),
            // `(Option<T>)`: the parentheses are not the type.
            None => return choose(krate, unparenthesized(ty)),
        },
        Decoder::WithResponse(_) => match response_inner(ty) {
            Some(inner) => wrap(
                choose(krate, inner),
                quote!(WithResponse),
                quote!(with_response),
            ),
            None => return choose(krate, unparenthesized(ty)),
        },
        Decoder::Text => Chosen::Type(quote!(#private::Text)),
        Decoder::Raw => Chosen::Type(quote!(#private::Raw)),
        other => return Chosen::Type(decoder_tokens(krate, &other)),
    };
    Chosen::Value(match hh_meaning {
        Chosen::Type(d) => quote!((&#private::Pick::<#ty, #d>::NEW).__hh_decoder()),
        Chosen::Value(v) => quote!((&#private::Pick::<#ty, _>::of(#v)).__hh_decoder()),
    })
}

/// The type inside any parentheses around it.
fn unparenthesized(mut ty: &syn::Type) -> &syn::Type {
    while let syn::Type::Paren(p) = ty {
        ty = &p.elem;
    }
    ty
}

fn decoder_tokens(krate: &syn::Path, decoder: &Decoder<'_>) -> TokenStream {
    match decoder {
        Decoder::Unit => quote!(#krate::__private::Unit),
        Decoder::Text => quote!(#krate::__private::Text),
        Decoder::Raw => quote!(#krate::__private::Raw),
        // Spanned at the user's type, runtime path included, so "not `DeserializeOwned`"
        // underlines their type.
        Decoder::Json(ty) => {
            let span = ty.span();
            let krate = respan(quote!(#krate), span);
            quote_spanned!(span=> #krate::__private::Json<#ty>)
        }
        Decoder::WithResponse(inner) => {
            let inner = decoder_tokens(krate, inner);
            quote!(#krate::__private::WithResponse<#inner>)
        }
        Decoder::Optional(inner) => {
            let inner = decoder_tokens(krate, inner);
            quote!(#krate::__private::Optional<#inner>)
        }
    }
}

/// The same tokens, every one of them (inside groups too) placed at `span`.
pub(crate) fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}
