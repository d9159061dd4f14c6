//! A test still scripting an endpoint the trait renamed (`book` is now `reserve`): it no longer
//! compiles, naming the fields there are.
use hh_runtime::{healthhero_api, Error};

#[healthhero_api]
pub trait Bookings {
    #[post("/bookings/<slot>")]
    async fn reserve(&self, slot: u64) -> Result<u64, Error>;
}

fn main() {
    let fake = BookingsFake::new();
    fake.book.returns(Ok(7));
}
