//! What the macro emits whether the declaration is valid or not: the trait as declared (our
//! attributes removed), the `<Trait>Client` struct with `new` and `client`, and the impl of the
//! trait for it. The success path fills the impl with generated methods, the fallback with
//! `unimplemented!()`; both go through here, so the client a user calls looks the same either
//! way and a mistake in the declaration causes no second error where the client is used.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Attribute, FnArg, ItemTrait, Signature, TraitItem};

use crate::ast::Api;
use crate::attr::{Place, Site, place};

/// Whether an attribute at `site` stays on the emitted trait.
fn on_declaration(site: Site, attr: &Attribute) -> bool {
    matches!(place(site, attr), Place::Declaration | Place::Both)
}

/// Whether an attribute at `site` goes on the generated counterpart.
pub(crate) fn on_implementation(site: Site, attr: &Attribute) -> bool {
    matches!(place(site, attr), Place::Both | Place::Implementation)
}

/// The trait as the user wrote it, with only the attributes the table keeps there.
pub(crate) fn declaration(item: &ItemTrait) -> ItemTrait {
    let mut item = item.clone();
    item.attrs.retain(|a| on_declaration(Site::Trait, a));
    // Reported if written; kept, it would ask for an `unsafe impl` rustc then asks about.
    item.unsafety = None;
    for trait_item in &mut item.items {
        if let TraitItem::Fn(method) = trait_item {
            if crate::ast::is_helper(method) {
                continue;
            }
            method.attrs.retain(|a| on_declaration(Site::Method, a));
            // Reported already if written; `const fn` in a trait would only add rustc's errors.
            method.sig.constness = None;
            for input in &mut method.sig.inputs {
                if let FnArg::Typed(t) = input {
                    t.attrs.retain(|a| on_declaration(Site::Argument, a));
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

/// A method's signature as the generated impl writes it: the declared one, with only the
/// argument attributes the table copies.
pub(crate) fn impl_signature(declared: &Signature) -> Signature {
    let mut sig = declared.clone();
    for input in &mut sig.inputs {
        if let FnArg::Typed(t) = input {
            t.attrs.retain(|a| on_implementation(Site::Argument, a));
        }
    }
    sig
}

/// The method attributes the generated method carries.
pub(crate) fn impl_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| on_implementation(Site::Method, a))
}

/// The trait's attributes that go on what is generated for it (its `#[cfg]`s): the client,
/// and the fake, go with the trait.
pub(crate) fn trait_cfgs<'a>(api: &Api<'a>) -> Vec<&'a Attribute> {
    api.item
        .attrs
        .iter()
        .filter(|a| on_implementation(Site::Trait, a))
        .collect()
}

/// The whole output. `methods` is the body of `impl Trait for TraitClient`, or `None` when
/// the trait cannot be implemented as declared (it is generic or holds other items).
pub(crate) fn emit(
    api: &Api<'_>,
    declared: &ItemTrait,
    methods: Option<TokenStream>,
) -> TokenStream {
    let krate = &api.options.krate;
    let vis = &declared.vis;
    let trait_ident = &declared.ident;
    let client_ident = api
        .options
        .client
        .clone()
        .unwrap_or_else(|| format_ident!("{}Client", trait_ident));
    let cfgs = trait_cfgs(api);
    let struct_doc = format!(
        " Calls [`{trait_ident}`] over HTTP with a `{}::Client`, as declared by `#[healthhero_api]`.",
        quote!(#krate).to_string().replace(' ', "")
    );
    let new_doc = " Wraps a configured client; clones of it share its connections and token cache.";
    let implementation = methods.map(|methods| {
        quote! {
            #(#cfgs)*
            impl #trait_ident for #client_ident {
                #methods
            }
        }
    });
    quote! {
        #declared

        #(#cfgs)*
        #[doc = #struct_doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #client_ident {
            client: #krate::Client,
        }

        #(#cfgs)*
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

        #implementation
    }
}
