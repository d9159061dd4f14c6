use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    fn things(&self) -> impl std::future::Future<Output = Result<(), Error>> + Send;
}

fn main() {}
