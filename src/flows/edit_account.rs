//! F3 — edit a service account (the seeds' Logon step): read the
//! connection's current state live, say in one line what is wrong and what
//! fixes it, and plan the fix — renew the secret (the old one removed only
//! after the admin confirms the service uses the new one, as its own
//! reviewed plan), take a secret made elsewhere, renew the certificate,
//! re-create a deleted application, or switch to another application.
//!
//! Every change is a [`Plan`] applied by the ordinary executor; what it
//! means for the saved record is an [`EditChange`] that [`complete`] applies
//! once the plan has finished. Nothing here holds a secret's value except
//! the [`SecretChannel`] of an `AddPassword` step, which is never saved.

use serde::{Deserialize, Serialize};

use crate::client::ApiClient;
use crate::core::credential_expiry::{self, CredentialStatus};
use crate::core::time::{DAY, UnixTime};
use crate::core::validate::{self, SecretWarning};
use crate::graph::{self, PasswordCredential};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::step::{
    AddPassword, FindApplication, RemoveKeyCredential, RemovePassword, SecretChannel,
};
use crate::plan::{Plan, Progress, Step, new_guid};
use crate::profiles::Profile;

use super::connection::{AuthMethod, ConnectionRecord, PendingCredential, PreviousApplication};
use super::existing_app::LocalCheck;
use super::new_app::{self, NewApplication};
use super::policy::{self, PolicyError, PolicyView};
use super::roles::{self, RolesReport};
use super::{InputError, register_certificate};

/// The longest secret lifetime the page offers (Microsoft recommends less
/// than 12 months; the portal offers up to 24).
pub const MAX_SECRET_DAYS: u32 = 730;

/// One credential of the application, as the page shows it (no value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialView {
    pub kind: CredentialKind,
    pub key_id: Option<String>,
    pub display_name: Option<String>,
    /// The secret's first characters, or the certificate's SHA-1 thumbprint.
    pub label: String,
    pub start: Option<UnixTime>,
    pub end: Option<UnixTime>,
    pub expiry: Option<CredentialStatus>,
    /// The record's credential.
    pub in_use: bool,
    /// The record's new credential, not confirmed yet.
    pub pending: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CredentialKind {
    Secret,
    Certificate,
}

/// What is wrong with the connection (the first that applies), or nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Healthy {
        days: u64,
    },
    ExpiresSoon {
        days: u64,
    },
    Expired {
        days_ago: u64,
    },
    ApplicationDeleted,
    CredentialNotRegistered,
    RolesMissing {
        missing: Vec<String>,
    },
    /// API permissions of the profile not granted (app roles, admin consent).
    PermissionsMissing {
        missing: Vec<String>,
    },
}

/// What fixes a status: the edit actions, in the order to offer them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    RenewSecret,
    PasteSecret,
    RenewCertificate,
    /// A secret's service moves to a certificate (Microsoft's advice, and
    /// the way out when a policy forbids secrets): the same plan as
    /// [`Action::RenewCertificate`]; the confirm removes the old secret.
    SwitchToCertificate,
    Recreate,
    ProvideAnother,
    AssignRoles,
    GrantPermissions,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::RenewSecret => "Renew the secret",
            Action::PasteSecret => "Enter a secret made elsewhere",
            Action::RenewCertificate => "Renew the certificate",
            Action::SwitchToCertificate => "Use a certificate instead",
            Action::Recreate => "Re-create the application",
            Action::ProvideAnother => "Use another application",
            Action::AssignRoles => "Assign the missing roles",
            Action::GrantPermissions => "Grant the missing permissions",
        }
    }
}

