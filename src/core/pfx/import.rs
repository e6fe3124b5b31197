//! Reading a PFX: check the MAC, decrypt the bags, pair the key with its
//! certificate.

use cms::content_info::ContentInfo;
use const_oid::ObjectIdentifier;
use der::asn1::{BitStringRef, BmpString, OctetString, OctetStringRef};
use der::{Decode, Encode};
use pkcs12::pfx::Pfx;
use zeroize::Zeroizing;

use super::ber::{self, BerError};
use super::pbe::{self, DerivedKeys, IterationBudget, Password, Pbkdf2Job};
use super::{PfxError, oids};
use crate::core::certificate::{self, Certificate, KeyKind};
use crate::core::key::RsaKey;

/// The private key found in a PFX.
#[allow(clippy::large_enum_variant)] // an RSA key is the common case
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportedKey {
    Rsa(RsaKey),
    /// Parsed (algorithm and curve) but not usable for Entra.
    NonRsa {
        kind: KeyKind,
    },
}

impl ImportedKey {
    pub fn kind(&self) -> KeyKind {
        match self {
            ImportedKey::Rsa(k) => KeyKind::Rsa { bits: k.bits() },
            ImportedKey::NonRsa { kind } => kind.clone(),
        }
    }
}

/// What a PFX holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// The first private key of the file.
    pub key: Option<ImportedKey>,
    /// The certificate of the key (same localKeyId, else same public key).
    /// With no key, or no certificate of the key, this is `None` and every
    /// certificate is in `others` (as pyca/cryptography reads PFX files).
    pub leaf: Option<Certificate>,
    /// The other certificates, in file order.
    pub others: Vec<Certificate>,
    /// The friendlyName of each of `others` (same order).
    pub other_friendly_names: Vec<Option<String>>,
    pub leaf_friendly_name: Option<String>,
    pub key_friendly_name: Option<String>,
    /// Every friendly name in the file, in bag order, without repeats.
    pub friendly_names: Vec<String>,
    /// The MAC's digest ("SHA-1", "SHA-256"), or `None` without a MAC.
    pub mac: Option<String>,
    /// The encryption algorithms of the bags, in file order, without
    /// repeats ("pbeWithSHAAnd3-KeyTripleDES-CBC", "PBES2 …").
    pub encryption: Vec<String>,
}

impl Imported {
    /// The key and certificate the wizards need: an RSA key and the
    /// certificate that belongs to it.
    pub fn usable_for_entra(&self) -> Result<(&RsaKey, &Certificate), PfxError> {
        let key = match &self.key {
            None => return Err(PfxError::NoPrivateKey),
            Some(ImportedKey::NonRsa { kind }) => {
                return Err(PfxError::NotRsa { kind: kind.clone() });
            }
            Some(ImportedKey::Rsa(k)) => k,
        };
        match &self.leaf {
            Some(leaf) if key.matches(leaf) => Ok((key, leaf)),
            Some(_) => Err(PfxError::KeyMismatch),
            None if self.others.is_empty() => Err(PfxError::NoCertificate),
            None => Err(PfxError::KeyMismatch),
        }
    }
}

/// `SafeBag` as RFC 7292 defines it. (pkcs12 0.1's own type keeps the `[0]`
/// wrapper in `bag_value` when decoding, so it is only used for encoding.)
#[derive(der::Sequence)]
struct SafeBag<'a> {
    bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    bag_value: der::AnyRef<'a>,
    bag_attributes: Option<x509_cert::attr::Attributes>,
}

/// A bag's attributes that matter here.
#[derive(Default)]
struct BagAttributes {
    friendly_name: Option<String>,
    local_key_id: Option<Vec<u8>>,
}

struct FoundKey {
    key: ImportedKey,
    /// The public key to match against a certificate's SPKI: the whole SPKI
    /// DER for RSA, the raw public point for EC.
    public: Option<Vec<u8>>,
    attrs: BagAttributes,
}

struct FoundCert {
    cert: Certificate,
    attrs: BagAttributes,
}

