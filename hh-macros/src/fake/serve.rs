//! `impl hh_runtime::testing::Serve for <Trait>Fake`, for `#[healthhero_api(serve)]`: the
//! routes (verb, template, name) and a handler per endpoint that reads the call's arguments
//! back from the request by their declared roles, answers with the script, and writes the reply
//! as the generated client's decoder reads it. A type that cannot be read back is reported on
//! the argument, in the words of the runtime's `FromText`, `FromWire` or `FromBytes`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::{call_ident, cfgs, endpoint_name, fake_ident, owned::owned_type};
use crate::ast::{Api, Arg, Endpoint, maybe_option, option_inner};
use crate::attr::{BodyKind, Role};
use crate::expand::{respan, with_decoder};
use crate::template::Piece;

pub(super) fn expand(api: &Api<'_>) -> TokenStream {
    let krate = &api.options.krate;
    let fake = fake_ident(api);
    let testing = quote!(#krate::testing);
    let trait_cfgs = crate::skeleton::trait_cfgs(api);
    let routes = routes(api);
    let detached = api.endpoints.iter().map(|endpoint| {
        let name = &endpoint.method.sig.ident;
        let cfgs = cfgs(&endpoint.method.attrs);
        quote!(#(#cfgs)* #name: ::core::clone::Clone::clone(&self.#name))
    });
    let arms = api.endpoints.iter().map(|endpoint| arm(api, endpoint));
    quote! {
        #(#trait_cfgs)*
        impl #testing::Serve for #fake {
            fn routes(&self) -> &'static [#testing::Route] {
                // Built once, pushed one by one so that a `#[cfg]` on a method removes its route.
                static ROUTES: ::std::sync::LazyLock<::std::vec::Vec<#testing::Route>> =
                    ::std::sync::LazyLock::new(|| {
                        #[allow(unused_mut)]
                        let mut __hh_routes = ::std::vec::Vec::new();
                        #routes
                        __hh_routes
                    });
                &ROUTES
            }

            fn detached(&self) -> ::std::boxed::Box<dyn #testing::Serve> {
                ::std::boxed::Box::new(Self {
                    #(#detached,)*
                    __hh_core: self.__hh_core.uncounted(),
                })
            }

            #[allow(unused_mut, unused_assignments)]
            fn handle(
                &self,
                __hh_route: usize,
                __hh_request: #testing::ServedRequest,
            ) -> ::core::pin::Pin<::std::boxed::Box<
                dyn ::core::future::Future<Output = #testing::ServedReply> + ::core::marker::Send,
            >> {
                let __hh_fake = ::core::clone::Clone::clone(self);
                ::std::boxed::Box::pin(async move {
                    let __hh_reader = #krate::__private::fake::Reader(&__hh_request);
                    let mut __hh_index = 0usize;
                    #(#arms)*
                    #krate::__private::fake::unreadable(
                        &__hh_fake.__hh_core,
                        "(no endpoint)",
                        ::std::format!("no route {}", __hh_route),
                    )
                })
            }
        }
    }
}

