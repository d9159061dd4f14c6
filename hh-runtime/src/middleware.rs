//! reqwest-middleware, both ways (feature `middleware`).
//!
//! **In**: [`ClientBuilder::middleware`] sends every API attempt through your
//! [`ClientWithMiddleware`], so your middleware (logging, caching, request signing, your own
//! tracing) sees each attempt, the 401 replay included, with its `Authorization` header set.
//! Retries, timeouts and tokens stay ours: the per-attempt timeout covers your middleware
//! too, and a middleware's own error fails the call (kind [`ErrorKind::Middleware`], the
//! error as its source) without a retry, since we cannot know whether the request left.
//! Token requests never go through it: their body carries the client secret.
//!
//! A retrying middleware (`reqwest-retry`) would multiply attempts: each of ours would become
//! up to N of its own, and its retries would resend POSTs we deliberately do not. Leave
//! retrying to the [`RetryPolicy`](crate::RetryPolicy) (or use [`RetryPolicy::none`] and
//! keep yours, knowing it does not see our 401 replay or `#[idempotent]`).
//!
//! **Out**: [`TokenMiddleware`] is our token lifecycle as a [`Middleware`], for code that
//! calls HealthHero with hand-written reqwest or another generator: a cached bearer token on
//! every request, refreshed ahead of expiry, one token request however many calls wait, a
//! transient token failure waited out within the client's retry budget (as a generated call
//! does), and after a 401 the rejected token dropped (only if it is still the cached one) and
//! the request replayed with a fresh token, once (twice when the first fresh one came from
//! the fleet's store and was rejected too, as for a generated call). With DPoP (feature
//! `dpop`), each request also gets a new proof, a server's nonce is learned and a
//! `use_dpop_nonce` 401 answered by sending the request again once, and a refused proof
//! (`invalid_dpop_proof`) is passed back without dropping the token, as for a generated call.
//!
//! The token goes only where it belongs: to the API's origin (the scheme, host and port of
//! the client's `api_url`) and to the origins you add with [`TokenMiddleware::also_for`].
//! A stack is often shared with calls to other services; a request to any other origin passes
//! through untouched, without a token and without the 401 handling, and an `Authorization`
//! header it already has is left as it is.
//!
//! ```no_run
//! use hh_runtime::middleware::{TokenMiddleware, reqwest_middleware};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let hh = hh_runtime::Client::from_env()?;
//! let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(TokenMiddleware::new(&hh))
//!     .build();
//! let members = http
//!     .get(format!("{}/api/v1/{}/Members/m-1", hh.api_url(), hh.client_id()))
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! [`ErrorKind::Middleware`]: crate::ErrorKind::Middleware
//! [`RetryPolicy::none`]: crate::RetryPolicy::none

use std::fmt;

use http::Extensions;
pub use reqwest_middleware;
use reqwest_middleware::{ClientWithMiddleware, Middleware, Next};

use url::Origin;

use crate::call::{Tries, replays_401, token_at_fault, token_for_call};
use crate::client::{Client, Http};
use crate::config::check_url;
use crate::token::DpopAnswer;
use crate::{ClientBuilder, Error};

impl ClientBuilder {
    /// Sends API calls through your reqwest-middleware stack (see the
    /// [`middleware`](crate::middleware) module for what it sees and what stays ours). The
    /// `reqwest::Client` inside it is used as built: its own redirect policy and connection
    /// settings apply, as with [`http_client`](Self::http_client), which this replaces.
    pub fn middleware(mut self, client: ClientWithMiddleware) -> Self {
        self.http = Some(Http::Middleware(client));
        self
    }
}