#[derive(Default)]
struct Found {
    keys: Vec<FoundKey>,
    certs: Vec<FoundCert>,
    friendly_names: Vec<String>,
    encryption: Vec<String>,
    /// A MAC was present and verified: a later decryption failure means
    /// damage, not a wrong password.
    mac_verified: bool,
}

/// Reads a PFX. `password`: `None` = no password (the PKCS#12 KDF over an
/// empty string), `Some("")` = the empty password. Callers try `None`, then
/// `Some("")`, before asking the admin — with [`import_with_budget`] and one
/// budget for all the attempts.
pub fn import(data: &[u8], password: Option<&str>) -> Result<Imported, PfxError> {
    import_with_budget(data, password, &mut IterationBudget::new())
}

/// [`import`], spending the key-derivation iterations from `budget`: pass the
/// same budget to every password tried on one file, so that the attempts
/// together run at most [`super::MAX_TOTAL_ITERATIONS`].
pub fn import_with_budget(
    data: &[u8],
    password: Option<&str>,
    budget: &mut IterationBudget,
) -> Result<Imported, PfxError> {
    decode(data, password)?.import(budget, &DerivedKeys::new())
}

/// A decoded PFX and the password to open it with: what [`decode`] answers.
/// Its MAC is checked by [`Opening::verify_mac`] (or by
/// [`Opening::import`], if not before), and its bags are read by
/// [`Opening::import`], with the keys its PBES2 bags need
/// ([`Opening::pbkdf2_jobs`]) derived ahead when the caller can do that
/// faster (WebCrypto, several at once, off the thread, even while the MAC
/// is checked here).
pub struct Opening {
    pfx: Pfx,
    password: Password,
    mac_verified: bool,
}

/// Decodes a PFX, or says what the file is instead; nothing is derived yet.
pub fn decode(data: &[u8], password: Option<&str>) -> Result<Opening, PfxError> {
    let pfx = decode_pfx(data)?;
    if pfx.auth_safe.content_type != oids::DATA {
        return Err(PfxError::unsupported(&pfx.auth_safe.content_type));
    }
    Ok(Opening {
        pfx,
        password: Password::new(password),
        mac_verified: false,
    })
}

fn auth_safe_bytes(pfx: &Pfx) -> Result<OctetString, PfxError> {
    pfx.auth_safe
        .content
        .decode_as::<OctetString>()
        .map_err(PfxError::corrupt)
}

impl Opening {
    /// The iterations of the MAC's key derivation (0 without a MAC).
    pub fn mac_iterations(&self) -> u64 {
        self.pfx
            .mac_data
            .as_ref()
            .map_or(0, |m| u64::try_from(m.iterations).unwrap_or(u64::MAX))
    }

    /// Checks the password against the file's MAC (nothing to do without
    /// one). A wrong password costs only the MAC's iterations.
    pub fn verify_mac(&mut self, budget: &mut IterationBudget) -> Result<(), PfxError> {
        let Some(mac) = &self.pfx.mac_data else {
            return Ok(());
        };
        if self.mac_verified {
            return Ok(());
        }
        let rounds = budget.spend(mac.iterations.into())?;
        if mac.mac.algorithm.oid == oids::PBMAC1 {
            return Err(PfxError::unsupported(&oids::PBMAC1));
        }
        pbe::verify_mac(
            &mac.mac.algorithm.oid,
            &self.password,
            mac.mac_salt.as_bytes(),
            rounds,
            auth_safe_bytes(&self.pfx)?.as_bytes(),
            mac.mac.digest.as_bytes(),
        )?;
        self.mac_verified = true;
        Ok(())
    }

