//! X.509 certificates: parse any certificate (DER or PEM) into the facts the
//! wizards show, and check them for problems worth a warning.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::asn1::{BmpString, Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::referenced::OwnedToRef;
use der::{Decode, Encode, Tag, Tagged};
use serde::Serialize;
use x509_cert::name::Name;

use crate::core::key::RsaKey;
use crate::core::thumbprint::{hex_upper, sha1_hex, sha256_hex};
use crate::core::time::{DAY, UnixTime};

/// A DER-encoded X.509 certificate that is known to parse.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
}

impl core::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Certificate")
            .field("sha1", &sha1_hex(&self.der))
            .finish()
    }
}

/// What kind of public key a certificate (or a PFX private key) holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KeyKind {
    Rsa {
        bits: usize,
    },
    /// `curve` is the NIST name when there is one ("P-256"), else the
    /// SEC name or the dotted OID.
    Ec {
        curve: String,
    },
    Other {
        algorithm: String,
    },
}

/// The tagged form read as one flat object: serde's derive for a tagged
/// enum buffers the whole object first, ~10 KB of the page's wasm for the
/// crypto worker's answers.
impl<'de> serde::Deserialize<'de> for KeyKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Type {
            Rsa,
            Ec,
            Other,
        }
        #[derive(serde::Deserialize)]
        struct Flat {
            #[serde(rename = "type")]
            kind: Type,
            bits: Option<usize>,
            curve: Option<String>,
            algorithm: Option<String>,
        }
        let f = Flat::deserialize(d)?;
        Ok(match f.kind {
            Type::Rsa => KeyKind::Rsa {
                bits: f.bits.ok_or_else(|| D::Error::missing_field("bits"))?,
            },
            Type::Ec => KeyKind::Ec {
                curve: f.curve.ok_or_else(|| D::Error::missing_field("curve"))?,
            },
            Type::Other => KeyKind::Other {
                algorithm: f
                    .algorithm
                    .ok_or_else(|| D::Error::missing_field("algorithm"))?,
            },
        })
    }
}

impl core::fmt::Display for KeyKind {
    /// "RSA-2048", "EC-P-256", or the algorithm's name.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyKind::Ec { curve } => write!(f, "EC-{curve}"),
            KeyKind::Other { algorithm } => f.write_str(algorithm),
        }
    }
}

/// The facts about a certificate that the wizards display and check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// RFC 4514 string (most specific RDN first), e.g. `CN=backup,O=Contoso`.
    pub subject: String,
    pub subject_cn: Option<String>,
    pub issuer: String,
    pub issuer_cn: Option<String>,
    /// Upper-case hex of the serial number, without sign padding.
    pub serial_hex: String,
    pub not_before: UnixTime,
    pub not_after: UnixTime,
    pub key: KeyKind,
    /// E.g. "sha256WithRSAEncryption", "ecdsa-with-SHA256".
    pub signature_algorithm: String,
    /// SHA-1 thumbprint (upper-case hex), as the Entra portal shows it.
    pub sha1: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, serde::Deserialize)]
pub enum CertificateError {
    #[error(
        "This is a PEM private key, not a certificate. Choose the certificate file (.cer/.crt/.pem), or a PFX (.pfx/.p12) that holds both."
    )]
    PemPrivateKey,
    #[error("This is not an X.509 certificate: {0}. Choose a .cer, .crt or .pem certificate file.")]
    NotACertificate(String),
    #[error("The certificate could not be created: {0}")]
    Build(String),
}

impl CertificateError {
    /// A stable machine-readable name for the error.
    pub fn kind(&self) -> &'static str {
        match self {
            CertificateError::PemPrivateKey => "pem_private_key",
            CertificateError::NotACertificate(_) => "not_certificate",
            CertificateError::Build(_) => "build_failed",
        }
    }
}

impl Certificate {
    /// Wraps DER bytes after checking that they decode as a certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        x509_cert::Certificate::from_der(der)
            .map_err(|e| CertificateError::NotACertificate(e.to_string()))?;
        Ok(Self { der: der.to_vec() })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn into_der(self) -> Vec<u8> {
        self.der
    }

    pub fn to_pem(&self) -> String {
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &self.der)
            .expect("PEM encoding of an in-memory DER buffer cannot fail")
    }

    /// SHA-1 thumbprint, upper-case hex.
    pub fn sha1_hex(&self) -> String {
        sha1_hex(&self.der)
    }

    pub(crate) fn x509(&self) -> x509_cert::Certificate {
        x509_cert::Certificate::from_der(&self.der).expect("checked at construction")
    }

    /// The certificate's SubjectPublicKeyInfo, DER-encoded.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.x509()
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .expect("re-encoding a decoded SPKI cannot fail")
    }

    pub fn info(&self) -> Result<CertificateInfo, CertificateError> {
        let cert = self.x509();
        let tbs = &cert.tbs_certificate;
        let spki = &tbs.subject_public_key_info;
        let key = key_kind_of_spki(
            spki.algorithm.oid,
            spki.algorithm.parameters.as_ref(),
            spki.subject_public_key.raw_bytes(),
        );
        Ok(CertificateInfo {
            subject: rfc4514(&tbs.subject),
            subject_cn: common_name(&tbs.subject),
            issuer: rfc4514(&tbs.issuer),
            issuer_cn: common_name(&tbs.issuer),
            serial_hex: serial_hex(tbs.serial_number.as_bytes()),
            not_before: UnixTime(tbs.validity.not_before.to_unix_duration().as_secs()),
            not_after: UnixTime(tbs.validity.not_after.to_unix_duration().as_secs()),
            key,
            signature_algorithm: algorithm_name(&cert.signature_algorithm.oid),
            sha1: sha1_hex(&self.der),
            sha256: sha256_hex(&self.der),
        })
    }

    /// Issuer equals subject and (for RSA) the signature verifies with the
    /// certificate's own key. Kept out of [`Certificate::info`], which the
    /// page calls: no wizard shows or checks it, and the RSA verification
    /// would be 18 KB gzip of the page's first load.
    pub fn is_self_signed(&self) -> bool {
        let cert = self.x509();
        let tbs = &cert.tbs_certificate;
        tbs.issuer == tbs.subject && verifies_with_own_key(&cert)
    }
}

