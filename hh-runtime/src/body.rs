//! Reading response bodies within a size cap, and keeping secrets out of what we store.

use bytes::{Bytes, BytesMut};

use crate::token::{AccessToken, TokenSource};

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

/// The body without the token it was sent with or the client secret, in case the server
/// echoed them.
pub(crate) fn scrub_secrets(body: Bytes, token: &AccessToken, tokens: &TokenSource) -> Bytes {
    let [encoded_secret, raw_secret] = tokens.config().secret_forms();
    scrub(body, &[token.secret_bytes(), &encoded_secret, &raw_secret])
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
