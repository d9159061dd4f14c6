#![deny(warnings)]

use hh_runtime::{healthhero_api, Error, HeaderValue};

/// Every shape a `#[header]` argument may have, in both forms.
#[healthhero_api]
pub trait Headers {
    /// Text: a string, a number, a reference to one, and an `Option` of one or a reference
    /// to that `Option`.
    #[get("/text")]
    async fn text(
        &self,
        #[header("x-a")] a: &str,
        #[header("x-b")] b: &&str,
        #[header("x-c")] c: u64,
        #[header("x-d")] d: Option<&str>,
        #[header("x-e")] e: Option<String>,
        #[header("x-f")] f: &Option<String>,
        #[header("x-g")] g: &Option<u32>,
        #[header("x-h")] h: &Option<&str>,
    ) -> Result<(), Error>;

    /// `HeaderValue`s, as they are.
    #[get("/values")]
    async fn values(
        &self,
        #[header("x-a")] a: HeaderValue,
        #[header("x-b")] b: &HeaderValue,
        #[header("x-c")] c: Option<HeaderValue>,
        #[header("x-d")] d: Option<&HeaderValue>,
        #[header("x-e")] e: &Option<HeaderValue>,
    ) -> Result<(), Error>;
}

/// The same in the `dyn` form, whose signatures have their lifetimes named.
#[healthhero_api(dyn)]
pub trait DynHeaders {
    #[get("/text")]
    async fn text(
        &self,
        #[header("x-a")] a: &Option<String>,
        #[header("x-b")] b: Option<&str>,
        #[header("x-c")] c: &Option<HeaderValue>,
    ) -> Result<(), Error>;
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
    let headers = HeadersClient::new(client.clone());
    let none: Option<String> = None;
    assert_send(headers.text("a", &"b", 1, None, None, &none, &Some(2), &Some("h")));
    let value = HeaderValue::from_static("v");
    assert_send(headers.values(value.clone(), &value, None, Some(&value), &None));
    let dyn_headers = DynHeadersClient::new(client);
    assert_send(dyn_headers.text(&none, Some("b"), &Some(value)));
}