/// Reads one X.509 certificate, DER or PEM (the first one of a PEM bundle).
pub fn parse(input: &[u8]) -> Result<Certificate, CertificateError> {
    let trimmed = trim_ascii_start(input);
    if trimmed.starts_with(b"-----BEGIN") {
        let text = core::str::from_utf8(trimmed)
            .map_err(|_| CertificateError::NotACertificate("the PEM text is not UTF-8".into()))?;
        return parse_pem_first(text);
    }
    Certificate::from_der(input)
}

/// Every certificate of a PEM bundle, in order.
pub fn parse_pem_all(text: &str) -> Result<Vec<Certificate>, CertificateError> {
    let mut out = Vec::new();
    for block in pem_blocks(text) {
        let (label, der) = der::pem::decode_vec(block.as_bytes())
            .map_err(|e| CertificateError::NotACertificate(format!("bad PEM: {e}")))?;
        if matches!(
            label,
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
        ) {
            out.push(Certificate::from_der(&der)?);
        }
    }
    Ok(out)
}

fn parse_pem_first(text: &str) -> Result<Certificate, CertificateError> {
    let mut saw_key = false;
    for block in pem_blocks(text) {
        let label = block
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("-----BEGIN "))
            .and_then(|l| l.trim_end().strip_suffix("-----"))
            .unwrap_or("");
        if label.contains("PRIVATE KEY") {
            saw_key = true;
            continue;
        }
        if matches!(
            label,
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
        ) {
            let (_, der) = der::pem::decode_vec(block.as_bytes())
                .map_err(|e| CertificateError::NotACertificate(format!("bad PEM: {e}")))?;
            return Certificate::from_der(&der);
        }
    }
    if saw_key {
        Err(CertificateError::PemPrivateKey)
    } else {
        Err(CertificateError::NotACertificate(
            "no CERTIFICATE block in the PEM text".into(),
        ))
    }
}

/// Splits PEM text into `-----BEGIN … -----END …-----` blocks.
pub(crate) fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with("-----BEGIN ") {
            current = Some(String::new());
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
            if line.starts_with("-----END ") {
                blocks.extend(current.take());
            }
        }
    }
    blocks
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    // A UTF-8 byte-order mark before PEM text.
    let rest = &b[start..];
    rest.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(rest)
}

fn serial_hex(bytes: &[u8]) -> String {
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    hex_upper(&bytes[first..])
}

/// The value of the last CN attribute of a name (the most specific one).
pub(crate) fn common_name(name: &Name) -> Option<String> {
    const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == CN)
        .filter_map(|atv| directory_string(&atv.value))
        .next_back()
}

/// Decodes the string types a DirectoryString may use.
fn directory_string(value: &der::Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String => Utf8StringRef::try_from(value)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::PrintableString => PrintableStringRef::try_from(value)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::Ia5String => Ia5StringRef::try_from(value)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::TeletexString => TeletexStringRef::try_from(value)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::BmpString => value.decode_as::<BmpString>().ok().map(|s| s.to_string()),
        _ => None,
    }
}

pub(crate) const RSA_ENCRYPTION: ObjectIdentifier = rfc5912::RSA_ENCRYPTION;
pub(crate) const ID_EC_PUBLIC_KEY: ObjectIdentifier = rfc5912::ID_EC_PUBLIC_KEY;

/// Names a public key from its SPKI algorithm, parameters and key bits.
pub(crate) fn key_kind_of_spki(
    algorithm: ObjectIdentifier,
    parameters: Option<&der::Any>,
    key_bits: &[u8],
) -> KeyKind {
    if algorithm == RSA_ENCRYPTION {
        return match rsa::pkcs1::RsaPublicKey::from_der(key_bits) {
            Ok(k) => KeyKind::Rsa {
                bits: uint_bits(k.modulus.as_bytes()),
            },
            Err(_) => KeyKind::Other {
                algorithm: "rsaEncryption (malformed key)".into(),
            },
        };
    }
    if algorithm == ID_EC_PUBLIC_KEY {
        let curve = parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .map(|oid| curve_name(&oid))
            .unwrap_or_else(|| "unknown-curve".into());
        return KeyKind::Ec { curve };
    }
    KeyKind::Other {
        algorithm: algorithm_name(&algorithm),
    }
}

/// The bit length of a big-endian unsigned integer.
pub(crate) fn uint_bits(bytes: &[u8]) -> usize {
    match bytes.iter().position(|b| *b != 0) {
        Some(i) => (bytes.len() - i) * 8 - bytes[i].leading_zeros() as usize,
        None => 0,
    }
}

pub(crate) fn curve_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.10045.3.1.7" => "P-256".into(),
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        "1.2.840.10045.3.1.1" => "P-192".into(),
        "1.3.132.0.33" => "P-224".into(),
        _ => oid.to_string(),
    }
}

