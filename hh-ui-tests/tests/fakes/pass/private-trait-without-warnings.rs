//! A private trait, its fake unused: with warnings denied, nothing the fake adds may warn
//! (dead code, missing docs, unreachable `pub`, clippy's `new_without_default`).
#![deny(warnings, missing_docs, unreachable_pub)]

use hh_runtime::{healthhero_api, Error};

/// An argument type without `Debug`: the fake's messages show its type's name.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Note {
    text: String,
}

#[healthhero_api(serve)]
trait Notes {
    #[put("/patients/<patient>/notes/<index>")]
    async fn put(
        &self,
        patient: &str,
        index: u32,
        #[body] note: &Note,
        #[query] tags: &[&str],
        #[header("x-trace")] trace: Option<&str>,
    ) -> Result<Option<String>, Error>;
}

#[healthhero_api(dyn)]
pub(crate) trait Unused {
    #[get("/unused")]
    async fn unused(&self, #[query] pair: (&str, u8)) -> Result<(), Error>;
}

fn main() {
    let _ = NotesClient::new;
    let _ = UnusedClient::new;
}
