//! `#[healthhero_api(dyn)]`: the trait is dyn-compatible, so a service can hold
//! `Arc<dyn Api + Send + Sync>` and inject a fake through it.

#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::response::IntoResponse;
use hh_runtime::{Error, healthhero_api};

use crate::support;

/// Looks things up; dyn-compatible.
#[healthhero_api(dyn)]
pub trait Lookup {
    /// The name of a thing, if it exists.
    #[get("/things/<id>")]
    async fn find(&self, id: &str, #[query] tags: &[&str]) -> Result<Option<String>, Error>;
}

/// A fake for tests, written as the `dyn` form declares the method.
struct Fake;

impl Lookup for Fake {
    fn find<'call, 'a, 'b, 'c, 'd>(
        &'a self,
        id: &'b str,
        tags: &'c [&'d str],
    ) -> Pin<Box<dyn Future<Output = Result<Option<String>, Error>> + Send + 'call>>
    where
        'a: 'call,
        'b: 'call,
        'c: 'call,
        'd: 'call,
    {
        Box::pin(async move { Ok(Some(format!("fake {id} {}", tags.join(",")))) })
    }
}

/// What a service holds: any implementation, behind one pointer type.
async fn describe(lookup: Arc<dyn Lookup + Send + Sync>) -> Option<String> {
    lookup.find("known", &["a", "b"]).await.unwrap()
}

async fn server() -> String {
    let app = axum::Router::new()
        .route(
            "/connect/token",
            axum::routing::post(|| async { support::token_reply() }),
        )
        .route(
            "/things/{id}",
            axum::routing::get(
                |axum::extract::Path(id): axum::extract::Path<String>,
                 axum::extract::RawQuery(query): axum::extract::RawQuery| async move {
                    if id == "known" {
                        format!("real {id} {}", query.unwrap_or_default()).into_response()
                    } else {
                        // The API's "no such thing" (problem details), which `Option` reads
                        // as `None`.
                        (
                            axum::http::StatusCode::NOT_FOUND,
                            [("content-type", "application/problem+json")],
                            r#"{"title":"Not Found","status":404}"#,
                        )
                            .into_response()
                    }
                },
            ),
        );
    support::serve(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_and_the_generated_client_behind_one_arc_dyn() {
    let url = server().await;
    let client = support::client(&url, "c");
    let real: Arc<dyn Lookup + Send + Sync> = Arc::new(LookupClient::new(client));
    let fake: Arc<dyn Lookup + Send + Sync> = Arc::new(Fake);
    assert_eq!(describe(fake).await.as_deref(), Some("fake known a,b"));
    assert_eq!(
        describe(Arc::clone(&real)).await.as_deref(),
        Some("real known tags=a&tags=b")
    );
    // The boxed futures are `Send`: calls spawn on a multi-threaded runtime.
    let missing = tokio::spawn(async move { real.find("missing", &[]).await })
        .await
        .unwrap();
    assert_eq!(missing.unwrap(), None);
}
