//! The access token as users hold it: a type of our own rather than `secrecy`'s, so that a
//! new `secrecy` is not a breaking change of hh's.

use std::fmt;

use secrecy::{ExposeSecret as _, SecretString};

/// An access token, for a request the generated code cannot express (see
/// [`Client::access_token`](crate::Client::access_token)). `Debug` shows `AccessToken([redacted])`;
/// [`expose_secret`](Self::expose_secret) reads it, only to send it. Its memory is zeroed when
/// it is dropped.
#[derive(Clone)]
pub struct AccessToken(SecretString);

impl AccessToken {
    pub(crate) fn new(text: &str) -> Self {
        AccessToken(SecretString::from(text))
    }

    /// The token itself, to put in a request (`Authorization: Bearer <token>`). Named as in
    /// `secrecy`, so that every read of it stands out in review.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}
