//! [`SandboxBuilder`]: a sandbox's settings, and starting it (its state, its listener, plain
//! or TLS).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::watch;

use crate::*;

/// Configures a [`Sandbox`] before it starts.
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    port: u16,
    token_lifetime: Duration,
    clock_skew: Duration,
    client_id: String,
    client_secret: String,
    extra_clients: Vec<(String, String)>,
    /// Clients' public keys for private_key_jwt: (client id, JWK text).
    pub(crate) client_keys: Vec<(String, String)>,
    pub(crate) require_dpop: bool,
    pub(crate) tls: bool,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            port: 0,
            token_lifetime: Duration::from_secs(3600),
            clock_skew: Duration::from_secs(300),
            client_id: "sandbox-client".to_owned(),
            client_secret: format!("sbx-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            extra_clients: Vec::new(),
            client_keys: Vec::new(),
            require_dpop: false,
            tls: false,
        }
    }
}

impl SandboxBuilder {
    /// The port to listen on (default 0: an ephemeral port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How long issued tokens are valid (default 3600 s).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// How late an expired token is still accepted (default 300 s, ASP.NET's default).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// The default client's credentials (default `sandbox-client` and a random secret).
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client_id = id.into();
        self.client_secret = secret.into();
        self
    }

    /// Registers another client (another tenant).
    pub fn extra_client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.extra_clients.push((id.into(), secret.into()));
        self
    }

    /// Binds `127.0.0.1` and starts serving on the current tokio runtime.
    pub async fn start(self) -> std::io::Result<Sandbox> {
        let content = Content::parse(content::BUILT_IN).map_err(std::io::Error::other)?;
        let keys = Keys::load().map_err(std::io::Error::other)?;
        let scopes: Vec<String> = DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        let mut clients = HashMap::new();
        for (id, secret) in std::iter::once((self.client_id.clone(), self.client_secret.clone()))
            .chain(self.extra_clients)
        {
            clients.insert(
                id,
                Registration {
                    secret: Some(secret),
                    scopes: scopes.clone(),
                },
            );
        }
        let key_auth = client_auth::KeyAuth::default();
        for (id, jwk) in &self.client_keys {
            let jwk = serde_json::from_str(jwk)
                .map_err(|e| std::io::Error::other(format!("client_key for {id}: {e}")))?;
            key_auth.register(id, jwk);
            clients.entry(id.clone()).or_insert_with(|| Registration {
                secret: None,
                scopes: scopes.clone(),
            });
        }
        key_auth
            .dpop_required
            .store(self.require_dpop, Ordering::Relaxed);
        let (shutdown, _) = watch::channel(false);
        let state = Arc::new(State {
            content,
            keys,
            issuer: OnceLock::new(),
            clients: RwLock::new(clients),
            token_lifetime: AtomicU64::new(self.token_lifetime.as_secs().max(1)),
            clock_skew: AtomicU64::new(self.clock_skew.as_secs()),
            clock: Clock::start(),
            next_jti: AtomicU64::new(1),
            min_valid_jti: AtomicU64::new(0),
            traversals: DashMap::new(),
            issued: Mutex::new(Vec::new()),
            unissued: AtomicU64::new(0),
            members: DashMap::new(),
            faults: faults::Faults::default(),
            counters: faults::Counters::default(),
            served: served::Served::default(),
            key_auth,
            pki: if self.tls {
                Some(tls::Pki::new()?)
            } else {
                None
            },
            trace_contexts: trace::TraceContexts::default(),
            shutdown,
        });
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], self.port))).await?;
        let addr = listener.local_addr()?;
        let scheme = if state.pki.is_some() { "https" } else { "http" };
        let _ = state.issuer.set(format!("{scheme}://{addr}"));
        let app = axum::Router::new()
            .fallback(api::dispatch)
            .with_state(Arc::clone(&state));
        let mut stop = state.shutdown.subscribe();
        let task = match &state.pki {
            Some(pki) => tokio::spawn(tls::serve(listener, app, Arc::clone(&pki.server), stop)),
            None => tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await;
            }),
        };
        Ok(Sandbox {
            state,
            addr,
            client_id: self.client_id,
            client_secret: self.client_secret,
            task: Some(task),
        })
    }
}
