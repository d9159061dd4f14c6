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
#[cfg(feature = "testing")]
mod fake;
mod fallback;
mod skeleton;
mod template;

use proc_macro::TokenStream;

// Only the last paragraph of the documentation is here: rustdoc appends an item's own docs to
// those of its re-export, so what is written here ends `hh_runtime::healthhero_api`'s page,
// where the rest is (see the crate docs).
/// `HH_MACROS_DEBUG`, which prints what the macro writes, may name what to print rather than
/// print every expansion: a comma-separated list of trait names and crate names
/// (`HH_MACROS_DEBUG=Traversals,Members`, `HH_MACROS_DEBUG=my_app`) prints only the traits of
/// those names and the traits declared in those crates (a crate as `CARGO_CRATE_NAME` names it,
/// `-` read as `_`), which leaves out the hundreds of lines of `healthhero`'s own traits; `1`,
/// `true`, `yes`, `on` or `all` print every trait, and unset, empty, `0`, `false`, `no` or
/// `off` nothing.
#[proc_macro_attribute]
pub fn healthhero_api(args: TokenStream, input: TokenStream) -> TokenStream {
    let input: proc_macro2::TokenStream = input.into();
    let name = trait_name(&input);
    let mut output = expand::healthhero_api(args.into(), input);
    // `HH_MACROS_DEBUG=1 cargo build` prints what the macro wrote (`=Name,..` for some traits).
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
