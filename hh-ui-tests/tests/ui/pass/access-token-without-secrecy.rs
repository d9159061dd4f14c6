#![deny(warnings)]

// The token for a request of one's own, with no `secrecy` dependency: hh's own `AccessToken`,
// and the `Authorization` value every call sends.

use hh_runtime::{AccessToken, Client, Error, HeaderValue};

pub async fn tokens(client: &Client) -> Result<(usize, bool), Error> {
    let token: AccessToken = client.access_token().await?;
    let header: HeaderValue = client.authorization().await?;
    Ok((token.expose_secret().len(), header.is_sensitive()))
}

fn main() {}