impl Status {
    /// The status line.
    pub fn line(&self, auth: &AuthMethod) -> String {
        let what = credential_name(auth);
        match self {
            Status::Healthy { days } => format!(
                "Healthy: the {what} is valid for {} more and nothing its profile needs is missing.",
                day_count(*days)
            ),
            Status::ExpiresSoon { days: 0 } => format!(
                "The {what} expires today: renew it before the service stops signing in."
            ),
            Status::ExpiresSoon { days } => format!(
                "The {what} expires in {}: renew it before the service stops signing in.",
                day_count(*days)
            ),
            Status::Expired { days_ago: 0 } => format!(
                "The {what} expired today: the service can no longer sign in. Renew it."
            ),
            Status::Expired { days_ago } => format!(
                "The {what} expired {} ago: the service can no longer sign in. Renew it.",
                day_count(*days_ago)
            ),
            Status::ApplicationDeleted => "The application no longer exists in the tenant: re-create \
                 it (the service must then be given the new application ID) or use another application."
                .into(),
            Status::CredentialNotRegistered => format!(
                "The {what} this service account uses is no longer registered on the application: \
                 create a new one, or enter the one the service uses now."
            ),
            Status::RolesMissing { missing } => format!(
                "Missing on the application: {}. Assign them.",
                missing.join(", ")
            ),
            Status::PermissionsMissing { missing } => format!(
                "Not granted to the application: {}. Grant them.",
                missing.join(", ")
            ),
        }
    }

    /// Whether the line is good news.
    pub fn is_healthy(&self) -> bool {
        matches!(self, Status::Healthy { .. })
    }

    /// The actions that fix it, for a record authenticating with `auth`.
    pub fn actions(&self, auth: &AuthMethod) -> Vec<Action> {
        let secret = matches!(auth, AuthMethod::ClientSecret { .. });
        let renew = if secret {
            vec![
                Action::RenewSecret,
                Action::PasteSecret,
                Action::SwitchToCertificate,
            ]
        } else {
            vec![Action::RenewCertificate]
        };
        match self {
            Status::ApplicationDeleted => vec![Action::Recreate, Action::ProvideAnother],
            Status::RolesMissing { .. } => {
                let mut v = vec![Action::AssignRoles];
                v.extend(renew);
                v
            }
            Status::PermissionsMissing { .. } => {
                let mut v = vec![Action::GrantPermissions];
                v.extend(renew);
                v
            }
            _ => renew,
        }
    }
}

fn day_count(n: u64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

fn credential_name(auth: &AuthMethod) -> String {
    match auth {
        AuthMethod::ClientSecret { hint, .. } => format!("client secret {hint}…"),
        AuthMethod::Certificate { thumbprint, .. } => format!("certificate {thumbprint}"),
    }
}

/// The connection as Graph and ARM describe it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountState {
    /// `None`: the application no longer exists.
    pub application_object_id: Option<String>,
    pub display_name: Option<String>,
    pub credentials: Vec<CredentialView>,
    pub service_principal_id: Option<String>,
    /// The profile's Azure roles on the record's subscription, when it has
    /// any.
    pub roles: Option<RolesReport>,
    /// The profile's API permissions not granted ("Microsoft Graph delegated
    /// permission User.Read").
    pub permissions_missing: Vec<String>,
    /// A secret the record's pending renewal made, still registered.
    pub pending_registered: bool,
    /// The app management policy that decides for the application (read
    /// before anything is planned: a secret it forbids is named then).
    pub policy: PolicyView,
    pub status: Status,
}

impl AccountState {
    /// The actions to offer for `auth`, as the status says, less what the
    /// application's policy forbids: with secrets forbidden, a secret's
    /// service is offered the certificate first and no new secret.
    pub fn actions(&self, auth: &AuthMethod, now: UnixTime) -> Vec<Action> {
        let mut actions = self.status.actions(auth);
        if self.secrets_forbidden(now).is_some() && actions.contains(&Action::SwitchToCertificate) {
            actions.retain(|a| !matches!(a, Action::RenewSecret | Action::SwitchToCertificate));
            let at = actions
                .iter()
                .position(|a| *a == Action::PasteSecret)
                .unwrap_or(actions.len());
            actions.insert(at, Action::SwitchToCertificate);
        }
        actions
    }

    /// The policy's refusal of new secrets, naming the policy (shown before
    /// anything is planned), when it forbids them.
    pub fn secrets_forbidden(&self, now: UnixTime) -> Option<PolicyError> {
        match self
            .policy
            .evaluate(policy::CredentialKind::Secret, DAY, None, now)
        {
            Err(e @ PolicyError::TypeNotAllowed { .. }) => Some(e),
            _ => None,
        }
    }