/// The key and signature algorithms a certificate may name, by their RFC
/// names. A table of our own rather than const-oid's database: that one
/// holds 1,124 OIDs and cost ~25 KB gzip of the page's first load for the
/// dozen a certificate uses (a test keeps the names equal to its).
const ALGORITHM_NAMES: &[(ObjectIdentifier, &str)] = &[
    (rfc5912::RSA_ENCRYPTION, "rsaEncryption"),
    (rfc5912::ID_RSASSA_PSS, "id-RSASSA-PSS"),
    (rfc5912::ID_RSAES_OAEP, "id-RSAES-OAEP"),
    (rfc5912::MD_5_WITH_RSA_ENCRYPTION, "md5WithRSAEncryption"),
    (rfc5912::SHA_1_WITH_RSA_ENCRYPTION, "sha1WithRSAEncryption"),
    (
        rfc5912::SHA_224_WITH_RSA_ENCRYPTION,
        "sha224WithRSAEncryption",
    ),
    (
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
        "sha256WithRSAEncryption",
    ),
    (
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
        "sha384WithRSAEncryption",
    ),
    (
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
        "sha512WithRSAEncryption",
    ),
    (rfc5912::ID_EC_PUBLIC_KEY, "id-ecPublicKey"),
    (rfc5912::ECDSA_WITH_SHA_224, "ecdsa-with-SHA224"),
    (rfc5912::ECDSA_WITH_SHA_256, "ecdsa-with-SHA256"),
    (rfc5912::ECDSA_WITH_SHA_384, "ecdsa-with-SHA384"),
    (rfc5912::ECDSA_WITH_SHA_512, "ecdsa-with-SHA512"),
    (rfc5912::ID_DSA, "id-dsa"),
    (rfc5912::DSA_WITH_SHA_1, "dsa-with-sha1"),
    (ObjectIdentifier::new_unwrap("1.3.101.110"), "id-X25519"),
    (ObjectIdentifier::new_unwrap("1.3.101.111"), "id-X448"),
    // Named as people know them (const-oid says id-Ed25519).
    (ObjectIdentifier::new_unwrap("1.3.101.112"), "Ed25519"),
    (ObjectIdentifier::new_unwrap("1.3.101.113"), "Ed448"),
];

/// A readable name for an algorithm OID: its RFC name when it is one a
/// certificate commonly carries, else the dotted OID.
pub(crate) fn algorithm_name(oid: &ObjectIdentifier) -> String {
    ALGORITHM_NAMES
        .iter()
        .find(|(o, _)| o == oid)
        .map_or_else(|| oid.to_string(), |(_, name)| (*name).to_owned())
}

/// Short names of the attribute types in certificate names (RFC 4519,
/// PKCS #9), as RFC 4514 writes them.
const ATTRIBUTE_NAMES: &[(ObjectIdentifier, &str)] = &[
    (ObjectIdentifier::new_unwrap("2.5.4.3"), "CN"),
    (ObjectIdentifier::new_unwrap("2.5.4.4"), "SN"),
    (ObjectIdentifier::new_unwrap("2.5.4.5"), "SERIALNUMBER"),
    (ObjectIdentifier::new_unwrap("2.5.4.6"), "C"),
    (ObjectIdentifier::new_unwrap("2.5.4.7"), "L"),
    (ObjectIdentifier::new_unwrap("2.5.4.8"), "ST"),
    (ObjectIdentifier::new_unwrap("2.5.4.9"), "STREET"),
    (ObjectIdentifier::new_unwrap("2.5.4.10"), "O"),
    (ObjectIdentifier::new_unwrap("2.5.4.11"), "OU"),
    (ObjectIdentifier::new_unwrap("2.5.4.12"), "TITLE"),
    (ObjectIdentifier::new_unwrap("2.5.4.42"), "GIVENNAME"),
    (ObjectIdentifier::new_unwrap("2.5.4.43"), "INITIALS"),
    (ObjectIdentifier::new_unwrap("2.5.4.46"), "DNQUALIFIER"),
    (ObjectIdentifier::new_unwrap("2.5.4.65"), "PSEUDONYM"),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1"),
        "UID",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.25"),
        "DC",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1"),
        "EMAIL",
    ),
];

/// A name in its RFC 4514 string form (`CN=…,O=…`: most specific first,
/// special characters escaped, unknown types as `OID=#hex`) — the form
/// x509-cert's `Display` writes, without its OID database.
pub(crate) fn rfc4514(name: &Name) -> String {
    use core::fmt::Write;
    let mut out = String::new();
    for (i, rdn) in name.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let key = ATTRIBUTE_NAMES
                .iter()
                .find(|(o, _)| *o == atv.oid)
                .map(|(_, k)| *k);
            match (key, rfc4514_string(&atv.value)) {
                (Some(key), Some(value)) => {
                    out.push_str(key);
                    out.push('=');
                    let mut chars = value.char_indices().peekable();
                    while let Some((k, c)) = chars.next() {
                        match c {
                            '#' if k == 0 => out.push_str("\\#"),
                            ' ' if k == 0 || chars.peek().is_none() => out.push_str("\\ "),
                            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                                out.push('\\');
                                out.push(c);
                            }
                            '\x00'..='\x1f' | '\x7f' => {
                                let _ = write!(out, "\\{:02x}", c as u8);
                            }
                            _ => out.push(c),
                        }
                    }
                }
                _ => {
                    let _ = write!(out, "{}=#", atv.oid);
                    for b in atv.value.to_der().unwrap_or_default() {
                        let _ = write!(out, "{b:02x}");
                    }
                }
            }
        }
    }
    out
}

