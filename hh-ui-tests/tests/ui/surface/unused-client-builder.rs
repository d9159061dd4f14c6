// A builder whose result is dropped configures nothing: the compiler says so.
#![deny(unused_must_use)]

fn main() {
    hh_runtime::Client::builder().client_id("my-client");
}
