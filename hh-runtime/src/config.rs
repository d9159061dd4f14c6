//! The rules a configuration must pass, in one place for `ClientBuilder::build`,
//! `Client::with_api_url`, the middleware's `also_for` and the Redis URL: which URLs are
//! accepted, whether https can work in this build, and the defaults a builder starts from.

use std::net::IpAddr;

use url::{Host, Url};

/// The defaults a [`ClientBuilder`](crate::ClientBuilder) starts from, for code that wants to show or derive from
/// them (say, a request timeout twice the default).
pub mod defaults {
    use std::time::Duration;

    /// Time to establish a TCP (and TLS) connection.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// Time one API attempt may take, from sending to the last byte of the answer.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// Time one token fetch may take, end to end.
    pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);
    /// Upper bound of how early a token is refreshed in the background (capped at half the
    /// token's lifetime).
    pub const REFRESH_AHEAD: Duration = Duration::from_secs(300);
    /// Least remaining life a token is handed out with (capped at a quarter of its lifetime).
    pub const MIN_TOKEN_REMAINING: Duration = Duration::from_secs(30);
    /// Cap on a successful response body (64 MiB).
    pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
}

pub(crate) fn base_without_slash(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// Whether hh-runtime was built with a TLS implementation (one of its TLS features).
pub(crate) const TLS: bool = cfg!(any(
    feature = "rustls",
    feature = "rustls-no-provider",
    feature = "native-tls"
));

/// Built without TLS, an `https` URL served by a client we build could never connect: said
/// when the URL is set, naming the fix, rather than as a connect error on the first call. The
/// one rule for `build` and `Client::with_api_url`; `own_client` when the user brought the
/// client that sends to `url`.
pub(crate) fn https_without_tls(what: &str, url: &Url, own_client: bool) -> Option<String> {
    (!TLS && !own_client && url.scheme() == "https").then(|| {
        format!(
            "{what} is https, but hh-runtime was built without TLS: enable its `rustls` \
             (default) or `native-tls` feature, or bring a reqwest::Client built with TLS \
             (`http_client` / `token_http_client`)"
        )
    })
}

/// A base URL must be absolute, carry no credentials, query or fragment, and use https unless
/// it points at this machine. `Client::with_api_url` and `build` follow it with
/// [`https_without_tls`], which needs to know whose client sends to the URL.
pub(crate) fn check_url(what: &str, value: &str) -> std::result::Result<Url, String> {
    let url =
        Url::parse(value.trim()).map_err(|e| format!("{what} `{value}` is not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{what} must not carry credentials; use client_id and client_secret"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{what} `{url}` must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "{what} `{url}` uses plain http; only https is allowed, except for loopback hosts \
             (127.0.0.0/8, ::1, localhost)"
        )),
        other => Err(format!("{what} `{url}` has scheme `{other}`; use https")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://[::1]:9000/x",
            "http://localhost:1",
            "http://LOCALHOST",
        ] {
            assert!(check_url("api_url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "http://[::2]",
            "ftp://example.com",
            "https://user:pw@example.com",
            "https://example.com/?a=1",
            "not a url",
        ] {
            assert!(check_url("api_url", bad).is_err(), "{bad}");
        }
    }
}
