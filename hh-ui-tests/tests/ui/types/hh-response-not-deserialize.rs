use hh_runtime::{healthhero_api, Error};

// hh's `Response<T>` decodes `T` from JSON: the error is on `T`.

pub struct NotDeserialize;

#[healthhero_api]
pub trait Api {
    #[get("/things")]
    async fn thing(&self) -> Result<hh_runtime::Response<NotDeserialize>, Error>;
}

fn main() {}
