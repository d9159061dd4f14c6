use std::collections::BTreeMap;

use hh_runtime::{healthhero_api, Error};

#[healthhero_api(fake = "ScoresDouble")]
pub trait Scores {
    #[post("/scores")]
    async fn send(&self, #[body] scores: &BTreeMap<String, &str>) -> Result<(), Error>;
}

fn main() {}
