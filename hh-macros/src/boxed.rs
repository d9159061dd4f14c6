//! The `dyn` form (`#[healthhero_api(dyn)]`): endpoints return boxed `Send` futures, as
//! async-trait writes them, so the trait is dyn-compatible and `Arc<dyn Api + Send + Sync>`
//! works. Every elided lifetime in the arguments gets a name of its own (`'life0`, ...), each
//! outliving the future's (`'hh_call`).

use syn::visit_mut::VisitMut;
use syn::{FnArg, Lifetime, ReceiverKind, ReturnType, Signature};

/// The lifetime of the future: every borrow the call holds outlives it.
fn call_lifetime() -> Lifetime {
    Lifetime::new("'hh_call", proc_macro2::Span::call_site())
}

/// Names every elided lifetime (`&T`, `'_`) with a lifetime of its own, `'life0`, `'life1`,
/// ... in order, as async-trait does: one shared name would tie lifetimes the user left
/// independent (`&mut Vec<&str>` would borrow the vector for as long as its strings live).
#[derive(Default)]
struct NameElided(Vec<Lifetime>);

impl NameElided {
    fn next(&mut self) -> Lifetime {
        let name = format!("'life{}", self.0.len());
        let lifetime = Lifetime::new(&name, proc_macro2::Span::call_site());
        self.0.push(lifetime.clone());
        lifetime
    }
}

impl VisitMut for NameElided {
    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if reference.lifetime.is_none() {
            reference.lifetime = Some(self.next());
        }
        syn::visit_mut::visit_type_reference_mut(self, reference);
    }

    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if lifetime.ident == "_" {
            *lifetime = self.next();
        }
    }

    // A function pointer or a `dyn Fn(&T)` has its own elision scope: leave it alone.
    fn visit_type_fn_ptr_mut(&mut self, _: &mut syn::TypeFnPtr) {}
    fn visit_parenthesized_generic_arguments_mut(
        &mut self,
        _: &mut syn::ParenthesizedGenericArguments,
    ) {
    }
}

/// `async fn name(&self, id: &str) -> R` as
/// `fn name<'hh_call, 'life0, 'life1>(&'life0 self, id: &'life1 str) -> Pin<Box<dyn Future<Output = R> + Send + 'hh_call>> where 'life0: 'hh_call, 'life1: 'hh_call`.
pub(crate) fn signature(sig: &Signature) -> Signature {
    let mut sig = sig.clone();
    let call = call_lifetime();
    let mut named = NameElided::default();
    sig.asyncness = None;
    for input in &mut sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                if let ReceiverKind::Reference(_, lifetime, _) = &mut receiver.kind {
                    // `&self` and `&'_ self` alike get a name of their own.
                    match lifetime {
                        Some(named_already) if named_already.ident != "_" => {}
                        _ => *lifetime = Some(named.next()),
                    }
                }
            }
            FnArg::Typed(typed) => named.visit_type_mut(&mut typed.ty),
        }
    }
    let lives = &named.0;
    sig.generics = syn::parse_quote!(<#call, #(#lives),*>);
    sig.generics.where_clause = Some(syn::parse_quote!(where #(#lives: #call),*));
    let output = match &sig.output {
        ReturnType::Type(_, ty) => quote::quote!(#ty),
        ReturnType::Default => quote::quote!(()),
    };
    sig.output = syn::parse_quote! {
        -> ::core::pin::Pin<::std::boxed::Box<
            dyn ::core::future::Future<Output = #output> + ::core::marker::Send + #call
        >>
    };
    sig
}
