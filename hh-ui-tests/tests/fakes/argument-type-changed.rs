//! A test still comparing an argument as the text it was (`slot: &str`, now `slot: u64`): it no
//! longer compiles.
use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Bookings {
    #[post("/bookings/<slot>")]
    async fn reserve(&self, slot: u64) -> Result<u64, Error>;
}

fn main() {
    let fake = BookingsFake::new();
    fake.reserve.always(|_| Ok(1));
    let calls = fake.reserve.calls();
    let slot: String = calls[0].slot;
    let _ = slot;
}