    /// The credential the record uses, if it is registered.
    pub fn in_use(&self) -> Option<&CredentialView> {
        self.credentials.iter().find(|c| c.in_use)
    }
}

/// Which of `secrets` the record's secret is: by keyId when the record
/// knows it, else by its hint (and end date, when both are known).
fn secret_in_use<'a>(
    record: &ConnectionRecord,
    secrets: &'a [PasswordCredential],
) -> Option<&'a PasswordCredential> {
    if let Some(id) = &record.key_id {
        return secrets.iter().find(|s| s.key_id.eq_ignore_ascii_case(id));
    }
    let AuthMethod::ClientSecret { hint, end } = &record.auth else {
        return None;
    };
    let same_hint = secrets
        .iter()
        .filter(|s| s.hint.as_deref() == Some(hint.as_str()));
    match end {
        Some(end) => same_hint
            .clone()
            .find(|s| s.end_date_time.is_some_and(|e| e.0.abs_diff(end.0) < DAY))
            .or_else(|| same_hint.clone().next()),
        None => same_hint.max_by_key(|s| s.end_date_time),
    }
}

/// Reads the connection of `record` live: the application by appId (a
/// single read: 404 is "deleted"), its secrets and certificates, its
/// service principal, and — when `profile` has Azure roles and the record a
/// subscription — which roles are present (`flows::roles::check`).
pub async fn read<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    record: &ConnectionRecord,
    profile: Option<&Profile>,
    now: UnixTime,
) -> Result<AccountState, StepError> {
    let Some(app) = graph::get_application_by_app_id(api, &record.app_id).await? else {
        return Ok(AccountState {
            application_object_id: None,
            display_name: None,
            credentials: Vec::new(),
            service_principal_id: None,
            roles: None,
            permissions_missing: Vec::new(),
            pending_registered: false,
            // A re-created application is new: the tenant's default decides.
            policy: policy::read_for_application(api, None).await,
            status: Status::ApplicationDeleted,
        });
    };
    let secrets = graph::get_password_credentials(api, &app.id).await?;
    let pending_key = record.pending.as_ref().and_then(|p| p.key_id.clone());
    let is_pending = |id: Option<&str>| {
        pending_key
            .as_deref()
            .is_some_and(|p| id.is_some_and(|i| i.eq_ignore_ascii_case(p)))
    };
    let mut credentials = Vec::new();
    let used_secret = secret_in_use(record, &secrets).map(|s| s.key_id.clone());
    for s in &secrets {
        credentials.push(CredentialView {
            kind: CredentialKind::Secret,
            key_id: Some(s.key_id.clone()),
            display_name: s.display_name.clone(),
            label: s.hint.clone().map(|h| format!("{h}…")).unwrap_or_default(),
            start: s.start_date_time,
            end: s.end_date_time,
            expiry: s.end_date_time.map(|e| credential_expiry::status(e, now)),
            in_use: used_secret.as_deref() == Some(s.key_id.as_str()),
            pending: is_pending(Some(&s.key_id)),
        });
    }
    let thumbprint = match &record.auth {
        AuthMethod::Certificate { thumbprint, .. } => Some(thumbprint.clone()),
        AuthMethod::ClientSecret { .. } => None,
    };
    let pending_thumbprint = match record.pending.as_ref().map(|p| &p.auth) {
        Some(AuthMethod::Certificate { thumbprint, .. }) => Some(thumbprint.clone()),
        _ => None,
    };
    for k in &app.key_credentials {
        let t = k.thumbprint().unwrap_or_default();
        credentials.push(CredentialView {
            kind: CredentialKind::Certificate,
            key_id: k.key_id.clone(),
            display_name: k.display_name.clone(),
            in_use: thumbprint.as_deref().is_some_and(|x| k.has_thumbprint(x)),
            pending: pending_thumbprint
                .as_deref()
                .is_some_and(|x| k.has_thumbprint(x))
                || is_pending(k.key_id.as_deref()),
            label: t,
            start: k.start_date_time,
            end: k.end_date_time,
            expiry: k.status(now),
        });
    }
    let service_principal_id = graph::find_service_principal(api, &record.app_id)
        .await?
        .map(|sp| sp.id);
    let roles = match (profile, &record.subscription) {
        (Some(p), Some(sub)) if p.needs_subscription() => {
            Some(roles::check(api, &record.app_id, p, sub).await?)
        }
        _ => None,
    };
    let permissions_missing = match profile {
        Some(p) => missing_permissions(api, service_principal_id.as_deref(), p).await?,
        None => Vec::new(),
    };
    let pending_registered = credentials.iter().any(|c| c.pending);
    let status = status(&credentials, roles.as_ref(), &permissions_missing);
    let policy = policy::read_for_application(api, Some(&app.id)).await;
    Ok(AccountState {
        application_object_id: Some(app.id),
        display_name: app.display_name,
        credentials,
        service_principal_id,
        roles,
        permissions_missing,
        pending_registered,
        policy,
        status,
    })
}

