//! Keys load from every form a user's tooling gives, sign what JWS verifiers accept, and
//! never show their private half; and the builder reads them from the environment.

#![allow(clippy::unwrap_used)]

use aws_lc_rs::encoding::{AsBigEndian as _, AsDer as _};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine as _;

use super::*;

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// Signs and checks the signature with the public half the JWK publishes.
fn signs_verifiably(key: &SigningKey) {
    let message = b"header.claims";
    let signature = key.sign_now(message).unwrap();
    let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk()).unwrap();
    let b = |name: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().unwrap())
            .unwrap()
    };
    let verified = match key.algorithm() {
        Algorithm::ES256 => {
            let mut point = vec![4];
            point.extend(b("x"));
            point.extend(b("y"));
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, &signature)
        }
        Algorithm::EdDSA => signature::UnparsedPublicKey::new(&signature::ED25519, b("x"))
            .verify(message, &signature),
        Algorithm::RS256 | Algorithm::PS256 => {
            let public = signature::RsaPublicKeyComponents {
                n: b("n"),
                e: b("e"),
            };
            let params = if key.algorithm() == Algorithm::PS256 {
                &signature::RSA_PSS_2048_8192_SHA256
            } else {
                &signature::RSA_PKCS1_2048_8192_SHA256
            };
            public.verify(params, message, &signature)
        }
    };
    assert!(verified.is_ok(), "{key:?}");
    assert_eq!(jwk["alg"], key.algorithm().as_str());
}

#[test]
fn ec_keys_load_from_pkcs8_pem_der_and_jwk_alike() {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &SystemRandom::new(),
    )
    .unwrap();
    let from_der = SigningKey::from_der(pkcs8.as_ref()).unwrap();
    let from_pem = SigningKey::from_pem(&pem("PRIVATE KEY", pkcs8.as_ref())).unwrap();
    assert_eq!(from_der.thumbprint(), from_pem.thumbprint());
    assert_eq!(from_der.algorithm(), Algorithm::ES256);

    // The same key as a private JWK (its `d` the private scalar).
    let pair =
        EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .unwrap();
    let d = b64url(pair.private_key().as_be_bytes().unwrap().as_ref());
    let mut jwk: serde_json::Value = serde_json::from_str(&from_der.public_jwk()).unwrap();
    jwk["d"] = d.clone().into();
    jwk["kid"] = "ec-1".into();
    let from_jwk = SigningKey::from_jwk(&jwk.to_string()).unwrap();
    assert_eq!(from_jwk.thumbprint(), from_der.thumbprint());
    assert_eq!(from_jwk.key_id(), Some("ec-1"));
    signs_verifiably(&from_jwk);
    // Nothing private is shown.
    let shown = format!("{from_jwk:?} {from_jwk:#?} {}", from_jwk.public_jwk());
    assert!(!shown.contains(&d), "{shown}");
}

#[test]
fn ed25519_and_rsa_keys_load_and_sign_each_algorithm() {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let ed = SigningKey::from_bytes(pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes()).unwrap();
    assert_eq!(ed.algorithm(), Algorithm::EdDSA);
    signs_verifiably(&ed);
    // As a JWK: `d` is the seed.
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let mut jwk: serde_json::Value = serde_json::from_str(&ed.public_jwk()).unwrap();
    jwk["d"] = b64url(pair.seed().unwrap().as_be_bytes().unwrap().as_ref()).into();
    assert_eq!(
        SigningKey::from_jwk(&jwk.to_string()).unwrap().thumbprint(),
        ed.thumbprint()
    );

    let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der = rsa.as_der().unwrap();
    let rs256 = SigningKey::from_pem(&pem("PRIVATE KEY", der.as_ref())).unwrap();
    assert_eq!(rs256.algorithm(), Algorithm::RS256);
    signs_verifiably(&rs256);
    let ps256 = rs256.with_algorithm(Algorithm::PS256).unwrap();
    signs_verifiably(&ps256);
    let public = signature::RsaPublicKeyComponents::<Vec<u8>>::from(rsa.public_key());
    let jwk: serde_json::Value = serde_json::from_str(&ps256.public_jwk()).unwrap();
    assert_eq!(jwk["n"], b64url(&public.n));
}

