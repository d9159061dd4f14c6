use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Referrals {
    #[get("/api/v1/<client_id>/referrals/<referal_id>")]
    async fn referral(&self, referral_id: &str) -> Result<(), Error>;
}

fn main() {}
