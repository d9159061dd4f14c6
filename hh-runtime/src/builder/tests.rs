//! The builder's checks: what builds, what is refused and how it is said.
use super::*;
use crate::config::TLS;

fn base() -> ClientBuilder {
    Client::builder()
        .identity_url("https://identity.example")
        .api_url("https://api.example/")
        .client_id("c")
        .client_secret("s3cret-value")
}

/// Run both ways by `.ci/run`: with the default features, and with
/// `--no-default-features` (no TLS), filtered on `tls`.
#[test]
fn https_without_tls_is_a_configuration_error_naming_the_fix() {
    let result = base().build();
    if TLS {
        assert!(result.is_ok());
        return;
    }
    let error = result.unwrap_err().to_string();
    for expected in [
        "api_url is https",
        "token_url is https",
        "`rustls`",
        "http_client",
    ] {
        assert!(error.contains(expected), "{error}");
    }
    // Bringing TLS-capable clients of one's own is the other way out.
    let own = reqwest::Client::new();
    base()
        .http_client(own.clone())
        .token_http_client(own)
        .build()
        .unwrap();
    // Plain http to loopback needs no TLS at all...
    let plain = Client::builder()
        .identity_url("http://127.0.0.1:1")
        .api_url("http://127.0.0.1:1")
        .client_id("c")
        .client_secret("s")
        .build()
        .unwrap();
    // ... and moving such a client to https is refused the same way, by the same rule.
    let moved = plain.with_api_url("https://api.example").unwrap_err();
    assert!(moved.is_config(), "{moved}");
    assert!(moved.to_string().contains("api_url is https"), "{moved}");
    let own = reqwest::Client::new();
    let theirs = Client::builder()
        .identity_url("http://127.0.0.1:1")
        .api_url("http://127.0.0.1:1")
        .client_id("c")
        .client_secret("s")
        .http_client(own)
        .build()
        .unwrap();
    theirs.with_api_url("https://api.example").unwrap();
}

