//! Reading response bodies within a size cap, and keeping secrets out of what we store: the
//! token and secret a server may echo (`scrub`), and the tokens a token endpoint's answer
//! carries (`withhold_tokens`).

use bytes::{Bytes, BytesMut};

/// Reads at most `cap` bytes of the body. Returns the bytes and whether more remained; the rest is
/// not read, so a hostile 10 GiB answer costs at most `cap` bytes of memory.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<(Bytes, bool), reqwest::Error> {
    if response.content_length().is_some_and(|n| n <= cap as u64) {
        // Small and announced: one read of exactly that size.
        let bytes = response.bytes().await?;
        if bytes.len() <= cap {
            return Ok((bytes, false));
        }
        return Ok((bytes.slice(..cap), true));
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap - buf.len();
        if chunk.len() > room {
            buf.extend_from_slice(&chunk[..room]);
            return Ok((buf.freeze(), true));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf.freeze(), false))
}

/// Replaces every occurrence of each secret in `body` with `[redacted]`.
///
/// Servers sometimes echo the request (a debugging proxy, a badly written error page); the
/// error we hand back, and anything that logs it, must not carry the token or the secret.
pub(crate) fn scrub(body: Bytes, secrets: &[&[u8]]) -> Bytes {
    const MARK: &[u8] = b"[redacted]";
    let secrets: Vec<&[u8]> = secrets.iter().copied().filter(|s| s.len() >= 4).collect();
    if !secrets.iter().any(|s| find(&body, s).is_some()) {
        return body;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = &body[..];
    'outer: while !rest.is_empty() {
        for secret in &secrets {
            if rest.starts_with(secret) {
                out.extend_from_slice(MARK);
                rest = &rest[secret.len()..];
                continue 'outer;
            }
        }
        out.push(rest[0]);
        rest = &rest[1..];
    }
    Bytes::from(out)
}

/// `headers` with each value passed through `scrub`; a value that changes is marked sensitive
/// (and one that is no longer a valid header value becomes `[redacted]`).
pub(crate) fn scrub_headers(
    mut headers: http::HeaderMap,
    scrub: impl Fn(Bytes) -> Bytes,
) -> http::HeaderMap {
    for value in headers.values_mut() {
        let bytes = Bytes::copy_from_slice(value.as_bytes());
        let cleaned = scrub(bytes.clone());
        if cleaned != bytes {
            let mut replaced = http::HeaderValue::from_bytes(&cleaned)
                .unwrap_or_else(|_| http::HeaderValue::from_static("[redacted]"));
            replaced.set_sensitive(true);
            *value = replaced;
        }
    }
    headers
}

/// What of a token endpoint's answer may be kept in an error: the body with every token it
/// carries withheld, whatever its status and however it was rejected. A rejected answer (a
/// `token_type` of `mac`, a lifetime that is not a number, a token with a line break) may
/// still hold a live bearer token, and `Error::body`, `Debug` and every log of the error
/// would print it.
///
/// - JSON: each member named like a token (`access_token`, `refresh_token`, `id_token`,
///   `accessToken`, `token`: any name ending in "token", at any depth) is replaced by
///   `"[redacted]"`, and so is any other occurrence of those values; the body is written
///   again, so its layout may change.
/// - Anything else (a torn or truncated JSON body, a form-encoded answer, a page): kept up to
///   the first mention of "token", the rest withheld, since a token's extent cannot be told.
pub(crate) fn withhold_tokens(body: Bytes) -> Withheld {
    const WITHHELD: &str = "[withheld from here: it may hold a token]";
    if let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&body) {
        let mut tokens = Vec::new();
        // Written again whenever a member is named like a token, whatever its value: a name
        // given twice parses as its last value, and the first (a live token) would survive
        // in the bytes as sent.
        if !take_tokens(&mut json, &mut tokens) {
            return Withheld { body, tokens };
        }
        // Elsewhere, only values long enough not to match ordinary text.
        tokens.retain(|t| t.len() >= 4);
        replace_values(&mut json, &tokens);
        let body = serde_json::to_vec(&json)
            .map_or_else(|_| Bytes::from_static(b"[redacted]"), Bytes::from);
        return Withheld { body, tokens };
    }
    let body = match find(&body.to_ascii_lowercase(), b"token") {
        None => body,
        Some(at) => {
            let mut kept = body[..at].to_vec();
            kept.extend_from_slice(WITHHELD.as_bytes());
            Bytes::from(kept)
        }
    };
    Withheld {
        body,
        tokens: Vec::new(),
    }
}

