//! `fake = "Name"`: the fake takes the name given, so a hand-written `BookingsFake` of the
//! user's own stays as it is, and the messages name the fake as named.
#![deny(warnings)]

use hh_runtime::{healthhero_api, Error};

/// A fake written by hand before hh wrote them.
pub struct BookingsFake;

#[healthhero_api(fake = "ScriptedBookings")]
pub trait Bookings {
    #[get("/bookings/<id>")]
    async fn booking(&self, id: u64) -> Result<Option<String>, Error>;
}

fn main() {
    let _ = BookingsFake;
    let fake = ScriptedBookings::new();
    fake.booking.always(|call| Ok(Some(call.id.to_string())));
    fake.verify();
}
