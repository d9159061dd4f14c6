#![deny(warnings)]

use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Clock {
    /// The server's time.
    #[get("/time")]
    async fn now(&self) -> Result<String, Error>;
}

/// A fake for tests: `async fn` in the impl satisfies the generated `Send` signature.
struct Fixed;

impl Clock for Fixed {
    async fn now(&self) -> Result<String, Error> {
        Ok("12:00".to_owned())
    }
}

fn main() {
    let _ = Fixed.now();
}