/// A token endpoint's answer with its tokens withheld, and those tokens, so that what was
/// read from the answer before (an `error_description`) can be cleaned the same way.
pub(crate) struct Withheld {
    pub(crate) body: Bytes,
    tokens: Vec<String>,
}

impl Withheld {
    /// `text` with every withheld token replaced by `[redacted]`.
    pub(crate) fn clean(&self, text: &str) -> String {
        clean(text, &self.tokens)
    }
}

fn clean(text: &str, tokens: &[String]) -> String {
    tokens
        .iter()
        .fold(text.to_owned(), |s, t| s.replace(t.as_str(), "[redacted]"))
}

/// Replaces the value of every token-named member with `"[redacted]"`, collecting the
/// string values replaced; whether there was any such member.
fn take_tokens(value: &mut serde_json::Value, taken: &mut Vec<String>) -> bool {
    let mut found = false;
    match value {
        serde_json::Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                if name.to_ascii_lowercase().ends_with("token") {
                    let old = std::mem::replace(member, serde_json::Value::from("[redacted]"));
                    collect_strings(old, taken);
                    found = true;
                } else {
                    found |= take_tokens(member, taken);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                found |= take_tokens(item, taken);
            }
        }
        _ => {}
    }
    found
}

fn collect_strings(value: serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if !s.is_empty() => into.push(s),
        serde_json::Value::Array(items) => items.into_iter().for_each(|v| collect_strings(v, into)),
        serde_json::Value::Object(members) => {
            members
                .into_iter()
                .for_each(|(_, v)| collect_strings(v, into));
        }
        _ => {}
    }
}

/// Replaces the withheld tokens wherever else they appear (an `error_description` echoing
/// one, say), in strings and in member names.
fn replace_values(value: &mut serde_json::Value, tokens: &[String]) {
    match value {
        serde_json::Value::String(s) if tokens.iter().any(|t| s.contains(t.as_str())) => {
            *s = clean(s, tokens);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| replace_values(v, tokens)),
        serde_json::Value::Object(members) => {
            let old = std::mem::take(members);
            for (name, mut member) in old {
                replace_values(&mut member, tokens);
                members.insert(clean(&name, tokens), member);
            }
        }
        _ => {}
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_replaces_every_occurrence() {
        let body = Bytes::from_static(b"{\"echo\":\"Bearer tok123 and s3cret and tok123\"}");
        let out = scrub(body, &[b"tok123", b"s3cret"]);
        assert_eq!(
            &out[..],
            b"{\"echo\":\"Bearer [redacted] and [redacted] and [redacted]\"}"
        );
    }

    #[test]
    fn scrub_leaves_clean_bodies_untouched() {
        let body = Bytes::from_static(b"nothing here");
        let out = scrub(body.clone(), &[b"tok123"]);
        assert_eq!(out.as_ptr(), body.as_ptr(), "no copy when nothing matches");
    }

    mod fuzz {
        //! Run by `cargo test` (256 cases); for a longer run:
        //! `PROPTEST_CASES=200000 cargo test -p hh-runtime --lib fuzz`.
        use super::super::scrub;
        use bytes::Bytes;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn fuzz_scrub_removes_every_secret(
                prefix in proptest::collection::vec(any::<u8>(), 0..64),
                secret in proptest::collection::vec(any::<u8>(), 4..24),
                middle in proptest::collection::vec(any::<u8>(), 0..64),
                suffix in proptest::collection::vec(any::<u8>(), 0..64),
            ) {
                let mut body = prefix.clone();
                body.extend_from_slice(&secret);
                body.extend_from_slice(&middle);
                body.extend_from_slice(&secret);
                body.extend_from_slice(&suffix);
                let out = scrub(Bytes::from(body), &[&secret]);
                prop_assert!(!out.windows(secret.len()).any(|w| w == &secret[..]));
            }
        }
    }
}