/// The status line's decision, from what [`read`] found about an existing
/// application: the record's credential first, then its roles.
pub fn status(
    credentials: &[CredentialView],
    roles: Option<&RolesReport>,
    permissions_missing: &[String],
) -> Status {
    let Some(used) = credentials.iter().find(|c| c.in_use) else {
        return Status::CredentialNotRegistered;
    };
    match used.expiry {
        Some(CredentialStatus::Expired { days_ago }) => return Status::Expired { days_ago },
        Some(CredentialStatus::ExpiresSoon { days }) => return Status::ExpiresSoon { days },
        _ => {}
    }
    if let Some(r) = roles
        && !r.complete()
    {
        return Status::RolesMissing {
            missing: r
                .missing_roles()
                .iter()
                .map(|m| format!("Azure role {}", role_name(&m.role)))
                .collect(),
        };
    }
    if !permissions_missing.is_empty() {
        return Status::PermissionsMissing {
            missing: permissions_missing.to_vec(),
        };
    }
    let days = match used.expiry {
        Some(CredentialStatus::Valid { days }) => days,
        _ => 0,
    };
    Status::Healthy { days }
}

/// The profile's API permissions the application's service principal has
/// not been granted: app roles (application permissions) and tenant-wide
/// admin consent (delegated), per API.
async fn missing_permissions<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    sp: Option<&str>,
    profile: &Profile,
) -> Result<Vec<String>, StepError> {
    let mut missing = Vec::new();
    let mut assignments = None;
    for r in &profile.resources {
        let resource = graph::find_service_principal(api, &r.resource_app_id).await?;
        let (Some(sp), Some(resource)) = (sp, resource) else {
            missing.extend(
                r.application_permissions
                    .iter()
                    .map(|p| format!("{} application permission {p}", r.display_name)),
            );
            missing.extend(
                r.delegated_permissions
                    .iter()
                    .map(|p| format!("{} delegated permission {p}", r.display_name)),
            );
            continue;
        };
        if !r.application_permissions.is_empty() {
            if assignments.is_none() {
                assignments = Some(graph::list_app_role_assignments(api, sp).await?);
            }
            let held = assignments.as_deref().unwrap_or_default();
            for p in &r.application_permissions {
                let granted = resource.app_role(p).is_some_and(|role| {
                    held.iter()
                        .any(|a| a.app_role_id == role.id && a.resource_id == resource.id)
                });
                if !granted {
                    missing.push(format!("{} application permission {p}", r.display_name));
                }
            }
        }
        if !r.delegated_permissions.is_empty() {
            let grants = graph::find_admin_grants(api, sp, &resource.id).await?;
            for p in &r.delegated_permissions {
                if !grants.iter().any(|g| g.scopes().contains(&p.as_str())) {
                    missing.push(format!("{} delegated permission {p}", r.display_name));
                }
            }
        }
    }
    Ok(missing)
}

fn role_name(r: &crate::plan::RoleRef) -> String {
    match r {
        crate::plan::RoleRef::BuiltIn { name, .. } | crate::plan::RoleRef::Custom { name } => {
            name.clone()
        }
    }
}