/// The string types RFC 4514 writes as text (BMPString is written as hex).
fn rfc4514_string(value: &der::Any) -> Option<String> {
    match value.tag() {
        Tag::BmpString => None,
        _ => directory_string(value),
    }
}

/// For RSA certificates with a PKCS#1 v1.5 signature: does the signature
/// verify with the certificate's own public key? Other algorithms cannot be
/// checked here, so a matching issuer and subject is taken as enough.
fn verifies_with_own_key(cert: &x509_cert::Certificate) -> bool {
    use rsa::pkcs1v15::Pkcs1v15Sign;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return true;
    }
    let Ok(pk) = rsa::RsaPublicKey::try_from(spki.owned_to_ref()) else {
        return false;
    };
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    let Some(sig) = cert.signature.as_bytes() else {
        return false;
    };
    let oid = cert.signature_algorithm.oid;
    let result = if oid == rfc5912::SHA_256_WITH_RSA_ENCRYPTION {
        pk.verify(Pkcs1v15Sign::new::<sha2::Sha256>(), &sha256(&tbs), sig)
    } else if oid == rfc5912::SHA_384_WITH_RSA_ENCRYPTION {
        use sha2::Digest;
        pk.verify(
            Pkcs1v15Sign::new::<sha2::Sha384>(),
            &sha2::Sha384::digest(&tbs),
            sig,
        )
    } else if oid == rfc5912::SHA_512_WITH_RSA_ENCRYPTION {
        use sha2::Digest;
        pk.verify(
            Pkcs1v15Sign::new::<sha2::Sha512>(),
            &sha2::Sha512::digest(&tbs),
            sig,
        )
    } else if oid == rfc5912::SHA_1_WITH_RSA_ENCRYPTION {
        use sha1::Digest;
        pk.verify(
            Pkcs1v15Sign::new::<sha1::Sha1>(),
            &sha1::Sha1::digest(&tbs),
            sig,
        )
    } else {
        // PSS, MD5 and others: trust the names.
        return true;
    };
    result.is_ok()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data).to_vec()
}

/// Something about a certificate that is allowed but deserves the admin's
/// attention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// `not_after` is in the past.
    Expired { not_after: UnixTime },
    /// `not_before` is in the future.
    NotYetValid { not_before: UnixTime },
    /// Expires within [`EXPIRY_WARNING_DAYS`].
    ExpiresSoon { not_after: UnixTime, days: i64 },
    /// Signed with SHA-1 (or MD5).
    WeakSignature { algorithm: String },
    /// An RSA key under 2048 bits.
    SmallKey { bits: usize },
}

/// How many days before expiry a certificate earns a warning.
pub const EXPIRY_WARNING_DAYS: u64 = 30;

impl Warning {
    /// A stable machine-readable name for the warning.
    pub fn kind(&self) -> &'static str {
        match self {
            Warning::Expired { .. } => "expired",
            Warning::NotYetValid { .. } => "not_yet_valid",
            Warning::ExpiresSoon { .. } => "expires_soon",
            Warning::WeakSignature { .. } => "sha1_signature",
            Warning::SmallKey { .. } => "small_key",
        }
    }

    /// A sentence for the admin, saying what to do.
    pub fn message(&self) -> String {
        match self {
            Warning::Expired { not_after } => format!(
                "This certificate expired on {not_after}. Entra rejects sign-ins with it (AADSTS700027): generate or upload a new certificate."
            ),
            Warning::NotYetValid { not_before } => format!(
                "This certificate is not valid until {not_before}. Sign-ins fail until then; check the computer's clock or use another certificate."
            ),
            Warning::ExpiresSoon { not_after, days } => format!(
                "This certificate expires on {not_after}, in {days} day{}. Plan its renewal now.",
                if *days == 1 { "" } else { "s" }
            ),
            Warning::WeakSignature { algorithm } => format!(
                "This certificate is signed with {algorithm}, which is no longer secure. Prefer a certificate signed with SHA-256."
            ),
            Warning::SmallKey { bits } => format!(
                "This certificate's RSA key has only {bits} bits. Use a key of 2048 bits or more."
            ),
        }
    }
}

impl core::fmt::Display for Warning {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message())
    }
}

/// The warnings a certificate earns at time `now`.
pub fn warnings(info: &CertificateInfo, now: UnixTime) -> Vec<Warning> {
    let mut out = Vec::new();
    if info.not_after < now {
        out.push(Warning::Expired {
            not_after: info.not_after,
        });
    } else if info.not_after.0 - now.0 <= EXPIRY_WARNING_DAYS * DAY {
        out.push(Warning::ExpiresSoon {
            not_after: info.not_after,
            days: now.days_until(info.not_after),
        });
    }
    if info.not_before > now {
        out.push(Warning::NotYetValid {
            not_before: info.not_before,
        });
    }
    let alg = info.signature_algorithm.to_ascii_lowercase();
    if alg.contains("sha1") || alg.contains("sha-1") || alg.contains("md5") || alg.contains("md2") {
        out.push(Warning::WeakSignature {
            algorithm: info.signature_algorithm.clone(),
        });
    }
    if let KeyKind::Rsa { bits } = info.key
        && bits < 2048
    {
        out.push(Warning::SmallKey { bits });
    }
    out
}

/// What a new self-signed certificate says about its subject.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CertificateRequest {
    pub common_name: String,
    pub organization: Option<String>,
    pub organizational_unit: Option<String>,
}

