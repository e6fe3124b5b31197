//! Certificates → Inspect: open whatever file the admin dropped — a PFX/P12
//! or a public certificate — trying no password and the empty one before
//! asking for one, the way Windows and OpenSSL users expect.

use serde::{Deserialize, Serialize};

use crate::core::certificate::{self, Certificate, CertificateError};
use crate::core::pfx::{
    self, DerivedKeys, Imported, IterationBudget, MAX_ITERATIONS, Pbkdf2Job, PfxError,
};

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
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

/// Derives PBKDF2 keys ahead of a PFX's decryption: the browser's
/// WebCrypto (native, asynchronous, several at once, on threads of its
/// own) in the page's worker.
#[allow(async_fn_in_trait)] // implementations need not be Send (WebCrypto is not)
pub trait Pbkdf2Deriver {
    /// Derivations under way.
    type Started;
    /// Starts deriving each job's key from `password` (UTF-8), and returns
    /// once they run elsewhere: this thread is free meanwhile (to check
    /// the MAC).
    async fn start(&self, password: &[u8], jobs: &[Pbkdf2Job]) -> Self::Started;
    /// The keys, once derived; a job it could not do is left out, and is
    /// then derived in Rust.
    async fn finish(&self, started: Self::Started) -> DerivedKeys;
}

/// Which password an attempt tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Attempt {
    NoPassword,
    EmptyPassword,
    Typed,
}

/// How far opening a file has got: what the page shows meanwhile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Checking a password against the file's integrity MAC.
    Checking(Attempt),
    /// Deriving the keys of the encrypted bags from the password.
    Deriving { keys: usize, iterations: u64 },
    /// Decrypting and reading the bags.
    Reading,
}