/// Wrong edit input, said so the admin can fix it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("Enter a name for the new secret (Entra shows it next to the secret).")]
    SecretNameEmpty,
    #[error("The secret's lifetime must be between 1 and {max} days.")]
    Lifetime { max: u32 },
    #[error(transparent)]
    Secret(#[from] validate::ClientSecretError),
    #[error("This service account has no new credential waiting for confirmation.")]
    NothingPending,
    #[error("This service account signs in with a {0}; this action is for the other kind.")]
    WrongKind(&'static str),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("'{0}' is not a date: choose the secret's expiry date, or leave it empty.")]
    EndDate(String),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(
        "The other application is in another tenant ({found}); this service account is in {expected}."
    )]
    OtherTenant { expected: String, found: String },
}

/// A new secret's lifetime: the admin's, within the page's maximum and
/// what the application's app management `policy` allows (`app_created`:
/// `None` for an application the plan creates). The note says when the
/// policy shortened it; a policy that forbids secrets is an error naming it.
pub fn secret_lifetime(
    days: u32,
    policy: &PolicyView,
    app_created: Option<UnixTime>,
    now: UnixTime,
) -> Result<(u32, Option<String>), EditError> {
    if days == 0 || days > MAX_SECRET_DAYS {
        return Err(EditError::Lifetime {
            max: MAX_SECRET_DAYS,
        });
    }
    let allowed = policy.evaluate(
        policy::CredentialKind::Secret,
        days as u64 * DAY,
        app_created,
        now,
    )?;
    Ok(((allowed.lifetime_secs / DAY) as u32, allowed.note()))
}

/// A certificate's lifetime checked against the application's policy (a
/// certificate cannot be shortened: too long is an error naming the policy).
fn certificate_allowed(
    der: &[u8],
    policy: &PolicyView,
    app_created: Option<UnixTime>,
    now: UnixTime,
) -> Result<Option<String>, EditError> {
    let cert = crate::core::certificate::Certificate::from_der(der)
        .map_err(|e| InputError::Certificate(e.to_string()))?;
    let info = cert
        .info()
        .map_err(|e| InputError::Certificate(e.to_string()))?;
    // As registered: the keyCredential runs from notBefore to notAfter,
    // and that span is what the policy's asymmetricKeyLifetime limits.
    let lifetime = info.not_after.0.saturating_sub(info.not_before.0);
    Ok(policy
        .check_fixed(
            policy::CredentialKind::Certificate,
            lifetime,
            app_created,
            now,
        )?
        .note())
}

/// A plan and what it means for the record once applied.
#[derive(Clone, Debug)]
pub struct Edit {
    pub plan: Plan,
    pub change: EditChange,
    /// Where the new secret's value arrives, for a plan that makes one.
    pub channel: Option<SecretChannel>,
    /// What the admin should know before applying.
    pub notices: Vec<String>,
}

/// How an applied edit changes the record (no secret: saved with the
/// apply).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EditChange {
    /// A new secret: the record keeps the old one in use and the new one
    /// pending until the admin confirms.
    SecretCreated { end: UnixTime },
    /// A new certificate registered next to the old one, pending.
    CertificateRegistered { auth: AuthMethod },
    /// The old credential removed: the pending one is now in use.
    Confirmed,
    /// The pending secret nobody has was removed.
    OrphanRemoved,
    /// A new application in place of the deleted one.
    Recreated { auth: Option<AuthMethod> },
}

fn find(record: &ConnectionRecord) -> Step {
    Step::FindApplication(FindApplication {
        app_id: record.app_id.clone(),
    })
}

fn plan_id(rng: &mut impl rand_core::RngCore) -> String {
    new_guid(rng)
}

