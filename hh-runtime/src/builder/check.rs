//! The builder's checks: every problem with a configuration, collected into one error, and
//! what passes them.

use super::*;

impl ClientBuilder {
    /// Every check of the configuration, each problem collected into the one error.
    pub(super) fn check(&mut self) -> Result<Checked> {
        let mut problems = std::mem::take(&mut self.problems);
        let (api_url, token_url) = self.check_urls(&mut problems);
        match &self.client_id {
            None => problems.push("client_id is required".into()),
            Some(id) if id.trim().is_empty() => problems.push("client_id is empty".into()),
            Some(_) => {}
        }
        match (&self.client_secret, self.uses_secret()) {
            (None, true) => problems.push("client_secret is required".into()),
            (Some(s), true) if secrecy::ExposeSecret::expose_secret(s).is_empty() => {
                problems.push("client_secret is empty".into())
            }
            (Some(_), false) => problems.push(format!(
                "client_secret is set, but the client authenticates with {}: set one of them",
                self.auth.as_str()
            )),
            _ => {}
        }
        #[cfg_attr(
            not(any(feature = "private-key-jwt", feature = "dpop")),
            allow(unused_variables)
        )]
        let auth = self.check_auth(token_url.as_ref(), &mut problems);
        #[cfg(feature = "token-store")]
        let store = self.store.store(&mut problems);
        // The sealing key is derived from the secret unless one is given: without a secret,
        // one must be.
        #[cfg(feature = "token-store")]
        if store.is_some() && !self.uses_secret() && self.store.key.is_none() {
            problems.push(format!(
                "a shared token store needs a sealing_key (HH_SEALING_KEY) when the client has \
                 no secret ({}); every process of the fleet needs the same key",
                self.auth.as_str()
            ));
        }
        if self.token_timeout.is_zero() {
            problems.push("token_timeout must be more than zero".into());
        }
        let user_agent = self
            .user_agent
            .as_deref()
            .unwrap_or(concat!("hh-runtime/", env!("CARGO_PKG_VERSION")));
        let user_agent = HeaderValue::from_str(user_agent)
            .map_err(|_| {
                problems.push("user_agent contains characters not allowed in HTTP headers".into())
            })
            .ok();
        let (
            Some(api_url),
            Some(token_url),
            Some(client_id),
            Some(client_secret),
            Some(user_agent),
        ) = (
            api_url,
            token_url,
            self.client_id.clone(),
            self.client_secret
                .clone()
                .or_else(|| (!self.uses_secret()).then(|| SecretString::from(""))),
            user_agent,
        )
        else {
            return Err(Error::config(problems.join("; ")));
        };
        if !problems.is_empty() {
            return Err(Error::config(problems.join("; ")));
        }
        let token = TokenConfig {
            token_url,
            client_id,
            client_secret,
            scope: (!self.scopes.is_empty()).then(|| self.scopes.join(" ")),
            auth: self.auth,
            timeout: self.token_timeout,
            refresh_ahead: self.refresh_ahead,
            min_remaining: self.min_remaining,
            propagate_trace_context: self.propagate.identity,
            #[cfg(feature = "private-key-jwt")]
            assertion: auth.assertion,
            #[cfg(feature = "dpop")]
            dpop: auth.dpop,
            client_certificate: self.auth_options.certificate_der(),
        };

        Ok(Checked {
            api_url,
            token: CheckedToken {
                cfg: token,
                #[cfg(feature = "token-store")]
                store,
            },
            user_agent,
        })
    }

    /// The API and token URLs, checked (see `check_url`), the token URL derived from the
    /// identity server's when not given.
    fn check_urls(&self, problems: &mut Vec<String>) -> (Option<Url>, Option<Url>) {
        let mut url = |what: &str, value: Option<&String>| match value {
            Some(v) => check_url(what, v).map_err(|e| problems.push(e)).ok(),
            None => None,
        };
        let api_url = url("api_url", self.api_url.as_ref());
        let token_url = match (&self.token_url, &self.identity_url) {
            (Some(t), _) => url("token_url", Some(t)),
            (None, Some(i)) => url("identity_url", Some(i)).and_then(|base| {
                Url::parse(&format!("{}/connect/token", base_without_slash(&base))).ok()
            }),
            (None, None) => {
                problems.push("identity_url (or token_url) is required".into());
                None
            }
        };
        if self.api_url.is_none() {
            problems.push("api_url is required".into());
        }
        let tls = [
            ("api_url", api_url.as_ref(), self.http.is_some()),
            (
                "token_url",
                token_url.as_ref(),
                self.token_http_client.is_some(),
            ),
        ];
        for (what, url, own_client) in tls {
            problems.extend(url.and_then(|url| https_without_tls(what, url, own_client)));
        }
        (api_url, token_url)
    }
}

/// A configuration that passed every check: what `build` puts together.
pub(super) struct Checked {
    pub(super) api_url: Url,
    pub(super) token: CheckedToken,
    pub(super) user_agent: HeaderValue,
}

/// The token side of a checked configuration.
pub(super) struct CheckedToken {
    pub(super) cfg: TokenConfig,
    /// The store, with the bounds on its operations and first connection.
    #[cfg(feature = "token-store")]
    pub(super) store: Option<(Arc<dyn crate::store::TokenStore>, crate::store::Bounds)>,
}