impl core::fmt::Display for Stage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Stage::Checking(Attempt::NoPassword) => {
                f.write_str("Trying the file without a password…")
            }
            Stage::Checking(Attempt::EmptyPassword) => f.write_str("Trying the empty password…"),
            Stage::Checking(Attempt::Typed) => f.write_str("Checking the password…"),
            Stage::Deriving { keys, iterations } => write!(
                f,
                "Deriving {keys} key{} from the password ({} iterations)…",
                if *keys == 1 { "" } else { "s" },
                thousands(*iterations)
            ),
            Stage::Reading => f.write_str("Decrypting the key and certificates…"),
        }
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// [`open`], with the keys of PBES2 bags derived by `deriver`, and each
/// stage reported to `progress`. `file_name` `None`: a PFX is expected
/// whatever the file is called. A typed password is most likely right: its
/// derivations start before the MAC is checked, and run while it is. The
/// automatic attempts (no password, the empty one) check the MAC first, so
/// that a wrong one costs no derivation.
pub async fn open_with<D: Pbkdf2Deriver>(
    data: &[u8],
    file_name: Option<&str>,
    password: Option<&str>,
    deriver: &D,
    progress: &mut impl FnMut(Stage),
) -> Result<Opened, OpenError> {
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(OpenError::Empty);
    }
    if file_name.is_some_and(is_certificate_name) {
        return open_certificates(data);
    }
    let mut budget = IterationBudget::new();
    let attempts = match password {
        Some(p) => vec![(Some(p), Attempt::Typed)],
        None => vec![
            (None, Attempt::NoPassword),
            (Some(""), Attempt::EmptyPassword),
        ],
    };
    for (attempt, which) in attempts {
        progress(Stage::Checking(which));
        let mut opening = pfx::decode(data, attempt)?;
        let jobs = opening.pbkdf2_jobs();
        let iterations: u64 = jobs.iter().map(|j| u64::from(j.iterations)).sum();
        // Only what the file's budget allows anyway: the budget check while
        // reading refuses the rest, as without a deriver.
        let affordable = !jobs.is_empty()
            && jobs
                .iter()
                .all(|j| u64::from(j.iterations) <= MAX_ITERATIONS)
            && opening.mac_iterations().saturating_add(iterations) <= budget.remaining();
        let mut started = None;
        if affordable && which == Attempt::Typed {
            started = Some(deriver.start(opening.pbkdf2_password(), &jobs).await);
        }
        match opening.verify_mac(&mut budget) {
            Ok(()) => {}
            Err(PfxError::WrongPassword) if password.is_none() => continue,
            Err(e) => return Err(e.into()),
        }
        if affordable && started.is_none() {
            started = Some(deriver.start(opening.pbkdf2_password(), &jobs).await);
        }
        let derived = match started {
            Some(started) => {
                progress(Stage::Deriving {
                    keys: jobs.len(),
                    iterations,
                });
                deriver.finish(started).await
            }
            None => DerivedKeys::new(),
        };
        progress(Stage::Reading);
        match opening.import(&mut budget, &derived) {
            Ok(imported) => {
                return Ok(Opened::Pfx {
                    imported: Box::new(imported),
                    password: attempt.map(str::to_string),
                });
            }
            Err(PfxError::WrongPassword) if password.is_none() => continue,
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
        sample_in(password, ExportMode::Compatible, "inspect")
    }

    /// A PFX of a new key and a 30-day certificate named `cn`.
    fn sample_in(password: &str, mode: ExportMode, cn: &str) -> (Vec<u8>, Certificate) {
        let key = RsaKeyGenerator.generate_blocking(KeySize::Rsa2048).unwrap();
        let now = UnixTime(1_800_000_000);
        let cert = self_signed(
            &key,
            &CertificateRequest::new(cn),
            [7; 10],
            now,
            now.plus_days(30),
        )
        .unwrap();
        let pfx = pfx::export(&key, &cert, &[], None, password, mode, &mut OsRng).unwrap();
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

    /// Derives with the pbkdf2 crate (as WebCrypto would), counting calls;
    /// `spoil` derives wrong keys instead, to show that they are used.
    struct Deriver {
        calls: core::cell::RefCell<Vec<usize>>,
        spoil: bool,
    }

    impl Pbkdf2Deriver for Deriver {
        type Started = DerivedKeys;

        async fn start(&self, password: &[u8], jobs: &[Pbkdf2Job]) -> DerivedKeys {
            use crate::core::pfx::Prf;
            self.calls.borrow_mut().push(jobs.len());
            let mut out = DerivedKeys::new();
            for job in jobs {
                let mut key = zeroize::Zeroizing::new(vec![0u8; job.key_len]);
                if !self.spoil {
                    let (salt, n) = (&job.salt[..], job.iterations);
                    match job.prf {
                        Prf::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, n, &mut key),
                        Prf::Sha256 => {
                            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, n, &mut key)
                        }
                        Prf::Sha384 => {
                            pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, salt, n, &mut key)
                        }
                        Prf::Sha512 => {
                            pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, n, &mut key)
                        }
                    }
                }
                out.insert(job.clone(), key);
            }
            out
        }

        async fn finish(&self, started: DerivedKeys) -> DerivedKeys {
            started
        }
    }

    fn ready<F: core::future::Future>(fut: F) -> F::Output {
        let mut fut = core::pin::pin!(fut);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        match fut.as_mut().poll(&mut cx) {
            core::task::Poll::Ready(v) => v,
            core::task::Poll::Pending => panic!("ready at once"),
        }
    }

    #[test]
    fn keys_derived_ahead_open_a_modern_pfx_and_a_wrong_password_derives_nothing() {
        let (pfx, cert) = sample_in("Right-1", ExportMode::Modern, "ahead");
        let deriver = Deriver {
            calls: Default::default(),
            spoil: false,
        };
        let mut stages = Vec::new();
        // No password and the empty one fail at the MAC: no derivation.
        let none = ready(open_with(&pfx, Some("m.pfx"), None, &deriver, &mut |s| {
            stages.push(s)
        }));
        assert!(matches!(none, Err(OpenError::NeedsPassword)));
        assert!(deriver.calls.borrow().is_empty());
        assert_eq!(
            stages,
            [
                Stage::Checking(Attempt::NoPassword),
                Stage::Checking(Attempt::EmptyPassword)
            ]
        );

        stages.clear();
        let opened = ready(open_with(&pfx, None, Some("Right-1"), &deriver, &mut |s| {
            stages.push(s)
        }))
        .unwrap();
        // The key bag's and the certificates' PBKDF2, derived at once.
        assert_eq!(*deriver.calls.borrow(), [2]);
        let iterations = 2 * u64::from(pfx::MODERN_ITERATIONS);
        assert_eq!(
            stages,
            [
                Stage::Checking(Attempt::Typed),
                Stage::Deriving {
                    keys: 2,
                    iterations
                },
                Stage::Reading
            ]
        );
        match opened {
            Opened::Pfx { imported, .. } => assert_eq!(imported.leaf, Some(cert)),
            Opened::Certificates(_) => panic!("a PFX opened as certificates"),
        }

        // Wrong keys are used, not silently re-derived: after a verified
        // MAC the file is reported damaged.
        let spoiled = Deriver {
            calls: Default::default(),
            spoil: true,
        };
        let e = ready(open_with(
            &pfx,
            None,
            Some("Right-1"),
            &spoiled,
            &mut |_| {},
        ))
        .err()
        .unwrap();
        assert_eq!(e.kind(), "corrupt");
    }
}
