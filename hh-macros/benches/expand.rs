//! How long `#[healthhero_api]` takes to expand a 50-method trait: parsing, checking and
//! generating, in-process (the same functions the proc macro runs, compiled into this binary).
//!
//! `cargo bench -p hh-macros --bench expand`

// The unit-test modules of the included files come along without their `#[test]`s.
#![allow(dead_code, unreachable_pub, missing_docs, unused_imports)]

#[path = "../src/ast.rs"]
mod ast;
#[path = "../src/attr/mod.rs"]
mod attr;
#[path = "../src/boxed.rs"]
mod boxed;
#[path = "../src/check.rs"]
mod check;
#[path = "../src/ctxt.rs"]
mod ctxt;
#[path = "../src/expand.rs"]
mod expand;
#[path = "../src/fake/mod.rs"]
#[cfg(feature = "testing")]
mod fake;
#[path = "../src/fallback.rs"]
mod fallback;
#[path = "../src/skeleton.rs"]
mod skeleton;
#[path = "../src/template.rs"]
mod template;

use std::hint::black_box;
use std::time::{Duration, Instant};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// A trait with `n` endpoints using every argument role, like a real API declaration.
fn trait_with(n: usize) -> TokenStream {
    let methods = (0..n).map(|i| {
        let name = format_ident!("endpoint_{i}");
        match i % 5 {
            0 => quote! {
                /// Reads one thing.
                #[get("/api/v1/<client_id>/Things/<id>/parts")]
                async fn #name(&self, id: &str, #[query] ages: &[u32], #[query("conclusions")] picked: Option<Vec<u32>>) -> Result<Thing, Error>;
            },
            1 => quote! {
                #[post("/api/v1/<client_id>/Things/<id>/respond")]
                #[header("x-api-version", "v3")]
                async fn #name(&self, id: Uuid, #[body] answers: &[Answer], #[header("x-correlation-id")] correlation: &str) -> Result<Thing, Error>;
            },
            2 => quote! {
                #[put("/api/v1/Things/<id>")]
                async fn #name(&self, id: u64, #[form] form: &Form) -> Result<(), Error>;
            },
            3 => quote! {
                #[delete("/api/v1/Things/<id>")]
                async fn #name(&self, id: u64) -> hh_runtime::Result<Response<String>>;
            },
            _ => quote! {
                #[patch("/api/v1/Things/<id>/<part>")]
                async fn #name(&self, id: u64, part: &str, #[query(flatten)] filters: &Filters) -> Result<bytes::Bytes, Error>;
            },
        }
    });
    quote! {
        pub trait Things {
            #(#methods)*
        }
    }
}

fn main() {
    let input = trait_with(50);
    let args = quote!(prefix = "/", crate = "::hh_runtime");
    // Sanity: it expands without errors.
    let out = expand::healthhero_api(args.clone(), input.clone()).to_string();
    assert!(
        !out.contains("compile_error"),
        "the benchmark trait must be valid"
    );

    let whole = time(|| {
        black_box(expand::healthhero_api(
            black_box(args.clone()),
            black_box(input.clone()),
        ));
    });
    report("expand a 50-method trait", &whole, Some(out.len()));

    // Where the time goes, step by step (each step's input made outside its timing).
    let parse = time(|| {
        black_box(syn::parse2::<syn::ItemTrait>(black_box(input.clone())).expect("a trait"));
    });
    report("  parse (syn, the whole trait)", &parse, None);
    let item: syn::ItemTrait = syn::parse2(input.clone()).expect("a trait");
    let model_and_check = time(|| {
        let cx = ctxt::Ctxt::new();
        let options = attr::Options::from_tokens(&cx, black_box(args.clone()));
        let api = ast::Api::from_syn(&cx, options, black_box(&item));
        check::check(&cx, &api);
        cx.check().expect("no mistakes");
    });
    report(
        "  read and check (attributes, templates, roles)",
        &model_and_check,
        None,
    );
    let cx = ctxt::Ctxt::new();
    let api = ast::Api::from_syn(&cx, attr::Options::from_tokens(&cx, args.clone()), &item);
    cx.check().expect("no mistakes");
    let generate = time(|| {
        black_box(expand::generate(black_box(&api)));
    });
    report("  generate (the trait and its client)", &generate, None);
}

/// Runs `f` at least 30 times, and up to 3 s or 2,000 times; the sorted samples.
fn time(mut f: impl FnMut()) -> Vec<Duration> {
    let mut samples: Vec<Duration> = Vec::new();
    let started = Instant::now();
    while samples.len() < 30
        || (started.elapsed() < Duration::from_secs(3) && samples.len() < 2_000)
    {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    samples.sort();
    samples
}

fn report(what: &str, samples: &[Duration], out: Option<usize>) {
    let median = samples[samples.len() / 2];
    let p95 = samples[samples.len() * 95 / 100];
    let out = out.map_or_else(String::new, |n| format!(" ({n} characters out)"));
    println!(
        "{what}: median {:.3} ms, p95 {:.3} ms, min {:.3} ms over {} runs{out}",
        median.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
        samples.len(),
    );
}
