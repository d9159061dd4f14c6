//! The `#[healthhero_api]` attribute. Use it through `hh-runtime`, which re-exports it and
//! provides everything the generated code calls; see `hh_runtime::healthhero_api` for the
//! language and examples.

mod ast;
mod attr;
mod check;
mod ctxt;
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
    let output = expand::healthhero_api(args.into(), input.into());
    // `HH_MACROS_DEBUG=1 cargo build` prints what the macro wrote.
    if std::env::var_os("HH_MACROS_DEBUG").is_some() {
        eprintln!("{output}");
    }
    output.into()
}