#[test]
fn what_is_not_a_usable_private_key_is_named() {
    let message = |input: &str| {
        SigningKey::from_bytes(input.as_bytes())
            .unwrap_err()
            .to_string()
    };
    let encrypted = message(&pem("ENCRYPTED PRIVATE KEY", b"xx"));
    assert!(
        encrypted.contains("encrypted; decrypt it first"),
        "{encrypted}"
    );
    let certificate = message(&pem("CERTIFICATE", b"xx"));
    assert!(
        certificate.contains("`CERTIFICATE` is not a private key"),
        "{certificate}"
    );
    let garbage = message("not a key at all");
    assert!(
        garbage.contains("not a PKCS#8, PKCS#1 (RSA) or SEC 1"),
        "{garbage}"
    );
    let oct = message(r#"{"kty":"oct","k":"c2VjcmV0"}"#);
    assert!(oct.contains("kty `oct` is not supported"), "{oct}");
    let missing = message(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#);
    assert!(missing.contains("has no `d`"), "{missing}");

    let ed = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let wrong = ed.with_algorithm(Algorithm::RS256).unwrap_err().to_string();
    assert!(wrong.contains("a OKP key cannot sign RS256"), "{wrong}");
    assert!("HS256".parse::<Algorithm>().is_err());
}

#[test]
fn pem_as_tools_and_environments_write_it_loads_and_a_damaged_one_shows_nothing_of_the_key() {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &SystemRandom::new(),
    )
    .unwrap();
    let key = pem("PRIVATE KEY", pkcs8.as_ref());
    let expected = SigningKey::from_der(pkcs8.as_ref()).unwrap();
    // `openssl ecparam -genkey` writes the curve's parameters first.
    let with_parameters = format!("{}{key}", pem("EC PARAMETERS", &[6, 8, 42]));
    // One line of an environment variable, with literal `\n`.
    let one_line = key.replace('\n', "\\n");
    for text in [with_parameters, one_line] {
        let loaded = SigningKey::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(loaded.thumbprint(), expected.thumbprint());
    }
    // Damaged BEGIN lines: whether or not the key still loads, no message carries its body.
    let body_line = key.lines().nth(1).unwrap().to_owned();
    for damaged in [
        key.replacen("PRIVATE KEY-----", "PRIVATE KEY----", 1),
        key.replacen("PRIVATE KEY-----\n", "PRIVATE KEY-----", 1),
        key.replacen("-----END PRIVATE KEY-----", "", 1),
    ] {
        if let Err(e) = SigningKey::from_bytes(damaged.as_bytes()) {
            assert!(!e.to_string().contains(&body_line[..20]), "{e}");
        }
    }
}

#[test]
fn a_thumbprint_is_rfc_7638s_hash_of_the_required_members() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk()).unwrap();
    // RFC 7638 section 3.2: the required members, in lexicographic order, no whitespace.
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap()
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    assert_eq!(key.thumbprint(), b64url(digest.as_ref()));
}

#[cfg(feature = "private-key-jwt")]
#[tokio::test]
async fn an_assertion_carries_the_claims_rfc_7523_asks_for_each_time_new() {
    let key = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_key_id("k1");
    let one = assertion("client-1", "https://id.example/connect/token", &key)
        .await
        .unwrap();
    let two = assertion("client-1", "https://id.example/connect/token", &key)
        .await
        .unwrap();
    let part = |jwt: &str, i: usize| -> serde_json::Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let (header, claims) = (part(&one, 0), part(&one, 1));
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], "k1");
    assert_eq!(claims["iss"], "client-1");
    assert_eq!(claims["sub"], "client-1");
    assert_eq!(claims["aud"], "https://id.example/connect/token");
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert_eq!(exp - iat, 60);
    assert_ne!(claims["jti"], part(&two, 1)["jti"], "a new jti each time");
    assert_eq!(claims["jti"].as_str().unwrap().len(), 22, "128 random bits");
}