/// Renew the secret: a new secret named `name`, valid `days` days (within
/// the application's `policy`), created on the existing application. The old one
/// stays until [`confirm`].
pub fn renew_secret(
    record: &ConnectionRecord,
    name: &str,
    days: u32,
    policy: &PolicyView,
    now: UnixTime,
    rng: &mut impl rand_core::RngCore,
) -> Result<Edit, EditError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(EditError::SecretNameEmpty);
    }
    // The application's creation date is not read: a policy's "for apps
    // created after" is taken to apply (the stricter reading).
    let (days, note) = secret_lifetime(days, policy, None, now)?;
    let end = now.plus_days(days as u64);
    let step = AddPassword::new(name, end);
    let channel = step.channel.clone();
    Ok(Edit {
        plan: Plan::new(
            plan_id(rng),
            format!("Renew the client secret of '{}'", record.name),
            vec![find(record), Step::AddPassword(step)],
        ),
        change: EditChange::SecretCreated { end },
        channel: Some(channel),
        notices: note.into_iter().collect(),
    })
}

/// Renew the certificate while the old one is valid: register `der`
/// keeping the other keys; the old one stays until [`confirm`].
pub fn renew_certificate(
    record: &ConnectionRecord,
    der: &[u8],
    policy: &PolicyView,
    now: UnixTime,
    rng: &mut impl rand_core::RngCore,
) -> Result<Edit, EditError> {
    let note = certificate_allowed(der, policy, None, now)?;
    let cert = crate::core::certificate::Certificate::from_der(der)
        .map_err(|e| InputError::Certificate(e.to_string()))?;
    let (register, _) = register_certificate(&cert, now)?;
    let auth = AuthMethod::certificate(&cert)?;
    Ok(Edit {
        plan: Plan::new(
            plan_id(rng),
            match record.auth {
                AuthMethod::ClientSecret { .. } => {
                    format!(
                        "Move '{}' from its client secret to a certificate",
                        record.name
                    )
                }
                AuthMethod::Certificate { .. } => {
                    format!("Renew the certificate of '{}'", record.name)
                }
            },
            vec![find(record), register],
        ),
        change: EditChange::CertificateRegistered { auth },
        channel: None,
        notices: note.into_iter().collect(),
    })
}

/// The admin confirmed the service uses the pending credential: remove the
/// old one (the record's credential, as `state` found it), as its own plan.
/// A secret is removed with `removePassword`; a certificate by the
/// whole-collection update of `RemoveKeyCredential`, which waits for the
/// new one to be registered.
pub fn confirm(
    record: &ConnectionRecord,
    state: &AccountState,
    rng: &mut impl rand_core::RngCore,
) -> Result<Edit, EditError> {
    let pending = record.pending.as_ref().ok_or(EditError::NothingPending)?;
    let mut steps = vec![find(record)];
    if let Some(old) = state.in_use().filter(|c| !c.pending)
        && let Some(key_id) = &old.key_id
    {
        steps.push(match old.kind {
            CredentialKind::Secret => Step::RemovePassword(RemovePassword {
                key_id: key_id.clone(),
                hint: match &record.auth {
                    AuthMethod::ClientSecret { hint, .. } => Some(hint.clone()),
                    _ => None,
                },
                what: "the old secret".into(),
            }),
            CredentialKind::Certificate => Step::RemoveKeyCredential(RemoveKeyCredential {
                key_id: key_id.clone(),
                thumbprint: old.label.clone(),
                display_name: old.display_name.clone(),
                replaced_by: match &pending.auth {
                    AuthMethod::Certificate { thumbprint, .. } => Some(thumbprint.clone()),
                    AuthMethod::ClientSecret { .. } => None,
                },
            }),
        });
    }
    Ok(Edit {
        plan: Plan::new(
            plan_id(rng),
            format!(
                "Remove the old credential of '{}' (the service uses {})",
                record.name,
                credential_name(&pending.auth)
            ),
            steps,
        ),
        change: EditChange::Confirmed,
        channel: None,
        notices: Vec::new(),
    })
}