/// Upper bound of a common name, organization and unit (RFC 5280 ub-*).
const NAME_MAX_CHARS: usize = 64;

impl CertificateRequest {
    pub fn new(common_name: impl Into<String>) -> Self {
        Self {
            common_name: common_name.into(),
            ..Self::default()
        }
    }

    /// The subject name, most general attribute first (O, OU, CN), so that
    /// its RFC 4514 form reads `CN=…,OU=…,O=…`.
    fn subject(&self) -> Result<Name, CertificateError> {
        use const_oid::db::rfc4519::{CN, O, OU};
        use x509_cert::attr::AttributeTypeAndValue;
        use x509_cert::name::{RdnSequence, RelativeDistinguishedName};

        let cn = self.common_name.trim();
        if cn.is_empty() {
            return Err(CertificateError::Build(
                "the certificate needs a subject name (common name)".into(),
            ));
        }
        let mut attrs = Vec::new();
        for (oid, label, value) in [
            (O, "organization", self.organization.as_deref()),
            (
                OU,
                "organizational unit",
                self.organizational_unit.as_deref(),
            ),
            (CN, "common name", Some(cn)),
        ] {
            let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
                continue;
            };
            if value.chars().count() > NAME_MAX_CHARS {
                return Err(CertificateError::Build(format!(
                    "the {label} is longer than {NAME_MAX_CHARS} characters"
                )));
            }
            let value =
                der::Any::encode_from(&der::asn1::Utf8StringRef::new(value).map_err(|e| {
                    CertificateError::Build(format!("the {label} cannot be encoded: {e}"))
                })?)
                .map_err(|e| CertificateError::Build(e.to_string()))?;
            let rdn = der::asn1::SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }])
                .map_err(|e| CertificateError::Build(e.to_string()))?;
            attrs.push(RelativeDistinguishedName(rdn));
        }
        Ok(RdnSequence(attrs))
    }
}

/// Encodes an instant as RFC 5280 wants: UTCTime until 2049, then
/// GeneralizedTime.
fn x509_time(t: UnixTime) -> Result<x509_cert::time::Time, CertificateError> {
    use der::asn1::{GeneralizedTime, UtcTime};
    let dt = t.to_der();
    Ok(if dt.year() < 2050 {
        x509_cert::time::Time::UtcTime(
            UtcTime::from_date_time(dt).map_err(|e| CertificateError::Build(e.to_string()))?,
        )
    } else {
        x509_cert::time::Time::GeneralTime(GeneralizedTime::from_date_time(dt))
    })
}