#[test]
fn builds_with_defaults() {
    let c = base().build().unwrap();
    assert_eq!(c.client_id(), "c");
    assert_eq!(c.api_url(), "https://api.example");
    assert_eq!(
        c.inner.tokens.config().token_url.as_str(),
        "https://identity.example/connect/token"
    );
    let t = base()
        .token_url("https://other.example/oauth2/token")
        .build()
        .unwrap();
    assert_eq!(
        t.inner.tokens.config().token_url.as_str(),
        "https://other.example/oauth2/token"
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let err = base().api_url("http://api.example").build().unwrap_err();
    assert!(err.is_config());
    assert!(err.to_string().contains("only https"), "{err}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = Client::builder()
        .api_url("http://remote.example")
        .default_header("bad header", "v")
        .default_header("x-ok", "line\nbreak")
        .build()
        .unwrap_err()
        .to_string();
    for part in [
        "identity_url (or token_url) is required",
        "client_id is required",
        "client_secret is required",
        "only https",
        "`bad header` is not a valid HTTP header name",
        "default header `x-ok`",
    ] {
        assert!(err.contains(part), "missing {part:?} in {err}");
    }
}

#[test]
fn env_names_every_missing_variable() {
    let err = Client::builder()
        .env_with(|name| (name == "HH_API_URL").then(|| "https://a".to_owned()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HH_IDENTITY_URL, HH_CLIENT_ID, HH_CLIENT_SECRET"),
        "{err}"
    );
    let vars = |name: &str| {
        Some(
            match name {
                "HH_TOKEN_URL" => "https://id.example/token",
                "HH_API_URL" => "https://api.example",
                "HH_CLIENT_ID" => "env-client",
                "HH_CLIENT_SECRET" => "env-secret",
                "HH_SCOPE" => "a b",
                _ => return None,
            }
            .to_owned(),
        )
    };
    let client = Client::builder().env_with(vars).unwrap().build().unwrap();
    assert_eq!(client.client_id(), "env-client");
    let cfg = client.inner.tokens.config();
    assert_eq!(cfg.token_url.as_str(), "https://id.example/token");
    assert_eq!(cfg.scope.as_deref(), Some("a b"));
}

#[test]
fn debug_hides_the_secret() {
    let b = base();
    let c = b.clone().build().unwrap();
    for text in [format!("{b:?}"), format!("{c:?}"), format!("{c:#?}")] {
        assert!(!text.contains("s3cret-value"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}

#[test]
fn client_is_send_sync_clone() {
    fn assert_bounds<T: Send + Sync + Clone + 'static>() {}
    assert_bounds::<Client>();
}

/// `HH_REDIS_URL` names the Redis URL both ways: honoured with the `redis` feature (a bad one
/// named as the user set it, shown with only its password hidden, the prefix once), and a
/// configuration error naming the feature without it, never silently ignored. Run both ways
/// by `.ci/run` (filtered on `redis_url`).
#[test]
fn hh_redis_url_is_honoured_or_refused_never_ignored() {
    let vars = |redis: &'static str| {
        move |name: &str| {
            Some(
                // Loopback http, so that the test builds with and without TLS.
                match name {
                    "HH_IDENTITY_URL" => "http://127.0.0.1:1",
                    "HH_API_URL" => "http://127.0.0.1:1",
                    "HH_CLIENT_ID" => "env-client",
                    "HH_CLIENT_SECRET" => "env-secret",
                    "HH_REDIS_URL" => redis,
                    _ => return None,
                }
                .to_owned(),
            )
        }
    };
    let garbage = build_error(vars("redis//garbage"));
    assert_eq!(
        garbage.matches("invalid client configuration").count(),
        1,
        "{garbage}"
    );
    if cfg!(feature = "redis") {
        assert!(
            garbage.contains("HH_REDIS_URL `redis//garbage` is not a Redis URL"),
            "{garbage}"
        );
        let hidden = build_error(vars("redis//hh:hunter2@cache"));
        assert!(
            hidden.contains("`redis//hh:[redacted]@cache`") && !hidden.contains("hunter2"),
            "{hidden}"
        );
        Client::builder()
            .env_with(vars("redis://cache.internal:6379/0"))
            .unwrap()
            .build()
            .unwrap();
    } else {
        assert!(
            garbage.contains("HH_REDIS_URL is set") && garbage.contains("`redis` feature"),
            "{garbage}"
        );
    }
}

/// The message of the error `build` gives for a builder read from `vars`.
fn build_error(vars: impl Fn(&str) -> Option<String>) -> String {
    Client::builder()
        .env_with(vars)
        .unwrap()
        .build()
        .unwrap_err()
        .to_string()
}

/// The environment of a client with a key or a certificate instead of a secret: `extra` added
/// to the URLs and the id.
#[cfg(any(feature = "rustls", all(feature = "private-key-jwt", feature = "dpop")))]
fn keyed_env(extra: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    move |name: &str| {
        let base = match name {
            "HH_TOKEN_URL" => Some("https://id.example/connect/token"),
            "HH_API_URL" => Some("https://api.example"),
            "HH_CLIENT_ID" => Some("keyed"),
            _ => None,
        };
        base.map(str::to_owned).or_else(|| {
            extra
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        })
    }
}

#[cfg(all(feature = "private-key-jwt", feature = "dpop"))]
#[test]
fn a_client_key_from_the_environment_stands_in_for_the_secret() {
    // A key file in PEM, the form most tooling writes.
    let pkcs8 =
        aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new())
            .unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pkcs8.as_ref())
    );
    let dir = std::env::temp_dir().join(format!("hh-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("client.pem");
    std::fs::write(&file, &pem).unwrap();

    let env = keyed_env(vec![
        ("HH_CLIENT_KEY_FILE", file.display().to_string()),
        ("HH_CLIENT_KEY_ID", "from-env".into()),
        ("HH_DPOP", "true".into()),
    ]);
    let builder = Client::builder().env_with(env).unwrap();
    let shown = format!("{builder:?}");
    assert!(shown.contains("EdDSA key from-env"), "{shown}");
    assert!(!shown.contains(pem.lines().nth(1).unwrap()), "{shown}");
    let client = builder.build().unwrap();
    let cfg = client.inner.tokens.config();
    assert_eq!(cfg.auth, ClientAuth::PrivateKeyJwt);
    let assertion = cfg.assertion.as_ref().unwrap();
    assert_eq!(assertion.audience, "https://id.example/connect/token");
    assert!(cfg.dpop.is_some());
    assert_eq!(cfg.token_scheme(), "DPoP");

    // The key inline (PEM text) works the same; a secret beside it is refused, named.
    let both = keyed_env(vec![
        ("HH_CLIENT_KEY", pem.clone()),
        ("HH_CLIENT_SECRET", "s3cret".into()),
    ]);
    let error = build_error(both);
    assert!(
        error.contains("client_secret is set, but the client authenticates with private_key_jwt"),
        "{error}"
    );

    // A previous key with its own id and algorithm; a sealing key for the fleet's store.
    let rotating = keyed_env(vec![
        ("HH_CLIENT_KEY", pem.clone()),
        ("HH_PREVIOUS_CLIENT_KEY", pem.clone()),
        ("HH_PREVIOUS_CLIENT_KEY_ID", "before".into()),
        ("HH_ASSERTION_AUDIENCE", "https://id.example".into()),
        (
            "HH_SEALING_KEY",
            "c2FuZGJveC1mbGVldC1zZWFsaW5nLWtleS0zMmJ5dGU=".into(),
        ),
    ]);
    let builder = Client::builder().env_with(rotating).unwrap();
    let shown = format!("{builder:?}");
    assert!(
        shown.contains("previous_signing_key: Some(\"EdDSA key before\")"),
        "{shown}"
    );
    let client = builder.build().unwrap();
    let assertion = client.inner.tokens.config().assertion.as_ref().unwrap();
    assert_eq!(assertion.keys.len(), 2);
    assert_eq!(assertion.audience, "https://id.example");
    let wrong_alg = keyed_env(vec![
        ("HH_CLIENT_KEY", pem.clone()),
        ("HH_PREVIOUS_CLIENT_KEY", pem.clone()),
        ("HH_PREVIOUS_CLIENT_KEY_ALG", "PS256".into()),
    ]);
    let error = build_error(wrong_alg);
    assert!(
        error.contains("HH_PREVIOUS_CLIENT_KEY_ALG: signing key: a OKP key cannot sign PS256"),
        "{error}"
    );

    // What cannot be read is named by its variable.
    let broken = keyed_env(vec![
        ("HH_CLIENT_KEY_FILE", "/nonexistent/key.pem".into()),
        ("HH_DPOP", "perhaps".into()),
    ]);
    let error = build_error(broken);
    assert!(
        error.contains("HH_CLIENT_KEY_FILE: cannot read /nonexistent/key.pem"),
        "{error}"
    );
    assert!(
        error.contains("HH_DPOP is neither true nor false"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_certificate_method_without_a_certificate_is_refused() {
    let error = Client::builder()
        .identity_url("https://identity.example")
        .api_url("https://api.example/")
        .client_id("c")
        .client_auth(ClientAuth::TlsClientAuth)
        .build()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("ClientAuth::TlsClientAuth needs a TLS client certificate"),
        "{error}"
    );
}

#[cfg(all(feature = "private-key-jwt", feature = "redis"))]
#[test]
fn a_keyed_client_with_a_shared_store_needs_a_sealing_key() {
    use crate::auth::{Algorithm, SigningKey};
    let error = Client::builder()
        .identity_url("https://identity.example")
        .api_url("https://api.example/")
        .client_id("c")
        .private_key_jwt(SigningKey::generate(Algorithm::ES256).unwrap())
        .redis_url("redis://127.0.0.1:1")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("needs a sealing_key"), "{error}");
}

#[cfg(feature = "rustls")]
#[test]
fn a_client_certificate_from_the_environment_authenticates_without_a_secret() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["clinic".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("hh-cert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One file with the certificate and its key, as many tools write them.
    let file = dir.join("client.pem");
    std::fs::write(&file, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
    let path = file.display().to_string();
    let env = |method: &str| {
        keyed_env(vec![
            ("HH_CLIENT_CERT_FILE", path.clone()),
            ("HH_CLIENT_AUTH", method.to_owned()),
        ])
    };
    let client = Client::builder()
        .env_with(env("self_signed_tls_client_auth"))
        .unwrap()
        .build()
        .unwrap();
    let cfg = client.inner.tokens.config();
    assert_eq!(cfg.auth, ClientAuth::SelfSignedTlsClientAuth);
    assert_eq!(cfg.client_certificate.as_deref(), Some(cert.der().as_ref()));
    let shown = format!("{client:?}");
    assert!(!shown.contains(key.serialize_pem().lines().nth(1).unwrap()));

    // An unknown method: no secret either, and both said at once.
    let error = Client::builder()
        .env_with(env("mutual"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("HH_CLIENT_SECRET not set"), "{error}");
    assert!(
        error.contains("HH_CLIENT_AUTH `mutual` is not one of"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
