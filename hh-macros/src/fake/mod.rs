//! `<Trait>Fake` (with hh-runtime's `testing` feature, which turns on this crate's): a
//! scripted implementation of the trait, one `Endpoint` field per method, and a
//! `<Trait><Method>Call` struct per method holding a call's arguments, owned. With
//! `#[healthhero_api(serve)]`, also the impl of `testing::Serve` (`serve`).
//!
//! ```text
//! #[healthhero_api] pub trait Payments {           pub struct PaymentsChargeCall { pub account: String }
//!     #[post("/pay/<account>")]             ==>    pub struct PaymentsFake {
//!     async fn charge(&self, account: &str)            pub charge: Endpoint<PaymentsChargeCall, Receipt>, ..
//!         -> Result<Receipt, Error>;               }
//! }                                                impl Payments for PaymentsFake {
//!                                                      async fn charge(&self, account: &str) -> Result<Receipt, Error> {
//!                                                          self.charge.call(PaymentsChargeCall { account: account.to_string() }).await
//!                                                      }
//!                                                  }
//! ```

mod owned;
mod serve;

pub(crate) use owned::{Unownable, unownable};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Attribute, Ident, Signature};

use crate::ast::{Api, Endpoint};
use crate::skeleton;

/// `Trait.method` (`Endpoint::name`, the one rule).
fn endpoint_name(api: &Api<'_>, endpoint: &Endpoint<'_>) -> String {
    endpoint.name(api.item)
}

/// `<Trait>Fake`, or the name given with `fake = "Name"`.
fn fake_ident(api: &Api<'_>) -> Ident {
    api.options
        .fake
        .clone()
        .unwrap_or_else(|| format_ident!("{}Fake", api.item.ident))
}

/// `<Trait><Method>Call`: `conclusion_report` of `Traversals` is `TraversalsConclusionReportCall`.
fn call_ident(api: &Api<'_>, endpoint: &Endpoint<'_>) -> Ident {
    let method = endpoint.method.sig.ident.to_string();
    let method = method.strip_prefix("r#").unwrap_or(&method);
    let camel: String = method
        .split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect();
    format_ident!("{}{}Call", api.item.ident, camel)
}

/// The `#[cfg]` attributes among `attrs`: what removes a method or an argument removes its
/// part of the fake too.
fn cfgs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("cfg"))
}

/// The fake's whole output: the call structs, the fake, its inherent methods, its impl of the
/// trait (`methods`: one [`method`] per endpoint, or, for a declaration with mistakes, the
/// same `unimplemented!()` bodies the client gets, so that tests using the fake add no errors
/// of their own) and, for `serve` on a valid declaration, its impl of `Serve`.
pub(crate) fn expand(api: &Api<'_>, methods: &[TokenStream], valid: bool) -> TokenStream {
    let krate = &api.options.krate;
    let vis = &api.item.vis;
    let trait_ident = &api.item.ident;
    let fake = fake_ident(api);
    let trait_cfgs = skeleton::trait_cfgs(api);

    let calls = api
        .endpoints
        .iter()
        .map(|e| call_struct(api, e, &trait_cfgs));
    let fields = api.endpoints.iter().map(|endpoint| field(api, endpoint));
    let inherent = inherent(api);
    let serve = match (api.options.serve, valid) {
        (false, _) => None,
        (true, true) => Some(serve::expand(api)),
        (true, false) => Some(serve::stub(api)),
    };
    let doc = format!(
        " A scripted stand-in for [`{trait_ident}`], for tests: one field per endpoint, holding \
         its replies and the calls it received. Strict: a call with nothing scripted panics, and \
         [`verify`](Self::verify) (or dropping the last clone) panics on a reply never used. \
         Clones share the script. Written by `#[healthhero_api]` because hh-runtime's `testing` \
         feature is on; see `hh_runtime::testing`."
    );
    quote! {
        #(#calls)*

        #(#trait_cfgs)*
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #[allow(dead_code)]
        #vis struct #fake {
            #(#fields,)*
            __hh_core: #krate::testing::FakeCore,
        }

        #(#trait_cfgs)*
        #[allow(dead_code)]
        impl #fake {
            #inherent
        }

        #(#trait_cfgs)*
        impl ::core::default::Default for #fake {
            fn default() -> Self {
                Self::new()
            }
        }

        #(#trait_cfgs)*
        impl #trait_ident for #fake {
            #(#methods)*
        }

        #serve
    }
}

