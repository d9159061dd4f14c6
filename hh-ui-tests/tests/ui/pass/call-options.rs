#![deny(warnings)]

use hh_runtime::{healthhero_api, Error};

/// Per-call options on the trait and on methods, in both forms of the trait.
#[healthhero_api]
#[timeout("10s")]
pub trait Jobs {
    #[get("/jobs/<id>")]
    #[timeout("1m30s")]
    #[call_timeout("5m")]
    async fn job(&self, id: &str) -> Result<String, Error>;

    #[get("/jobs")]
    #[retry(false)]
    async fn list(&self) -> Result<Vec<String>, Error>;

    #[post("/jobs/<id>/cancel")]
    #[idempotent]
    async fn cancel(&self, id: &str) -> Result<(), Error>;

    #[post("/jobs")]
    async fn start(&self) -> Result<String, Error>;
}

#[healthhero_api(dyn)]
#[timeout("500ms")]
#[call_timeout("2s")]
pub trait Pings {
    #[put("/ping")]
    #[retry(false)]
    async fn ping(&self) -> Result<(), Error>;
}

fn main() {
    let client = hh_runtime::Client::builder()
        .identity_url("http://127.0.0.1:9/identity")
        .api_url("http://127.0.0.1:9/api")
        .client_id("c")
        .client_secret("s")
        .build()
        .unwrap();
    let jobs = JobsClient::new(client.clone());
    let _ = jobs.job("1");
    let _ = jobs.list();
    let _ = jobs.cancel("1");
    let _ = jobs.start();
    let pings = PingsClient::new(client);
    let _ = pings.ping();
}