    /// The PBKDF2 derivations the file's PBES2 bags need, as far as they
    /// can be seen before decrypting anything (encrypted content of the
    /// authenticated safe, shrouded key bags in plain safe contents),
    /// without repeats. Best effort: a damaged file gives fewer jobs, and
    /// [`Unlocked::import`] then reports the damage.
    pub fn pbkdf2_jobs(&self) -> Vec<Pbkdf2Job> {
        let mut jobs = Vec::new();
        let mut add = |alg: &spki::AlgorithmIdentifierOwned| {
            if let Some(job) = Pbkdf2Job::of(alg)
                && !jobs.contains(&job)
            {
                jobs.push(job);
            }
        };
        let Ok(bytes) = auth_safe_bytes(&self.pfx) else {
            return jobs;
        };
        let Ok(der) = ber::normalize(bytes.as_bytes()) else {
            return jobs;
        };
        for ci in Vec::<ContentInfo>::from_der(&der).unwrap_or_default() {
            match ci.content_type {
                oids::ENCRYPTED_DATA => {
                    if let Ok(ed) = ci.content.decode_as::<EncryptedData<'_>>() {
                        add(&ed.enc_content_info.content_enc_alg);
                    }
                }
                oids::DATA => {
                    let Ok(safe) = ci.content.decode_as::<OctetString>() else {
                        continue;
                    };
                    let Ok(normalized) = ber::normalize(safe.as_bytes()) else {
                        continue;
                    };
                    for bag in Vec::<SafeBag>::from_der(&normalized).unwrap_or_default() {
                        if bag.bag_id == oids::SHROUDED_KEY_BAG
                            && let Ok(epki) =
                                bag.bag_value
                                    .decode_as::<pkcs12::pbe_params::EncryptedPrivateKeyInfo>()
                        {
                            add(&epki.encryption_algorithm);
                        }
                    }
                }
                _ => {}
            }
        }
        jobs
    }

    /// The UTF-8 password PBES2's PBKDF2 runs over (empty for none).
    pub fn pbkdf2_password(&self) -> &[u8] {
        &self.password.utf8
    }

    /// Reads the bags: the second half of [`import`]. PBES2 keys found in
    /// `derived` are used as they are; the rest are derived here, from
    /// `budget`.
    pub fn import(
        mut self,
        budget: &mut IterationBudget,
        derived: &DerivedKeys,
    ) -> Result<Imported, PfxError> {
        self.verify_mac(budget)?;
        let Opening {
            pfx,
            password,
            mac_verified,
        } = self;
        let auth_safe = auth_safe_bytes(&pfx)?;
        let mut found = Found {
            mac_verified,
            ..Found::default()
        };
        let auth_safe_der = ber::normalize(auth_safe.as_bytes()).map_err(ber_corrupt)?;
        let contents = Vec::<ContentInfo>::from_der(&auth_safe_der).map_err(PfxError::corrupt)?;
        let mut reader = BagReader {
            password: &password,
            budget,
            derived,
        };
        for ci in &contents {
            match ci.content_type {
                oids::DATA => {
                    let safe = ci
                        .content
                        .decode_as::<OctetString>()
                        .map_err(PfxError::corrupt)?;
                    reader.read_safe_contents(safe.as_bytes(), &mut found, 0)?;
                }
                oids::ENCRYPTED_DATA => {
                    let ed = ci
                        .content
                        .decode_as::<EncryptedData<'_>>()
                        .map_err(PfxError::corrupt)?;
                    let eci = &ed.enc_content_info;
                    let Some(ct) = eci.ciphertext()? else {
                        continue;
                    };
                    note(&mut found.encryption, pbe::describe(&eci.content_enc_alg));
                    let plain = pbe::decrypt(
                        &eci.content_enc_alg,
                        reader.password,
                        &ct,
                        reader.budget,
                        reader.derived,
                    )
                    .map_err(|e| after_mac(e, found.mac_verified))?;
                    reader
                        .read_safe_contents(&plain, &mut found, 0)
                        .map_err(|e| match e {
                            // Garbage that happened to have valid padding.
                            PfxError::Corrupt(_) if !found.mac_verified => PfxError::WrongPassword,
                            e => e,
                        })?;
                }
                other => return Err(PfxError::unsupported(&other)),
            }
        }
        let mac = pfx
            .mac_data
            .as_ref()
            .map(|m| super::algorithm_name(&m.mac.algorithm.oid));
        Ok(assemble(found, mac))
    }
}

/// What reading the bags needs besides the bags.
struct BagReader<'a, 'b> {
    password: &'a Password,
    budget: &'b mut IterationBudget,
    derived: &'a DerivedKeys,
}

fn after_mac(e: PfxError, mac_verified: bool) -> PfxError {
    match e {
        PfxError::WrongPassword if mac_verified => {
            PfxError::corrupt("a bag does not decrypt with the password that opens the file")
        }
        e => e,
    }
}

