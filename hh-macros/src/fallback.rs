//! What we emit when the declaration has mistakes: the trait as written minus our attributes,
//! and the same client type as a valid declaration gets, whose methods are `unimplemented!()`
//! (and, with the `testing` feature, the same fake, likewise).
//! The user then sees only our errors, not "cannot find attribute `get`" or "no function
//! `new`" wherever the trait is used.

use proc_macro2::TokenStream;
use quote::quote;
use syn::TraitItem;

use crate::ast::Api;
use crate::skeleton;

pub(crate) fn expand(api: &Api<'_>) -> TokenStream {
    let mut declared = skeleton::declaration(api.item);
    // The declaration keeps its `async fn`s, which rustc would otherwise lint.
    declared
        .attrs
        .push(syn::parse_quote!(#[allow(async_fn_in_trait)]));
    let implementable = declared.generics.params.is_empty()
        && declared.items.iter().all(|i| matches!(i, TraitItem::Fn(_)));
    let methods = implementable.then(|| {
        let methods = declared.items.iter().filter_map(|i| match i {
            // Methods with a body (helpers, or endpoints written with one) keep it as the
            // default.
            TraitItem::Fn(m) if m.default.is_none() => {
                let sig = skeleton::impl_signature(&m.sig);
                let attrs = skeleton::impl_attrs(&m.attrs);
                // A desugared `-> impl Future` needs a future for a body, not `!`.
                let body = if crate::check::desugared(&m.sig) {
                    quote!(async move { ::core::unimplemented!() })
                } else {
                    quote!(::core::unimplemented!())
                };
                Some(quote! {
                    #(#attrs)*
                    #[allow(unused_variables, clippy::unimplemented)]
                    #sig { #body }
                })
            }
            _ => None,
        });
        quote!(#(#methods)*)
    });
    #[allow(unused_mut)]
    let mut output = skeleton::emit(api, &declared, methods.clone());
    // The fake too, its methods as the client's, so that the tests using it add no errors.
    #[cfg(feature = "testing")]
    if let Some(methods) = methods
        && api.options.writes_fake()
        && crate::check::fake_name_clash(api).is_none()
    {
        output.extend(crate::fake::expand(api, &[methods], false));
    }
    output
}
