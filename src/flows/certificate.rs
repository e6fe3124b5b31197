//! The certificate a wizard registers: generated in the page (key,
//! certificate and password-protected PFX made by [`CertificateTools`] — the
//! page's crypto worker with WebCrypto's key in the browser, any
//! [`KeyGenerator`](crate::core::keygen::KeyGenerator) in-process natively —
//! and the PFX kept for the admin to download), or the leaf of a
//! PFX/P12 the admin already has, checked the way Entra will use it (it
//! opens, holds its private key, RSA, the key matches the certificate, not
//! expired). The wizards (F1, F2, F5) and the coming renewal share this.

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::core::certificate::{Certificate, CertificateRequest};
use crate::core::generate::{DEFAULT_MONTHS, GenerateError, GenerateRequest, file_stem};
use crate::core::inspect::OpenError;
use crate::core::keygen::{KeySize, KeygenError};
use crate::core::pfx::{ExportMode, PfxError};
use crate::core::time::UnixTime;
use crate::core::tools::{CertificateTools, ToolError};
use crate::plan::{Plan, Progress, Step};

use super::InputError;
use super::connection::AuthMethod;
use super::policy::{CredentialKind, PolicyError, PolicyView};

/// The key size of a certificate generated for a service.
pub const KEY_SIZE: KeySize = KeySize::Rsa2048;
/// Its lifetime in months (Entra's portal suggests at most 24).
pub const LIFETIME_MONTHS: u32 = DEFAULT_MONTHS;
/// How the wizards describe what "generate" makes.
pub const GENERATED_SUMMARY: &str = "RSA 2048, 12 months";

/// Where the certificate comes from. Holds passwords and the PFX's bytes:
/// zeroized on drop.
pub enum CertificateSource {
    /// A new key and self-signed certificate made in the page.
    Generate {
        /// Common name; also the PFX's friendly name and file name.
        common_name: String,
        password: Zeroizing<String>,
        confirmation: Zeroizing<String>,
        key_size: KeySize,
        validity_months: u32,
    },
    /// A PFX/P12 file the admin has, with its password (empty: try none and
    /// the empty one).
    Import {
        file: Option<(String, Zeroizing<Vec<u8>>)>,
        password: Zeroizing<String>,
    },
}

impl CertificateSource {
    /// A generated certificate with the wizards' key size and lifetime.
    pub fn generate(common_name: &str, password: String, confirmation: String) -> Self {
        CertificateSource::Generate {
            common_name: common_name.trim().to_string(),
            password: Zeroizing::new(password),
            confirmation: Zeroizing::new(confirmation),
            key_size: KEY_SIZE,
            validity_months: LIFETIME_MONTHS,
        }
    }

    pub fn import(file: Option<(String, Vec<u8>)>, password: String) -> Self {
        CertificateSource::Import {
            file: file.map(|(name, bytes)| (name, Zeroizing::new(bytes))),
            password: Zeroizing::new(password),
        }
    }

    /// Whether the key will be made here (then its PFX must be downloaded
    /// before the certificate is registered).
    pub fn is_generated(&self) -> bool {
        matches!(self, CertificateSource::Generate { .. })
    }

    /// A generated certificate lasts `months` (what [`generated_months`]
    /// says the policy allows); an imported one is what it is.
    pub fn limit_months(&mut self, months: u32) {
        if let CertificateSource::Generate {
            validity_months, ..
        } = self
        {
            *validity_months = months;
        }
    }
}

/// At least how far before `now` a certificate generated here starts
/// (`core::generate` allows a few minutes of clock skew).
const START_MARGIN_SECS: u64 = 600;

/// How long a certificate generated here from `now` lasts, in seconds, at
/// most: its keyCredential runs from notBefore to notAfter, which is what a
/// policy's `asymmetricKeyLifetime` limits.
fn generated_lifetime(months: u32, now: UnixTime) -> u64 {
    now.plus_months(months).0 - now.0 + START_MARGIN_SECS
}

/// The months a certificate generated here may last under `policy` (for an
/// application created at `app_created`, when known): the wizards' 12, or
/// fewer when the policy's maximum lifetime is shorter, with the sentence
/// that says which policy shortened it.
pub fn generated_months(
    policy: &PolicyView,
    app_created: Option<UnixTime>,
    now: UnixTime,
) -> Result<(u32, Option<String>), PolicyError> {
    months_within(policy, LIFETIME_MONTHS, app_created, now)
}

