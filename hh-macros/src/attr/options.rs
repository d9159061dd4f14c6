//! The trait-level options, `#[healthhero_api(prefix = "/api/v1", client = "Name", dyn,
//! serve, fake = "Name" | false, crate = "my_reexport::hh")]`, each at most once.

use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Path, Token};

use crate::ctxt::{Ctxt, did_you_mean};
use crate::template::{self, Piece};

mod kw {
    syn::custom_keyword!(prefix);
    syn::custom_keyword!(client);
    syn::custom_keyword!(fake);
    syn::custom_keyword!(serve);
}

/// `#[healthhero_api(prefix = "/api/v1", crate = "my_reexport::hh")]`.
pub(crate) struct Options {
    pub(crate) krate: Path,
    pub(crate) prefix: Option<Prefix>,
    /// `client = "Name"`: the generated struct's name instead of `<Trait>Client`.
    pub(crate) client: Option<Ident>,
    /// `fake = "Name"`: the test double's name instead of `<Trait>Fake` (feature `testing`).
    pub(crate) fake: Option<Ident>,
    /// `fake = false`: no test double for this trait, even with the `testing` feature on
    /// (which a whole build shares); the `false` token, for errors.
    pub(crate) no_fake: Option<syn::LitBool>,
    /// `dyn`: endpoints return boxed futures, so the trait is dyn-compatible.
    pub(crate) dyn_compatible: bool,
    /// `serve`: with the `testing` feature, the fake also answers HTTP requests
    /// (`hh_runtime::testing::Serve`); without it, nothing.
    pub(crate) serve: bool,
}

/// A parsed `prefix = ".."`.
pub(crate) struct Prefix {
    /// As written, for error spans.
    pub(crate) lit: LitStr,
    /// As joined in front of each path (see `template::parse_prefix`).
    pub(crate) text: String,
    pub(crate) pieces: Vec<Piece>,
}

impl Options {
    pub(crate) fn from_tokens(cx: &Ctxt, args: proc_macro2::TokenStream) -> Self {
        let mut options = Options {
            krate: syn::parse_quote!(::hh_runtime),
            prefix: None,
            client: None,
            fake: None,
            no_fake: None,
            dyn_compatible: false,
            serve: false,
        };
        let mut seen = Vec::new();
        let parser = |input: ParseStream<'_>| -> syn::Result<()> {
            while !input.is_empty() {
                once(cx, input, &mut seen);
                options.parse_one(cx, input)?;
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
            }
            Ok(())
        };
        if let Err(e) = syn::parse::Parser::parse2(parser, args) {
            cx.syn_error(e);
        }
        options.consistent(cx);
        options
    }

    /// Whether `<Trait>Fake` is written when the `testing` feature is on.
    pub(crate) fn writes_fake(&self) -> bool {
        self.no_fake.is_none()
    }

    /// What no single option shows: `serve` with `fake = false`. (Names that clash are
    /// `check::names_apart`'s, which knows the trait's.)
    fn consistent(&self, cx: &Ctxt) {
        if let (true, Some(off)) = (self.serve, &self.no_fake) {
            cx.error_spanned_by(
                off,
                "`serve` serves the trait's fake, which `fake = false` turns off; keep one of them",
            );
        }
    }

    /// One option, up to the comma after it. A malformed value is reported and parsing goes
    /// on; only tokens that are no option at all stop it.
    fn parse_one(&mut self, cx: &Ctxt, input: ParseStream<'_>) -> syn::Result<()> {
        let lookahead = input.lookahead1();
        if lookahead.peek(Token![crate]) {
            let lit = assigned::<Token![crate]>(input)?;
            self.set_crate(cx, &lit);
        } else if lookahead.peek(Token![dyn]) {
            input.parse::<Token![dyn]>()?;
            self.dyn_compatible = true;
        } else if lookahead.peek(kw::serve) {
            let keyword = input.parse::<kw::serve>()?;
            self.serve = true;
            // `serve = true`, `serve(..)`: skipped whole, so the options after it are read.
            let valued = if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                input.parse::<syn::Expr>()?;
                true
            } else if input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in input);
                content.parse::<proc_macro2::TokenStream>()?;
                true
            } else {
                false
            };
            if valued {
                cx.error_spanned_by(
                    keyword,
                    "`serve` takes no value: write `#[healthhero_api(serve)]` to serve the trait's fake over HTTP in tests",
                );
            }
        } else if lookahead.peek(kw::client) {
            let lit = assigned::<kw::client>(input)?;
            self.client = type_name(cx, "client", &lit);
        } else if lookahead.peek(kw::fake) {
            input.parse::<kw::fake>()?;
            input.parse::<Token![=]>()?;
            let value = input.lookahead1();
            if value.peek(syn::LitBool) {
                // `fake = true` is the default, said out loud.
                let off: syn::LitBool = input.parse()?;
                self.no_fake = (!off.value).then_some(off);
            } else if value.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                self.fake = type_name(cx, "fake", &lit);
            } else {
                return Err(value.error());
            }
        } else if lookahead.peek(kw::prefix) {
            let lit = assigned::<kw::prefix>(input)?;
            self.set_prefix(cx, lit);
        } else if input.peek(Ident) {
            unknown_option(cx, input)?;
        } else {
            return Err(lookahead.error());
        }
        Ok(())
    }

    /// `crate = "path"`.
    fn set_crate(&mut self, cx: &Ctxt, lit: &LitStr) {
        match lit.parse_with(Path::parse_mod_style) {
            Ok(path) => self.krate = path,
            Err(_) => cx.error_spanned_by(
                lit,
                format!(
                    "`crate = {:?}` is not a path such as `my_crate::hh`",
                    lit.value()
                ),
            ),
        }
    }

    /// `prefix = "/path"`.
    fn set_prefix(&mut self, cx: &Ctxt, lit: LitStr) {
        match template::parse_prefix(&lit.value()) {
            Ok((text, pieces)) => self.prefix = Some(Prefix { lit, text, pieces }),
            Err(errors) => {
                for e in errors {
                    cx.error_spanned_by(&lit, format!("in `prefix`: {e}"));
                }
            }
        }
    }
}

