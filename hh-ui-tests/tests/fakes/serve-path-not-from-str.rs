use hh_runtime::{healthhero_api, Error};

#[derive(Clone, Debug)]
pub struct PatientId(pub u64);

impl std::fmt::Display for PatientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p{}", self.0)
    }
}

#[healthhero_api(serve)]
pub trait Api {
    #[get("/patients/<patient>")]
    async fn get(&self, patient: &PatientId) -> Result<(), Error>;
}

fn main() {}
