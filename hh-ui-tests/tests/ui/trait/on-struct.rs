use hh_runtime::{healthhero_api};

#[healthhero_api]
pub struct Api {
    pub url: String,
}

fn main() {}
