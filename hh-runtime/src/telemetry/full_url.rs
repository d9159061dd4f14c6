//! `url.full`, recorded only with `trace_full_url(true)`, redacted as OpenTelemetry's
//! conventions say: credentials in the URL become `REDACTED:REDACTED`, and the values of query
//! keys known to carry secrets become `REDACTED`.

use std::fmt::Write as _;

/// The conventions' keys (signed-URL secrets), then those of OAuth and API keys, which a
/// declared `#[query]` may carry. Compared without regard to case.
const SECRET_KEYS: [&str; 12] = [
    "AWSAccessKeyId",
    "Signature",
    "sig",
    "X-Goog-Signature",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "code",
    "api_key",
    "apikey",
];

const REDACTED: &str = "REDACTED";

/// `url` as `url.full` records it.
pub(crate) fn redacted(url: &url::Url) -> String {
    let has_credentials = !url.username().is_empty() || url.password().is_some();
    let has_secret = url.query_pairs().any(|(key, _)| is_secret(&key));
    if !has_credentials && !has_secret {
        return url.as_str().to_owned();
    }
    let mut url = url.clone();
    if has_credentials {
        // Only fails for URLs that cannot have credentials, which then have none.
        let _ = url.set_username(REDACTED);
        let _ = url.set_password(Some(REDACTED));
    }
    if let Some(query) = url.query().filter(|_| has_secret) {
        // Each pair rewritten in place, so the rest of the query reads as it was sent.
        let mut kept = String::with_capacity(query.len());
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                kept.push('&');
            }
            let key = pair.split_once('=').map_or(pair, |(key, _)| key);
            let decoded: String = url::form_urlencoded::parse(key.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect();
            if is_secret(&decoded) {
                let _ = write!(kept, "{key}={REDACTED}");
            } else {
                kept.push_str(pair);
            }
        }
        url.set_query(Some(&kept));
    }
    url.into()
}

fn is_secret(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::redacted;

    fn of(url: &str) -> String {
        redacted(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn a_url_without_secrets_is_recorded_as_sent() {
        let url = "https://api.example/api/v1/c/Traversals/t%2F1?lang=en-GB&x=%C3%A9";
        assert_eq!(of(url), url);
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(
            of("https://user:pass@api.example/p"),
            "https://REDACTED:REDACTED@api.example/p"
        );
    }

    #[test]
    fn the_conventions_keys_and_oauth_keys_are_redacted_and_the_rest_kept() {
        assert_eq!(
            of("https://h/p?a=1&sig=abc&Signature=x%2By&AWSAccessKeyId=k&x-goog-signature=s&b=2"),
            "https://h/p?a=1&sig=REDACTED&Signature=REDACTED&AWSAccessKeyId=REDACTED\
             &x-goog-signature=REDACTED&b=2"
        );
        assert_eq!(
            of("https://h/p?access_token=t&api%5Fkey=k&flag&code"),
            "https://h/p?access_token=REDACTED&api%5Fkey=REDACTED&flag&code=REDACTED"
        );
    }
}
