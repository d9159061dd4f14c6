// `OAuthError` may gain fields: a user reads it from an error, and cannot build one.
fn main() {
    let _ = hh_runtime::OAuthError {
        code: hh_runtime::OAuthErrorCode::InvalidClient,
        description: None,
        uri: None,
    };
}
