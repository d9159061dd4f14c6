//! The `dyn` form (`#[healthhero_api(dyn)]`): endpoints return boxed `Send` futures, as
//! async-trait writes them, so the trait is dyn-compatible and `Arc<dyn Api + Send + Sync>`
//! works. Every elided lifetime in the arguments becomes one named lifetime that the receiver
//! and the future share.

use syn::visit_mut::VisitMut;
use syn::{FnArg, Lifetime, ReturnType, Signature};

/// The lifetime the receiver, the borrowed arguments and the future share.
fn lifetime() -> Lifetime {
    Lifetime::new("'hh_call", proc_macro2::Span::call_site())
}

/// Names every elided lifetime (`&T`, `'_`) with the call's lifetime.
struct NameElided(Lifetime);

impl VisitMut for NameElided {
    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if reference.lifetime.is_none() {
            reference.lifetime = Some(self.0.clone());
        }
        syn::visit_mut::visit_type_reference_mut(self, reference);
    }

    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if lifetime.ident == "_" {
            *lifetime = self.0.clone();
        }
    }

    // A function pointer or a `dyn Fn(&T)` has its own elision scope: leave it alone.
    fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
    fn visit_parenthesized_generic_arguments_mut(
        &mut self,
        _: &mut syn::ParenthesizedGenericArguments,
    ) {
    }
}

/// `async fn name(&self, id: &str) -> R` as
/// `fn name<'hh_call>(&'hh_call self, id: &'hh_call str) -> Pin<Box<dyn Future<Output = R> + Send + 'hh_call>>`.
pub(crate) fn signature(sig: &Signature) -> Signature {
    let mut sig = sig.clone();
    let life = lifetime();
    sig.asyncness = None;
    sig.generics.params.insert(0, syn::parse_quote!(#life));
    for input in &mut sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                if let Some((_, lifetime)) = &mut receiver.reference {
                    *lifetime = Some(life.clone());
                }
                receiver.ty = syn::parse_quote!(&#life Self);
            }
            FnArg::Typed(typed) => NameElided(life.clone()).visit_type_mut(&mut typed.ty),
        }
    }
    let output = match &sig.output {
        ReturnType::Type(_, ty) => quote::quote!(#ty),
        ReturnType::Default => quote::quote!(()),
    };
    sig.output = syn::parse_quote! {
        -> ::core::pin::Pin<::std::boxed::Box<
            dyn ::core::future::Future<Output = #output> + ::core::marker::Send + #life
        >>
    };
    sig
}
