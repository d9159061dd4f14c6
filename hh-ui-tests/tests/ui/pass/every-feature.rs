#![deny(warnings)]

use hh_runtime::{healthhero_api, Bytes, Error, Response};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct Create {
    pub name: String,
}

#[derive(Serialize)]
pub struct Filters {
    pub page: u32,
}

#[derive(Deserialize)]
pub struct Thing {
    pub id: String,
}

/// Documented, prefixed, with a header on every call.
#[healthhero_api(prefix = "/api/v1/<client_id>")]
#[header("x-api-version", "v3")]
pub trait Things {
    /// Every query form.
    #[get("/things/<id>")]
    async fn get(&self, id: &str, #[query] ages: &[u32], #[query("when")] at: Option<u64>, #[query(flatten)] filters: &Filters) -> Result<Thing, Error>;

    /// A JSON body and a header argument.
    #[post("/things")]
    #[header("x-static", "s")]
    async fn create(&self, #[body] body: &Create, #[header("x-correlation-id")] correlation: &str) -> hh_runtime::Result<Response<Thing>>;

    /// A form body and text back.
    #[put("/things/<id>")]
    async fn replace(&self, id: u64, #[form] form: &Create) -> Result<String, Error>;

    /// Raw bytes back.
    #[patch("/things/<id>")]
    async fn patch(&self, id: u64, #[body] body: &[u8]) -> Result<Bytes, Error>;

    /// Nothing back.
    #[delete("/things/<id>")]
    async fn delete(&self, id: u64) -> Result<(), Error>;
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    let client = hh_runtime::Client::builder()
        .identity_url("http://127.0.0.1:9/identity")
        .api_url("http://127.0.0.1:9/api")
        .client_id("c")
        .client_secret("s")
        .build()
        .unwrap();
    let things = ThingsClient::new(client);
    // The futures are Send without being awaited.
    assert_send(things.delete(1));
    assert_send(things.get("x", &[1], None, &Filters { page: 1 }));
    let _ = format!("{:?}", things.clone());
}
