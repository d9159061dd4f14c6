//! `fake = false`: with the `testing` feature on (shared by a whole build), a trait whose
//! arguments a fake could not keep (not `Clone`, a borrow inside) builds without one, warnings
//! denied; another trait in the same crate still gets its fake.
#![deny(warnings)]

use std::collections::HashMap;

use hh_runtime::{healthhero_api, Error};

#[derive(serde::Serialize)]
pub struct Order {
    pub items: Vec<String>,
}

#[healthhero_api(fake = false)]
pub trait Orders {
    #[post("/orders")]
    async fn place(
        &self,
        #[body] orders: &[Order],
        #[query(flatten)] tags: &HashMap<&str, &str>,
    ) -> Result<(), Error>;
}

#[healthhero_api(fake = true)]
pub trait Things {
    // Named like the fake's own methods: the field and the method live side by side, and
    // the endpoint is called through the trait, as code under test calls it.
    #[get("/things/<id>")]
    async fn verify(&self, id: u32) -> Result<u32, Error>;
    #[get("/things")]
    async fn problems(&self) -> Result<(), Error>;
}

// The client may take the fake's default name when the fake has another, or none.
#[healthhero_api(client = "ReportsFake", fake = "ReportsDouble")]
pub trait Reports {
    #[get("/reports")]
    async fn list(&self) -> Result<(), Error>;
}

#[healthhero_api(client = "NotesFake", fake = false)]
pub trait Notes {
    #[get("/notes")]
    async fn list(&self) -> Result<(), Error>;
}

struct OrdersFake;

async fn calls(fake: ThingsFake) {
    fake.verify.returns(Ok(7));
    fake.problems.returns(Ok(()));
    assert_eq!(Things::verify(&fake, 3).await.unwrap(), 7);
    assert!(Things::problems(&fake).await.is_ok());
    assert!(fake.problems().is_empty());
    fake.verify();
}

fn main() {
    let _ = OrdersClient::new;
    let _ = ReportsFake::new;
    let _ = ReportsDouble::new;
    let _ = NotesFake::new;
    // The name `OrdersFake` is free for one of the user's own.
    let _ = OrdersFake;
    // Built, not run (no runtime here): what matters is that it compiles.
    drop(calls(ThingsFake::new()));
}
