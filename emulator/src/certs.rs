//! X.509 certificates: the seeded apps' self-signed certificates (built at seed
//! time from key material committed under `fixtures/`, so seeding is fast) and
//! parsing of certificates registered through Graph.

use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use der::{Decode, Encode};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

/// The emulator's token-signing key.
pub const SIGNING_KEY_PEM: &str = include_str!("../fixtures/signing.key.pem");
/// Key of the seeded app whose certificate has expired.
pub const APP_EXPIRED_KEY_PEM: &str = include_str!("../fixtures/app-expired.key.pem");
/// Key of the seeded app whose secret is about to expire (it has a valid certificate too).
pub const APP_SECRET_KEY_PEM: &str = include_str!("../fixtures/app-secret.key.pem");
/// Key of the seeded app that misses Azure roles.
pub const APP_ROLES_KEY_PEM: &str = include_str!("../fixtures/app-roles.key.pem");
/// A spare key for tests and for the `large:N` seed.
pub const TEST_CLIENT_KEY_PEM: &str = include_str!("../fixtures/test-client.key.pem");

pub fn private_key(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).expect("fixture keys are valid PKCS#8 RSA keys")
}

/// Builds a self-signed RSA certificate valid from `not_before` to `not_after` (Unix seconds).
pub fn self_signed(
    key: &RsaPrivateKey,
    common_name: &str,
    not_before: i64,
    not_after: i64,
    serial: u32,
) -> Vec<u8> {
    let signer = SigningKey::<Sha256>::new(key.clone());
    let spki_der = rsa::pkcs8::EncodePublicKey::to_public_key_der(&key.to_public_key())
        .expect("public key encodes");
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).expect("spki decodes");
    let time = |t: i64| {
        Time::try_from(UNIX_EPOCH + Duration::from_secs(t.max(0) as u64)).expect("time in range")
    };
    let validity = Validity {
        not_before: time(not_before),
        not_after: time(not_after),
    };
    let subject = Name::from_str(&format!("CN={common_name}")).expect("valid name");
    let serial = SerialNumber::from(serial.max(1));
    let builder = CertificateBuilder::new(
        Profile::Leaf {
            issuer: subject.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        serial,
        validity,
        subject,
        spki,
        &signer,
    )
    .expect("certificate builder");
    let cert = builder
        .build::<rsa::pkcs1v15::Signature>()
        .expect("certificate signs");
    cert.to_der().expect("certificate encodes")
}

/// What the emulator needs to know about a certificate registered on an application.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub public_key: RsaPublicKey,
    pub sha1: [u8; 20],
    pub sha256: [u8; 32],
    pub not_before: i64,
    pub not_after: i64,
    pub subject: String,
}

impl CertInfo {
    /// Uppercase hex SHA-1 thumbprint, as Entra prints it.
    pub fn thumbprint_hex(&self) -> String {
        self.sha1.iter().map(|b| format!("{b:02X}")).collect()
    }
    pub fn x5t(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.sha1)
    }
    pub fn x5t_s256(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.sha256)
    }
}

pub fn parse_certificate(der_bytes: &[u8]) -> Result<CertInfo, String> {
    let cert =
        Certificate::from_der(der_bytes).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let spki_der = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let public_key = RsaPublicKey::from_public_key_der(&spki_der)
        .map_err(|_| "the certificate's key is not an RSA key".to_string())?;
    Ok(CertInfo {
        public_key,
        sha1: Sha1::digest(der_bytes).into(),
        sha256: Sha256::digest(der_bytes).into(),
        not_before: tbs.validity.not_before.to_unix_duration().as_secs() as i64,
        not_after: tbs.validity.not_after.to_unix_duration().as_secs() as i64,
        subject: tbs.subject.to_string(),
    })
}

pub fn parse_certificate_b64(key: &str) -> Result<CertInfo, String> {
    let der_bytes = Base64::decode_vec(key.trim()).map_err(|_| "key is not base64".to_string())?;
    parse_certificate(&der_bytes)
}

/// Base64url modulus and exponent, for JWKS and for jsonwebtoken's DecodingKey.
pub fn rsa_components(key: &RsaPublicKey) -> (String, String) {
    (
        Base64UrlUnpadded::encode_string(&key.n().to_bytes_be()),
        Base64UrlUnpadded::encode_string(&key.e().to_bytes_be()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses_a_self_signed_certificate() {
        let key = private_key(TEST_CLIENT_KEY_PEM);
        let der_bytes = self_signed(&key, "unit", 1_700_000_000, 1_800_000_000, 7);
        let info = parse_certificate(&der_bytes).unwrap();
        assert_eq!(info.not_before, 1_700_000_000);
        assert_eq!(info.not_after, 1_800_000_000);
        assert_eq!(info.subject, "CN=unit");
        assert_eq!(info.public_key, key.to_public_key());
        assert_eq!(info.thumbprint_hex().len(), 40);
        assert!(parse_certificate(b"junk").is_err());
    }
}
