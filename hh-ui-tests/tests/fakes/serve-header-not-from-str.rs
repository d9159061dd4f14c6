use hh_runtime::{healthhero_api, Error};

#[derive(Clone, Debug)]
pub struct Tenant(pub String);

impl std::fmt::Display for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[healthhero_api(serve)]
pub trait Api {
    #[get("/things")]
    async fn list(&self, #[header("x-tenant")] tenant: &Tenant) -> Result<(), Error>;
}

fn main() {}
