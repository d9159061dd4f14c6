//! A mistake in the declaration (a misspelt verb) is the only error: the fake is still written,
//! so the test that uses it adds none.
use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Bookings {
    #[gte("/bookings/<id>")]
    async fn booking(&self, id: u64) -> Result<Option<String>, Error>;

    #[post("/bookings")]
    async fn book(&self, #[body] slot: &u64) -> Result<u64, Error>;
}

fn main() {
    let fake = BookingsFake::new();
    fake.booking.returns(Ok(None));
    fake.book.always(|call| Ok(call.slot));
    let _ = fake.book.calls();
    fake.verify();
}
