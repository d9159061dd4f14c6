use hh_runtime::healthhero_api;

#[healthhero_api]
pub trait Api {
    #[delete("/things")]
    async fn clear(&self);
}

fn main() {}
