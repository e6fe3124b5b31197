//! F2 — use an existing application. Unchecked ("grant the required
//! permissions and register its certificate" off): the inputs are validated
//! locally — tenant ID, application ID, the secret, or the PFX (opens, RSA,
//! key matches, dates) — with no network at all. Checked: a plan that finds
//! the application, registers the certificate keeping existing keys, and
//! grants what is missing.

use zeroize::Zeroizing;

use crate::core::certificate::Certificate;
use crate::core::inspect::{self, OpenError};
use crate::core::pfx::PfxError;
use crate::core::time::UnixTime;
use crate::core::tools::{CertificateTools, ToolError};
use crate::core::validate::{self, SecretWarning};
use crate::plan::step::{AddRequiredPermissions, FindApplication};
use crate::plan::{Plan, Step, new_guid};
use crate::profiles::Profile;

use super::{InputError, SubscriptionChoice, azure_role_steps, grant_steps, register_certificate};

/// How the service will authenticate. Holds secrets: never serialised,
/// zeroized on drop.
pub enum Credential {
    Secret(Zeroizing<String>),
    /// A PFX/P12 and its password (`None`: try no password, then the empty one).
    Pfx {
        data: Zeroizing<Vec<u8>>,
        password: Option<Zeroizing<String>>,
    },
}

/// The F2 form.
pub struct ExistingApplication {
    pub tenant: String,
    pub app_id: String,
    pub credential: Credential,
    /// "Grant the required permissions to this application and register its certificate".
    pub grant_and_register: bool,
    pub profile: Profile,
    pub subscription: Option<SubscriptionChoice>,
}

/// What was verified locally (no secret, no key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalCheck {
    /// Tenant ID (GUID) or verified domain, normalised.
    pub tenant: String,
    pub app_id: String,
    pub auth: CheckedAuth,
    /// Things probably wrong but not certainly (shown, not blocking).
    pub warnings: Vec<String>,
}

