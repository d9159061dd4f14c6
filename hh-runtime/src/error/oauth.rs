//! The token endpoint's RFC 6749 error answer, as an [`Error`](crate::Error) carries it.

/// An RFC 6749 section 5.2 error code returned by the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`: wrong client id or secret, or an authentication method the server refuses.
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`: this client may not use the client-credentials grant.
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`: a requested scope is unknown or not allowed for this client.
    InvalidScope,
    /// Any other code the server chose, kept verbatim.
    Other(String),
}

impl OAuthErrorCode {
    pub(crate) fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::Other(code) => code,
        }
    }

    /// Whether asking again with the same configuration cannot succeed: every code RFC 6749
    /// defines, since each says the request or the client is wrong. `invalid_request` is among
    /// them: the same request is malformed the same way next time. Other codes
    /// (`temporarily_unavailable`, `server_error`, `slow_down`, anything unknown) are not.
    /// This is the one rule: [`Error::is_retryable`](crate::Error::is_retryable) and the token
    /// backoff both follow it.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::InvalidRequest
                | Self::InvalidClient
                | Self::UnauthorizedClient
                | Self::InvalidScope
                | Self::UnsupportedGrantType
                | Self::InvalidGrant
        )
    }
}

impl std::fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An RFC 6749 section 5.2 error response from the token endpoint. Read from an
/// [`Error`](crate::Error) ([`Error::oauth_error`](crate::Error::oauth_error)); it may gain fields (RFC 9126's, a server's own), so it is not
/// built outside hh.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthError {
    /// The `error` code.
    pub code: OAuthErrorCode,
    /// The optional human-readable `error_description`.
    pub description: Option<String>,
    /// The optional `error_uri`.
    pub uri: Option<String>,
}
