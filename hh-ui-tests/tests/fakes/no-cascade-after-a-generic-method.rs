//! A generic endpoint is a mistake of the declaration, the only error reported: the fake of a
//! trait with mistakes (served too) still compiles where the test uses it.
use hh_runtime::{healthhero_api, Error};

#[healthhero_api(serve)]
pub trait Bookings {
    #[post("/bookings")]
    async fn book<T: serde::Serialize + Clone + Send + Sync>(&self, #[body] slot: &T) -> Result<T, Error>;
}

fn main() {
    let fake = BookingsFake::new();
    fn served(_: &dyn hh_runtime::testing::Serve) {}
    served(&fake);
    fake.verify();
}
