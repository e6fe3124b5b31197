//! Writing a PFX that the admin downloads: the key and its certificate (and
//! chain), protected by a password.

use cms::content_info::{CmsVersion, ContentInfo};
use cms::encrypted_data::EncryptedData;
use cms::enveloped_data::EncryptedContentInfo;
use der::asn1::{BmpString, OctetString, SetOfVec};
use der::{Any, Encode};
use pkcs12::digest_info::DigestInfo;
use pkcs12::mac_data::MacData;
use pkcs12::pfx::{Pfx, Version};
use pkcs12::safe_bag::SafeBag;
use rand_core::CryptoRngCore;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::{Attribute, Attributes};

use super::pbe::{self, Password};
use super::{PfxError, oids};
use crate::core::certificate::Certificate;
use crate::core::key::RsaKey;

/// How the PFX is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExportMode {
    /// pbeWithSHAAnd3-KeyTripleDES-CBC for the key and the certificates,
    /// HMAC-SHA1 MAC: imports on every Windows (Server 2016 too), macOS
    /// Keychain, older Java and OpenSSL 3 without `-legacy`.
    #[default]
    Compatible,
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an HMAC-SHA256 MAC: Windows
    /// Server 2019+, OpenSSL 1.1+, Java 8u301+.
    Modern,
}

/// Iterations of the KDFs in compatible mode (OpenSSL's default).
pub const COMPATIBLE_ITERATIONS: u32 = 2048;
/// Iterations of PBKDF2 and of the MAC's KDF in modern mode.
pub const MODERN_ITERATIONS: u32 = 10_000;

fn err(e: impl core::fmt::Display) -> PfxError {
    PfxError::Export(e.to_string())
}

/// Writes a PFX holding `key`, its certificate `leaf` and the `chain`.
/// The leaf's bag and the key's bag carry `friendly_name` (when given) and
/// localKeyId = SHA-1 of the leaf certificate.
pub fn export(
    key: &RsaKey,
    leaf: &Certificate,
    chain: &[Certificate],
    friendly_name: Option<&str>,
    password: &str,
    mode: ExportMode,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, PfxError> {
    if password.is_empty() {
        return Err(PfxError::EmptyPassword);
    }
    if !key.matches(leaf) {
        return Err(PfxError::KeyMismatch);
    }
    let pw = Password::new(Some(password));
    let (iterations, salt_len) = match mode {
        ExportMode::Compatible => (COMPATIBLE_ITERATIONS, 8),
        ExportMode::Modern => (MODERN_ITERATIONS, 16),
    };
    let mut encrypt = |plaintext: &[u8]| -> Result<(AlgorithmIdentifierOwned, Vec<u8>), PfxError> {
        let mut salt = vec![0u8; salt_len];
        rng.fill_bytes(&mut salt);
        match mode {
            ExportMode::Compatible => pbe::encrypt_3des(&pw, &salt, iterations as i32, plaintext),
            ExportMode::Modern => {
                let mut iv = [0u8; 16];
                rng.fill_bytes(&mut iv);
                pbe::encrypt_pbes2(&pw, &salt, &iv, iterations, plaintext)
            }
        }
    };

    let local_key_id = {
        use sha1::Digest;
        sha1::Sha1::digest(leaf.der()).to_vec()
    };
    let attrs = bag_attributes(friendly_name, &local_key_id)?;

    // Certificates: the leaf first, with the attributes, then the chain.
    let mut cert_bags = vec![cert_bag(leaf, Some(attrs.clone()))?];
    for c in chain {
        cert_bags.push(cert_bag(c, None)?);
    }
    let cert_contents = cert_bags.to_der().map_err(err)?;
    let (cert_alg, cert_ct) = encrypt(&cert_contents)?;
    let certs_ci = ContentInfo {
        content_type: oids::ENCRYPTED_DATA,
        content: Any::encode_from(&EncryptedData {
            version: CmsVersion::V0,
            enc_content_info: EncryptedContentInfo {
                content_type: oids::DATA,
                content_enc_alg: cert_alg,
                encrypted_content: Some(OctetString::new(cert_ct).map_err(err)?),
            },
            unprotected_attrs: None,
        })
        .map_err(err)?,
    };

    // The key: a pkcs8ShroudedKeyBag; its plaintext is wiped on drop.
    let pkcs8 = key.to_pkcs8_der();
    let (key_alg, key_ct) = encrypt(&pkcs8)?;
    let epki = pkcs12::pbe_params::EncryptedPrivateKeyInfo {
        encryption_algorithm: key_alg,
        encrypted_data: OctetString::new(key_ct).map_err(err)?,
    };
    let key_bag = SafeBag {
        bag_id: oids::SHROUDED_KEY_BAG,
        bag_value: epki.to_der().map_err(err)?,
        bag_attributes: Some(attrs),
    };
    let key_contents = vec![key_bag].to_der().map_err(err)?;
    let key_ci = data_content_info(key_contents)?;

    let auth_safe = vec![certs_ci, key_ci].to_der().map_err(err)?;

    let (digest_oid, mac_salt_len) = match mode {
        ExportMode::Compatible => (oids::SHA1, 8),
        ExportMode::Modern => (oids::SHA256, 16),
    };
    let mut mac_salt = vec![0u8; mac_salt_len];
    rng.fill_bytes(&mut mac_salt);
    let mac = pbe::compute_mac(&digest_oid, &pw, &mac_salt, iterations as i32, &auth_safe)?;
    let pfx = Pfx {
        version: Version::V3,
        auth_safe: data_content_info(auth_safe)?,
        mac_data: Some(MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierOwned {
                    oid: digest_oid,
                    parameters: Some(Any::from(der::asn1::Null)),
                },
                digest: OctetString::new(mac).map_err(err)?,
            },
            mac_salt: OctetString::new(mac_salt).map_err(err)?,
            iterations: iterations as i32,
        }),
    };
    let out = pfx.to_der().map_err(err)?;
    // `pkcs8` is `Zeroizing`: the plaintext key is wiped here.
    drop(pkcs8);
    Ok(out)
}

