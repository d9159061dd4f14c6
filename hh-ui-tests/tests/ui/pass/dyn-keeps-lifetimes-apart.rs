#![deny(warnings)]

// The `dyn` form names each elided lifetime on its own: a `&mut Vec<&str>` argument is borrowed
// for the call only, not for as long as its strings live, so the vector is usable after it.

use hh_runtime::{healthhero_api, Error};

#[healthhero_api(dyn)]
pub trait Notes {
    /// Adds lines to a note.
    #[post("/notes/<id>")]
    async fn add(&self, id: &str, #[body] lines: &mut Vec<&str>) -> Result<(), Error>;

    /// `'_` written out is named like an elided lifetime, the receiver's too.
    #[get("/notes/<id>/count")]
    async fn count(&'_ self, id: &'_ str) -> Result<u64, Error>;
}

pub async fn add_twice(api: &(dyn Notes + Send + Sync)) -> Result<usize, Error> {
    let first = String::from("first");
    let mut lines: Vec<&str> = vec![&first];
    api.add("n1", &mut lines).await?;
    lines.push("second");
    api.add("n1", &mut lines).await?;
    Ok(lines.len())
}

fn main() {}
