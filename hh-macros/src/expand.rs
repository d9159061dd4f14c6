//! Code generation. Never reports user errors: by the time we get here, the model is valid.
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
use syn::{Attribute, FnArg, ItemTrait, ReturnType, TraitItem};

use crate::ast::{Api, Decoder, Endpoint};
use crate::attr::{Options, Role};
use crate::template::Piece;
use crate::{check, ctxt::Ctxt, fallback};

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

fn generate(api: &Api<'_>) -> TokenStream {
    let item = api.item;
    let krate = &api.options.krate;
    let vis = &item.vis;
    let trait_ident = &item.ident;
    let client_ident = format_ident!("{}Client", trait_ident);

    let mut declared = fallback::strip(item);
    for (trait_item, endpoint) in declared.items.iter_mut().zip(&api.endpoints) {
        if let TraitItem::Fn(method) = trait_item {
            method.sig.asyncness = None;
            let output = match &method.sig.output {
                ReturnType::Type(_, ty) => ty.clone(),
                ReturnType::Default => continue,
            };
            method.sig.output = syn::parse_quote! {
                -> impl ::core::future::Future<Output = #output> + ::core::marker::Send
            };
            let line = format!(" `{}`", endpoint_line(endpoint, &api.options));
            let has_docs = method.attrs.iter().any(|a| a.path().is_ident("doc"));
            if has_docs {
                method.attrs.push(syn::parse_quote!(#[doc = ""]));
            }
            method.attrs.push(syn::parse_quote!(#[doc = #line]));
        }
    }

    let methods = api.endpoints.iter().map(|e| method(api, e));
    let struct_doc = format!(
        " Calls [`{trait_ident}`] over HTTP with a `{}::Client`, as declared by `#[healthhero_api]`.",
        path_text(krate)
    );
    let new_doc = " Wraps a configured client; clones of it share its connections and token cache.";
    quote! {
        #declared

        #[doc = #struct_doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #client_ident {
            client: #krate::Client,
        }

        impl #client_ident {
            #[doc = #new_doc]
            #vis fn new(client: #krate::Client) -> Self {
                Self { client }
            }

            /// The runtime client calls go through.
            #vis fn client(&self) -> &#krate::Client {
                &self.client
            }
        }

        impl #trait_ident for #client_ident {
            #(#methods)*
        }
    }
}

fn path_text(path: &syn::Path) -> String {
    quote!(#path).to_string().replace(' ', "")
}

/// `GET /api/v1/<client_id>/Traversals`, for docs.
fn endpoint_line(endpoint: &Endpoint<'_>, options: &Options) -> String {
    let verb = endpoint
        .verb
        .as_ref()
        .map(|v| v.to_string().to_uppercase())
        .unwrap_or_default();
    format!("{verb} {}", endpoint.template_text(options))
}

fn method(api: &Api<'_>, endpoint: &Endpoint<'_>) -> TokenStream {
    let krate = &api.options.krate;
    let sig = &endpoint.method.sig;
    let ident = &sig.ident;
    let output = &sig.output;
    // The user's docs go on the client's method too; `cfg` must match the trait's.
    let kept_attrs = endpoint
        .method
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("doc"));
    let inputs = sig.inputs.iter().map(|input| match input {
        FnArg::Receiver(_) => quote!(&self),
        FnArg::Typed(t) => {
            let pat = &t.pat;
            let ty = &t.ty;
            let keep = t.attrs.iter().filter(|a| is_cfg_or_lint(a));
            quote!(#(#keep)* #pat: #ty)
        }
    });

    let verb = endpoint
        .verb
        .as_ref()
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
    let headers = api.headers.iter().chain(&endpoint.headers).map(|h| {
        let (name, value) = (&h.name, &h.value);
        quote!(.static_header(#name, #value))
    });
    let args = endpoint.args.iter().filter_map(|arg| {
        let value = arg.ident;
        let span = arg.ty.span();
        Some(match &arg.role {
            Role::Path | Role::Unknown => return None,
            Role::Query { key } => quote_spanned!(span=> .query(#key, &#value)),
            Role::QueryFlatten => quote_spanned!(span=> .query_flatten(&#value)),
            Role::Body => quote_spanned!(span=> .json(&#value)),
            Role::Form => quote_spanned!(span=> .form(&#value)),
            Role::Header { name } => quote_spanned!(span=> .header(#name, &#value)),
        })
    });
    let decoder = endpoint.ok_type.map(Decoder::for_type);
    // The `send` call carries the decoder's bound (`T: DeserializeOwned`), so the whole call
    // expression is spanned at the user's `T`: a type that cannot be decoded is underlined
    // where it is written, not at the macro.
    let send_span = decoder
        .as_ref()
        .and_then(Decoder::json_type)
        .map_or_else(proc_macro2::Span::call_site, Spanned::span);
    let decoder = decoder.map(|d| decoder_tokens(krate, &d));
    let send = quote_spanned!(send_span=> __hh_request.send::<#decoder>().await);

    quote! {
        #(#kept_attrs)*
        async fn #ident(#(#inputs),*) #output {
            let __hh_request = #krate::__private::Request::new(&self.client, #krate::__private::Method::#verb, #template)
                #(#path)*
                #(#headers)*
                #(#args)*;
            #send
        }
    }
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
    }
}

/// The same tokens, every one of them (inside groups too) placed at `span`.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
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

fn is_cfg_or_lint(attr: &Attribute) -> bool {
    ["cfg", "allow", "warn", "deny", "expect", "forbid"]
        .iter()
        .any(|n| attr.path().is_ident(n))
}