#[cfg(feature = "dpop")]
#[test]
fn a_dpop_nonce_is_remembered_for_the_origin_that_gave_it() {
    use std::sync::Arc;
    let dpop = dpop::Dpop::new(Arc::new(SigningKey::generate(Algorithm::ES256).unwrap()));
    let identity: url::Url = "https://identity.example/connect/token".parse().unwrap();
    let api: url::Url = "https://api.example/v1/things?page=2#top".parse().unwrap();
    let mut answer = http::HeaderMap::new();
    answer.insert("dpop-nonce", "n-1".parse().unwrap());
    assert!(dpop.observe(&identity.origin(), &answer));
    assert!(
        !dpop.observe(&identity.origin(), &answer),
        "the same nonce is no news"
    );
    let claims = |url: &url::Url| -> serde_json::Value {
        let proof = dpop.proof(&http::Method::GET, url, Some(b"tok")).unwrap();
        let part = proof
            .to_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(claims(&identity)["nonce"], "n-1");
    let at_api = claims(&api);
    assert!(
        at_api.get("nonce").is_none(),
        "another origin's nonce: {at_api}"
    );
    // `htu` without query or fragment; `ath` the token's SHA-256.
    assert_eq!(at_api["htu"], "https://api.example/v1/things");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"tok");
    assert_eq!(at_api["ath"], b64url(digest.as_ref()));
    assert_ne!(claims(&api)["jti"], at_api["jti"], "a new jti each time");
}

#[cfg(feature = "private-key-jwt")]
#[test]
fn a_kms_der_ecdsa_signature_becomes_jws_r_and_s() {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    // The same key signing as a KMS does (DER) and as JWS wants (fixed).
    let der_signer =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
    let point = der_signer.public_key().as_ref().to_vec();
    for message in [&b"a"[..], b"header.claims", &[0u8; 300]] {
        let der = der_signer.sign(&rng, message).unwrap();
        let jws = jws::ecdsa_der_to_jws(der.as_ref(), 32).unwrap();
        assert_eq!(jws.len(), 64);
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
            .verify(message, &jws)
            .unwrap();
    }
    for broken in [
        &b""[..],
        &[0x30, 0x02, 0x02, 0x00],
        &[0x31, 0x00],
        &[0x30, 0x85, 0, 0, 0, 0, 0],
    ] {
        assert!(jws::ecdsa_der_to_jws(broken, 32).is_none(), "{broken:?}");
    }
}

#[cfg(feature = "dpop")]
#[test]
fn a_dpop_challenge_is_read_however_it_is_written() {
    let read = |values: &[&str]| {
        let mut headers = http::HeaderMap::new();
        for v in values {
            headers.append("www-authenticate", v.parse().unwrap());
        }
        dpop::dpop_error(&headers)
    };
    assert_eq!(
        read(&[r#"DPoP error="use_dpop_nonce", error_description="x""#]),
        Some("use_dpop_nonce")
    );
    assert_eq!(read(&["dpop error=use_dpop_nonce"]), Some("use_dpop_nonce"));
    assert_eq!(
        read(&[r#"DPoP algs="ES256", error = "invalid_dpop_proof""#]),
        Some("invalid_dpop_proof")
    );
    assert_eq!(
        read(&[r#"Bearer realm="api", DPoP error="use_dpop_nonce""#]),
        Some("use_dpop_nonce")
    );
    assert_eq!(
        read(&[
            r#"Bearer realm="api""#,
            r#"DPoP error="invalid_dpop_proof""#
        ]),
        Some("invalid_dpop_proof")
    );
    // Not a DPoP challenge's error, or not one of the two.
    assert_eq!(
        read(&[r#"Bearer error="invalid_token", error_description="use_dpop_nonce""#]),
        None
    );
    assert_eq!(read(&[r#"DPoP error="invalid_token""#]), None);
    assert_eq!(read(&[r#"DPoP error_description="use_dpop_nonce""#]), None);
    assert_eq!(read(&["DPoP", "", "dpop error", "DPoP error="]), None);
}
