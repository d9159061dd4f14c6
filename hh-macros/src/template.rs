//! The path template language, as a pure function over `&str`.
//!
//! `"/api/v1/<client_id>/Traversals/<id>/respond"` becomes
//! `[Literal("/api/v1/"), Param(client_id), Literal("/Traversals/"), Param(id), Literal("/respond")]`.
//! A placeholder is always a whole segment; its value is percent-encoded at run time, so it can
//! never add a segment, a query or a fragment.

use std::fmt;
use std::ops::Range;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text sent as written, slashes included.
    Literal(String),
    /// `<name>`: one path segment filled from the argument `name`.
    Param { name: String, range: Range<usize> },
}

/// What is wrong with a template, and where (a byte range into it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub(crate) kind: ErrorKind,
    pub(crate) range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// The template does not start with `/`.
    NotAbsolute,
    /// `//` inside the template.
    EmptySegment,
    /// `<name` with no `>` in the same segment.
    Unclosed(String),
    /// `<>`.
    EmptyParam,
    /// `<a-b>`: the name is not an identifier.
    BadIdent(String),
    /// A `>` with no `<` before it.
    StrayClose(String),
    /// `a<id>` or `<id>.json`: a placeholder that is not a whole segment.
    PartialSegment(String),
    /// `?` in the template.
    Query,
    /// `#` in the template.
    Fragment,
    /// `.` or `..` as a literal segment.
    DotSegment(String),
    /// A character that would have to be percent-encoded to be sent.
    InvalidChar(char),
    /// `%` not followed by two hex digits.
    BadPercent,
    /// The same placeholder twice.
    Duplicate(String),
    /// `{id}`, the OpenAPI way of writing a placeholder; carries the template rewritten with
    /// `<id>`.
    Braces { name: String, corrected: String },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::NotAbsolute => f.write_str("the path must start with `/`"),
            ErrorKind::EmptySegment => f.write_str("the path has an empty segment (`//`)"),
            ErrorKind::Unclosed(seg) => write!(f, "placeholder `{seg}` is missing its closing `>`"),
            ErrorKind::EmptyParam => f.write_str("placeholder `<>` has no name"),
            ErrorKind::BadIdent(name) => {
                write!(f, "`<{name}>`: `{name}` is not a valid identifier")
            }
            ErrorKind::StrayClose(seg) => {
                write!(f, "segment `{seg}` has a `>` with no opening `<`")
            }
            ErrorKind::PartialSegment(seg) => write!(
                f,
                "segment `{seg}`: a placeholder must be a whole path segment, like `/<id>/`"
            ),
            ErrorKind::Query => f.write_str(
                "the path contains `?`; declare query parameters as arguments with `#[query]`",
            ),
            ErrorKind::Fragment => f.write_str("the path contains `#`; fragments are never sent"),
            ErrorKind::DotSegment(seg) => {
                write!(
                    f,
                    "the path has a `{seg}` segment, which servers resolve away"
                )
            }
            ErrorKind::InvalidChar(c) => write!(
                f,
                "the path contains {c:?}, which is not allowed in a URL path; percent-encode it"
            ),
            ErrorKind::BadPercent => {
                f.write_str("`%` in the path must be followed by two hex digits")
            }
            ErrorKind::Duplicate(name) => {
                write!(f, "placeholder `<{name}>` appears more than once")
            }
            ErrorKind::Braces { name, corrected } => write!(
                f,
                "placeholders are written `<{name}>`, not `{{{name}}}`: `{corrected}`"
            ),
        }
    }
}

/// Parses a whole template, reporting every problem found rather than the first.
pub(crate) fn parse(template: &str) -> Result<Vec<Piece>, Vec<TemplateError>> {
    let mut parsed = Parsed::default();
    let path = cut_query(template, &mut parsed.errors);
    if !path.starts_with('/') {
        parsed.error(ErrorKind::NotAbsolute, 0..path.len().min(1));
    }

    let mut offset = 0;
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let start = offset;
        offset += segment.len() + 1;
        if i > 0 {
            parsed.literal.push('/');
        }
        if i == 0 && path.starts_with('/') {
            continue; // the empty text before the leading slash
        }
        if segment.is_empty() {
            // A trailing slash is a real (if empty) last segment; `//` is a mistake.
            if i + 1 != segments.len() && i != 0 {
                parsed.error(ErrorKind::EmptySegment, start - 1..start + 1);
            }
            continue;
        }
        parsed.segment(template, segment, start);
    }
    parsed.finish()
}