/// The fake's field for one endpoint: its script and calls.
fn field(api: &Api<'_>, endpoint: &Endpoint<'_>) -> TokenStream {
    let krate = &api.options.krate;
    let vis = &api.item.vis;
    let trait_ident = &api.item.ident;
    let name = &endpoint.method.sig.ident;
    let call = call_ident(api, endpoint);
    let ok = endpoint
        .ok_type()
        .map_or_else(|| quote!(()), |t| quote!(#t));
    let cfgs = cfgs(&endpoint.method.attrs);
    let doc = format!(" The script and the calls of [`{trait_ident}::{name}`].");
    quote! {
        #[doc = #doc]
        #(#cfgs)*
        #vis #name: #krate::testing::Endpoint<#call, #ok>
    }
}

/// The fake's own methods: `new` (each endpoint registered under its `Trait.method` name),
/// `verify`, `problems` and `log_of_calls`.
fn inherent(api: &Api<'_>) -> TokenStream {
    let krate = &api.options.krate;
    let vis = &api.item.vis;
    let inits = api.endpoints.iter().map(|endpoint| {
        let name = &endpoint.method.sig.ident;
        let full = endpoint_name(api, endpoint);
        let cfgs = cfgs(&endpoint.method.attrs);
        quote!(#(#cfgs)* #name: #krate::testing::Endpoint::new(&__hh_core, #full))
    });
    quote! {
        /// A fake with nothing scripted.
        #vis fn new() -> Self {
            let __hh_core = #krate::testing::FakeCore::new();
            Self {
                #(#inits,)*
                __hh_core,
            }
        }

        /// Panics, listing what went wrong, unless every queued reply was used and every
        /// call found a reply.
        #[track_caller]
        #vis fn verify(&self) {
            self.__hh_core.verify();
        }

        /// What [`verify`](Self::verify) would report, without panicking.
        #vis fn problems(&self) -> ::std::vec::Vec<::std::string::String> {
            self.__hh_core.problems()
        }

        /// The name (`Trait.method`) of every call received, in order, across endpoints.
        #vis fn log_of_calls(&self) -> ::std::vec::Vec<&'static str> {
            self.__hh_core.log_of_calls()
        }
    }
}

