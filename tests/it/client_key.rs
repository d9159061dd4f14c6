//! The triage example with a client key and DPoP from `HH_*` settings, against hh-sandbox
//! requiring both: README's "Authenticating without a shared secret", run.

#![allow(clippy::unwrap_used)]

use hh_runtime::auth::SigningKey;
use hh_sandbox::Sandbox;

/// A new P-256 key as PKCS#8 PEM, as `openssl genpkey` writes one (what a user's tooling gives).
fn openssl_key() -> Option<String> {
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_authenticates_with_a_client_key_and_dpop_from_hh_settings() {
    let Some(pem) = openssl_key() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "this test needs openssl, which .ci/run installs"
        );
        eprintln!("SKIPPED: no openssl on the PATH");
        return;
    };
    let public = SigningKey::from_pem(&pem)
        .unwrap()
        .with_key_id("triage-2026");
    let sandbox = Sandbox::builder()
        .client_key("keyed-clinic", &public.public_jwk())
        .require_dpop()
        .start()
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("hh-triage-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("client-key.pem");
    std::fs::write(&key_file, &pem).unwrap();

    // `cargo test` builds the examples beside the test binaries (not `--test it` alone).
    let exe = std::env::current_exe().unwrap();
    let triage = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/triage");
    if !triage.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is not built",
            triage.display()
        );
        eprintln!("SKIPPED: the triage example is not built (run `cargo test` without --test)");
        return;
    }
    let mut command = std::process::Command::new(triage);
    command
        .arg("--auto")
        .env("HH_IDENTITY_URL", sandbox.identity_url())
        .env("HH_API_URL", sandbox.api_url())
        .env("HH_CLIENT_ID", "keyed-clinic")
        .env_remove("HH_CLIENT_SECRET")
        .env("HH_CLIENT_KEY_FILE", &key_file)
        .env("HH_CLIENT_KEY_ID", "triage-2026")
        .env("HH_DPOP", "true")
        .stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Recommendation"), "{stdout}");
    assert_eq!(sandbox.token_requests(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}