/// Like [`generated_months`] for a lifetime of `months` the admin chose.
pub fn months_within(
    policy: &PolicyView,
    months: u32,
    app_created: Option<UnixTime>,
    now: UnixTime,
) -> Result<(u32, Option<String>), PolicyError> {
    let kind = CredentialKind::Certificate;
    let full = generated_lifetime(months, now);
    let allowed = policy.evaluate(kind, full, app_created, now)?;
    let Some(decider) = allowed.clamped_from.and(allowed.decided_by.clone()) else {
        return Ok((months, allowed.note()));
    };
    match (1..months)
        .rev()
        .find(|m| generated_lifetime(*m, now) <= allowed.lifetime_secs)
    {
        Some(shorter) => Ok((
            shorter,
            Some(format!(
                "The new certificate is made for {shorter} months instead of {months}: \
                 {decider} allows certificates no longer."
            )),
        )),
        // Not even a month: the policy's own refusal.
        None => policy
            .check_fixed(kind, generated_lifetime(1, now), app_created, now)
            .map(|_| (1, None)),
    }
}

/// A certificate generated in the page: its PFX (password-protected), the
/// only form its private key leaves the page in.
#[derive(Clone)]
pub struct GeneratedPfx {
    /// The download's name, `{stem}.pfx`.
    pub file_name: String,
    pub thumbprint: String,
    pub pfx: Zeroizing<Vec<u8>>,
}

/// What the wizard registers.
pub struct ChosenCertificate {
    /// The public certificate, DER.
    pub der: Vec<u8>,
    /// How the connection record describes it.
    pub auth: AuthMethod,
    /// Set when the key was generated here.
    pub generated: Option<GeneratedPfx>,
}

#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error(transparent)]
    Generate(#[from] GenerateError),
    #[error(transparent)]
    Keygen(#[from] KeygenError),
    #[error("Choose the PFX or P12 file of the certificate.")]
    NoFile,
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(
        "This file holds only a public certificate: choose the PFX/P12 with its private key, \
         which the service needs."
    )]
    OnlyPublicCertificate,
    #[error(transparent)]
    Unusable(#[from] PfxError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("The plan's certificate is already registered: there is no certificate to replace.")]
    NothingToReplace,
    /// The page's crypto worker could not run, or the admin stopped it.
    #[error(transparent)]
    Tools(ToolError),
}

impl From<ToolError> for CertificateError {
    fn from(e: ToolError) -> Self {
        match e {
            ToolError::Generate(e) => CertificateError::Generate(e),
            ToolError::Keygen(e) => CertificateError::Keygen(e),
            ToolError::Open(e) => CertificateError::Open(e),
            ToolError::Unusable(e) => CertificateError::Unusable(e),
            ToolError::Certificate(e) => {
                CertificateError::Input(InputError::Certificate(e.to_string()))
            }
            other => CertificateError::Tools(other),
        }
    }
}

/// Makes or opens the certificate `source` describes, at `now`, with
/// `tools` (in the page, its crypto worker).
pub async fn decide(
    source: &CertificateSource,
    tools: &impl CertificateTools,
    now: UnixTime,
    rng: &mut impl CryptoRngCore,
) -> Result<ChosenCertificate, CertificateError> {
    match source {
        CertificateSource::Generate {
            common_name,
            password,
            confirmation,
            key_size,
            validity_months,
        } => {
            let request = GenerateRequest {
                subject: CertificateRequest::new(common_name.trim()),
                validity_months: *validity_months,
                key_size: *key_size,
                format: ExportMode::Compatible,
            };
            // Everything that can be refused before spending time on a key.
            request.check(password, confirmation)?;
            let files = tools.make_certificate(&request, password, now, rng).await?;
            let certificate = Certificate::from_der(&files.certificate_der)
                .map_err(|e| InputError::Certificate(e.to_string()))?;
            let generated = GeneratedPfx {
                file_name: format!("{}.pfx", file_stem(common_name)),
                thumbprint: certificate.sha1_hex(),
                pfx: files.pfx,
            };
            let auth = AuthMethod::certificate(&certificate)?;
            Ok(ChosenCertificate {
                der: files.certificate_der,
                auth,
                generated: Some(generated),
            })
        }
        CertificateSource::Import { file, password } => {
            let (file_name, bytes) = file.as_ref().ok_or(CertificateError::NoFile)?;
            let password = Some(password.as_str()).filter(|p| !p.is_empty());
            let opened = tools.open_file(Some(file_name), bytes, password).await?;
            if !opened.pfx {
                return Err(CertificateError::OnlyPublicCertificate);
            }
            let leaf = opened.usable_leaf()?;
            // RSA and not expired: what the plan's registration requires.
            super::register_certificate(&leaf, now)?;
            let auth = AuthMethod::certificate(&leaf)?;
            Ok(ChosenCertificate {
                der: leaf.der().to_vec(),
                auth,
                generated: None,
            })
        }
    }
}

/// The index of `plan`'s certificate registration when, by `progress`, the
/// certificate is not registered yet: neither its step done nor carried by
/// an application the plan created (then a key generated in a page that was
/// since closed is not registered yet: see [`replace_pending`]).
pub fn pending_registration(plan: &Plan, progress: &Progress) -> Option<usize> {
    plan.steps.iter().enumerate().find_map(|(i, s)| match s {
        Step::RegisterCertificate(r) => {
            let done = progress.steps.get(i).is_some_and(|r| r.is_done())
                || progress
                    .registered_certificates
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(&r.thumbprint));
            (!done).then_some(i)
        }
        _ => None,
    })
}

