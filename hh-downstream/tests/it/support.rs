//! What every test here needs: the token endpoint's answer, a server on a free loopback port,
//! and a client for it.

#![allow(dead_code, clippy::unwrap_used)]

use axum::response::{IntoResponse, Response};

/// The access token every test server issues.
pub(crate) const TOKEN: &str = "downstream-token";

/// The token endpoint's answer, as IdentityServer sends it.
pub(crate) fn token_reply() -> Response {
    (
        [("content-type", "application/json")],
        format!(r#"{{"access_token":"{TOKEN}","token_type":"Bearer","expires_in":3600}}"#),
    )
        .into_response()
}

/// Serves `app` on a free loopback port, in the background; returns its base URL.
pub(crate) async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A client whose identity server and API are both at `url`.
pub(crate) fn client(url: &str, client_id: &str) -> hh_runtime::Client {
    hh_runtime::Client::builder()
        .identity_url(url)
        .api_url(url)
        .client_id(client_id)
        .client_secret("downstream-secret")
        .build()
        .unwrap()
}

/// Two HealthHero endpoints, declared as a customer would, for the tests against hh-sandbox.
#[hh_runtime::healthhero_api(prefix = "/api/v1/<client_id>")]
pub(crate) trait Traversals {
    /// Starts a traversal.
    #[post("/Traversals")]
    async fn create(
        &self,
        #[body] request: &serde_json::Value,
    ) -> Result<serde_json::Value, hh_runtime::Error>;

    /// A traversal's state.
    #[get("/Traversals/<traversal_id>")]
    async fn get(&self, traversal_id: &str) -> Result<serde_json::Value, hh_runtime::Error>;
}

/// A builder with the sandbox's URLs and credentials.
pub(crate) fn sandbox_builder(sandbox: &hh_sandbox::Sandbox) -> hh_runtime::ClientBuilder {
    hh_runtime::Client::builder()
        .identity_url(sandbox.identity_url())
        .api_url(sandbox.api_url())
        .client_id(sandbox.client_id())
        .client_secret(sandbox.client_secret())
}
