//! The owned form of an argument's type, as a fake records it, and the expression that makes
//! it from the argument: `&str` is a `String`, `&[T]` (or `[T; N]`, `Vec<T>`) a `Vec` of
//! `T`'s owned form, `Option<T>` an `Option` of it, `Cow<T>` and `&T` the owned form of `T`,
//! a tuple the tuple of its parts' owned forms; any other type is cloned (`Record`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, Type};

/// A type's shape, as far as owning it goes.
enum Shape<'a> {
    /// `&T`, `(T)`: the owned form of `T`.
    Through(&'a Type),
    /// `str`.
    Str,
    /// `[T]`, `[T; N]`, `Vec<T>`: a `Vec`.
    Sequence(&'a Type),
    /// `Option<T>`.
    Optional(&'a Type),
    /// `Cow<'_, T>`: the owned form of `T`.
    Cow(&'a Type),
    /// `(A, B, ..)`.
    Tuple(Vec<&'a Type>),
    /// Anything else: cloned.
    Cloned,
}

fn shape(ty: &Type) -> Shape<'_> {
    match ty {
        Type::Reference(r) => Shape::Through(&r.elem),
        Type::Paren(p) => Shape::Through(&p.elem),
        Type::Group(g) => Shape::Through(&g.elem),
        Type::Slice(s) => Shape::Sequence(&s.elem),
        Type::Array(a) => Shape::Sequence(&a.elem),
        Type::Tuple(t) if !t.elems.is_empty() => Shape::Tuple(t.elems.iter().collect()),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Shape::Cloned;
            };
            if p.path.segments.len() == 1 && last.ident == "str" {
                return Shape::Str;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return Shape::Cloned;
            };
            let mut types = args.args.iter().filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            });
            let (Some(inner), None) = (types.next(), types.next()) else {
                return Shape::Cloned;
            };
            match last.ident.to_string().as_str() {
                "Option" => Shape::Optional(inner),
                "Vec" => Shape::Sequence(inner),
                "Cow" => Shape::Cow(inner),
                _ => Shape::Cloned,
            }
        }
        _ => Shape::Cloned,
    }
}

/// Whether the type holds a borrow (or `str`, or a slice) that owning must undo; a type
/// without one is cloned whole.
fn borrows(ty: &Type) -> bool {
    match shape(ty) {
        Shape::Through(_) | Shape::Str | Shape::Cow(_) => true,
        Shape::Sequence(inner) => matches!(ty, Type::Slice(_)) || borrows(inner),
        Shape::Optional(inner) => borrows(inner),
        Shape::Tuple(parts) => parts.into_iter().any(borrows),
        Shape::Cloned => false,
    }
}

/// Why a type cannot be owned by a fake, for the error on it.
pub(crate) enum Unownable<'a> {
    /// A type of another name holding a reference or a lifetime (`HashMap<&str, &str>`,
    /// `Foo<'a>`): the part that borrows.
    Borrows(&'a Type),
    /// `impl Trait`: no type to record.
    ImplTrait(&'a Type),
}

/// Where a borrow would stay in the owned form, or a type the fake cannot name. `None` when
/// the type can be owned.
pub(crate) fn unownable(ty: &Type) -> Option<Unownable<'_>> {
    match shape(ty) {
        Shape::Through(inner)
        | Shape::Sequence(inner)
        | Shape::Optional(inner)
        | Shape::Cow(inner) => unownable(inner),
        Shape::Tuple(parts) => parts.into_iter().find_map(unownable),
        Shape::Str => None,
        Shape::Cloned if matches!(ty, Type::ImplTrait(_)) => Some(Unownable::ImplTrait(ty)),
        Shape::Cloned => {
            // (A clone walked with `VisitMut`: syn's `visit` feature would be compiled into
            // every build for this one check.)
            let mut finder = Borrows(false);
            syn::visit_mut::VisitMut::visit_type_mut(&mut finder, &mut ty.clone());
            finder.0.then_some(Unownable::Borrows(ty))
        }
    }
}

/// Finds a reference, a lifetime or `impl Trait` anywhere in a type.
struct Borrows(bool);

impl syn::visit_mut::VisitMut for Borrows {
    fn visit_type_reference_mut(&mut self, _: &mut syn::TypeReference) {
        self.0 = true;
    }
    fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
        // `'static` borrows nothing a recorded call could outlive.
        if lifetime.ident != "static" {
            self.0 = true;
        }
    }
    fn visit_type_impl_trait_mut(&mut self, _: &mut syn::TypeImplTrait) {
        self.0 = true;
    }
}

