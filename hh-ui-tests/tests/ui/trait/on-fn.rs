use hh_runtime::{healthhero_api};

#[healthhero_api]
pub async fn things() {}

fn main() {}
