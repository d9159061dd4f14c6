//! Names and sealed values of shared entries: what a store holds, and the only code that
//! reads or writes it.
//!
//! An entry's plaintext is `issued` (Unix milliseconds when the token request was sent),
//! `lifetime` (milliseconds) and the token, sealed with XChaCha20-Poly1305 under a random
//! 192-bit nonce and the entry's name as associated data, so an entry cannot be moved under
//! another name. Layout: `VERSION | nonce (24) | ciphertext and tag`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

#[cfg(test)]
use super::ClientAuth;
use super::TokenConfig;
use crate::store::SealingKey;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 8 + 8;
/// An entry longer than this is not ours (tokens are a few KiB at most).
const MAX_ENTRY: usize = 64 * 1024;
/// No token lives longer (the same cap as for tokens from the identity server).
const MAX_LIFETIME: Duration = super::MAX_LIFETIME;
/// An entry issued further in the future than this, by any clock, is absurd.
const MAX_FUTURE: Duration = Duration::from_secs(300);

/// The names of one client's entries in the store: a hash of everything that decides which
/// tokens the identity server issues to it, so clients that would get interchangeable tokens
/// share, and no others.
#[derive(Debug, Clone)]
pub(crate) struct KeyName {
    pub(crate) entry: String,
    pub(crate) lease: String,
}

impl KeyName {
    pub(crate) fn new(cfg: &TokenConfig) -> Self {
        // A token bound to a DPoP key is of use only to a process holding that key: the
        // key's thumbprint is part of the name, so processes with different keys never share
        // an entry, and a process never adopts a token bound to a key it lacks.
        #[cfg(feature = "dpop")]
        let bound_to = cfg.dpop.as_ref().map(|d| d.thumbprint());
        #[cfg(not(feature = "dpop"))]
        let bound_to: Option<&str> = None;
        let bound_to = bound_to.map(|jkt| format!("dpop:{jkt}"));
        // The same for a token the server may bind to the TLS client certificate.
        let certificate = cfg.client_certificate.as_ref().map(|der| {
            let digest = Sha256::digest(der);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            format!("x5t:{hex}")
        });
        let mut hash = Sha256::new();
        // Nothing more for a bearer token, so its name is what earlier versions gave it.
        for part in [
            "hh-runtime token v1",
            cfg.token_url.as_str(),
            &cfg.client_id,
            cfg.auth.as_str(),
            cfg.scope.as_deref().unwrap_or(""),
        ]
        .into_iter()
        .chain(bound_to.as_deref())
        .chain(certificate.as_deref())
        {
            // Length-prefixed, so no two configurations hash the same bytes.
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let digest = hash.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        // The braces are a Redis Cluster hash tag: the entry and its lease share a slot.
        let entry = format!("hh:token:{{{hex}}}");
        KeyName {
            lease: format!("{entry}:lease"),
            entry,
        }
    }
}

/// A shared entry, opened.
pub(crate) struct Opened {
    pub(crate) token: SecretString,
    pub(crate) issued: SystemTime,
    pub(crate) lifetime: Duration,
}

/// Why an entry was not used. Logged, never shown with the entry's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Too short or too long, or an unknown version.
    Malformed,
    /// Failed to authenticate under every key (tampered, planted, or another key).
    Unauthentic,
    /// Authentic, but its times or token make no sense.
    Absurd,
}

impl Rejected {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Rejected::Malformed => "malformed",
            Rejected::Unauthentic => "not authentic",
            Rejected::Absurd => "absurd lifetime or token",
        }
    }
}

/// Seals and opens one client's entries.
pub(crate) struct Sealer {
    current: XChaCha20Poly1305,
    previous: Option<XChaCha20Poly1305>,
    aad: Vec<u8>,
}

impl Sealer {
    /// With the given key, or one derived from the client secret and the entry's name.
    pub(crate) fn new(
        name: &KeyName,
        secret: &SecretString,
        key: Option<&SealingKey>,
        previous: Option<&SealingKey>,
    ) -> Self {
        let cipher = |key: &[u8; 32]| XChaCha20Poly1305::new(key.into());
        let current = match key {
            Some(key) => cipher(key.bytes()),
            None => {
                let mut derived = [0u8; 32];
                Hkdf::<Sha256>::new(
                    Some(b"hh-runtime token store sealing key"),
                    secret.expose_secret().as_bytes(),
                )
                .expand(name.entry.as_bytes(), &mut derived)
                .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 length"));
                let sealer = cipher(&derived);
                derived.fill(0);
                sealer
            }
        };
        Sealer {
            current,
            previous: previous.map(|k| cipher(k.bytes())),
            aad: name.entry.as_bytes().to_vec(),
        }
    }