/// The statements that push each endpoint's `Route` (verb, template, name). A method
/// removed by `#[cfg]` has no route: each index is counted where it stands (see [`arm`]).
fn routes(api: &Api<'_>) -> TokenStream {
    let krate = &api.options.krate;
    let testing = quote!(#krate::testing);
    let pushes = api.endpoints.iter().map(|endpoint| {
        let name = endpoint_name(api, endpoint);
        let verb = endpoint.verb().map(|v| {
            let upper = quote::format_ident!("{}", v.to_string().to_uppercase());
            quote!(#krate::__private::Method::#upper)
        });
        let pieces = endpoint.pieces.iter().map(|piece| match piece {
            Piece::Literal(text) => quote!(#testing::Piece::Literal(#text)),
            Piece::Param { name, .. } => quote!(#testing::Piece::Param(#name)),
        });
        let cfgs = cfgs(&endpoint.method.attrs);
        quote! {
            #(#cfgs)*
            __hh_routes.push(#testing::Route { name: #name, method: #verb, pieces: &[#(#pieces),*] });
        }
    });
    quote!(#(#pushes)*)
}

/// The handler's branch for one endpoint: its route's index, counted as [`routes`] pushes
/// them, so a method removed by `#[cfg]` removes both.
fn arm(api: &Api<'_>, endpoint: &Endpoint<'_>) -> TokenStream {
    let cfgs = cfgs(&endpoint.method.attrs);
    let handler = handler(api, endpoint);
    quote! {
        #(#cfgs)*
        {
            if __hh_route == __hh_index {
                return #handler;
            }
            __hh_index += 1;
        }
    }
}

/// `Serve` for the fake of a declaration with mistakes: no routes, so `Sandbox::serve` in the
/// tests compiles and serves nothing, and only the declaration's errors are reported.
pub(super) fn stub(api: &Api<'_>) -> TokenStream {
    let krate = &api.options.krate;
    let fake = fake_ident(api);
    let testing = quote!(#krate::testing);
    let trait_cfgs = crate::skeleton::trait_cfgs(api);
    quote! {
        #(#trait_cfgs)*
        impl #testing::Serve for #fake {
            fn routes(&self) -> &'static [#testing::Route] {
                &[]
            }

            fn detached(&self) -> ::std::boxed::Box<dyn #testing::Serve> {
                let mut copy = ::core::clone::Clone::clone(self);
                copy.__hh_core = self.__hh_core.uncounted();
                ::std::boxed::Box::new(copy)
            }

            fn handle(
                &self,
                _: usize,
                _: #testing::ServedRequest,
            ) -> ::core::pin::Pin<::std::boxed::Box<
                dyn ::core::future::Future<Output = #testing::ServedReply> + ::core::marker::Send,
            >> {
                let reply = #krate::__private::fake::unreadable(
                    &self.__hh_core,
                    "(no endpoint)",
                    ::std::string::String::from("the declaration has mistakes"),
                );
                ::std::boxed::Box::pin(async move { reply })
            }
        }
    }
}

/// The reply to one endpoint's request: the call read back, answered, written.
fn handler(api: &Api<'_>, endpoint: &Endpoint<'_>) -> TokenStream {
    let krate = &api.options.krate;
    let private = quote!(#krate::__private::fake);
    let name = endpoint_name(api, endpoint);
    let call = call_ident(api, endpoint);
    let method = &endpoint.method.sig.ident;
    let fields = super::args(endpoint).map(|arg| {
        let ident = arg.ident;
        let read = read(arg);
        let cfgs = super::arg_cfgs(arg);
        quote!(#(#cfgs)* #ident: #read?)
    });
    let core = quote!(&__hh_fake.__hh_core);
    let reply = with_decoder(
        krate,
        endpoint.ok_type(),
        |decoder, span| quote_spanned!(span=> #private::reply::<#decoder>(#core, #name, __hh_outcome)),
        |chosen, span| quote_spanned!(span=> #private::reply_as(#chosen, #core, #name, __hh_outcome)),
    );
    quote! {{
        let __hh_call = #private::read_call(#core, #name, || {
            ::core::result::Result::<_, ::std::string::String>::Ok(#call {
                #(#fields,)*
            })
        });
        match __hh_call {
            ::core::result::Result::Ok(__hh_call) => {
                let __hh_outcome = __hh_fake.#method.answer(__hh_call).await;
                #reply
            }
            ::core::result::Result::Err(__hh_reply) => *__hh_reply,
        }
    }}
}

/// Reads one argument back from the request, by its role, as its owned type. Every token at
/// the argument's name, the type given too: a type that cannot be read is reported on the
/// argument it is read for (the message names the type and what it lacks).
fn read(arg: &Arg<'_>) -> TokenStream {
    let span = arg.ident.span();
    let name = &arg.name;
    let owned_at = |ty| respan(owned_type(ty), span);
    let owned = owned_at(arg.ty);
    let reader = quote!(__hh_reader);
    match &arg.role {
        Role::Path | Role::Unknown => {
            quote_spanned!(span=> #reader.path::<#owned>(#name))
        }
        Role::Query { key } => quote_spanned!(span=> #reader.query::<#owned>(#key, #name)),
        Role::QueryFlatten => quote_spanned!(span=> #reader.query_flatten::<#owned>(#name)),
        Role::Body(BodyKind::Json) => match option_inner(arg.ty) {
            Some(inner) => {
                let inner = owned_at(inner);
                quote_spanned!(span=> #reader.json_opt::<#inner>(#name))
            }
            None => quote_spanned!(span=> #reader.json::<#owned>(#name)),
        },
        Role::Body(BodyKind::Bytes) => quote_spanned!(span=> #reader.bytes::<#owned>(#name)),
        Role::Body(BodyKind::Text) => quote_spanned!(span=> #reader.text::<#owned>(#name)),
        Role::Form => quote_spanned!(span=> #reader.form::<#owned>(#name)),
        Role::Header { name: header } => {
            let header = header.value().to_ascii_lowercase();
            match maybe_option(arg.ty) {
                Some((_, inner)) => {
                    let inner = owned_at(inner);
                    quote_spanned!(span=> #reader.header_opt::<#inner>(#header, #name))
                }
                None => quote_spanned!(span=> #reader.header::<#owned>(#header, #name)),
            }
        }
    }
}
