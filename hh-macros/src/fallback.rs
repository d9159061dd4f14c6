//! What we emit when the declaration has mistakes: the trait as written minus our attributes,
//! and a client type whose methods are `unimplemented!()`. The user then sees only our errors,
//! not "cannot find attribute `get`" or "no function `new`" wherever the trait is used.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Attribute, FnArg, ItemTrait, TraitItem};

use crate::ast::Api;

/// Attributes that are not ours stay where the user put them.
fn kept(attr: &Attribute) -> bool {
    crate::attr::PASS_THROUGH
        .iter()
        .any(|k| attr.path().is_ident(k))
}

/// The trait with our attributes removed from it, its methods and their arguments.
pub(crate) fn strip(item: &ItemTrait) -> ItemTrait {
    let mut item = item.clone();
    item.attrs
        .retain(|a| !a.path().is_ident(crate::attr::HEADER));
    for trait_item in &mut item.items {
        if let TraitItem::Fn(method) = trait_item {
            method.attrs.retain(kept);
            // Reported already; `const fn` in a trait would only add rustc's own errors.
            method.sig.constness = None;
            for input in &mut method.sig.inputs {
                if let FnArg::Typed(t) = input {
                    t.attrs.retain(kept);
                    // A trait method without a body may not destructure; a pattern we rejected
                    // becomes `_` so rustc does not report it a second time.
                    match &mut *t.pat {
                        syn::Pat::Ident(p) if p.subpat.is_none() => {
                            p.by_ref = None;
                            p.mutability = None;
                        }
                        other => *other = syn::parse_quote!(_),
                    }
                }
            }
        }
    }
    item
}

pub(crate) fn expand(api: &Api<'_>) -> TokenStream {
    let item = strip(api.item);
    let krate = &api.options.krate;
    let vis = &item.vis;
    let trait_ident = &item.ident;
    let client_ident = format_ident!("{}Client", trait_ident);
    let all_methods = item.items.iter().all(|i| matches!(i, TraitItem::Fn(_)));
    let methods = item.items.iter().filter_map(|i| match i {
        TraitItem::Fn(m) => {
            let sig = &m.sig;
            let attrs = m.attrs.iter().filter(|a| a.path().is_ident("cfg"));
            Some(quote!(#(#attrs)* #sig { ::core::unimplemented!() }))
        }
        _ => None,
    });
    let implementation = (all_methods && item.generics.params.is_empty()).then(|| {
        quote! {
            #[allow(unused_variables, clippy::unimplemented)]
            impl #trait_ident for #client_ident {
                #(#methods)*
            }
        }
    });
    quote! {
        #[allow(async_fn_in_trait)]
        #item

        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #client_ident {
            client: #krate::Client,
        }

        impl #client_ident {
            #vis fn new(client: #krate::Client) -> Self {
                Self { client }
            }
        }

        #implementation
    }
}
