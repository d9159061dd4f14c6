#![deny(warnings)]

// A user's own `Response<T>` and `Bytes` keep their meaning (decoded from JSON), beside hh's,
// whatever the names they are written with.

use hh_runtime::{healthhero_api, Error};
use serde::Deserialize;

mod own {
    #[derive(serde::Deserialize)]
    pub struct Response<T> {
        pub value: T,
    }

    #[derive(serde::Deserialize)]
    pub struct Bytes {
        pub count: u64,
    }
}

use own::{Bytes, Response};

#[derive(Deserialize)]
pub struct Thing {
    pub name: String,
}

#[healthhero_api]
pub trait Things {
    /// The user's envelope.
    #[get("/wrapped")]
    async fn wrapped(&self) -> Result<Response<Thing>, Error>;

    /// The user's size, absent on a 404.
    #[get("/size")]
    async fn size(&self) -> Result<Option<Bytes>, Error>;

    /// hh's response around the user's thing.
    #[get("/thing")]
    async fn thing(&self) -> Result<hh_runtime::Response<Thing>, Error>;

    /// hh's bytes.
    #[get("/raw")]
    async fn raw(&self) -> Result<hh_runtime::Bytes, Error>;
}

pub async fn read(api: &impl Things) -> Result<(String, Option<u64>, u16, usize), Error> {
    let wrapped: Response<Thing> = api.wrapped().await?;
    let size: Option<Bytes> = api.size().await?;
    let thing: hh_runtime::Response<Thing> = api.thing().await?;
    let raw: hh_runtime::Bytes = api.raw().await?;
    Ok((
        wrapped.value.name,
        size.map(|s| s.count),
        thing.status().as_u16(),
        raw.len(),
    ))
}

fn main() {}