/// Makes a self-signed X.509 v3 certificate for `key`: SHA-256 with RSA
/// (PKCS#1 v1.5), issuer = subject, the serial from `serial` (random bytes,
/// made positive and non-zero), basicConstraints CA:false and keyUsage
/// digitalSignature + keyEncipherment (both critical), extKeyUsage clientAuth
/// + serverAuth and a subjectKeyIdentifier (SHA-1 of the public key).
pub fn self_signed(
    key: &RsaKey,
    req: &CertificateRequest,
    serial: [u8; 10],
    not_before: UnixTime,
    not_after: UnixTime,
) -> Result<Certificate, CertificateError> {
    use const_oid::AssociatedOid;
    use der::asn1::{BitString, OctetString};
    use signature::{SignatureEncoding, Signer};
    use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
    use x509_cert::certificate::{TbsCertificate, Version};
    use x509_cert::ext::Extension;
    use x509_cert::ext::pkix::{
        BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
    };

    let build = |e: &dyn core::fmt::Display| CertificateError::Build(e.to_string());
    if not_after <= not_before {
        return Err(CertificateError::Build(
            "the certificate must end after it starts".into(),
        ));
    }
    let mut serial = serial;
    serial[0] &= 0x7F;
    if serial.iter().all(|b| *b == 0) {
        serial[9] = 1;
    }
    let subject = req.subject()?;
    let spki = SubjectPublicKeyInfoOwned::from_der(&key.public_key_der()).map_err(|e| build(&e))?;
    let ski = {
        use sha1::Digest;
        sha1::Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
    };

    fn ext<T: AssociatedOid + Encode>(
        value: &T,
        critical: bool,
    ) -> Result<Extension, CertificateError> {
        let der = value
            .to_der()
            .map_err(|e| CertificateError::Build(e.to_string()))?;
        Ok(Extension {
            extn_id: T::OID,
            critical,
            extn_value: OctetString::new(der)
                .map_err(|e| CertificateError::Build(e.to_string()))?,
        })
    }
    let extensions = vec![
        ext(
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
            true,
        )?,
        ext(
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment),
            true,
        )?,
        ext(
            &ExtendedKeyUsage(vec![
                const_oid::db::rfc5280::ID_KP_CLIENT_AUTH,
                const_oid::db::rfc5280::ID_KP_SERVER_AUTH,
            ]),
            false,
        )?,
        ext(
            &SubjectKeyIdentifier(OctetString::new(ski).map_err(|e| build(&e))?),
            false,
        )?,
    ];

    let signature_algorithm = AlgorithmIdentifierOwned {
        oid: rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
        parameters: Some(der::asn1::Null.into()),
    };
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: x509_cert::serial_number::SerialNumber::new(&serial)
            .map_err(|e| build(&e))?,
        signature: signature_algorithm.clone(),
        issuer: subject.clone(),
        validity: x509_cert::time::Validity {
            not_before: x509_time(not_before)?,
            not_after: x509_time(not_after)?,
        },
        subject,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().map_err(|e| build(&e))?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.rsa().clone());
    let signature = signer.try_sign(&tbs_der).map_err(|e| build(&e))?.to_vec();
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm,
        signature: BitString::from_bytes(&signature).map_err(|e| build(&e))?,
    };
    Certificate::from_der(&cert.to_der().map_err(|e| build(&e))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_hex_strips_sign_padding() {
        assert_eq!(serial_hex(&[0x00, 0x80, 0x01]), "8001");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(serial_hex(&[0x12]), "12");
    }

    #[test]
    fn uint_bits_counts_significant_bits() {
        assert_eq!(uint_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(uint_bits(&[0x01]), 1);
        assert_eq!(uint_bits(&[0x00]), 0);
    }

    #[test]
    fn algorithm_names_are_const_oids_names() {
        for (oid, name) in ALGORITHM_NAMES {
            if name.starts_with("Ed") {
                continue;
            }
            if let Some(db) = const_oid::db::DB.by_oid(oid) {
                assert_eq!(db, *name, "{oid}");
            }
        }
        assert_eq!(
            algorithm_name(&ObjectIdentifier::new_unwrap("1.2.3.4")),
            "1.2.3.4"
        );
    }

    #[test]
    fn rfc4514_matches_x509_cert_display() {
        use core::str::FromStr;
        use x509_cert::attr::AttributeTypeAndValue;
        use x509_cert::name::{RdnSequence, RelativeDistinguishedName};

        let mut names: Vec<Name> = [
            "CN=Backup Azure SA,O=Contoso\\, Ltd,C=US",
            "CN=\\#lead\\ ,OU=a\\+b,OU=c\\;d,L=x\\<y\\>z,ST=\\\"q\\\"",
            "UID=jdoe,DC=contoso,DC=com",
            "CN=Ünïcode ☃,O=back\\\\slash",
        ]
        .iter()
        .map(|s| Name::from_str(s).unwrap())
        .collect();
        // Every attribute type of the table, and one it does not know.
        let mut rdns = Vec::new();
        for oid in ATTRIBUTE_NAMES
            .iter()
            .map(|(o, _)| *o)
            .chain([ObjectIdentifier::new_unwrap("1.2.3.4.5")])
        {
            let value = der::asn1::Utf8StringRef::new("v").unwrap();
            let atv = AttributeTypeAndValue {
                oid,
                value: der::Any::from(value),
            };
            rdns.push(RelativeDistinguishedName::try_from(vec![atv]).unwrap());
        }
        names.push(RdnSequence(rdns));
        // A BMPString value is written as hex, like an unknown type.
        let bmp = der::asn1::BmpString::from_utf8("bmp").unwrap();
        let atv = AttributeTypeAndValue {
            oid: ObjectIdentifier::new_unwrap("2.5.4.3"),
            value: der::Any::encode_from(&bmp).unwrap(),
        };
        names.push(RdnSequence(vec![
            RelativeDistinguishedName::try_from(vec![atv]).unwrap(),
        ]));
        for name in &names {
            assert_eq!(rfc4514(name), name.to_string());
        }
    }

    #[test]
    fn names_algorithms_and_curves() {
        assert_eq!(
            algorithm_name(&rfc5912::SHA_256_WITH_RSA_ENCRYPTION),
            "sha256WithRSAEncryption"
        );
        assert_eq!(
            algorithm_name(&rfc5912::ECDSA_WITH_SHA_256),
            "ecdsa-with-SHA256"
        );
        assert_eq!(curve_name(&rfc5912::SECP_256_R_1), "P-256");
    }

    #[test]
    fn rejects_garbage_and_pem_keys() {
        assert_eq!(parse(b"hello").unwrap_err().kind(), "not_certificate");
        let pem_key = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            parse(pem_key.as_bytes()).unwrap_err(),
            CertificateError::PemPrivateKey
        );
    }

    /// A public certificate made by `openssl req -x509 -newkey rsa:1024
    /// -sha256 -set_serial 0x00ABCDEF` (no private key is kept).
    const RSA1024_PEM: &str = "-----BEGIN CERTIFICATE-----\n\
MIICSDCCAbGgAwIBAgIEAKvN7zANBgkqhkiG9w0BAQsFADA+MRQwEgYDVQQDDAtG\n\
aXh0dXJlIFJTQTEVMBMGA1UECgwMQ29udG9zbywgTHRkMQ8wDQYDVQQLDAZCYWNr\n\
dXAwHhcNMjYxMTIyMTM1ODMwWhcNMzYxMTE5MTM1ODMwWjA+MRQwEgYDVQQDDAtG\n\
aXh0dXJlIFJTQTEVMBMGA1UECgwMQ29udG9zbywgTHRkMQ8wDQYDVQQLDAZCYWNr\n\
dXAwgZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGBANUV7pwcxFDqLoKKkgf0IEns\n\
OOPb9wdmj8lYnPY5RKl+JDm3lGRxFlI2Y8jqd8IiRmYeu75+y94RTng6FR89iG8v\n\
G3Ej7Y+QqomB6oQGrYHEixSVVRL6lFwoW59+RsAIwVCsU3nRbL2/Ix6F+do41D4r\n\
gwAFVMGQ+20ESdKRwz2hAgMBAAGjUzBRMB0GA1UdDgQWBBSxlYA3RCGyQaoHAPEV\n\
H4hIHlRIijAfBgNVHSMEGDAWgBSxlYA3RCGyQaoHAPEVH4hIHlRIijAPBgNVHRMB\n\
Af8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4GBAIdiDbqPgOI5ZKdwqfaKQH6gxtRA\n\
O9jCwe5VVkzj0e+Zo+EkVmWzWOBSpFxsIzV2RKnCrKG5JFWTcCwEJ+NtBN/fsKzO\n\
CPf2L/8gLkX/0wgDoES27rcMdhgSpBRy2kJX4s3cEg3HueTCn+NgjCfMFgkEOwSh\n\
5eu7votPk0ZtMOpJ\n\
-----END CERTIFICATE-----\n\
";
    /// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256`.
    const EC_P256_PEM: &str = "-----BEGIN CERTIFICATE-----\n\
MIIBfzCCASWgAwIBAgIUFb5waMuRql5Qog3t3pUBdSiAspYwCgYIKoZIzj0EAwIw\n\
FTETMBEGA1UEAwwKRml4dHVyZSBFQzAeFw0yNjExMjIxMzU4MzJaFw0yNzExMjIx\n\
MzU4MzJaMBUxEzARBgNVBAMMCkZpeHR1cmUgRUMwWTATBgcqhkjOPQIBBggqhkjO\n\
PQMBBwNCAATZbC33Z+Wpp2dMye2VeEALNqmHLwL/IIx+uIvCe39DvvXuqWrCnRLH\n\
Vt+f+fo9Z7oSVNgXEtlxoUyDEyjHqGKho1MwUTAdBgNVHQ4EFgQUfg2aioVWf0pl\n\
Gfb3QSBmerinGXMwHwYDVR0jBBgwFoAUfg2aioVWf0plGfb3QSBmerinGXMwDwYD\n\
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiB0yL+1EKXnj/Fc8p51n+XT\n\
iBsrGtSZWK4Tcs6+ruvtSQIhALOw8eIVFOqEJQB5GwjgIl/JfQfEdOOrdnuaxrD0\n\
8v+g\n\
-----END CERTIFICATE-----\n\
";

    #[test]
    fn parses_an_openssl_rsa_certificate() {
        let cert = parse(RSA1024_PEM.as_bytes()).unwrap();
        let info = cert.info().unwrap();
        assert_eq!(info.subject, "OU=Backup,O=Contoso\\, Ltd,CN=Fixture RSA");
        assert_eq!(info.subject_cn.as_deref(), Some("Fixture RSA"));
        assert_eq!(info.issuer, info.subject);
        assert_eq!(info.issuer_cn.as_deref(), Some("Fixture RSA"));
        assert_eq!(info.serial_hex, "ABCDEF");
        assert_eq!(info.not_before, UnixTime(1_795_355_910));
        assert_eq!(info.not_after, UnixTime(2_110_715_910));
        assert_eq!(info.key, KeyKind::Rsa { bits: 1024 });
        assert_eq!(info.key.to_string(), "RSA-1024");
        assert_eq!(info.signature_algorithm, "sha256WithRSAEncryption");
        assert_eq!(info.sha1, "C0031B6CD7511DDC2BA1F89E0A94CB2BF64E6F2F");
        assert_eq!(
            info.sha256,
            "58212FAC8B60332B45DCD19608FBA53B92ABF05AFB57A197D983E038A53E0036"
        );
        assert!(cert.is_self_signed());
        // The DER form parses to the same certificate, and PEM round-trips.
        assert_eq!(parse(cert.der()).unwrap(), cert);
        assert_eq!(parse(cert.to_pem().as_bytes()).unwrap(), cert);
    }

    #[test]
    fn parses_an_ec_certificate() {
        let info = parse(EC_P256_PEM.as_bytes()).unwrap().info().unwrap();
        assert_eq!(
            info.key,
            KeyKind::Ec {
                curve: "P-256".into()
            }
        );
        assert_eq!(info.key.to_string(), "EC-P-256");
        assert_eq!(info.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(info.sha1, "1B8B5969A6D8077269D5BA5C3C2EF6DA65AA80CE");
        assert_eq!(info.subject, "CN=Fixture EC");
    }

    #[test]
    fn a_pem_bundle_yields_every_certificate() {
        let bundle = format!("{RSA1024_PEM}{EC_P256_PEM}");
        let all = parse_pem_all(&bundle).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(parse(bundle.as_bytes()).unwrap(), all[0]);
    }

    #[test]
    fn a_tampered_signature_is_not_self_signed() {
        let mut der = parse(RSA1024_PEM.as_bytes()).unwrap().into_der();
        let last = der.len() - 1;
        der[last] ^= 1;
        assert!(!Certificate::from_der(&der).unwrap().is_self_signed());
    }

    #[test]
    fn warns_about_expiry_and_small_keys() {
        let info = parse(RSA1024_PEM.as_bytes()).unwrap().info().unwrap();
        let kinds = |now| {
            warnings(&info, now)
                .iter()
                .map(Warning::kind)
                .collect::<Vec<_>>()
        };
        // In the middle of its life only the 1024-bit key earns a warning.
        assert_eq!(kinds(UnixTime(2_000_000_000)), ["small_key"]);
        assert_eq!(
            kinds(UnixTime(info.not_after.0 + 1)),
            ["expired", "small_key"]
        );
        assert_eq!(
            kinds(UnixTime(info.not_after.0 - 10 * DAY)),
            ["expires_soon", "small_key"]
        );
        assert_eq!(
            kinds(UnixTime(info.not_before.0 - 1)),
            ["not_yet_valid", "small_key"]
        );
        let soon = warnings(&info, UnixTime(info.not_after.0 - 10 * DAY));
        assert!(soon[0].message().contains("in 10 days"), "{}", soon[0]);
    }

    #[test]
    fn warns_about_sha1_signatures() {
        let mut info = parse(EC_P256_PEM.as_bytes()).unwrap().info().unwrap();
        info.signature_algorithm = "sha1WithRSAEncryption".into();
        let w = warnings(&info, UnixTime(info.not_before.0 + DAY));
        assert_eq!(
            w.iter().map(Warning::kind).collect::<Vec<_>>(),
            ["sha1_signature"]
        );
        assert!(w[0].message().contains("SHA-256"));
    }

    fn test_key() -> &'static RsaKey {
        static KEY: std::sync::OnceLock<RsaKey> = std::sync::OnceLock::new();
        KEY.get_or_init(|| {
            crate::core::keygen::generate_with(
                &mut rand_core::OsRng,
                crate::core::keygen::KeySize::Rsa2048,
            )
            .unwrap()
        })
    }

    #[test]
    fn self_signed_certificate_has_the_required_profile() {
        use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
        let key = test_key();
        let req = CertificateRequest {
            common_name: "backup-service".into(),
            organization: Some("Contoso".into()),
            organizational_unit: Some("IT".into()),
        };
        let (nb, na) = (
            UnixTime(1_700_000_000),
            UnixTime(1_700_000_000).plus_days(365),
        );
        let cert = self_signed(key, &req, [0xFF; 10], nb, na).unwrap();
        let info = cert.info().unwrap();
        assert_eq!(info.subject, "CN=backup-service,OU=IT,O=Contoso");
        assert_eq!(info.issuer, info.subject);
        assert_eq!(info.subject_cn.as_deref(), Some("backup-service"));
        assert!(cert.is_self_signed());
        assert_eq!((info.not_before, info.not_after), (nb, na));
        assert_eq!(info.key, KeyKind::Rsa { bits: 2048 });
        assert_eq!(info.signature_algorithm, "sha256WithRSAEncryption");
        // The top bit is cleared: positive, and exactly 10 octets.
        assert_eq!(info.serial_hex, "7FFFFFFFFFFFFFFFFFFF");
        assert!(key.matches(&cert));
        assert!(warnings(&info, nb.plus_days(1)).is_empty());

        let x = cert.x509();
        assert_eq!(
            x.tbs_certificate.version,
            x509_cert::certificate::Version::V3
        );
        let exts = x.tbs_certificate.extensions.unwrap();
        let find = |oid| exts.iter().find(|e| e.extn_id == oid).unwrap();
        let bc = find(const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS);
        assert!(bc.critical);
        assert!(
            !BasicConstraints::from_der(bc.extn_value.as_bytes())
                .unwrap()
                .ca
        );
        let ku = find(const_oid::db::rfc5280::ID_CE_KEY_USAGE);
        assert!(ku.critical);
        assert_eq!(
            KeyUsage::from_der(ku.extn_value.as_bytes()).unwrap().0,
            KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment
        );
        let eku = find(const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE);
        assert_eq!(
            ExtendedKeyUsage::from_der(eku.extn_value.as_bytes())
                .unwrap()
                .0,
            [
                const_oid::db::rfc5280::ID_KP_CLIENT_AUTH,
                const_oid::db::rfc5280::ID_KP_SERVER_AUTH
            ]
        );
        let ski = find(const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER);
        assert_eq!(ski.extn_value.as_bytes().len(), 2 + 20);
    }

    #[test]
    fn self_signed_serial_is_never_zero_and_dates_after_2049_work() {
        let key = test_key();
        let nb = UnixTime::parse_rfc3339("2049-06-01T00:00:00Z").unwrap();
        let na = UnixTime::parse_rfc3339("2051-06-01T00:00:00Z").unwrap();
        let cert = self_signed(key, &CertificateRequest::new("x"), [0; 10], nb, na).unwrap();
        let info = cert.info().unwrap();
        assert_eq!(info.serial_hex, "01");
        assert_eq!((info.not_before, info.not_after), (nb, na));
        let x = cert.x509();
        assert!(matches!(
            x.tbs_certificate.validity.not_before,
            x509_cert::time::Time::UtcTime(_)
        ));
        assert!(matches!(
            x.tbs_certificate.validity.not_after,
            x509_cert::time::Time::GeneralTime(_)
        ));
    }

    #[test]
    fn self_signed_refuses_bad_requests() {
        let key = test_key();
        let (nb, na) = (UnixTime(1_700_000_000), UnixTime(1_800_000_000));
        let err = |req: &CertificateRequest, nb, na| {
            self_signed(key, req, [1; 10], nb, na)
                .unwrap_err()
                .to_string()
        };
        assert!(err(&CertificateRequest::new("  "), nb, na).contains("common name"));
        assert!(err(&CertificateRequest::new("a".repeat(65)), nb, na).contains("64"));
        assert!(err(&CertificateRequest::new("ok"), na, nb).contains("end after"));
    }

    #[test]
    fn rsa_key_round_trips_pkcs8() {
        let key = test_key();
        let der = key.to_pkcs8_der();
        let back = RsaKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(&back, key);
        assert_eq!(back.bits(), 2048);
        assert_eq!(back.public_key_der(), key.public_key_der());
        assert_eq!(format!("{back:?}"), "RsaKey(RSA-2048)");
        let not_mine = parse(RSA1024_PEM.as_bytes()).unwrap();
        assert!(!key.matches(&not_mine));
        assert_eq!(
            RsaKey::from_pkcs8_der(b"junk").unwrap_err().kind(),
            "malformed_key"
        );
    }
}