/// The template up to its first `?` or `#`: everything after it is reported once, not parsed.
fn cut_query<'t>(template: &'t str, errors: &mut Vec<TemplateError>) -> &'t str {
    let end = template.find(['?', '#']).unwrap_or(template.len());
    let kind = match template[end..].chars().next() {
        Some('?') => Some(ErrorKind::Query),
        Some('#') => Some(ErrorKind::Fragment),
        _ => None,
    };
    if let Some(kind) = kind {
        errors.push(TemplateError {
            kind,
            range: end..end + 1,
        });
    }
    &template[..end]
}

/// What `parse` has found so far: the pieces, the literal text since the last placeholder,
/// the placeholder names seen (to report a second one), and the errors.
#[derive(Default)]
struct Parsed<'t> {
    pieces: Vec<Piece>,
    literal: String,
    seen: Vec<&'t str>,
    errors: Vec<TemplateError>,
}

impl<'t> Parsed<'t> {
    fn error(&mut self, kind: ErrorKind, range: Range<usize>) {
        self.errors.push(TemplateError { kind, range });
    }

    /// One non-empty segment, which starts at byte `start` of `template`.
    fn segment(&mut self, template: &str, segment: &'t str, start: usize) {
        let range = start..start + segment.len();
        if let Some(name) = braced(segment) {
            let kind = ErrorKind::Braces {
                name: name.to_owned(),
                corrected: with_angle_brackets(template),
            };
            self.error(kind, range);
            return;
        }
        let opens = segment.matches('<').count();
        let closes = segment.matches('>').count();
        if opens == 0 && closes == 0 {
            check_literal(segment, start, &mut self.errors);
            self.literal.push_str(segment);
            return;
        }
        let whole = segment.starts_with('<') && segment.ends_with('>') && opens == 1 && closes == 1;
        if whole {
            self.placeholder(&segment[1..segment.len() - 1], range);
        } else {
            self.error(misplaced_brackets(segment), range);
        }
    }

    /// `<name>`, a whole segment.
    fn placeholder(&mut self, name: &'t str, range: Range<usize>) {
        if name.is_empty() {
            self.error(ErrorKind::EmptyParam, range);
        } else if !is_ident(name) {
            self.error(ErrorKind::BadIdent(name.to_owned()), range);
        } else if self.seen.contains(&name) {
            self.error(ErrorKind::Duplicate(name.to_owned()), range);
        } else {
            self.seen.push(name);
            if !self.literal.is_empty() {
                self.pieces
                    .push(Piece::Literal(std::mem::take(&mut self.literal)));
            }
            self.pieces.push(Piece::Param {
                name: name.to_owned(),
                range,
            });
        }
    }

    /// The pieces, ending with the literal text after the last placeholder; or every error.
    fn finish(mut self) -> Result<Vec<Piece>, Vec<TemplateError>> {
        if !self.literal.is_empty() {
            self.pieces.push(Piece::Literal(self.literal));
        }
        if self.errors.is_empty() {
            Ok(self.pieces)
        } else {
            Err(self.errors)
        }
    }
}

/// What is wrong with a segment holding `<` or `>` that is not one whole `<name>`.
fn misplaced_brackets(segment: &str) -> ErrorKind {
    let first_open = segment.find('<');
    let first_close = segment.find('>');
    match (first_open, first_close) {
        (Some(o), Some(c)) if c < o => ErrorKind::StrayClose(segment.to_owned()),
        (None, Some(_)) => ErrorKind::StrayClose(segment.to_owned()),
        (Some(o), _) if !segment[o..].contains('>') => ErrorKind::Unclosed(segment[o..].to_owned()),
        _ => ErrorKind::PartialSegment(segment.to_owned()),
    }
}

/// Parses a trait's `prefix`, which is joined in front of every method's path: one trailing
/// `/` is dropped (the method's path brings its own), and `/` or the empty string mean no
/// prefix. Returns the prefix as it is joined, and its pieces.
pub(crate) fn parse_prefix(prefix: &str) -> Result<(String, Vec<Piece>), Vec<TemplateError>> {
    let text = prefix.strip_suffix('/').unwrap_or(prefix);
    if text.is_empty() {
        return Ok((String::new(), Vec::new()));
    }
    if text.ends_with('/') {
        // `/api//`: joined to `/x` it would send `/api//x`.
        let end = text.len();
        return Err(vec![TemplateError {
            kind: ErrorKind::EmptySegment,
            range: end - 1..end + 1,
        }]);
    }
    parse(text).map(|pieces| (text.to_owned(), pieces))
}

