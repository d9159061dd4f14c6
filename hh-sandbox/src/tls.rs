//! The sandbox over TLS, with client certificates (RFC 8705): a certificate authority of its
//! own that signs the server's certificate and the client certificates it issues
//! (`tls_client_auth`), self-signed client certificates registered by their thumbprint
//! (`self_signed_tls_client_auth`), and each connection's certificate handed to the handlers,
//! which authenticate clients by it and bind tokens to it (`cnf.x5t#S256`).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};

use crate::{Sandbox, SandboxBuilder};

/// The client certificate of the connection a request came on, if any (DER).
#[derive(Clone, Default)]
pub(crate) struct PeerCertificate(pub(crate) Option<Arc<Vec<u8>>>);

/// The sandbox's certificate authority, what it issued, and what clients registered.
pub(crate) struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    /// Verifies that a certificate chains to the CA (and TLS signatures, for the handshake).
    chain: Arc<dyn ClientCertVerifier>,
    /// Client certificates by thumbprint: the client each was issued to or registered for.
    clients: RwLock<HashMap<String, Registered>>,
    pub(crate) server: Arc<rustls::ServerConfig>,
}

/// How a client certificate authenticates its client.
#[derive(Clone)]
struct Registered {
    client: String,
    /// Issued by the sandbox's CA (`tls_client_auth`), so it must chain to it; else registered
    /// self-signed (`self_signed_tls_client_auth`), matched by its thumbprint alone.
    issued: bool,
}

fn failed(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("sandbox TLS: {e}"))
}

/// The RFC 8705 thumbprint of a certificate: SHA-256 of its DER, base64url.
pub(crate) fn thumbprint(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

impl Pki {
    pub(crate) fn new() -> std::io::Result<Pki> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "hh-sandbox test CA");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().map_err(failed)?)
            .map_err(failed)?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).map_err(failed)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let chain: Arc<dyn ClientCertVerifier> =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .allow_unauthenticated()
                .build()
                .map_err(failed)?;

        let key = KeyPair::generate().map_err(failed)?;
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).map_err(failed)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "hh-sandbox");
        let cert = server.signed_by(&key, &ca).map_err(failed)?;
        let verifier = Arc::new(AnyClientCertificate(Arc::clone(&chain)));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(failed)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![cert.der().clone(), ca.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .map_err(failed)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Pki {
            ca,
            chain,
            clients: RwLock::new(HashMap::new()),
            server: Arc::new(config),
        })
    }

    /// A new client certificate for `client`, signed by the CA: (certificate PEM, key PEM).
    fn issue(&self, client: &str) -> std::io::Result<(String, String)> {
        let key = KeyPair::generate().map_err(failed)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        params.distinguished_name.push(DnType::CommonName, client);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.ca).map_err(failed)?;
        self.register(cert.der(), client, true);
        Ok((cert.pem(), key.serialize_pem()))
    }

    fn register(&self, der: &[u8], client: &str, issued: bool) {
        self.clients
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                thumbprint(der),
                Registered {
                    client: client.to_owned(),
                    issued,
                },
            );
    }

    /// The client a connection's certificate authenticates, if it is one registered for it.
    pub(crate) fn client_of(&self, der: &[u8]) -> Option<String> {
        let registered = self
            .clients
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&thumbprint(der))
            .cloned()?;
        if registered.issued {
            let end_entity = CertificateDer::from(der);
            self.chain
                .verify_client_cert(&end_entity, &[], UnixTime::now())
                .ok()?;
        }
        Some(registered.client)
    }

    /// The CA's certificate, PEM.
    pub(crate) fn ca_pem(&self) -> String {
        self.ca.pem()
    }
}

/// Asks every client for a certificate and takes any whose holder proves the key (the TLS
/// handshake's signature, checked as webpki checks it): which client it authenticates, if any,
/// is the identity server's to say, as `tls_client_auth` and `self_signed_tls_client_auth`
/// differ there.
#[derive(Debug)]
struct AnyClientCertificate(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Serves `app` over TLS on `listener` until `stop` says so, each connection's client
/// certificate (if any) in its requests' extensions.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    config: Arc<rustls::ServerConfig>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => return,
        };
        let Ok((tcp, _)) = accepted else { continue };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let peer = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .map(|cert| Arc::new(cert.as_ref().to_vec()));
            let service = hyper_util::service::TowerToHyperService::new(
                app.layer(axum::Extension(PeerCertificate(peer))),
            );
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
        });
    }
}

impl SandboxBuilder {
    /// Serves HTTPS instead of HTTP, with a certificate authority of the sandbox's own
    /// ([`Sandbox::ca_certificate_pem`], for clients to trust) and client certificates
    /// (RFC 8705) asked of every client: [`Sandbox::issue_client_certificate`] for
    /// `tls_client_auth`, [`Sandbox::register_client_certificate`] for
    /// `self_signed_tls_client_auth`. Tokens requested over a client certificate are bound to
    /// it (`cnf.x5t#S256`), and the APIs take them only over the same certificate.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }
}

impl Sandbox {
    /// The sandbox's CA certificate (PEM), which signed its server certificate: what a client
    /// trusts to reach it over TLS ([`SandboxBuilder::tls`]). `None` without TLS.
    pub fn ca_certificate_pem(&self) -> Option<String> {
        self.state.pki.as_ref().map(|pki| pki.ca_pem())
    }

    /// A new client certificate for `client_id`, issued by the sandbox's CA, which then
    /// authenticates that client with `tls_client_auth`: (certificate PEM, private key PEM).
    pub fn issue_client_certificate(&self, client_id: &str) -> std::io::Result<(String, String)> {
        let pki = self
            .state
            .pki
            .as_ref()
            .ok_or_else(|| failed("the sandbox was started without tls()"))?;
        self.state.ensure_client(client_id);
        pki.issue(client_id)
    }

    /// Registers a self-signed certificate (PEM) as `client_id`'s
    /// (`self_signed_tls_client_auth`): the client it authenticates is found by its thumbprint.
    pub fn register_client_certificate(
        &self,
        client_id: &str,
        certificate_pem: &str,
    ) -> std::io::Result<()> {
        let pki = self
            .state
            .pki
            .as_ref()
            .ok_or_else(|| failed("the sandbox was started without tls()"))?;
        let body: String = certificate_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|_| failed("not a PEM certificate"))?;
        self.state.ensure_client(client_id);
        pki.register(&der, client_id, false);
        Ok(())
    }
}
