//! `HH_MACROS_DEBUG`: print what the macro wrote (formatted with the `prettyplease` feature,
//! else as one line of tokens), one block per trait; every trait
//! (`1`, `all`), or only those the value names (`Traversals,Members`, or a crate: `my_app`).
//!
//! A proc macro runs only when its user's crate is compiled, so the variable alone would print
//! nothing for a crate already built, and would keep replaying after it is unset. Every
//! expansion therefore reads it with `option_env!`, which makes rustc record the variable as
//! an input of the user's crate: setting, changing or unsetting it recompiles the crate, and
//! the macro runs again. That recompiles every crate using the macro, `healthhero` included
//! (whose own traits print hundreds of lines first), hence the names: to see only your own.

use proc_macro2::TokenStream;
use quote::quote;

/// The variable's name.
const VAR: &str = "HH_MACROS_DEBUG";

/// Whether the variable, set to `value`, asks for the expansion of the trait `trait_name` in
/// the crate `crate_name` (as `CARGO_CRATE_NAME` has it, `-` written `_`).
///
/// Unset, empty, `0`, `false`, `no` and `off` print nothing; `1`, `true`, `yes`, `on` and `all`
/// print every trait; anything else is a comma-separated list of trait and crate names, and
/// a trait is printed when its name or its crate's is in it (a crate name may be written with
/// `-`, as in `Cargo.toml`).
pub(crate) fn wanted(value: Option<&str>, trait_name: &str, crate_name: Option<&str>) -> bool {
    let Some(value) = value.map(str::trim) else {
        return false;
    };
    match value.to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => return false,
        "1" | "true" | "yes" | "on" | "all" => return true,
        _ => {}
    }
    value
        .split(',')
        .map(str::trim)
        .any(|name| name == trait_name || crate_name.is_some_and(|c| name.replace('-', "_") == c))
}

/// Tokens that make the user's crate depend on the variable (see the module docs).
pub(crate) fn track() -> TokenStream {
    quote! {
        const _: ::core::option::Option<&str> = ::core::option_env!("HH_MACROS_DEBUG");
    }
}

/// The expansion under a header naming the trait: formatted Rust with the `prettyplease`
/// feature (the raw tokens if they do not parse as a file; they always should), else the
/// tokens as one line, which `rustfmt` formats.
pub(crate) fn render(trait_name: &str, output: &TokenStream) -> String {
    #[cfg(feature = "prettyplease")]
    let code = match syn::parse2::<syn::File>(output.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => output.to_string(),
    };
    #[cfg(not(feature = "prettyplease"))]
    let code = format!(
        "// (one line: enable hh-runtime's `prettyplease` feature, or pipe through `rustfmt`)\n{output}"
    );
    format!("// ---- #[healthhero_api] on `{trait_name}` ----\n{code}")
}

/// Prints the expansion to stderr when the variable asks for it.
pub(crate) fn maybe_print(trait_name: &str, output: &TokenStream) {
    let value = std::env::var(VAR).ok();
    // Cargo sets it for every crate it compiles, so it names the crate being expanded.
    let crate_name = std::env::var("CARGO_CRATE_NAME").ok();
    if wanted(value.as_deref(), trait_name, crate_name.as_deref()) {
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
            assert!(!wanted(off, "Clock", Some("my_app")), "{off:?}");
        }
        for on in [
            Some("1"),
            Some("yes"),
            Some("true"),
            Some("all"),
            Some("ALL"),
        ] {
            assert!(wanted(on, "Clock", Some("my_app")), "{on:?}");
            assert!(wanted(on, "Clock", None), "{on:?}");
        }
    }

    #[test]
    fn names_select_traits_and_crates() {
        let value = Some("Traversals, Members");
        assert!(wanted(value, "Traversals", Some("healthhero")));
        assert!(wanted(value, "Members", Some("my_app")));
        assert!(!wanted(value, "Reports", Some("healthhero")));
        // Trait names are matched exactly, as Rust writes them.
        assert!(!wanted(
            Some("traversals"),
            "Traversals",
            Some("healthhero")
        ));

        let value = Some("my-app");
        assert!(
            wanted(value, "Clock", Some("my_app")),
            "`-` as in Cargo.toml"
        );
        assert!(wanted(Some("my_app"), "Clock", Some("my_app")));
        assert!(!wanted(value, "Traversals", Some("healthhero")));
        assert!(!wanted(value, "Clock", None), "no crate name, no match");

        assert!(wanted(
            Some("my_app,Traversals"),
            "Traversals",
            Some("healthhero")
        ));
        assert!(!wanted(Some(",,"), "Clock", Some("my_app")));
    }

    #[test]
    #[cfg(not(feature = "prettyplease"))]
    fn renders_one_line_of_tokens_under_a_header_without_the_feature() {
        let out = render(
            "Clock",
            &quote!(
                pub struct ClockClient {
                    client: u8,
                }
            ),
        );
        let mut lines = out.lines();
        assert_eq!(
            lines.next(),
            Some("// ---- #[healthhero_api] on `Clock` ----")
        );
        assert!(
            lines.next().is_some_and(|l| l.contains("prettyplease")),
            "{out}"
        );
        // The tokens as proc-macro2 writes them, on one line.
        let code = lines.next().unwrap_or_default();
        assert!(
            code.starts_with("pub struct ClockClient {") && code.contains("client : u8"),
            "{out}"
        );
        assert_eq!(lines.next(), None, "{out}");
    }

    #[test]
    #[cfg(feature = "prettyplease")]
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