/// The page was closed after a new secret was made and before the admin
/// confirmed: nobody has its value. Remove it (then renew again).
pub fn remove_orphan(
    record: &ConnectionRecord,
    rng: &mut impl rand_core::RngCore,
) -> Result<Edit, EditError> {
    let pending = record.pending.as_ref().ok_or(EditError::NothingPending)?;
    let (AuthMethod::ClientSecret { hint, .. }, Some(key_id)) = (&pending.auth, &pending.key_id)
    else {
        return Err(EditError::WrongKind("certificate"));
    };
    Ok(Edit {
        plan: Plan::new(
            plan_id(rng),
            format!("Remove the unused new secret of '{}'", record.name),
            vec![
                find(record),
                Step::RemovePassword(RemovePassword {
                    key_id: key_id.clone(),
                    hint: Some(hint.clone()),
                    what: "the new secret whose value nobody has".into(),
                }),
            ],
        ),
        change: EditChange::OrphanRemoved,
        channel: None,
        notices: Vec::new(),
    })
}

/// The new credential of a re-created application.
pub enum NewCredential {
    /// DER of the certificate (generated in the page or from a PFX).
    Certificate(Vec<u8>),
    Secret {
        name: String,
        days: u32,
    },
}

/// Re-create the application: a new one with the record's name, profile
/// and redirect address, a credential of the same kind, its grants and the
/// Azure roles on the record's subscription — F1's plan.
pub fn recreate(
    record: &ConnectionRecord,
    profile: &Profile,
    credential: NewCredential,
    policy: &PolicyView,
    now: UnixTime,
    rng: &mut impl rand_core::RngCore,
) -> Result<Edit, EditError> {
    let mut input = NewApplication {
        display_name: record.name.clone(),
        description: None,
        profile: profile.clone(),
        certificate_der: Vec::new(),
        redirect_uri: record.portal_address.clone(),
        subscription: record.subscription.clone(),
    };
    let mut notices = vec![format!(
        "A new application gets a new application (client) ID: the service must be given it \
         (the old one, {}, is kept in this service account's history).",
        record.app_id
    )];
    let (plan, channel, auth) = match credential {
        NewCredential::Certificate(der) => {
            notices.extend(certificate_allowed(&der, policy, None, now)?);
            let cert = crate::core::certificate::Certificate::from_der(&der)
                .map_err(|e| InputError::Certificate(e.to_string()))?;
            let auth = AuthMethod::certificate(&cert)?;
            input.certificate_der = der;
            (new_app::plan(&input, now, rng)?, None, Some(auth))
        }
        NewCredential::Secret { name, days } => {
            let name = name.trim().to_string();
            if name.is_empty() {
                return Err(EditError::SecretNameEmpty);
            }
            let (days, note) = secret_lifetime(days, policy, None, now)?;
            notices.extend(note);
            let step = AddPassword::new(name, now.plus_days(days as u64));
            let channel = step.channel.clone();
            (
                new_app::plan_with_credential(&input, Step::AddPassword(step), rng)?,
                Some(channel),
                None,
            )
        }
    };
    Ok(Edit {
        plan,
        change: EditChange::Recreated { auth },
        channel,
        notices,
    })
}

/// What a new secret's answer said, for the record (never its value).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretFacts {
    pub hint: Option<String>,
    pub end: Option<UnixTime>,
}

