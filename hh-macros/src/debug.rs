//! `HH_MACROS_DEBUG=1`: print what the macro wrote, formatted, one block per trait.
//!
//! A proc macro runs only when its user's crate is compiled, so the variable alone would print
//! nothing for a crate already built, and would keep replaying after it is unset. Every
//! expansion therefore reads it with `option_env!`, which makes rustc record the variable as
//! an input of the user's crate: setting, changing or unsetting it recompiles the crate, and
//! the macro runs again.

use proc_macro2::TokenStream;
use quote::quote;

/// The variable's name.
const VAR: &str = "HH_MACROS_DEBUG";

/// On for any value but unset, empty, `0`, `false`, `no` or `off`.
pub(crate) fn enabled(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "false" | "no" | "off"
        )
    })
}

/// Tokens that make the user's crate depend on the variable (see the module docs).
pub(crate) fn track() -> TokenStream {
    quote! {
        const _: ::core::option::Option<&str> = ::core::option_env!("HH_MACROS_DEBUG");
    }
}

/// The expansion as formatted Rust, under a header naming the trait; the raw tokens if they do
/// not parse as a file (they always should).
pub(crate) fn render(trait_name: &str, output: &TokenStream) -> String {
    let code = match syn::parse2::<syn::File>(output.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => output.to_string(),
    };
    format!("// ---- #[healthhero_api] on `{trait_name}` ----\n{code}")
}

/// Prints the expansion to stderr when the variable is on.
pub(crate) fn maybe_print(trait_name: &str, output: &TokenStream) {
    if enabled(std::env::var(VAR).ok().as_deref()) {
        eprintln!("{}", render(trait_name, output));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_empty_mean_off() {
        for off in [
            None,
            Some(""),
            Some("0"),
            Some(" 0 "),
            Some("false"),
            Some("OFF"),
            Some("no"),
        ] {
            assert!(!enabled(off), "{off:?}");
        }
        for on in [Some("1"), Some("yes"), Some("true"), Some("all")] {
            assert!(enabled(on), "{on:?}");
        }
    }

    #[test]
    fn renders_formatted_code_under_a_header() {
        let out = render(
            "Clock",
            &quote!(pub struct ClockClient { client: u8 } impl ClockClient { fn new() -> Self { todo!() } }),
        );
        assert!(
            out.starts_with("// ---- #[healthhero_api] on `Clock` ----\n"),
            "{out}"
        );
        assert!(
            out.contains("pub struct ClockClient {\n    client: u8,\n}"),
            "{out}"
        );
    }
}
