//! Certificates → Generate: from what the admin typed to a self-signed
//! certificate and its password-protected PFX. The key comes in already
//! generated (WebCrypto in the page, `rsa` natively) and is consumed here, so
//! it is zeroized as soon as the PFX holds it.

use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};

use crate::core::certificate::{
    self, Certificate, CertificateError, CertificateInfo, CertificateRequest,
};
use crate::core::key::RsaKey;
use crate::core::keygen::KeySize;
use crate::core::password::{self, PasswordError};
use crate::core::pfx::{self, ExportMode, PfxError};
use crate::core::time::UnixTime;

pub const MIN_MONTHS: u32 = 1;
pub const MAX_MONTHS: u32 = 24;
pub const DEFAULT_MONTHS: u32 = 12;

/// Backdating `notBefore` a little keeps a certificate valid on a service
/// whose clock runs a few minutes behind the admin's.
const CLOCK_SKEW_SECS: u64 = 300;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub subject: CertificateRequest,
    pub validity_months: u32,
    pub key_size: KeySize,
    pub format: ExportMode,
}

impl Default for GenerateRequest {
    fn default() -> Self {
        Self {
            subject: CertificateRequest::default(),
            validity_months: DEFAULT_MONTHS,
            key_size: KeySize::Rsa2048,
            format: ExportMode::Compatible,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum GenerateError {
    #[error("Enter a common name (CN) for the certificate, for example the service's name.")]
    MissingCommonName,
    #[error(
        "Choose a validity from {MIN_MONTHS} to {MAX_MONTHS} months (Entra's portal suggests at most 24)."
    )]
    Validity(u32),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error(transparent)]
    Pfx(#[from] PfxError),
    #[error("The key is RSA-{got}, but RSA-{wanted} was requested.")]
    KeySize { wanted: usize, got: usize },
}

/// What the result card shows and the downloads offer.
pub struct Generated {
    pub certificate: Certificate,
    pub info: CertificateInfo,
    /// The password-protected PFX: the only form the private key leaves in.
    pub pfx: Vec<u8>,
}

impl GenerateRequest {
    /// Everything that can be checked before spending time on a key.
    pub fn check(&self, password: &str, confirmation: &str) -> Result<(), GenerateError> {
        if self.subject.common_name.trim().is_empty() {
            return Err(GenerateError::MissingCommonName);
        }
        if !(MIN_MONTHS..=MAX_MONTHS).contains(&self.validity_months) {
            return Err(GenerateError::Validity(self.validity_months));
        }
        password::confirm(password, confirmation)?;
        Ok(())
    }

    /// Builds the certificate and the PFX around `key`, valid from `now` for
    /// the requested number of calendar months.
    pub fn build(
        &self,
        key: RsaKey,
        password: &str,
        now: UnixTime,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Generated, GenerateError> {
        self.check(password, password)?;
        if key.bits() != self.key_size.bits() {
            return Err(GenerateError::KeySize {
                wanted: self.key_size.bits(),
                got: key.bits(),
            });
        }
        let mut serial = [0u8; 10];
        rng.fill_bytes(&mut serial);
        let not_before = UnixTime(now.0.saturating_sub(CLOCK_SKEW_SECS));
        let not_after = now.plus_months(self.validity_months);
        let certificate =
            certificate::self_signed(&key, &self.subject, serial, not_before, not_after)?;
        let info = certificate.info()?;
        let friendly_name = self.subject.common_name.trim();
        let pfx = pfx::export(
            &key,
            &certificate,
            &[],
            Some(friendly_name),
            password,
            self.format,
            rng,
        )?;
        drop(key);
        Ok(Generated {
            certificate,
            info,
            pfx,
        })
    }
}

/// A file name from a common name: what the downloads are called.
pub fn file_stem(common_name: &str) -> String {
    let stem: String = common_name
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches(['-', '.']);
    if stem.is_empty() {
        "certificate".into()
    } else {
        stem.chars().take(64).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::keygen::RsaKeyGenerator;
    use rand_core::OsRng;

    fn request(cn: &str) -> GenerateRequest {
        GenerateRequest {
            subject: CertificateRequest {
                common_name: cn.into(),
                organization: Some("Contoso".into()),
                organizational_unit: None,
            },
            ..GenerateRequest::default()
        }
    }

    #[test]
    fn checks_inputs_before_keygen() {
        assert!(matches!(
            request(" ").check("pw", "pw"),
            Err(GenerateError::MissingCommonName)
        ));
        let mut r = request("backup");
        r.validity_months = 25;
        assert!(matches!(
            r.check("pw", "pw"),
            Err(GenerateError::Validity(25))
        ));
        r.validity_months = 0;
        assert!(matches!(
            r.check("pw", "pw"),
            Err(GenerateError::Validity(0))
        ));
        r.validity_months = 24;
        assert!(matches!(
            r.check("pw", "px"),
            Err(GenerateError::Password(PasswordError::Mismatch))
        ));
        assert!(matches!(
            r.check("", ""),
            Err(GenerateError::Password(PasswordError::Empty))
        ));
        assert!(r.check("pw", "pw").is_ok());
    }

    #[test]
    fn builds_a_certificate_and_a_pfx_that_opens_with_the_password() {
        let now = UnixTime::parse_rfc3339("2026-01-31T12:00:00Z").unwrap();
        let key = RsaKeyGenerator.generate_blocking(KeySize::Rsa2048).unwrap();
        let public = key.public_key_der();
        let generated = request("Backup Azure SA")
            .build(key, "S3cret-pfx!", now, &mut OsRng)
            .unwrap();
        let info = &generated.info;
        assert_eq!(info.subject_cn.as_deref(), Some("Backup Azure SA"));
        assert_eq!(info.not_before.to_rfc3339(), "2026-01-31T11:55:00Z");
        assert_eq!(info.not_after.to_rfc3339(), "2027-01-31T12:00:00Z");
        assert_eq!(generated.certificate.public_key_der(), public);

        let opened = pfx::import(&generated.pfx, Some("S3cret-pfx!")).unwrap();
        assert_eq!(
            opened.leaf.as_ref().map(|c| c.sha1_hex()),
            Some(info.sha1.clone())
        );
        assert!(pfx::import(&generated.pfx, Some("wrong")).is_err());
    }

    #[test]
    fn refuses_a_key_of_another_size() {
        let key = RsaKeyGenerator.generate_blocking(KeySize::Rsa2048).unwrap();
        let mut r = request("x");
        r.key_size = KeySize::Rsa3072;
        let err = r
            .build(key, "pw", UnixTime(1_800_000_000), &mut OsRng)
            .err()
            .unwrap();
        assert!(matches!(
            err,
            GenerateError::KeySize {
                wanted: 3072,
                got: 2048
            }
        ));
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("Backup Azure SA"), "Backup-Azure-SA");
        assert_eq!(file_stem("../etc/passwd"), "etc-passwd");
        assert_eq!(file_stem("  "), "certificate");
    }
}
