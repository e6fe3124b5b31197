//! The HTTPS listener (`--listen-tls ADDR`): a CA and a server certificate for
//! `127.0.0.1`, `::1` and `localhost`, generated at start, so that clients
//! which insist on an `https` authority (MSAL, `requests`) can be pointed at
//! the emulator. The CA is written where tests can trust it
//! (`--tls-ca-file FILE`, e.g. `REQUESTS_CA_BUNDLE=FILE`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use der::asn1::{Ia5String, OctetString};
use der::{Decode, Encode, EncodePem};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
use sha2::Sha256;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::server::TlsStream;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

/// What the HTTPS listener serves with.
pub struct TlsMaterial {
    /// The CA certificate (PEM) that signed the server certificate.
    pub ca_pem: String,
    pub server_config: Arc<ServerConfig>,
}

fn spki(key: &RsaPrivateKey) -> SubjectPublicKeyInfoOwned {
    let der = key
        .to_public_key()
        .to_public_key_der()
        .expect("public key encodes");
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("spki decodes")
}

fn validity(now: i64) -> Validity {
    let time = |t: i64| {
        Time::try_from(UNIX_EPOCH + Duration::from_secs(t.max(0) as u64)).expect("time in range")
    };
    // Valid from a day ago (clock skew) for a year.
    Validity {
        not_before: time(now - 86_400),
        not_after: time(now + 365 * 86_400),
    }
}

/// Generates a CA and a server certificate signed by it (RSA 2048, SHA-256).
pub fn generate(now: i64) -> TlsMaterial {
    let mut rng = rand::rngs::OsRng;
    let ca_key = RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
    let server_key = RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
    let ca_name = Name::from_str("CN=entra-emulator local CA,O=entra-emulator").expect("name");
    let ca_signer = SigningKey::<Sha256>::new(ca_key.clone());
    let serial = |n: u32| SerialNumber::from(n ^ rand::random::<u32>() | 1);

    let ca = CertificateBuilder::new(
        Profile::Root,
        serial(1),
        validity(now),
        ca_name.clone(),
        spki(&ca_key),
        &ca_signer,
    )
    .expect("CA builder")
    .build::<rsa::pkcs1v15::Signature>()
    .expect("CA signs");

    let mut server = CertificateBuilder::new(
        Profile::Leaf {
            issuer: ca_name,
            enable_key_agreement: false,
            enable_key_encipherment: true,
        },
        serial(2),
        validity(now),
        Name::from_str("CN=127.0.0.1").expect("name"),
        spki(&server_key),
        &ca_signer,
    )
    .expect("server certificate builder");
    let ip = |a: IpAddr| {
        let bytes = match a {
            IpAddr::V4(v) => v.octets().to_vec(),
            IpAddr::V6(v) => v.octets().to_vec(),
        };
        GeneralName::IpAddress(OctetString::new(bytes).expect("octets"))
    };
    server
        .add_extension(&SubjectAltName(vec![
            ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            GeneralName::DnsName(Ia5String::new("localhost").expect("ia5")),
        ]))
        .expect("SAN extension");
    let server = server
        .build::<rsa::pkcs1v15::Signature>()
        .expect("server certificate signs");

    let key_der = server_key.to_pkcs8_der().expect("key encodes");
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![
            CertificateDer::from(server.to_der().expect("certificate encodes")),
            CertificateDer::from(ca.to_der().expect("certificate encodes")),
        ],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.as_bytes().to_vec())),
    )
    .expect("server certificate and key match");
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsMaterial {
        ca_pem: ca.to_pem(der::pem::LineEnding::LF).expect("PEM"),
        server_config: Arc::new(config),
    }
}

/// A TCP listener whose connections come out TLS-terminated. Handshakes run
/// in their own tasks, so a slow or failing client holds up no other.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                // Stop accepting once the server has stopped reading.
                let accepted = tokio::select! {
                    c = tcp.accept() => c,
                    _ = tx.closed() => break,
                };
                let Ok((stream, peer)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let acceptor = acceptor.clone();
                let conn_tx = tx.clone();
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                    if let Ok(Ok(tls)) = handshake.await {
                        let _ = conn_tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener { rx, addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The acceptor ended: serve nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