/// The owned form of `ty`.
pub(crate) fn owned_type(ty: &Type) -> TokenStream {
    if !borrows(ty) {
        return quote!(#ty);
    }
    match shape(ty) {
        Shape::Through(inner) | Shape::Cow(inner) => owned_type(inner),
        Shape::Str => quote!(::std::string::String),
        Shape::Sequence(inner) => {
            let inner = owned_type(inner);
            quote!(::std::vec::Vec<#inner>)
        }
        Shape::Optional(inner) => {
            let inner = owned_type(inner);
            quote!(::core::option::Option<#inner>)
        }
        Shape::Tuple(parts) => {
            let parts = parts.into_iter().map(owned_type);
            quote!((#(#parts,)*))
        }
        Shape::Cloned => quote!(#ty),
    }
}

/// The expression of `ty`'s owned form, from `value`, an expression of type `&ty`.
pub(crate) fn owned_value(krate: &syn::Path, ty: &Type, value: TokenStream) -> TokenStream {
    walk(krate, ty, value, Start::Declared)
}

/// A copy of a value of `ty`'s owned form, from `value`, an expression of type `&owned`: the
/// same walk as [`owned_value`]'s, so a type that is not `Clone` is reported on the same
/// tokens, in the same words (once: rustc merges the two).
pub(crate) fn owned_clone(krate: &syn::Path, ty: &Type, value: TokenStream) -> TokenStream {
    walk(krate, ty, value, Start::Owned)
}

/// What the value a [`walk`] starts from is a reference to.
#[derive(Clone, Copy)]
enum Start {
    /// The type as declared (`&&str` for an argument `&str`).
    Declared,
    /// Its owned form (`&String`).
    Owned,
}

/// The owned form of `value` (a reference to `ty` or to its owned form, as `from` says), made
/// level by level along `ty`'s shape; what borrows nothing is recorded whole.
fn walk(krate: &syn::Path, ty: &Type, value: TokenStream, from: Start) -> TokenStream {
    if !borrows(ty) {
        return record(krate, ty, value);
    }
    let each = |inner: &Type| {
        let v = quote!(__hh_v);
        let owned = walk(krate, inner, v.clone(), from);
        quote!(|#v| #owned)
    };
    match (shape(ty), from) {
        (Shape::Through(inner), Start::Declared) => walk(krate, inner, deref(value), from),
        (Shape::Cow(inner), Start::Declared) => walk(krate, inner, quote!(&**#value), from),
        (Shape::Through(inner) | Shape::Cow(inner), Start::Owned) => {
            walk(krate, inner, value, from)
        }
        (Shape::Str, Start::Declared) => quote!(::std::string::ToString::to_string(#value)),
        (Shape::Str, Start::Owned) => quote!(::core::clone::Clone::clone(#value)),
        (Shape::Sequence(inner), _) => {
            let each = each(inner);
            quote!(::core::iter::Iterator::collect::<::std::vec::Vec<_>>(
                ::core::iter::Iterator::map((#value).iter(), #each)
            ))
        }
        (Shape::Optional(inner), _) => {
            let each = each(inner);
            quote!(::core::option::Option::map(::core::option::Option::as_ref(#value), #each))
        }
        (Shape::Tuple(parts), _) => {
            let parts = parts.iter().enumerate().map(|(i, part)| {
                let index = syn::Index::from(i);
                walk(krate, part, quote!(&(#value).#index), from)
            });
            quote!((#(#parts,)*))
        }
        (Shape::Cloned, _) => record(krate, ty, value),
    }
}

/// `*value`, or `value` without its leading `&` (`*&x` is `x`, and clippy says so).
fn deref(value: TokenStream) -> TokenStream {
    let mut tokens = value.clone().into_iter();
    match tokens.next() {
        Some(proc_macro2::TokenTree::Punct(p))
            if p.as_char() == '&' && p.spacing() == proc_macro2::Spacing::Alone =>
        {
            tokens.collect()
        }
        _ => quote!(*#value),
    }
}

/// `<ty as Record>::record(value)`, every token at `ty`, so that "not `Clone`" underlines
/// the type where it is written (and the same error from the call struct's `Clone`, at the
/// same place, is reported once).
fn record(krate: &syn::Path, ty: &Type, value: TokenStream) -> TokenStream {
    let span = ty.span();
    // `Self` named, not inferred from `&value`: `&T` is `Clone` whatever `T` is, and rustc would
    // suggest borrowing once more.
    let call = crate::expand::respan(
        quote!(<#ty as #krate::__private::fake::Record>::record(#value)),
        span,
    );
    quote_spanned!(span=> #call)
}