/// The name in a segment written `{name}`, OpenAPI's placeholder syntax.
fn braced(segment: &str) -> Option<&str> {
    let name = segment.strip_prefix('{')?.strip_suffix('}')?;
    is_ident(name).then_some(name)
}

/// The template with every `{name}` segment written `<name>`.
fn with_angle_brackets(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match braced(segment) {
            Some(name) => format!("<{name}>"),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A literal segment may hold RFC 3986 `pchar`s only: what it says is what is sent.
fn check_literal(segment: &str, start: usize, errors: &mut Vec<TemplateError>) {
    if segment == "." || segment == ".." {
        errors.push(TemplateError {
            kind: ErrorKind::DotSegment(segment.to_owned()),
            range: start..start + segment.len(),
        });
        return;
    }
    let bytes = segment.as_bytes();
    for (i, c) in segment.char_indices() {
        let at = start + i..start + i + c.len_utf8();
        let ok = c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@".contains(c);
        if c == '%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                errors.push(TemplateError {
                    kind: ErrorKind::BadPercent,
                    range: at,
                });
            }
        } else if !ok {
            errors.push(TemplateError {
                kind: ErrorKind::InvalidChar(c),
                range: at,
            });
        }
    }
}

/// An ASCII Rust identifier (the names arguments can have), `_` alone excepted.
pub(crate) fn is_ident(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && name != "_" && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The placeholder names of a parsed template, in order.
pub(crate) fn params(pieces: &[Piece]) -> impl Iterator<Item = &str> {
    pieces.iter().filter_map(|p| match p {
        Piece::Param { name, .. } => Some(name.as_str()),
        Piece::Literal(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lit(s: &str) -> Piece {
        Piece::Literal(s.to_owned())
    }

    fn kinds(template: &str) -> Vec<ErrorKind> {
        parse(template)
            .unwrap_err()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    #[test]
    fn parses_literals_and_placeholders() {
        let pieces = parse("/api/v1/<client_id>/Traversals/<id>/respond").unwrap();
        assert_eq!(pieces.len(), 5);
        assert_eq!(pieces[0], lit("/api/v1/"));
        assert_eq!(
            pieces[1],
            Piece::Param {
                name: "client_id".into(),
                range: 8..19
            }
        );
        assert_eq!(pieces[2], lit("/Traversals/"));
        assert!(matches!(&pieces[3], Piece::Param { name, .. } if name == "id"));
        assert_eq!(pieces[4], lit("/respond"));
        assert_eq!(params(&pieces).collect::<Vec<_>>(), ["client_id", "id"]);
    }

    #[test]
    fn root_trailing_slash_and_pchars() {
        assert_eq!(parse("/").unwrap(), vec![lit("/")]);
        assert_eq!(parse("/a/").unwrap(), vec![lit("/a/")]);
        assert_eq!(
            parse("/a:b@c/$x;y=1,2/%20ok").unwrap(),
            vec![lit("/a:b@c/$x;y=1,2/%20ok")]
        );
        let pieces = parse("/<id>").unwrap();
        assert_eq!(pieces[0], lit("/"));
    }

    #[test]
    fn each_mistake_has_its_own_error() {
        assert_eq!(kinds("api/x"), [ErrorKind::NotAbsolute]);
        assert_eq!(kinds(""), [ErrorKind::NotAbsolute]);
        assert_eq!(kinds("/a//b"), [ErrorKind::EmptySegment]);
        assert_eq!(kinds("/a/<id"), [ErrorKind::Unclosed("<id".into())]);
        assert_eq!(kinds("/a/<>"), [ErrorKind::EmptyParam]);
        assert_eq!(kinds("/a/<a-b>"), [ErrorKind::BadIdent("a-b".into())]);
        assert_eq!(kinds("/a/<1x>"), [ErrorKind::BadIdent("1x".into())]);
        assert_eq!(kinds("/a/<_>"), [ErrorKind::BadIdent("_".into())]);
        assert_eq!(kinds("/a/id>"), [ErrorKind::StrayClose("id>".into())]);
        assert_eq!(
            kinds("/a/x<id>"),
            [ErrorKind::PartialSegment("x<id>".into())]
        );
        assert_eq!(
            kinds("/a/<id>.json"),
            [ErrorKind::PartialSegment("<id>.json".into())]
        );
        assert_eq!(kinds("/a?b=1"), [ErrorKind::Query]);
        assert_eq!(kinds("/a#top"), [ErrorKind::Fragment]);
        assert_eq!(kinds("/a/../b"), [ErrorKind::DotSegment("..".into())]);
        assert_eq!(kinds("/a/./b"), [ErrorKind::DotSegment(".".into())]);
        assert_eq!(kinds("/a b"), [ErrorKind::InvalidChar(' ')]);
        assert_eq!(kinds("/é"), [ErrorKind::InvalidChar('é')]);
        assert_eq!(kinds("/a%2"), [ErrorKind::BadPercent]);
        assert_eq!(kinds("/<id>/x/<id>"), [ErrorKind::Duplicate("id".into())]);
    }

    #[test]
    fn prefixes_lose_one_trailing_slash_and_keep_no_empty_segment() {
        let text = |p: &str| parse_prefix(p).unwrap().0;
        assert_eq!(text("/api/v1"), "/api/v1");
        assert_eq!(text("/api/v1/"), "/api/v1");
        assert_eq!(text("/"), "");
        assert_eq!(text(""), "");
        let (_, pieces) = parse_prefix("/api/v1/<client_id>/").unwrap();
        assert_eq!(params(&pieces).collect::<Vec<_>>(), ["client_id"]);
        for bad in ["/api//", "//", "/api///"] {
            let errors = parse_prefix(bad).unwrap_err();
            assert_eq!(errors[0].kind, ErrorKind::EmptySegment, "{bad}");
        }
        assert_eq!(
            parse_prefix("api/").unwrap_err()[0].kind,
            ErrorKind::NotAbsolute
        );
    }

    #[test]
    fn openapi_braces_get_the_corrected_template() {
        let errors = parse("/api/{client_id}/Traversals/{id}").unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors[1].to_string(),
            "placeholders are written `<id>`, not `{id}`: `/api/<client_id>/Traversals/<id>`"
        );
        // Not a whole segment, or not a name: the usual character error.
        assert_eq!(
            kinds("/a{b}"),
            [ErrorKind::InvalidChar('{'), ErrorKind::InvalidChar('}')]
        );
    }

    #[test]
    fn reports_every_mistake_at_once() {
        let errors = parse("a//<>/<x-y>?q").unwrap_err();
        assert_eq!(errors.len(), 5, "{errors:?}");
    }

    #[test]
    fn error_ranges_point_at_the_piece() {
        let t = "/api/<a-b>/x";
        let e = &parse(t).unwrap_err()[0];
        assert_eq!(&t[e.range.clone()], "<a-b>");
        let t = "/api//x";
        let e = &parse(t).unwrap_err()[0];
        assert_eq!(&t[e.range.clone()], "//");
    }

    #[test]
    fn messages_name_the_piece() {
        let e = &parse("/x/<client id>").unwrap_err()[0];
        assert_eq!(
            e.to_string(),
            "`<client id>`: `client id` is not a valid identifier"
        );
    }

    fn segment() -> impl Strategy<Value = (String, Option<String>)> {
        prop_oneof![
            "[A-Za-z0-9_~-]{1,8}".prop_map(|s| (s, None)),
            "[a-z_][a-z0-9_]{0,6}".prop_map(|n| (format!("<{n}>"), Some(n))),
        ]
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_template_like_input(s in "[/<>a-z?#%.]{0,30}") {
            let _ = parse(&s);
        }

        #[test]
        fn valid_templates_round_trip(segments in prop::collection::vec(segment(), 0..8), trailing in any::<bool>()) {
            let mut names: Vec<String> = Vec::new();
            let mut template = String::new();
            for (text, name) in &segments {
                if let Some(n) = name {
                    if n == "_" || names.contains(n) { continue; }
                    names.push(n.clone());
                }
                template.push('/');
                template.push_str(text);
            }
            if template.is_empty() || trailing { template.push('/'); }
            if template.starts_with("//") { template.remove(0); }
            let pieces = parse(&template).unwrap();
            // Rendering the pieces back gives the template, and the names come out in order.
            let rendered: String = pieces.iter().map(|p| match p {
                Piece::Literal(s) => s.clone(),
                Piece::Param { name, .. } => format!("<{name}>"),
            }).collect();
            prop_assert_eq!(rendered, template);
            prop_assert_eq!(params(&pieces).map(str::to_owned).collect::<Vec<_>>(), names);
        }
    }
}