fn note(list: &mut Vec<String>, s: String) {
    if !list.contains(&s) {
        list.push(s);
    }
}

/// Decodes the outer PFX structure, or says what the file is instead.
fn decode_pfx(data: &[u8]) -> Result<Pfx, PfxError> {
    let start = data
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(data.len());
    let text = &data[start..];
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    if text.starts_with(b"-----BEGIN") {
        let s = String::from_utf8_lossy(text);
        if s.contains("PRIVATE KEY-----") {
            return Err(PfxError::PemPrivateKey);
        }
        if s.contains("CERTIFICATE-----") {
            return Err(PfxError::PemCertificate);
        }
        return Err(PfxError::NotPkcs12);
    }
    if data.is_empty() {
        return Err(PfxError::NotPkcs12);
    }
    let normalized = ber::normalize(data);
    let error = match &normalized {
        Ok(der) => match Pfx::from_der(der) {
            Ok(pfx) => return Ok(pfx),
            Err(e) => e.to_string(),
        },
        Err(BerError::Truncated) => "it ends early".into(),
        Err(BerError::Invalid) => "it is not valid ASN.1".into(),
    };
    if x509_cert::Certificate::from_der(data).is_ok() {
        return Err(PfxError::DerCertificate);
    }
    if pkcs8::PrivateKeyInfo::from_der(data).is_ok()
        || pkcs12::pbe_params::EncryptedPrivateKeyInfo::from_der(data).is_ok()
    {
        return Err(PfxError::DerPrivateKey);
    }
    if declared_length_exceeds(data) {
        return Err(PfxError::Truncated);
    }
    if data[0] == 0x30 && normalized.as_ref().err() == Some(&BerError::Truncated) {
        return Err(PfxError::Truncated);
    }
    if looks_like_pfx_prefix(data) {
        return Err(PfxError::corrupt(error));
    }
    Err(PfxError::NotPkcs12)
}

fn ber_corrupt(e: BerError) -> PfxError {
    PfxError::corrupt(match e {
        BerError::Truncated => "a structure ends early",
        BerError::Invalid => "a structure is not valid ASN.1",
    })
}

/// `EncryptedData` (RFC 5652 §8) with its content read leniently: BER
/// writers send `encryptedContent [0] IMPLICIT OCTET STRING` in chunks.
#[derive(der::Sequence)]
struct EncryptedData<'a> {
    version: u8,
    enc_content_info: EncryptedContentInfo<'a>,
}

#[derive(der::Sequence)]
struct EncryptedContentInfo<'a> {
    content_type: ObjectIdentifier,
    content_enc_alg: spki::AlgorithmIdentifierOwned,
    encrypted_content: Option<der::AnyRef<'a>>,
}

impl EncryptedContentInfo<'_> {
    /// The ciphertext: primitive `[0]`, or `[0]` constructed of OCTET
    /// STRING chunks.
    fn ciphertext(&self) -> Result<Option<Vec<u8>>, PfxError> {
        use der::{Tag, TagNumber, Tagged};
        let Some(any) = &self.encrypted_content else {
            return Ok(None);
        };
        match any.tag() {
            Tag::ContextSpecific {
                number: TagNumber::N0,
                constructed: false,
            } => Ok(Some(any.value().to_vec())),
            Tag::ContextSpecific {
                number: TagNumber::N0,
                constructed: true,
            } => {
                let mut reader = der::SliceReader::new(any.value()).map_err(PfxError::corrupt)?;
                let mut out = Vec::new();
                use der::Reader;
                while !reader.is_finished() {
                    let chunk = OctetStringRef::decode(&mut reader).map_err(PfxError::corrupt)?;
                    out.extend_from_slice(chunk.as_bytes());
                }
                Ok(Some(out))
            }
            other => Err(PfxError::corrupt(format!(
                "encrypted content has tag {other}"
            ))),
        }
    }
}

