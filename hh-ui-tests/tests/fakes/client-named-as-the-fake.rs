use hh_runtime::{healthhero_api, Error};

// The client takes the fake's default name: one error, and no duplicate items after it.
#[healthhero_api(client = "ApiFake")]
pub trait Api {
    #[get("/things")]
    async fn list(&self) -> Result<(), Error>;
}

fn main() {
    let _ = ApiFake::new;
}
