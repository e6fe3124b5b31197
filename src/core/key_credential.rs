//! Microsoft Graph `keyCredential`: a certificate registered on an
//! application, and the merge that keeps an application's other certificates
//! when one is added or removed.
//!
//! `PATCH /applications/{id}` with `keyCredentials` **replaces the whole
//! collection**, so an update must send every certificate to keep. Graph
//! returns a credential's `key` (the certificate) only when one application is
//! read with `$select`, i.e. `GET /applications/{id}?$select=keyCredentials`;
//! Microsoft's documented update sends the credentials in full
//! (`type`, `usage`, `key`, dates, …). [`merge`] therefore keeps existing
//! credentials exactly as Graph returned them, identified by `keyId`, and
//! refuses to build an update from a listing without the key bytes rather than
//! silently deleting certificates.

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::core::certificate::{Certificate, CertificateError, KeyKind};
use crate::core::credential_expiry::{self, CredentialStatus};
use crate::core::thumbprint::hex_upper;
use crate::core::time::UnixTime;

/// `type` of a certificate credential used to verify the application's
/// signed assertions.
pub const TYPE_ASYMMETRIC_X509_CERT: &str = "AsymmetricX509Cert";
/// `usage` of a certificate credential the application signs in with.
pub const USAGE_VERIFY: &str = "Verify";

/// A Graph `keyCredential`, as sent and as received. Fields Graph may return
/// as `null` or leave out are `Option`s and are left out when `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    /// Assigned by Graph; `None` for a credential being added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `AsymmetricX509Cert` for sign-in certificates.
    #[serde(rename = "type", default)]
    pub credential_type: String,
    /// `Verify` for sign-in certificates.
    #[serde(default)]
    pub usage: String,
    /// The certificate, standard base64 of its DER. Graph returns it only for
    /// `GET /applications/{id}?$select=keyCredentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Graph's identifier for the key; for certificates it defaults to the
    /// SHA-1 thumbprint (Graph shows it as the hex thumbprint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_key_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<UnixTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<UnixTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyCredentialError {
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error(
        "The certificate's key is {0}; Entra accepts only RSA certificates for application \
         sign-in. Generate an RSA certificate (2048 bits or more) or choose another PFX."
    )]
    NotRsa(String),
    #[error(
        "Graph did not return the certificate of the existing credential {key_id}. Read the \
         application with GET /applications/{{id}}?$select=keyCredentials before updating it: \
         an update without that certificate would delete it."
    )]
    ExistingKeyMissing { key_id: String },
    #[error("The credential to add carries no certificate; build it from the certificate.")]
    NewKeyMissing,
    #[error("The credential to add does not hold a readable certificate: {0}")]
    NewKeyUnreadable(String),
    #[error(
        "Credential {key_id} is the certificate being registered; it cannot be removed in \
         the same update. Remove only the old certificate."
    )]
    RemovesNewCertificate { key_id: String },
}

impl KeyCredential {
    /// The credential that registers `cert` for sign-in: type
    /// `AsymmetricX509Cert`, usage `Verify`, the certificate's dates, and its
    /// subject as display name. `keyId` and `customKeyIdentifier` are left to
    /// Graph (the latter defaults to the thumbprint).
    pub fn for_certificate(cert: &Certificate) -> Result<Self, KeyCredentialError> {
        let info = cert.info()?;
        if !matches!(info.key, KeyKind::Rsa { .. }) {
            return Err(KeyCredentialError::NotRsa(info.key.to_string()));
        }
        let display_name = match &info.subject_cn {
            Some(cn) => format!("CN={cn}"),
            None => info.subject.clone(),
        };
        Ok(Self {
            key_id: None,
            credential_type: TYPE_ASYMMETRIC_X509_CERT.to_string(),
            usage: USAGE_VERIFY.to_string(),
            key: Some(Base64::encode_string(cert.der())),
            display_name: (!display_name.is_empty()).then_some(display_name),
            custom_key_identifier: None,
            start_date_time: Some(info.not_before),
            end_date_time: Some(info.not_after),
        })
    }

    /// A sign-in certificate (`AsymmetricX509Cert` / `Verify`).
    pub fn is_sign_in_certificate(&self) -> bool {
        self.credential_type == TYPE_ASYMMETRIC_X509_CERT && self.usage == USAGE_VERIFY
    }

    /// The certificate's DER, when `key` is present and valid base64.
    pub fn certificate_der(&self) -> Option<Vec<u8>> {
        self.key
            .as_deref()
            .and_then(|k| Base64::decode_vec(k.trim()).ok())
    }