/// The outer SEQUENCE claims more bytes than the file has.
fn declared_length_exceeds(data: &[u8]) -> bool {
    let mut reader = match der::SliceReader::new(data) {
        Ok(r) => r,
        Err(_) => return false,
    };
    match der::Header::decode(&mut reader) {
        Ok(h) => {
            let header_len = u32::from(h.encoded_len().unwrap_or_default()) as usize;
            h.tag == der::Tag::Sequence && header_len + u32::from(h.length) as usize > data.len()
        }
        Err(_) => false,
    }
}

/// SEQUENCE { INTEGER 3, SEQUENCE { OID id-data … — the start of a PFX.
fn looks_like_pfx_prefix(data: &[u8]) -> bool {
    let Ok(mut r) = der::SliceReader::new(data) else {
        return false;
    };
    use der::Reader;
    let Ok(h) = der::Header::decode(&mut r) else {
        return false;
    };
    if h.tag != der::Tag::Sequence {
        return false;
    }
    matches!(u8::decode(&mut r), Ok(3)) && r.peek_tag().ok() == Some(der::Tag::Sequence)
}

impl BagReader<'_, '_> {
    fn read_safe_contents(
        &mut self,
        der_bytes: &[u8],
        found: &mut Found,
        depth: u8,
    ) -> Result<(), PfxError> {
        if depth > 4 {
            return Err(PfxError::corrupt("safe contents nested too deeply"));
        }
        let normalized = ber::normalize(der_bytes).map_err(ber_corrupt)?;
        let bags = Vec::<SafeBag>::from_der(&normalized).map_err(PfxError::corrupt)?;
        for bag in bags {
            let attrs = bag_attributes(&bag);
            if let Some(name) = &attrs.friendly_name {
                note(&mut found.friendly_names, name.clone());
            }
            match bag.bag_id {
                oids::KEY_BAG => {
                    let key = Zeroizing::new(bag.bag_value.to_der().map_err(PfxError::corrupt)?);
                    found.keys.push(read_key(&key, attrs)?);
                }
                oids::SHROUDED_KEY_BAG => {
                    let epki = bag
                        .bag_value
                        .decode_as::<pkcs12::pbe_params::EncryptedPrivateKeyInfo>()
                        .map_err(PfxError::corrupt)?;
                    note(
                        &mut found.encryption,
                        pbe::describe(&epki.encryption_algorithm),
                    );
                    let plain = pbe::decrypt(
                        &epki.encryption_algorithm,
                        self.password,
                        epki.encrypted_data.as_bytes(),
                        self.budget,
                        self.derived,
                    )
                    .map_err(|e| after_mac(e, found.mac_verified))?;
                    let key = read_key(&plain, attrs).map_err(|e| match e {
                        PfxError::Corrupt(_) if !found.mac_verified => PfxError::WrongPassword,
                        e => e,
                    })?;
                    found.keys.push(key);
                }
                oids::CERT_BAG => {
                    let bag_value = bag
                        .bag_value
                        .decode_as::<pkcs12::cert_type::CertBag>()
                        .map_err(PfxError::corrupt)?;
                    if bag_value.cert_id != oids::X509_CERTIFICATE {
                        // SDSI certificates: nothing Entra can use.
                        continue;
                    }
                    let cert = Certificate::from_der(bag_value.cert_value.as_bytes())
                        .map_err(|e| PfxError::corrupt(format!("a certificate is damaged: {e}")))?;
                    found.certs.push(FoundCert { cert, attrs });
                }
                oids::SAFE_CONTENTS_BAG => {
                    let inner = bag.bag_value.to_der().map_err(PfxError::corrupt)?;
                    self.read_safe_contents(&inner, found, depth + 1)?;
                }
                // CRL and secret bags carry nothing the wizards use.
                _ => {}
            }
        }
        Ok(())
    }
}

fn bag_attributes(bag: &SafeBag<'_>) -> BagAttributes {
    let mut out = BagAttributes::default();
    for attr in bag.bag_attributes.iter().flat_map(|a| a.iter()) {
        let Some(value) = attr.values.iter().next() else {
            continue;
        };
        match attr.oid {
            oids::FRIENDLY_NAME => {
                out.friendly_name = value
                    .decode_as::<BmpString>()
                    .ok()
                    .map(|s| s.to_string())
                    .or_else(|| {
                        value
                            .decode_as::<der::asn1::Utf8StringRef<'_>>()
                            .ok()
                            .map(|s| s.to_string())
                    });
            }
            oids::LOCAL_KEY_ID => {
                out.local_key_id = value
                    .decode_as::<OctetStringRef<'_>>()
                    .ok()
                    .map(|s| s.as_bytes().to_vec());
            }
            _ => {}
        }
    }
    out
}

