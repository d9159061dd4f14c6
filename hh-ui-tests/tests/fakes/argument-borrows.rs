use std::collections::BTreeMap;

use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[post("/scores")]
    async fn send(&self, #[body] scores: &BTreeMap<&str, u32>) -> Result<(), Error>;
}

fn main() {}
