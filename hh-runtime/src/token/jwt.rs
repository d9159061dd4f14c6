//! Reading a JWT access token's `exp` claim, for tokens whose response states no `expires_in`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

use super::oauth::MAX_LIFETIME;

/// The remaining life from a JWT's `exp` claim, read without verifying the signature: this
/// only schedules refreshes, it grants nothing. `None` for anything that is not a JWT with a
/// future `exp`, and for less than a second left.
pub(crate) fn lifetime(token: &str, now: SystemTime) -> Option<Duration> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    if !exp.is_finite() || exp <= 0.0 {
        return None;
    }
    let exp = UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(exp).ok()?)?;
    let remaining = exp.duration_since(now).ok()?;
    (remaining >= Duration::from_secs(1)).then(|| remaining.min(MAX_LIFETIME))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// An unsigned JWT with `claims`: the signature is never looked at.
    pub(crate) fn jwt(claims: serde_json::Value) -> String {
        let enc = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!("{}.{}.sig", enc(&json!({"alg":"RS256"})), enc(&claims))
    }

    fn unix_now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn reads_a_future_exp() {
        let token = jwt(json!({"exp": unix_now() + 1200, "client_id": "c"}));
        let left = lifetime(&token, SystemTime::now()).unwrap();
        assert!(left > Duration::from_secs(1190) && left <= Duration::from_secs(1200));
        let far = jwt(json!({"exp": unix_now() + 10 * 24 * 3600}));
        assert_eq!(lifetime(&far, SystemTime::now()), Some(MAX_LIFETIME));
    }

    #[test]
    fn anything_else_is_none() {
        let now = SystemTime::now();
        assert_eq!(lifetime(&jwt(json!({"exp": unix_now() - 10})), now), None);
        assert_eq!(lifetime("not.a-jwt!.x", now), None);
        assert_eq!(lifetime("opaque", now), None);
        assert_eq!(lifetime(&jwt(json!({"exp": "x"})), now), None);
        assert_eq!(lifetime(&jwt(json!({"exp": 1e300})), now), None);
        assert_eq!(lifetime(&jwt(json!({"sub": "c"})), now), None);
    }
}