/// Reads a PKCS#8 `PrivateKeyInfo`: RSA keys are kept, others are named.
fn read_key(pkcs8: &[u8], attrs: BagAttributes) -> Result<FoundKey, PfxError> {
    let pkcs8_der = ber::normalize(pkcs8).map_err(ber_corrupt)?;
    let pkcs8_der = pkcs8_der.as_slice();
    let info = pkcs8::PrivateKeyInfo::from_der(pkcs8_der).map_err(PfxError::corrupt)?;
    let oid = info.algorithm.oid;
    if oid == certificate::RSA_ENCRYPTION {
        let key = RsaKey::from_pkcs8_der(pkcs8_der).map_err(PfxError::corrupt)?;
        let public = Some(key.public_key_der());
        return Ok(FoundKey {
            key: ImportedKey::Rsa(key),
            public,
            attrs,
        });
    }
    if oid == certificate::ID_EC_PUBLIC_KEY {
        #[derive(der::Sequence)]
        struct EcPrivateKey<'a> {
            version: u8,
            private_key: OctetStringRef<'a>,
            #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
            parameters: Option<ObjectIdentifier>,
            #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
            public_key: Option<BitStringRef<'a>>,
        }
        let ec = EcPrivateKey::from_der(info.private_key).ok();
        let curve = info
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .or_else(|| ec.as_ref().and_then(|k| k.parameters))
            .map(|c| certificate::curve_name(&c))
            .unwrap_or_else(|| "unknown-curve".into());
        let public = ec
            .as_ref()
            .and_then(|k| k.public_key)
            .map(|b| b.raw_bytes().to_vec());
        let _ = ec.map(|k| (k.version, k.private_key));
        return Ok(FoundKey {
            key: ImportedKey::NonRsa {
                kind: KeyKind::Ec { curve },
            },
            public,
            attrs,
        });
    }
    Ok(FoundKey {
        key: ImportedKey::NonRsa {
            kind: KeyKind::Other {
                algorithm: super::algorithm_name(&oid),
            },
        },
        public: None,
        attrs,
    })
}

fn key_matches_cert(key: &FoundKey, cert: &Certificate) -> bool {
    let Some(public) = &key.public else {
        return false;
    };
    match &key.key {
        ImportedKey::Rsa(_) => cert.public_key_der() == *public,
        ImportedKey::NonRsa { .. } => {
            let spki = cert.x509().tbs_certificate.subject_public_key_info;
            spki.algorithm.oid == certificate::ID_EC_PUBLIC_KEY
                && spki.subject_public_key.raw_bytes() == public.as_slice()
        }
    }
}

fn assemble(found: Found, mac: Option<String>) -> Imported {
    let Found {
        mut keys,
        certs,
        friendly_names,
        encryption,
        ..
    } = found;
    let key = if keys.is_empty() {
        None
    } else {
        Some(keys.remove(0))
    };
    let leaf_index = key.as_ref().and_then(|k| {
        k.attrs
            .local_key_id
            .as_ref()
            .and_then(|id| {
                certs
                    .iter()
                    .position(|c| c.attrs.local_key_id.as_ref() == Some(id))
            })
            .or_else(|| certs.iter().position(|c| key_matches_cert(k, &c.cert)))
    });
    let mut imported = Imported {
        key_friendly_name: key.as_ref().and_then(|k| k.attrs.friendly_name.clone()),
        key: key.map(|k| k.key),
        friendly_names,
        mac,
        encryption,
        ..Imported::default()
    };
    for (i, c) in certs.into_iter().enumerate() {
        if Some(i) == leaf_index {
            imported.leaf = Some(c.cert);
            imported.leaf_friendly_name = c.attrs.friendly_name;
        } else {
            imported.others.push(c.cert);
            imported.other_friendly_names.push(c.attrs.friendly_name);
        }
    }
    imported
}