impl LocalCheck {
    /// How the record under "Service accounts" describes the credential.
    pub fn auth_method(&self) -> super::AuthMethod {
        match &self.auth {
            CheckedAuth::Secret { hint } => super::AuthMethod::ClientSecret {
                hint: hint.clone(),
                end: None,
            },
            CheckedAuth::Certificate {
                thumbprint,
                subject,
                not_before,
                not_after,
                ..
            } => super::AuthMethod::Certificate {
                thumbprint: thumbprint.clone(),
                subject: subject.clone(),
                not_before: *not_before,
                not_after: *not_after,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckedAuth {
    Secret {
        /// First three characters, as Entra shows a secret.
        hint: String,
    },
    Certificate {
        /// The public certificate, DER.
        certificate_der: Vec<u8>,
        thumbprint: String,
        subject: String,
        not_before: UnixTime,
        not_after: UnixTime,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ExistingAppError {
    #[error(transparent)]
    Tenant(#[from] validate::TenantIdError),
    #[error(transparent)]
    ApplicationId(#[from] validate::ApplicationIdError),
    #[error(transparent)]
    Secret(#[from] validate::ClientSecretError),
    #[error("This PFX is protected by a password: enter it.")]
    PfxNeedsPassword,
    #[error(transparent)]
    Pfx(#[from] PfxError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    File(OpenError),
    /// The page's crypto worker could not run, or the admin stopped it.
    #[error(transparent)]
    Tools(ToolError),
}

impl From<ToolError> for ExistingAppError {
    fn from(e: ToolError) -> Self {
        match e {
            ToolError::Open(e) => e.into(),
            ToolError::Unusable(e) => ExistingAppError::Pfx(e),
            ToolError::Certificate(e) => InputError::Certificate(e.to_string()).into(),
            other => ExistingAppError::Tools(other),
        }
    }
}

impl From<OpenError> for ExistingAppError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::NeedsPassword => ExistingAppError::PfxNeedsPassword,
            OpenError::Pfx(e) => ExistingAppError::Pfx(e),
            other => ExistingAppError::File(other),
        }
    }
}

/// Validates the F2 inputs with no network: this is the whole of F2 when
/// the check box is off. The PFX is opened in-process (natively; the page
/// uses [`check_locally_with`] and its crypto worker).
pub fn check_locally(
    input: &ExistingApplication,
    now: UnixTime,
) -> Result<LocalCheck, ExistingAppError> {
    let ids = check_ids(input)?;
    let leaf = match &input.credential {
        Credential::Secret(_) => None,
        Credential::Pfx { data, password } => {
            let (imported, _) = inspect::open_pfx(data, password.as_ref().map(|p| p.as_str()))?;
            let (_key, cert) = imported.usable_for_entra()?;
            Some(cert.clone())
        }
    };
    check_credential(input, ids, leaf, now)
}

/// [`check_locally`], with the PFX opened by `tools` (in the page, its
/// crypto worker, off the page's thread).
pub async fn check_locally_with(
    input: &ExistingApplication,
    tools: &impl CertificateTools,
    now: UnixTime,
) -> Result<LocalCheck, ExistingAppError> {
    let ids = check_ids(input)?;
    let leaf = match &input.credential {
        Credential::Secret(_) => None,
        Credential::Pfx { data, password } => Some(
            tools
                .open_file(None, data, password.as_ref().map(|p| p.as_str()))
                .await?
                .usable_leaf()?,
        ),
    };
    check_credential(input, ids, leaf, now)
}

fn check_ids(input: &ExistingApplication) -> Result<(String, String), ExistingAppError> {
    let tenant = validate::tenant_id(&input.tenant)?;
    let app_id = validate::application_id(&input.app_id)?;
    Ok((tenant.as_str().to_string(), app_id))
}

/// The rest of the check, with the PFX's usable certificate (`leaf`).
fn check_credential(
    input: &ExistingApplication,
    (tenant, app_id): (String, String),
    leaf: Option<Certificate>,
    now: UnixTime,
) -> Result<LocalCheck, ExistingAppError> {
    let mut warnings = Vec::new();
    let auth = match (&input.credential, leaf) {
        (Credential::Secret(secret), _) => {
            warnings.extend(
                validate::client_secret(secret)?
                    .iter()
                    .map(SecretWarning::to_string),
            );
            CheckedAuth::Secret {
                hint: secret.trim().chars().take(3).collect(),
            }
        }
        (Credential::Pfx { .. }, None) => return Err(PfxError::NoCertificate.into()),
        (Credential::Pfx { .. }, Some(cert)) => {
            let cert = &cert;
            let (_, info) = register_certificate(cert, now)?;
            if info.not_before > now {
                warnings.push(format!(
                    "The certificate is valid only from {}: Entra refuses it until then.",
                    info.not_before
                ));
            }
            warnings.extend(
                crate::core::certificate::warnings(&info, now)
                    .iter()
                    .filter(|w| w.kind() != "not_yet_valid")
                    .map(|w| w.message()),
            );
            CheckedAuth::Certificate {
                certificate_der: cert.der().to_vec(),
                thumbprint: info.sha1,
                subject: info.subject,
                not_before: info.not_before,
                not_after: info.not_after,
            }
        }
    };
    Ok(LocalCheck {
        tenant,
        app_id,
        auth,
        warnings,
    })
}

/// The F2 plan when the check box is on: find the application (a clear
/// error if it is not in the tenant), add the profile's permissions to it,
/// make sure it has a service principal, register the certificate keeping
/// the existing ones, grant what is missing, assign the Azure roles.
pub fn plan(
    check: &LocalCheck,
    profile: &Profile,
    subscription: Option<&SubscriptionChoice>,
    now: UnixTime,
    rng: &mut impl rand_core::RngCore,
) -> Result<Plan, InputError> {
    let mut steps = vec![Step::FindApplication(FindApplication {
        app_id: check.app_id.clone(),
    })];
    if !profile.resources.is_empty() {
        steps.push(Step::AddRequiredPermissions(AddRequiredPermissions {
            permissions: profile.resources.clone(),
        }));
    }
    steps.push(Step::CreateServicePrincipal);
    if let CheckedAuth::Certificate {
        certificate_der, ..
    } = &check.auth
    {
        let cert = Certificate::from_der(certificate_der)
            .map_err(|e| InputError::Certificate(e.to_string()))?;
        steps.push(register_certificate(&cert, now)?.0);
    }
    steps.extend(grant_steps(profile));
    steps.extend(azure_role_steps(profile, subscription, rng)?);
    Ok(Plan::new(
        new_guid(rng),
        format!(
            "Connect application {} for {}",
            check.app_id, profile.display_name
        ),
        steps,
    ))
}

/// Where F2 goes after its form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Check box off: validated locally, nothing else to do (no sign-in, no
    /// network).
    Finished(LocalCheck),
    /// Check box on: the plan to review, and what pre-flight found missing
    /// in the signed-in admin's roles (empty: may apply).
    Review {
        check: LocalCheck,
        plan: Plan,
        missing: Vec<crate::plan::Missing>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Input(#[from] ExistingAppError),
    #[error(transparent)]
    Api(#[from] crate::api_error::ApiError),
}

/// F2 from its form: validates locally; with the check box on, also plans
/// and runs pre-flight through `api` (which sends nothing when it is off).
pub async fn run<C: crate::http::HttpClient, S: crate::http::Sleeper>(
    api: &crate::client::ApiClient<'_, C, S>,
    input: &ExistingApplication,
    now: UnixTime,
    rng: &mut impl rand_core::RngCore,
) -> Result<Next, RunError> {
    let check = check_locally(input, now)?;
    if !input.grant_and_register {
        return Ok(Next::Finished(check));
    }
    let plan = plan(
        &check,
        &input.profile,
        input.subscription.as_ref(),
        now,
        rng,
    )
    .map_err(ExistingAppError::from)?;
    let missing = crate::plan::preflight::run(api, &plan).await?;
    Ok(Next::Review {
        check,
        plan,
        missing,
    })
}