/// The record after `change`'s plan finished with `progress`. `secret`:
/// the new secret's hint and end, when the page still holds its answer.
pub fn complete(
    record: &ConnectionRecord,
    plan: &Plan,
    change: &EditChange,
    progress: &Progress,
    secret: SecretFacts,
    now: UnixTime,
) -> ConnectionRecord {
    let mut r = record.clone();
    r.saved = now;
    let new_key = || {
        plan.steps
            .iter()
            .zip(&progress.steps)
            .find(|(s, _)| matches!(s, Step::AddPassword(_)))
            .and_then(|(_, rec)| rec.ids.first().cloned())
    };
    let secret_auth = |end: UnixTime| AuthMethod::ClientSecret {
        hint: secret.hint.clone().unwrap_or_default(),
        end: secret.end.or(Some(end)),
    };
    match change {
        EditChange::SecretCreated { end } => {
            r.pending = Some(PendingCredential {
                auth: secret_auth(*end),
                key_id: new_key(),
                created: now,
            });
        }
        EditChange::CertificateRegistered { auth } => {
            r.pending = Some(PendingCredential {
                auth: auth.clone(),
                key_id: None,
                created: now,
            });
        }
        EditChange::Confirmed => {
            if let Some(p) = r.pending.take() {
                r.auth = p.auth;
                r.key_id = p.key_id;
            }
        }
        EditChange::OrphanRemoved => r.pending = None,
        EditChange::Recreated { auth } => {
            r.history.push(PreviousApplication {
                app_id: record.app_id.clone(),
                application_object_id: record.application_object_id.clone(),
                until: now,
                why: "re-created: the application no longer existed".into(),
            });
            if let Some(app) = &progress.application {
                r.app_id = app.app_id.clone();
                r.application_object_id = Some(app.object_id.clone());
            }
            r.service_principal_id = progress.service_principal_id.clone();
            r.object_ids = progress
                .steps
                .iter()
                .flat_map(|s| s.ids.iter().cloned())
                .filter(|id| {
                    Some(id) != r.application_object_id.as_ref()
                        && Some(id) != r.service_principal_id.as_ref()
                })
                .collect();
            r.pending = None;
            match auth {
                Some(a) => {
                    r.auth = a.clone();
                    r.key_id = None;
                }
                None => {
                    let end = plan
                        .steps
                        .iter()
                        .find_map(|s| match s {
                            Step::AddPassword(a) => Some(a.end),
                            _ => None,
                        })
                        .unwrap_or(now);
                    r.auth = secret_auth(end);
                    r.key_id = new_key();
                }
            }
        }
    }
    r
}

/// A secret made elsewhere (the portal's Certificates & secrets), entered
/// by the admin: checked like F2's, and the record updated with its hint
/// (the first three characters, as Entra shows them) and end date when
/// known — the admin's, or the registered secret's when `state` (the live
/// read) has exactly one with that hint, whose keyId is then kept too.
/// Returns the warnings to show (a GUID is probably the secret's ID, not its
/// value; no registered secret starts that way). The value is not kept.
pub fn paste_secret(
    record: &ConnectionRecord,
    secret: &str,
    end: Option<UnixTime>,
    state: Option<&AccountState>,
    now: UnixTime,
) -> Result<(ConnectionRecord, Vec<String>), EditError> {
    let mut warnings: Vec<String> = validate::client_secret(secret)?
        .iter()
        .map(SecretWarning::to_string)
        .collect();
    let hint: String = secret.trim().chars().take(3).collect();
    let mut r = record.clone();
    r.key_id = None;
    let mut end = end;
    if let Some(state) = state.filter(|s| s.application_object_id.is_some()) {
        let same: Vec<&CredentialView> = state
            .credentials
            .iter()
            .filter(|c| c.kind == CredentialKind::Secret && c.label == format!("{hint}…"))
            .collect();
        match same.as_slice() {
            [] => warnings.push(format!(
                "No client secret of this application starts with '{hint}' (Entra shows each                  secret's first three characters): check that it was made on application {}.",
                record.app_id
            )),
            [one] => {
                r.key_id = one.key_id.clone();
                end = end.or(one.end);
            }
            _ => {}
        }
    }
    r.auth = AuthMethod::ClientSecret { hint, end };
    r.pending = None;
    r.saved = now;
    Ok((r, warnings))
}

/// Use another application (F2's inputs, checked): the record switches to
/// it, keeping the old one in its history.
pub fn switch_application(
    record: &ConnectionRecord,
    check: &LocalCheck,
    now: UnixTime,
) -> Result<ConnectionRecord, EditError> {
    if !check.tenant.eq_ignore_ascii_case(record.tenant_id.trim())
        && validate::is_guid(&check.tenant)
    {
        return Err(EditError::OtherTenant {
            expected: record.tenant_id.clone(),
            found: check.tenant.clone(),
        });
    }
    let mut r = record.clone();
    r.history.push(PreviousApplication {
        app_id: record.app_id.clone(),
        application_object_id: record.application_object_id.clone(),
        until: now,
        why: "replaced by another application".into(),
    });
    r.app_id = check.app_id.clone();
    r.application_object_id = None;
    r.service_principal_id = None;
    r.object_ids = Vec::new();
    r.auth = check.auth_method();
    r.key_id = None;
    r.pending = None;
    r.saved = now;
    Ok(r)
}
