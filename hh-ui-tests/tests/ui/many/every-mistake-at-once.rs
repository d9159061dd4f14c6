use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things/<id>")]
    async fn thing(&self) -> Result<(), Error>;

    #[post("/things")]
    fn create(&self, #[body] a: &str, #[body] b: &str) -> Result<(), Error>;

    #[gett("/x")]
    async fn typo(&mut self, page: u32) -> Vec<u8>;
}

// Using the generated client must not add errors of its own.
fn _uses(client: hh_runtime::Client) {
    let _ = ApiClient::new(client);
}

fn main() {}