/// `<Trait><Method>Call`: a call's arguments, owned, with a `Debug` that writes
/// `Trait.method(id: "a", ..)` (an argument without `Debug` shows its type's name).
fn call_struct(api: &Api<'_>, endpoint: &Endpoint<'_>, trait_cfgs: &[&Attribute]) -> TokenStream {
    let krate = &api.options.krate;
    let vis = &api.item.vis;
    let ident = call_ident(api, endpoint);
    let method_cfgs: Vec<&Attribute> = cfgs(&endpoint.method.attrs).collect();
    let fields = args(endpoint).map(|arg| {
        let name = arg.ident;
        // A type the fake cannot own was reported (`check`); `()` keeps the rest compiling.
        let ty = if kept(endpoint, arg.ty) {
            owned::owned_type(arg.ty)
        } else {
            quote!(())
        };
        let cfgs = arg_cfgs(arg);
        let doc = format!(" `{}`, as passed.", arg.name);
        quote!(#[doc = #doc] #(#cfgs)* #vis #name: #ty)
    });
    let shown = args(endpoint).enumerate().map(|(i, arg)| {
        let name = arg.ident;
        let label = format!("{}{}: ", if i == 0 { "" } else { ", " }, arg.name);
        let cfgs = arg_cfgs(arg);
        quote! {
            #(#cfgs)*
            {
                f.write_str(#label)?;
                (&#krate::__private::fake::Show(&self.#name)).hh_show(f)?;
            }
        }
    });
    // `Clone` by hand, each field through `Record`: a type that is not `Clone` is reported
    // once, on the type, in `Record`'s words (the same error the call's recording gives).
    let cloned = args(endpoint).map(|arg| {
        let name = arg.ident;
        let cfgs = arg_cfgs(arg);
        let value = if kept(endpoint, arg.ty) {
            owned::owned_clone(krate, arg.ty, quote!(&self.#name))
        } else {
            quote!(())
        };
        quote!(#(#cfgs)* #name: #value)
    });
    let open = format!("{}(", endpoint_name(api, endpoint));
    let doc = format!(
        " The arguments of one call of [`{}::{}`], owned, as [`{}`] records them.",
        api.item.ident,
        endpoint.method.sig.ident,
        fake_ident(api)
    );
    quote! {
        #(#trait_cfgs)*
        #(#method_cfgs)*
        #[doc = #doc]
        #[allow(dead_code)]
        #vis struct #ident {
            #(#fields,)*
        }

        #(#trait_cfgs)*
        #(#method_cfgs)*
        impl ::core::clone::Clone for #ident {
            fn clone(&self) -> Self {
                Self {
                    #(#cloned,)*
                }
            }
        }

        #(#trait_cfgs)*
        #(#method_cfgs)*
        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #[allow(unused_imports)]
                use #krate::__private::fake::{ShowDebug as _, ShowOpaque as _};
                f.write_str(#open)?;
                #(#shown)*
                f.write_str(")")
            }
        }
    }
}

/// The arguments a call struct has a field for: each name once (a name given twice is
/// rustc's error on the trait, which a second field would only repeat).
pub(super) fn args<'e, 'a>(
    endpoint: &'e Endpoint<'a>,
) -> impl Iterator<Item = &'e crate::ast::Arg<'a>> {
    endpoint
        .args
        .iter()
        .enumerate()
        .filter(|(i, arg)| !endpoint.args[..*i].iter().any(|a| a.name == arg.name))
        .map(|(_, arg)| arg)
}

/// Whether the fake keeps a value of type `ty` (an argument's or the success type) as
/// declared: not when it cannot be owned, nor when the method is generic, both mistakes
/// reported on the declaration; `()` stands in then, so nothing else fails.
fn kept(endpoint: &Endpoint<'_>, ty: &syn::Type) -> bool {
    endpoint.method.sig.generics.params.is_empty() && unownable(ty).is_none()
}

/// The `#[cfg]`s on an argument.
fn arg_cfgs<'a>(arg: &'a crate::ast::Arg<'_>) -> Vec<&'a Attribute> {
    match arg.whole {
        syn::FnArg::Typed(t) => cfgs(&t.attrs).collect(),
        syn::FnArg::Receiver(_) => Vec::new(),
    }
}

/// The struct literal of the call's arguments, owned, from the arguments as passed.
fn call_value(api: &Api<'_>, endpoint: &Endpoint<'_>) -> TokenStream {
    let krate = &api.options.krate;
    let ident = call_ident(api, endpoint);
    let fields = args(endpoint).map(|arg| {
        let name = arg.ident;
        let value = owned::owned_value(krate, arg.ty, quote!(&#name));
        let cfgs = arg_cfgs(arg);
        quote!(#(#cfgs)* #name: #value)
    });
    quote!(#ident { #(#fields,)* })
}

/// One method of the fake's impl of the trait. `declared` is its signature on the emitted
/// trait, before it became `-> impl Future`.
pub(crate) fn method(api: &Api<'_>, endpoint: &Endpoint<'_>, declared: &Signature) -> TokenStream {
    let sig = skeleton::impl_signature(declared);
    let cfgs = cfgs(&endpoint.method.attrs);
    let name = &endpoint.method.sig.ident;
    let call = call_value(api, endpoint);
    // The arguments are owned before the first await: the future keeps no borrow it does not
    // need.
    let body = quote! {
        let __hh_call = #call;
        self.#name.call(__hh_call).await
    };
    crate::expand::implemented(api, cfgs, &sig, &body)
}