    /// The sealed entry for a token requested at `issued`, living `lifetime`.
    pub(crate) fn seal(&self, token: &[u8], issued: SystemTime, lifetime: Duration) -> Vec<u8> {
        let mut plain = Vec::with_capacity(HEADER_LEN + token.len());
        plain.extend_from_slice(&millis(
            issued.duration_since(UNIX_EPOCH).unwrap_or_default(),
        ));
        plain.extend_from_slice(&millis(lifetime));
        plain.extend_from_slice(token);
        let nonce = XNonce::generate();
        let sealed = self
            .current
            .encrypt(
                &nonce,
                Payload {
                    msg: &plain,
                    aad: &self.aad,
                },
            )
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 seals any entry this size"));
        plain.fill(0);
        let mut entry = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        entry.push(VERSION);
        entry.extend_from_slice(&nonce);
        entry.extend_from_slice(&sealed);
        entry
    }

    /// Opens an entry read at wall-clock time `now`: authentic, well-formed and sensible, or
    /// rejected.
    pub(crate) fn open(&self, entry: &[u8], now: SystemTime) -> Result<Opened, Rejected> {
        if entry.len() > MAX_ENTRY || entry.len() < 1 + NONCE_LEN || entry[0] != VERSION {
            return Err(Rejected::Malformed);
        }
        let (nonce, sealed) = entry[1..].split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| Rejected::Malformed)?;
        let payload = || Payload {
            msg: sealed,
            aad: &self.aad,
        };
        let mut plain = self
            .current
            .decrypt(&nonce, payload())
            .or_else(|_| match &self.previous {
                Some(previous) => previous.decrypt(&nonce, payload()),
                None => Err(chacha20poly1305::aead::Error),
            })
            .map_err(|_| Rejected::Unauthentic)?;
        let opened = parse(&plain, now);
        plain.fill(0);
        opened
    }
}

fn parse(plain: &[u8], now: SystemTime) -> Result<Opened, Rejected> {
    if plain.len() <= HEADER_LEN {
        return Err(Rejected::Malformed);
    }
    let number = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&plain[at..at + 8]);
        Duration::from_millis(u64::from_be_bytes(bytes))
    };
    let (issued, lifetime) = (number(0), number(8));
    let issued = UNIX_EPOCH.checked_add(issued).ok_or(Rejected::Absurd)?;
    if lifetime.is_zero()
        || lifetime > MAX_LIFETIME
        || issued
            .duration_since(now)
            .is_ok_and(|ahead| ahead > MAX_FUTURE)
    {
        return Err(Rejected::Absurd);
    }
    let token = std::str::from_utf8(&plain[HEADER_LEN..]).map_err(|_| Rejected::Absurd)?;
    // The same rule as for a token from the identity server.
    if !super::fits_in_a_header(token) {
        return Err(Rejected::Absurd);
    }
    Ok(Opened {
        token: SecretString::from(token),
        issued,
        lifetime,
    })
}