fn data_content_info(bytes: Vec<u8>) -> Result<ContentInfo, PfxError> {
    Ok(ContentInfo {
        content_type: oids::DATA,
        content: Any::encode_from(&OctetString::new(bytes).map_err(err)?).map_err(err)?,
    })
}

fn cert_bag(cert: &Certificate, attrs: Option<Attributes>) -> Result<SafeBag, PfxError> {
    let bag = pkcs12::cert_type::CertBag {
        cert_id: oids::X509_CERTIFICATE,
        cert_value: OctetString::new(cert.der()).map_err(err)?,
    };
    Ok(SafeBag {
        bag_id: oids::CERT_BAG,
        bag_value: bag.to_der().map_err(err)?,
        bag_attributes: attrs,
    })
}

fn bag_attributes(
    friendly_name: Option<&str>,
    local_key_id: &[u8],
) -> Result<Attributes, PfxError> {
    let mut attrs = Vec::new();
    if let Some(name) = friendly_name.map(str::trim).filter(|n| !n.is_empty()) {
        let bmp = BmpString::from_utf8(name).map_err(|_| {
            PfxError::Export(
                "the friendly name has characters a PFX cannot hold (outside the Basic Multilingual Plane)"
                    .into(),
            )
        })?;
        attrs.push(Attribute {
            oid: oids::FRIENDLY_NAME,
            values: SetOfVec::try_from(vec![Any::encode_from(&bmp).map_err(err)?]).map_err(err)?,
        });
    }
    attrs.push(Attribute {
        oid: oids::LOCAL_KEY_ID,
        values: SetOfVec::try_from(vec![
            Any::encode_from(&OctetString::new(local_key_id).map_err(err)?).map_err(err)?,
        ])
        .map_err(err)?,
    });
    SetOfVec::try_from(attrs).map_err(err)
}