/// Puts the certificate `der` in place of the one a saved plan was to
/// register, when that step has not run yet: after a reload the key
/// generated for the old one is gone with the page, so a resumed plan
/// registers a new certificate instead of a key nobody holds. The plan's
/// ID and its other steps stay, so the progress still belongs to it.
pub fn replace_pending(
    plan: &mut Plan,
    progress: &Progress,
    der: &[u8],
    now: UnixTime,
) -> Result<usize, CertificateError> {
    let index = pending_registration(plan, progress).ok_or(CertificateError::NothingToReplace)?;
    let cert = crate::core::certificate::Certificate::from_der(der)
        .map_err(|e| InputError::Certificate(e.to_string()))?;
    plan.steps[index] = super::register_certificate(&cert, now)?.0;
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::certificate::{self, Certificate};
    use crate::core::keygen::RsaKeyGenerator;
    use crate::plan::Outcome;

    const NOW: UnixTime = UnixTime(1_790_000_000);

    fn cert(cn: &str) -> Certificate {
        let key = RsaKeyGenerator.generate_blocking(KeySize::Rsa2048).unwrap();
        certificate::self_signed(
            &key,
            &CertificateRequest::new(cn),
            [7; 10],
            UnixTime(NOW.0 - 60),
            NOW.plus_days(30),
        )
        .unwrap()
    }

    #[test]
    fn a_pending_registration_takes_the_new_certificate() {
        let old = cert("old");
        let (register, _) = super::super::register_certificate(&old, NOW).unwrap();
        let mut plan = Plan::new(
            "p",
            "t",
            vec![Step::CreateServicePrincipal, register.clone()],
        );
        let mut progress = plan.start();
        progress.steps[0].outcome = Some(Outcome::Changed);
        assert_eq!(pending_registration(&plan, &progress), Some(1));

        let new = cert("new");
        assert_eq!(
            replace_pending(&mut plan, &progress, new.der(), NOW).unwrap(),
            1
        );
        assert_ne!(plan.steps[1], register);
        assert_eq!(
            plan.steps[1],
            super::super::register_certificate(&new, NOW).unwrap().0
        );
        progress.check(&plan).unwrap();

        // Once registered — with the application's create, or by its own
        // step — there is nothing to replace.
        let mut created = progress.clone();
        created
            .registered_certificates
            .push(new.info().unwrap().sha1.to_lowercase());
        assert_eq!(pending_registration(&plan, &created), None);
        progress.steps[1].outcome = Some(Outcome::Changed);
        assert_eq!(pending_registration(&plan, &progress), None);
        assert!(matches!(
            replace_pending(&mut plan, &progress, new.der(), NOW),
            Err(CertificateError::NothingToReplace)
        ));
        // Nor in a plan that registers no certificate.
        let roles = Plan::new("r", "t", vec![Step::CreateServicePrincipal]);
        assert_eq!(pending_registration(&roles, &roles.start()), None);
    }
}