fn millis(d: Duration) -> [u8; 8] {
    u64::try_from(d.as_millis())
        .unwrap_or(u64::MAX)
        .to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(scope: Option<&str>) -> TokenConfig {
        TokenConfig {
            token_url: url::Url::parse("https://identity.example.com/connect/token").unwrap(),
            client_id: "clinic".into(),
            client_secret: SecretString::from("s3cret-value"),
            scope: scope.map(str::to_owned),
            auth: ClientAuth::Post,
            timeout: Duration::from_secs(10),
            refresh_ahead: Duration::from_secs(300),
            min_remaining: Duration::from_secs(30),
            propagate_trace_context: false,
            client_certificate: None,
            #[cfg(feature = "private-key-jwt")]
            assertion: None,
            #[cfg(feature = "dpop")]
            dpop: None,
        }
    }

    fn sealer(cfg: &TokenConfig) -> Sealer {
        Sealer::new(&KeyName::new(cfg), &cfg.client_secret, None, None)
    }

    const TOKEN: &[u8] = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjbGluaWMifQ.c2ln";

    #[test]
    fn names_are_hashes_of_the_configuration() {
        let a = KeyName::new(&config(None));
        assert!(a.entry.starts_with("hh:token:{") && a.entry.ends_with('}'));
        assert_eq!(a.lease, format!("{}:lease", a.entry));
        assert!(!a.entry.contains("clinic") && !a.entry.contains("identity"));
        assert_ne!(a.entry, KeyName::new(&config(Some("hra.api"))).entry);
        let mut basic = config(None);
        basic.auth = ClientAuth::Basic;
        assert_ne!(a.entry, KeyName::new(&basic).entry);
    }

    #[test]
    fn an_entry_opens_to_what_was_sealed_and_holds_no_plaintext() {
        let cfg = config(None);
        let s = sealer(&cfg);
        let now = SystemTime::now();
        let entry = s.seal(TOKEN, now, Duration::from_secs(3600));
        assert!(!entry.windows(8).any(|w| TOKEN.windows(8).any(|t| t == w)));
        assert!(!entry.windows(6).any(|w| w == b"s3cret"));
        let opened = s.open(&entry, now).unwrap();
        assert_eq!(opened.token.expose_secret().as_bytes(), TOKEN);
        assert_eq!(opened.lifetime, Duration::from_secs(3600));
        let drift = opened
            .issued
            .duration_since(now)
            .unwrap_or_else(|e| e.duration());
        assert!(drift < Duration::from_millis(1));
        // A fresh nonce every time.
        assert_ne!(entry, s.seal(TOKEN, now, Duration::from_secs(3600)));
    }

    #[test]
    fn every_flipped_bit_is_rejected() {
        let cfg = config(None);
        let s = sealer(&cfg);
        let now = SystemTime::now();
        let entry = s.seal(TOKEN, now, Duration::from_secs(60));
        for i in 0..entry.len() * 8 {
            let mut bad = entry.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert!(s.open(&bad, now).is_err(), "bit {i}");
        }
        assert_eq!(s.open(&[], now).err(), Some(Rejected::Malformed));
        assert_eq!(s.open(&entry[..20], now).err(), Some(Rejected::Malformed));
        let mut planted = vec![VERSION];
        planted.extend_from_slice(&[0u8; 24]);
        planted.extend_from_slice(TOKEN);
        assert_eq!(s.open(&planted, now).err(), Some(Rejected::Unauthentic));
    }

    #[test]
    fn another_secret_name_or_key_cannot_open_it() {
        let cfg = config(None);
        let entry = sealer(&cfg).seal(TOKEN, SystemTime::now(), Duration::from_secs(60));
        let mut other = config(None);
        other.client_secret = SecretString::from("another");
        assert_eq!(
            sealer(&other).open(&entry, SystemTime::now()).err(),
            Some(Rejected::Unauthentic)
        );
        let scoped = config(Some("hra.api"));
        let moved = Sealer::new(&KeyName::new(&scoped), &cfg.client_secret, None, None);
        assert_eq!(
            moved.open(&entry, SystemTime::now()).err(),
            Some(Rejected::Unauthentic)
        );
    }

    #[test]
    fn a_previous_key_still_opens_during_rotation() {
        let cfg = config(None);
        let name = KeyName::new(&cfg);
        let (old, new) = (
            SealingKey::from_bytes([1; 32]),
            SealingKey::from_bytes([2; 32]),
        );
        let before = Sealer::new(&name, &cfg.client_secret, Some(&old), None);
        let during = Sealer::new(&name, &cfg.client_secret, Some(&new), Some(&old));
        let after = Sealer::new(&name, &cfg.client_secret, Some(&new), None);
        let now = SystemTime::now();
        let entry = before.seal(TOKEN, now, Duration::from_secs(60));
        assert!(during.open(&entry, now).is_ok());
        assert_eq!(after.open(&entry, now).err(), Some(Rejected::Unauthentic));
        assert!(
            after
                .open(&during.seal(TOKEN, now, Duration::from_secs(60)), now)
                .is_ok()
        );
    }

    #[test]
    fn absurd_entries_are_rejected_even_when_authentic() {
        let cfg = config(None);
        let s = sealer(&cfg);
        let now = SystemTime::now();
        let day = Duration::from_secs(24 * 3600);
        for (issued, lifetime, token) in [
            (now, Duration::ZERO, TOKEN),
            (now, day * 2, TOKEN),
            (
                now + Duration::from_secs(3600),
                Duration::from_secs(60),
                TOKEN,
            ),
            (now, Duration::from_secs(60), b"has space" as &[u8]),
            (now, Duration::from_secs(60), b"line\nbreak"),
        ] {
            let entry = s.seal(token, issued, lifetime);
            assert_eq!(s.open(&entry, now).err(), Some(Rejected::Absurd));
        }
        assert_eq!(
            s.open(&s.seal(b"", now, day), now).err(),
            Some(Rejected::Malformed)
        );
    }

    #[test]
    fn sealing_keys_parse_from_base64_without_echoing_it() {
        let key = SealingKey::from_base64("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").unwrap();
        assert_eq!(key.bytes(), &[1u8; 32]);
        assert_eq!(format!("{key:?}"), "SealingKey([redacted])");
        let short = SealingKey::from_base64("c2VjcmV0")
            .err()
            .unwrap()
            .to_string();
        assert!(
            short.contains("6 bytes") && !short.contains("c2VjcmV0"),
            "{short}"
        );
        let bad = SealingKey::from_base64("not base64!")
            .err()
            .unwrap()
            .to_string();
        assert!(!bad.contains("not base64!"), "{bad}");
    }
}