/// Our token lifecycle as a reqwest-middleware [`Middleware`]: see the
/// [module docs](crate::middleware). It shares the token cache (and the fleet's store, if
/// any) of the [`Client`] it was made from, so calls made both ways cause one token request.
///
/// It replaces any `Authorization` header on the request. A request whose body cannot be
/// cloned (a stream) is not replayed after a 401; its 401 is returned.
#[derive(Clone)]
pub struct TokenMiddleware {
    client: Client,
    /// Where the token is sent: the API's origin first, then those added.
    origins: Vec<Origin>,
}

impl TokenMiddleware {
    /// The token lifecycle of `client`: its credentials, token cache and settings
    /// (`replay_on_401` included), for requests to the client's API origin.
    pub fn new(client: &Client) -> Self {
        TokenMiddleware {
            origins: vec![client.inner.api.origin()],
            client: client.clone(),
        }
    }

    /// Also sends the token to `url`'s origin (scheme, host and port; its path is ignored),
    /// for a second host of the same API. The URL is checked as `api_url` is: https, or
    /// plain http to a loopback host, with no credentials in it.
    ///
    /// ```no_run
    /// # fn run(hh: &hh_runtime::Client) -> hh_runtime::Result<()> {
    /// let middleware = hh_runtime::middleware::TokenMiddleware::new(hh)
    ///     .also_for("https://reports.healthhero.example")?;
    /// # Ok(()) }
    /// ```
    pub fn also_for(mut self, url: &str) -> crate::Result<Self> {
        let url = check_url("also_for", url).map_err(Error::config)?;
        self.origins.push(url.origin());
        Ok(self)
    }

    /// Whether a request to `url` gets the token.
    fn serves(&self, url: &url::Url) -> bool {
        let origin = url.origin();
        self.origins.contains(&origin)
    }
}

impl fmt::Debug for TokenMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenMiddleware")
            .field("client", &self.client)
            .field(
                "origins",
                &self
                    .origins
                    .iter()
                    .map(Origin::ascii_serialization)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[async_trait::async_trait]
impl Middleware for TokenMiddleware {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        if !self.serves(request.url()) {
            // Another service's request: none of our business, and never our token.
            return next.run(request, extensions).await;
        }
        let inner = &*self.client.inner;
        let tokens = &inner.tokens;
        // As a generated call does: a transient token failure is waited out within the
        // client's retry budget, together with every other waiting call.
        let mut tries = Tries::new();
        let started = tries.started;
        let (mut token, _) = token_for_call(inner, &mut tries, started)
            .await
            .map_err(middleware_error)?;
        let origin = request.url().origin();
        let dpop = tokens.config().token_scheme() == "DPoP";
        let mut nonce_retried = false;
        loop {
            // A copy to send again, when a 401 to this attempt would be answered that way
            // (the rule generated calls follow: `call::replays_401`), or a DPoP nonce asked for.
            let replay = if replays_401(inner, &tries, &token) || (dpop && !nonce_retried) {
                request.try_clone()
            } else {
                None
            };
            // (The user's response is theirs: nothing of it goes into an error of ours.)
            let _proof = tokens.authorize(&mut request, &token);
            let response = next.clone().run(request, extensions).await?;
            // The nonce an answer carries is learned whatever happens next.
            let answer = tokens.dpop_answer(&origin, response.status(), response.headers());
            let Some(again) = replay else {
                return Ok(response);
            };
            match answer {
                // As a generated call does (`call::decide`): once, at once, with a new proof.
                DpopAnswer::Nonce if !nonce_retried => nonce_retried = true,
                answer
                    if response.status() == http::StatusCode::UNAUTHORIZED
                        && token_at_fault(answer, &token)
                        && replays_401(inner, &tries, &token) =>
                {
                    tries.replay(tokens, &token);
                    (token, _) = token_for_call(inner, &mut tries, tokio::time::Instant::now())
                        .await
                        .map_err(middleware_error)?;
                }
                _ => return Ok(response),
            }
            request = again;
        }
    }
}

fn middleware_error(error: Error) -> reqwest_middleware::Error {
    reqwest_middleware::Error::middleware(error)
}