    /// SHA-1 thumbprint, upper-case hex: from the certificate when Graph
    /// returned it, else from `customKeyIdentifier` (hex thumbprint, or the
    /// base64 of the 20 thumbprint bytes).
    pub fn thumbprint(&self) -> Option<String> {
        if let Some(der) = self.certificate_der() {
            return Some(hex_upper(&Sha1::digest(&der)));
        }
        let id = self.custom_key_identifier.as_deref()?.trim();
        if id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(id.to_ascii_uppercase());
        }
        match Base64::decode_vec(id) {
            Ok(bytes) if bytes.len() == 20 => Some(hex_upper(&bytes)),
            _ => None,
        }
    }

    /// Whether this credential registers the certificate with this SHA-1
    /// thumbprint (hex, any case).
    pub fn has_thumbprint(&self, sha1_hex: &str) -> bool {
        self.thumbprint()
            .is_some_and(|t| t.eq_ignore_ascii_case(sha1_hex.trim()))
    }

    /// Expiry of the credential at `now`, when Graph gave an end date.
    pub fn status(&self, now: UnixTime) -> Option<CredentialStatus> {
        self.end_date_time
            .map(|end| credential_expiry::status(end, now))
    }
}

/// The credential in `existing` that registers the certificate with this
/// SHA-1 thumbprint, if any.
pub fn find_by_thumbprint<'a>(
    existing: &'a [KeyCredential],
    sha1_hex: &str,
) -> Option<&'a KeyCredential> {
    existing.iter().find(|k| k.has_thumbprint(sha1_hex))
}

/// The `keyCredentials` to PATCH so that the application keeps its existing
/// credentials, gains `new` (unless a credential with the same thumbprint is
/// already there) and loses the credentials whose `keyId` is in `remove`
/// (e.g. "remove the old certificate"; ids no longer present are ignored, so
/// a repeated update gives the same result).
///
/// `existing` must come from `GET /applications/{id}?$select=keyCredentials`
/// (with each `key`); kept credentials are sent back unchanged.
pub fn merge(
    existing: &[KeyCredential],
    new: KeyCredential,
    remove: &[&str],
) -> Result<Vec<KeyCredential>, KeyCredentialError> {
    let new_der = new.certificate_der().ok_or(if new.key.is_some() {
        KeyCredentialError::NewKeyUnreadable("the key is not base64".into())
    } else {
        KeyCredentialError::NewKeyMissing
    })?;
    let new_thumb = hex_upper(&Sha1::digest(&new_der));
    if let Some(k) = existing
        .iter()
        .find(|k| is_removed(k, remove) && k.has_thumbprint(&new_thumb))
    {
        return Err(KeyCredentialError::RemovesNewCertificate {
            key_id: k.key_id.clone().unwrap_or_default(),
        });
    }
    let mut out = keep(existing, remove)?;
    if !out.iter().any(|k| k.has_thumbprint(&new_thumb)) {
        out.push(new);
    }
    Ok(out)
}

/// The `keyCredentials` to PATCH to remove the credentials whose `keyId` is
/// in `remove` and keep all others (from a `$select=keyCredentials` read).
pub fn remove(
    existing: &[KeyCredential],
    remove: &[&str],
) -> Result<Vec<KeyCredential>, KeyCredentialError> {
    keep(existing, remove)
}

fn is_removed(k: &KeyCredential, remove: &[&str]) -> bool {
    k.key_id
        .as_deref()
        .is_some_and(|id| remove.iter().any(|r| r.trim().eq_ignore_ascii_case(id)))
}