/// `client = "Name"`, `fake = "Name"`: a type name, or an error naming the option.
fn type_name(cx: &Ctxt, option: &str, lit: &LitStr) -> Option<Ident> {
    match lit.parse::<Ident>() {
        Ok(ident) => Some(ident),
        Err(_) => {
            cx.error_spanned_by(
                lit,
                format!(
                    "`{option} = {:?}` is not a type name such as `TraversalApi`",
                    lit.value()
                ),
            );
            None
        }
    }
}

/// Every option's name.
const OPTIONS: [&str; 6] = ["prefix", "crate", "client", "dyn", "serve", "fake"];

/// Each option at most once: a second one is reported at its name (both would be read, and
/// which one wins would be a guess).
fn once(cx: &Ctxt, input: ParseStream<'_>, seen: &mut Vec<String>) {
    // `crate` and `dyn` are identifiers to the cursor too; anything else is left to the
    // parser's own error.
    let Some((ident, _)) = input.cursor().ident() else {
        return;
    };
    let name = ident.to_string();
    // An unknown option is reported as unknown, however often it is given.
    if !OPTIONS.contains(&name.as_str()) {
        return;
    }
    if seen.contains(&name) {
        cx.error_spanned_by(
            &ident,
            format!("`{name}` is given twice; give each option once"),
        );
    } else {
        seen.push(name);
    }
}

/// `name = "value"`, the shape of every option with a value: the string literal.
fn assigned<Name: Parse>(input: ParseStream<'_>) -> syn::Result<LitStr> {
    input.parse::<Name>()?;
    input.parse::<Token![=]>()?;
    input.parse()
}

/// A name that is no option: reported with the closest option, and skipped with its value so
/// the options after it are still read.
fn unknown_option(cx: &Ctxt, input: ParseStream<'_>) -> syn::Result<()> {
    let ident: Ident = input.parse()?;
    let name = ident.to_string();
    let hint = did_you_mean(&name, OPTIONS)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    cx.error_spanned_by(
        &ident,
        format!("unknown option `{name}`{hint} (expected `prefix = \"/path\"`, `client = \"Name\"`, `dyn`, `serve`, `fake = \"Name\"`, `fake = false` or `crate = \"path\"`)"),
    );
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        input.parse::<syn::Expr>()?;
    }
    Ok(())
}
