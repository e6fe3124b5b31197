//! Certificates → Inspect: open whatever file the admin dropped — a PFX/P12
//! or a public certificate — trying no password and the empty one before
//! asking for one, the way Windows and OpenSSL users expect.

use crate::core::certificate::{self, Certificate, CertificateError};
use crate::core::pfx::{self, Imported, IterationBudget, PfxError};

/// What a file turned out to hold.
pub enum Opened {
    /// A PFX/P12, opened with `password` (`None`: it had no password).
    Pfx {
        imported: Box<Imported>,
        password: Option<String>,
    },
    /// One or more public certificates (.cer, .crt, .pem): no private key.
    Certificates(Vec<Certificate>),
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("This file is protected by a password: enter it to open the file.")]
    NeedsPassword,
    #[error("The file is empty: choose the .pfx, .p12, .cer, .crt or .pem file again.")]
    Empty,
    #[error(transparent)]
    Pfx(#[from] PfxError),
    #[error(transparent)]
    Certificate(#[from] CertificateError),
}

impl OpenError {
    pub fn kind(&self) -> &'static str {
        match self {
            OpenError::NeedsPassword => "needs_password",
            OpenError::Empty => "empty",
            OpenError::Pfx(e) => e.kind(),
            OpenError::Certificate(e) => e.kind(),
        }
    }
}

/// Extensions under which a public certificate is what the admin meant to
/// open; under any other name (.pfx, .p12, none) a certificate is an error,
/// since a PFX with its private key was expected.
fn is_certificate_name(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    [".cer", ".crt", ".pem", ".der"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// Opens `data`. With `password` None it tries no password, then the empty
/// one, and answers [`OpenError::NeedsPassword`] if neither opens it.
pub fn open(data: &[u8], file_name: &str, password: Option<&str>) -> Result<Opened, OpenError> {
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(OpenError::Empty);
    }
    if is_certificate_name(file_name) {
        return open_certificates(data);
    }
    let (imported, password) = open_pfx(data, password)?;
    Ok(Opened::Pfx {
        imported: Box::new(imported),
        password,
    })
}

/// Opens a PFX with `password`, or, when None, with no password and then the
/// empty one; answers [`OpenError::NeedsPassword`] if neither opens it. Any
/// other failure (a PEM, a truncated file…) is reported as itself. Returns
/// the password that opened it. The attempts share one iteration budget
/// ([`pfx::MAX_TOTAL_ITERATIONS`] for the file).
pub fn open_pfx(
    data: &[u8],
    password: Option<&str>,
) -> Result<(Imported, Option<String>), OpenError> {
    let mut budget = IterationBudget::new();
    if let Some(pw) = password {
        let imported = pfx::import_with_budget(data, Some(pw), &mut budget)?;
        return Ok((imported, Some(pw.to_string())));
    }
    for attempt in [None, Some("")] {
        match pfx::import_with_budget(data, attempt, &mut budget) {
            Ok(imported) => return Ok((imported, attempt.map(str::to_string))),
            Err(PfxError::WrongPassword) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(OpenError::NeedsPassword)
}

fn open_certificates(data: &[u8]) -> Result<Opened, OpenError> {
    let text = core::str::from_utf8(data)
        .ok()
        .filter(|t| t.trim_start().starts_with("-----BEGIN"));
    let certs = match text {
        Some(t) => certificate::parse_pem_all(t)?,
        None => vec![certificate::parse(data)?],
    };
    Ok(Opened::Certificates(certs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::certificate::{CertificateRequest, self_signed};
    use crate::core::keygen::{KeySize, RsaKeyGenerator};
    use crate::core::pfx::ExportMode;
    use crate::core::time::UnixTime;
    use rand_core::OsRng;

    fn sample(password: &str) -> (Vec<u8>, Certificate) {
        let key = RsaKeyGenerator.generate_blocking(KeySize::Rsa2048).unwrap();
        let now = UnixTime(1_800_000_000);
        let cert = self_signed(
            &key,
            &CertificateRequest::new("inspect"),
            [7; 10],
            now,
            now.plus_days(30),
        )
        .unwrap();
        let pfx = pfx::export(
            &key,
            &cert,
            &[],
            None,
            password,
            ExportMode::Compatible,
            &mut OsRng,
        )
        .unwrap();
        (pfx, cert)
    }

    #[test]
    fn asks_for_a_password_only_when_needed_and_reports_a_wrong_one() {
        let (pfx, cert) = sample("Right-Password-1");
        assert!(matches!(
            open(&pfx, "a.pfx", None),
            Err(OpenError::NeedsPassword)
        ));
        let err = open(&pfx, "a.pfx", Some("wrong")).err().unwrap();
        assert_eq!(err.kind(), "wrong_password");
        match open(&pfx, "a.pfx", Some("Right-Password-1")).unwrap() {
            Opened::Pfx { imported, password } => {
                assert_eq!(imported.leaf.unwrap().sha1_hex(), cert.sha1_hex());
                assert_eq!(password.as_deref(), Some("Right-Password-1"));
            }
            Opened::Certificates(_) => panic!("a PFX opened as a certificate"),
        }
    }

    #[test]
    fn a_certificate_is_shown_under_its_own_name_and_refused_as_a_pfx() {
        let (_, cert) = sample("x");
        let pem = cert.to_pem();
        match open(pem.as_bytes(), "portal.pem", None).unwrap() {
            Opened::Certificates(c) => assert_eq!(c, vec![cert.clone()]),
            Opened::Pfx { .. } => panic!("a PEM certificate opened as a PFX"),
        }
        assert!(matches!(
            open(cert.der(), "portal.cer", None),
            Ok(Opened::Certificates(_))
        ));
        // A PEM certificate renamed .pfx: the admin expected the private key.
        assert_eq!(
            open(pem.as_bytes(), "renamed.pfx", None)
                .err()
                .unwrap()
                .kind(),
            "pem_certificate"
        );
        assert_eq!(
            open(cert.der(), "renamed.p12", None).err().unwrap().kind(),
            "der_certificate"
        );
        assert_eq!(
            open(b"  \n", "blank.pfx", None).err().unwrap().kind(),
            "empty"
        );
    }
}