fn keep(
    existing: &[KeyCredential],
    remove: &[&str],
) -> Result<Vec<KeyCredential>, KeyCredentialError> {
    existing
        .iter()
        .filter(|k| !is_removed(k, remove))
        .map(|k| match k.key.as_deref() {
            Some(key) if !key.trim().is_empty() => Ok(k.clone()),
            _ => Err(KeyCredentialError::ExistingKeyMissing {
                key_id: k
                    .key_id
                    .clone()
                    .unwrap_or_else(|| "(without keyId)".to_string()),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::certificate;
    use crate::core::time::DAY;
    use core::str::FromStr;
    use core::time::Duration;
    use der::Encode;
    use der::asn1::{Any, BitString, ObjectIdentifier, UtcTime};
    use rsa::RsaPrivateKey;
    use sha2::Sha256;
    use std::sync::OnceLock;
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::name::Name;
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
    use x509_cert::time::{Time, Validity};

    const START: u64 = 1_735_689_600; // 2025-01-01T00:00:00Z

    fn signer() -> &'static (RsaPrivateKey, rsa::pkcs1v15::SigningKey<Sha256>) {
        static K: OnceLock<(RsaPrivateKey, rsa::pkcs1v15::SigningKey<Sha256>)> = OnceLock::new();
        K.get_or_init(|| {
            let key = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
            let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
            (key, signer)
        })
    }

    /// A certificate for `cn` valid from START for `days`, made with
    /// x509-cert's builder; `spki` defaults to the RSA test key.
    fn make_cert(
        cn: &str,
        serial: u32,
        days: u64,
        spki: Option<SubjectPublicKeyInfoOwned>,
    ) -> Certificate {
        let (key, signer) = signer();
        let spki = spki
            .unwrap_or_else(|| SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).unwrap());
        let time =
            |s: u64| Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(s)).unwrap());
        let validity = Validity {
            not_before: time(START),
            not_after: time(START + days * DAY),
        };
        let cert = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(serial),
            validity,
            Name::from_str(&format!("CN={cn}")).unwrap(),
            spki,
            signer,
        )
        .unwrap()
        .build::<rsa::pkcs1v15::Signature>()
        .unwrap();
        certificate::parse(&cert.to_der().unwrap()).unwrap()
    }

    fn rsa_cert(cn: &str, serial: u32) -> Certificate {
        make_cert(cn, serial, 365, None)
    }

    /// What Graph returns for an existing credential read with $select.
    fn graph_entry(cert: &Certificate, key_id: &str) -> KeyCredential {
        KeyCredential {
            key_id: Some(key_id.to_string()),
            custom_key_identifier: Some(cert.sha1_hex()),
            ..KeyCredential::for_certificate(cert).unwrap()
        }
    }

    #[test]
    fn new_credential_json_has_graph_shape() {
        let cert = rsa_cert("backup-2025", 1);
        let kc = KeyCredential::for_certificate(&cert).unwrap();
        let json = serde_json::to_value(&kc).unwrap();
        let expected = serde_json::json!({
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
            "key": Base64::encode_string(cert.der()),
            "displayName": "CN=backup-2025",
            "startDateTime": "2025-01-01T00:00:00Z",
            "endDateTime": "2026-01-01T00:00:00Z",
        });
        assert_eq!(json, expected);
        assert!(kc.is_sign_in_certificate());
        assert_eq!(kc.thumbprint(), Some(cert.sha1_hex()));
        assert_eq!(kc.certificate_der().as_deref(), Some(cert.der()));
    }

    #[test]
    fn reads_what_graph_returns() {
        // GET /applications/{id} without $select: key is null, dates with
        // fractional seconds, customKeyIdentifier is the hex thumbprint.
        let listed = r#"{
            "customKeyIdentifier": "BB5D1064437D8720A5C53078185E6A361A78B10A",
            "displayName": "CN=20221220",
            "endDateTime": "2023-12-19T15:31:26.0000000Z",
            "key": null,
            "keyId": "c3c6d1b2-7a4e-4f0b-9a57-2b7f2a8c1e11",
            "startDateTime": "2022-12-20T15:31:26Z",
            "type": "AsymmetricX509Cert",
            "usage": "Verify"
        }"#;
        let kc: KeyCredential = serde_json::from_str(listed).unwrap();
        assert_eq!(kc.key, None);
        assert_eq!(
            kc.key_id.as_deref(),
            Some("c3c6d1b2-7a4e-4f0b-9a57-2b7f2a8c1e11")
        );
        assert_eq!(
            kc.end_date_time,
            Some(UnixTime::parse_rfc3339("2023-12-19T15:31:26Z").unwrap())
        );
        assert_eq!(
            kc.thumbprint().as_deref(),
            Some("BB5D1064437D8720A5C53078185E6A361A78B10A")
        );
        assert!(kc.has_thumbprint("bb5d1064437d8720a5c53078185e6a361a78b10a"));
        let now = UnixTime::parse_rfc3339("2023-12-01T00:00:00Z").unwrap();
        assert_eq!(
            kc.status(now),
            Some(CredentialStatus::ExpiresSoon { days: 18 })
        );

        // customKeyIdentifier as base64 of the 20 thumbprint bytes.
        let b64 = KeyCredential {
            custom_key_identifier: Some("u10QZEN9hyClxTB4GF5qNhp4sQo=".into()),
            ..kc.clone()
        };
        assert_eq!(
            b64.thumbprint().as_deref(),
            Some("BB5D1064437D8720A5C53078185E6A361A78B10A")
        );
        // Serialising back leaves the null key out.
        let back = serde_json::to_value(&kc).unwrap();
        assert!(back.get("key").is_none());
        assert_eq!(back["keyId"], "c3c6d1b2-7a4e-4f0b-9a57-2b7f2a8c1e11");
    }

    #[test]
    fn merge_keeps_existing_and_adds_new() {
        let (old_a, old_b, new) = (
            rsa_cert("old-a", 10),
            rsa_cert("old-b", 11),
            rsa_cert("new", 12),
        );
        let existing = vec![graph_entry(&old_a, "id-a"), graph_entry(&old_b, "id-b")];
        let merged = merge(
            &existing,
            KeyCredential::for_certificate(&new).unwrap(),
            &[],
        )
        .unwrap();
        assert_eq!(merged.len(), 3);
        assert_eq!(&merged[..2], &existing[..]);
        assert_eq!(merged[2].key_id, None);
        assert!(merged[2].has_thumbprint(&new.sha1_hex()));
        assert!(find_by_thumbprint(&merged, &old_b.sha1_hex()).is_some());
    }

    #[test]
    fn merge_does_not_add_a_certificate_twice() {
        let cert = rsa_cert("same", 20);
        let existing = vec![graph_entry(&cert, "id-same")];
        let merged = merge(
            &existing,
            KeyCredential::for_certificate(&cert).unwrap(),
            &[],
        )
        .unwrap();
        assert_eq!(merged, existing);

        // Also when Graph only listed the thumbprint: the check looks at
        // customKeyIdentifier before refusing the missing key.
        let listed = KeyCredential {
            key: None,
            ..existing[0].clone()
        };
        assert!(find_by_thumbprint(&[listed], &cert.sha1_hex()).is_some());
    }

    #[test]
    fn merge_drops_the_old_certificate_on_request() {
        let (old, new) = (rsa_cert("expired", 30), rsa_cert("renewed", 31));
        let other = rsa_cert("other-service", 32);
        let existing = vec![graph_entry(&old, "ID-OLD"), graph_entry(&other, "id-other")];
        let merged = merge(
            &existing,
            KeyCredential::for_certificate(&new).unwrap(),
            &["id-old"],
        )
        .unwrap();
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].key_id.as_deref(), Some("id-other"));
        assert!(merged[1].has_thumbprint(&new.sha1_hex()));

        // Repeating the update (old one already gone) gives the same list.
        let again = merge(
            &merged,
            KeyCredential::for_certificate(&new).unwrap(),
            &["id-old"],
        )
        .unwrap();
        assert_eq!(again, merged);

        // remove() alone keeps everything else.
        assert_eq!(
            remove(&existing, &["id-other"]).unwrap(),
            vec![existing[0].clone()]
        );
    }

    #[test]
    fn merge_refuses_unsafe_updates() {
        let (old, new) = (rsa_cert("old", 40), rsa_cert("new", 41));
        // Listed without $select: sending it back would delete the certificate.
        let listed = KeyCredential {
            key: None,
            ..graph_entry(&old, "id-old")
        };
        let err = merge(
            core::slice::from_ref(&listed),
            KeyCredential::for_certificate(&new).unwrap(),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            err,
            KeyCredentialError::ExistingKeyMissing {
                key_id: "id-old".into()
            }
        );
        assert!(err.to_string().contains("$select=keyCredentials"), "{err}");
        // ...unless that very credential is being removed.
        assert_eq!(
            merge(
                &[listed],
                KeyCredential::for_certificate(&new).unwrap(),
                &["id-old"]
            )
            .unwrap()
            .len(),
            1
        );

        // Removing the certificate being added.
        let registered = graph_entry(&new, "id-new");
        assert_eq!(
            merge(
                &[registered],
                KeyCredential::for_certificate(&new).unwrap(),
                &["id-new"]
            ),
            Err(KeyCredentialError::RemovesNewCertificate {
                key_id: "id-new".into()
            })
        );

        // A new credential without its certificate.
        let bare = KeyCredential {
            key: None,
            ..KeyCredential::for_certificate(&new).unwrap()
        };
        assert_eq!(
            merge(&[], bare, &[]),
            Err(KeyCredentialError::NewKeyMissing)
        );
    }

    #[test]
    fn ec_certificates_are_refused() {
        // id-ecPublicKey on prime256v1, with an (unchecked) uncompressed point.
        let ec_oid = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
        let p256 = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
        let mut point = [7u8; 65];
        point[0] = 4;
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: ec_oid,
                parameters: Some(Any::from(p256)),
            },
            subject_public_key: BitString::from_bytes(&point).unwrap(),
        };
        let cert = make_cert("ec", 50, 365, Some(spki));
        let err = KeyCredential::for_certificate(&cert).unwrap_err();
        assert!(matches!(err, KeyCredentialError::NotRsa(_)), "{err:?}");
        assert!(err.to_string().contains("only RSA"), "{err}");
    }

    #[test]
    fn status_follows_the_end_date() {
        let kc = KeyCredential::for_certificate(&make_cert("short", 60, 10, None)).unwrap();
        assert_eq!(
            kc.status(UnixTime(START)),
            Some(CredentialStatus::ExpiresSoon { days: 10 })
        );
        assert_eq!(
            kc.status(UnixTime(START + 12 * DAY)),
            Some(CredentialStatus::Expired { days_ago: 2 })
        );
    }
}
