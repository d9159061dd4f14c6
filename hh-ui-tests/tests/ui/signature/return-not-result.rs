use hh_runtime::healthhero_api;

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn things(&self) -> Vec<String>;
}

fn main() {}
