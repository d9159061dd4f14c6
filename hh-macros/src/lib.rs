//! The `#[healthhero_api]` attribute. Use it through `hh-runtime`, which re-exports it and
//! provides everything the generated code calls; see `hh_runtime::healthhero_api` for the
//! language and examples.

mod ast;
mod attr;
mod boxed;
mod check;
mod ctxt;
mod debug;
mod expand;
mod fallback;
mod skeleton;
mod template;

use proc_macro::TokenStream;

/// Declares HealthHero endpoints as an annotated trait and generates a client for them.
///
/// The full documentation, with examples, is on `hh_runtime::healthhero_api`.
#[proc_macro_attribute]
pub fn healthhero_api(args: TokenStream, input: TokenStream) -> TokenStream {
    let input: proc_macro2::TokenStream = input.into();
    let name = trait_name(&input);
    let mut output = expand::healthhero_api(args.into(), input);
    // `HH_MACROS_DEBUG=1 cargo build` prints what the macro wrote.
    debug::maybe_print(&name, &output);
    output.extend(debug::track());
    output.into()
}

/// The name after `trait`, for the debug header.
fn trait_name(input: &proc_macro2::TokenStream) -> String {
    let mut tokens = input.clone().into_iter();
    while let Some(token) = tokens.next() {
        if matches!(&token, proc_macro2::TokenTree::Ident(i) if i == "trait") {
            return tokens.next().map(|t| t.to_string()).unwrap_or_default();
        }
    }
    String::new()
}
