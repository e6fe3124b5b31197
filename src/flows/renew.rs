//! F6 — renew a certificate after AADSTS700027 (seed 004: "the key used is
//! expired"; generate a new certificate or upload a custom PFX whose
//! password is optional).
//!
//! 1. Start from what the admin has: the error text as the service printed
//!    it (decoded by `core::aadsts`), a thumbprint, or a saved service
//!    account ([`read`], [`Target::from_record`]).
//! 2. Find the key: every application and service principal of the tenant
//!    whose `keyCredentials` hold that thumbprint, read page by page
//!    ([`find`]); nothing found is a [`NotFound`] that says why it happens.
//! 3. Register the new certificate keeping the other keys ([`renew_plan`]):
//!    the whole-collection `PATCH`, as `addKey` needs a proof signed by a
//!    currently valid key and the only key is the expired one.
//! 4. Once the service uses the new PFX, remove the expired key as its own
//!    reviewed plan ([`removal_plan`]), which waits for the new certificate
//!    to be registered.
//! 5. Saved service accounts that used the old thumbprint take the new
//!    certificate ([`renewed_records`]).
// https://learn.microsoft.com/en-us/graph/api/application-addkey ("Applications that don't have
// any existing valid certificates ... won't be able to use this service action. You can use the
// Update application operation to perform an update instead.")
// https://learn.microsoft.com/en-us/graph/api/application-update (keyCredentials)

use serde::Deserialize;

use crate::api_error::ApiError;
use crate::client::{ApiClient, list_all};
use crate::core::aadsts::{self, EntraError, ParseError, Problem};
use crate::core::certificate::Certificate;
use crate::core::credential_expiry::{self, CredentialStatus};
use crate::core::key_credential::KeyCredential;
use crate::core::time::UnixTime;
use crate::graph::request;
use crate::http::{HttpClient, Sleeper};
use crate::plan::step::{FindApplication, RemoveKeyCredential};
use crate::plan::{Plan, Step, new_guid};

use super::InputError;
use super::connection::{AuthMethod, ConnectionRecord};
use super::policy::{self, CredentialKind, PolicyError, PolicyView};

/// Graph's largest page for applications and service principals.
pub const PAGE_SIZE: u32 = 999;

/// The certificate to renew, as read from what the admin has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// SHA-1 thumbprint, upper-case hex (as Entra shows it).
    pub thumbprint: String,
    /// The decoded error, when the admin pasted one.
    pub error: Option<EntraError>,
    /// The application (client) ID the error or the link named.
    pub app_id: Option<String>,
    /// The tenant the error, the link or the record named.
    pub tenant: Option<String>,
}

/// Why the input names no certificate to look for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    #[error("Paste the error text the service printed, or the certificate's thumbprint.")]
    Empty,
    #[error(transparent)]
    Unreadable(#[from] ParseError),
    #[error("This is AADSTS{code}, not a certificate error: {summary} {next_step}")]
    NotACertificateError {
        code: u32,
        summary: String,
        next_step: String,
    },
    #[error(
        "The error (AADSTS{code}) does not name the thumbprint of the key the service used. \
         Paste the whole message, with 'Thumbprint of key used by client: …', or enter the \
         certificate's thumbprint."
    )]
    NoThumbprint { code: u32 },
    #[error(
        "{thumbprint} is a SHA-256 thumbprint (64 hex characters). Entra identifies \
         certificates by their SHA-1 thumbprint (40 hex characters), as the Entra admin \
         center shows it under Certificates & secrets and as AADSTS700027 prints it: use that \
         one, or paste the error text."
    )]
    Sha256 { thumbprint: String },
    #[error(
        "'{0}' is not a certificate thumbprint: a SHA-1 thumbprint is 40 hex characters \
         (0-9, A-F), for example as the Entra admin center shows it under Certificates & \
         secrets. Or paste the whole error text."
    )]
    NotAThumbprint(String),
    #[error(
        "The service account '{name}' signs in with a client secret, not a certificate: \
         renew its secret from Service accounts instead."
    )]
    RecordUsesSecret { name: String },
}

/// A thumbprint as pasted (`AB:CD…`, spaced, lower case, with the invisible
/// mark Windows' certificate dialog copies first), as 40 upper-case hex
/// characters.
pub fn thumbprint(text: &str) -> Result<String, StartError> {
    let hex: String = text
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, ':' | '-' | '\u{200e}' | '\u{200f}')))
        .collect();
    if hex.is_empty() {
        return Err(StartError::Empty);
    }
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(StartError::NotAThumbprint(text.trim().to_string()));
    }
    match hex.len() {
        40 => Ok(hex.to_ascii_uppercase()),
        64 => Err(StartError::Sha256 {
            thumbprint: hex.to_ascii_uppercase(),
        }),
        _ => Err(StartError::NotAThumbprint(text.trim().to_string())),
    }
}

/// Reads what the admin pasted: the error text as the service printed it
/// (anything with `AADSTS`), or a thumbprint.
pub fn read(text: &str) -> Result<Target, StartError> {
    if text.trim().is_empty() {
        return Err(StartError::Empty);
    }
    if !text.to_ascii_uppercase().contains("AADSTS") {
        return Ok(Target {
            thumbprint: thumbprint(text)?,
            error: None,
            app_id: None,
            tenant: None,
        });
    }
    let error = aadsts::parse(text)?;
    let about_certificate = matches!(
        error.problem,
        Problem::CertificateExpired
            | Problem::CertificateNotRegistered
            | Problem::SignatureMismatch
            | Problem::InvalidSignature
            | Problem::AssertionFailed
    );
    if !about_certificate {
        let advice = error.advice();
        return Err(StartError::NotACertificateError {
            code: error.code,
            summary: advice.summary,
            next_step: advice.next_step,
        });
    }
    let thumb = error
        .thumbprint
        .as_deref()
        .ok_or(StartError::NoThumbprint { code: error.code })
        .and_then(thumbprint)?;
    Ok(Target {
        thumbprint: thumb,
        app_id: error.app_id.clone(),
        tenant: error.tenant.clone(),
        error: Some(error),
    })
}

impl Target {
    /// The certificate a saved service account signs in with.
    pub fn from_record(record: &ConnectionRecord) -> Result<Target, StartError> {
        match &record.auth {
            AuthMethod::Certificate { thumbprint: t, .. } => Ok(Target {
                thumbprint: thumbprint(t)?,
                error: None,
                app_id: Some(record.app_id.clone()),
                tenant: Some(record.tenant_id.clone()),
            }),
            AuthMethod::ClientSecret { .. } => Err(StartError::RecordUsesSecret {
                name: record.name.clone(),
            }),
        }
    }
}

/// Which kind of object holds the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerKind {
    Application,
    ServicePrincipal,
}

/// An application or service principal holding the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyOwner {
    pub kind: OwnerKind,
    pub object_id: String,
    pub app_id: String,
    pub display_name: String,
}

/// One place the key was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundKey {
    pub owner: KeyOwner,
    /// The key as Graph lists it (no certificate bytes in a list).
    pub key: KeyCredential,
    /// How many other keys the owner holds (kept by the renewal).
    pub other_keys: usize,
    /// Saved service accounts that sign in with this key.
    pub records: Vec<ConnectionRecord>,
    /// When the application was created (app management policies may
    /// restrict only applications created after a date).
    pub created: Option<UnixTime>,
}

impl FoundKey {
    /// Where the key stands at `now`.
    pub fn status(&self, now: UnixTime) -> Option<CredentialStatus> {
        self.key
            .end_date_time
            .map(|end| credential_expiry::status(end, now))
    }

    /// The renewal registers the new certificate on an application; a key
    /// on a service principal is shown but renewed where it was added.
    pub fn renewable(&self) -> bool {
        self.owner.kind == OwnerKind::Application && self.key.key_id.is_some()
    }
}

/// The thumbprint is on no application or service principal of the tenant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "No application or service principal in this tenant has a certificate with thumbprint \
     {thumbprint} ({applications} applications and {service_principals} service principals \
     searched)."
)]
pub struct NotFound {
    pub thumbprint: String,
    pub applications: usize,
    pub service_principals: usize,
}

impl NotFound {
    /// Why this happens, and what to do about each.
    pub fn reasons(&self) -> [&'static str; 4] {
        [
            "The expired key was already removed from the application (by someone in the Entra \
             admin center, or by an earlier renewal). Then the service needs a certificate the \
             application has: register a new one with Connect → Use an existing application, \
             and give its PFX to the service.",
            "The application is in another tenant: sign out, sign in to the tenant the service \
             is configured with (its tenant ID), and search again.",
            "The thumbprint is not the SHA-1 one: Entra names keys by their SHA-1 thumbprint \
             (40 hex characters). A SHA-256 thumbprint (64), the certificate's serial number or \
             the key ID do not match: copy the thumbprint from the error text, or paste the \
             whole error.",
            "The service uses another application: check the application (client) ID in the \
             service's settings.",
        ]
    }
}

/// What the search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Search {
    /// Applications first, then service principals.
    Found(Vec<FoundKey>),
    NotFound(NotFound),
}

/// An application or service principal as listed with `$select`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    id: String,
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    key_credentials: Vec<KeyCredential>,
    #[serde(default)]
    created_date_time: Option<UnixTime>,
}

/// Finds every application and service principal of the signed-in tenant
/// (`tenant_id`) with a key of `target`'s thumbprint, and the saved
/// service accounts among `records` that use it.
pub async fn find<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    target: &Target,
    tenant_id: &str,
    records: &[ConnectionRecord],
) -> Result<Search, ApiError> {
    find_paged(api, target, tenant_id, records, PAGE_SIZE).await
}

/// [`find`] with `page_size` objects per page (tests page with small ones).
pub async fn find_paged<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    target: &Target,
    tenant_id: &str,
    records: &[ConnectionRecord],
    page_size: u32,
) -> Result<Search, ApiError> {
    let apps: Vec<Listed> = list_all(
        api,
        request::list_applications_with_keys(page_size),
        "applications",
    )
    .await?;
    let sps: Vec<Listed> = list_all(
        api,
        request::list_service_principals_with_keys(page_size),
        "service principals",
    )
    .await?;
    let (applications, service_principals) = (apps.len(), sps.len());
    let mut found = Vec::new();
    let owners = apps
        .into_iter()
        .map(|l| (OwnerKind::Application, l))
        .chain(sps.into_iter().map(|l| (OwnerKind::ServicePrincipal, l)));
    for (kind, listed) in owners {
        let Some(key) = listed
            .key_credentials
            .iter()
            .find(|k| k.has_thumbprint(&target.thumbprint))
        else {
            continue;
        };
        let users = records
            .iter()
            .filter(|r| r.is(tenant_id, &listed.app_id) && uses(r, &target.thumbprint))
            .cloned()
            .collect();
        found.push(FoundKey {
            created: listed.created_date_time,
            key: key.clone(),
            other_keys: listed.key_credentials.len() - 1,
            records: users,
            owner: KeyOwner {
                kind,
                display_name: listed
                    .display_name
                    .clone()
                    .unwrap_or_else(|| listed.app_id.clone()),
                object_id: listed.id,
                app_id: listed.app_id,
            },
        });
    }
    // The application the error or the link named comes first.
    if let Some(app) = &target.app_id {
        found.sort_by_key(|f| !f.owner.app_id.eq_ignore_ascii_case(app.trim()));
    }
    Ok(if found.is_empty() {
        Search::NotFound(NotFound {
            thumbprint: target.thumbprint.clone(),
            applications,
            service_principals,
        })
    } else {
        Search::Found(found)
    })
}

fn uses(record: &ConnectionRecord, thumb: &str) -> bool {
    matches!(&record.auth, AuthMethod::Certificate { thumbprint, .. }
        if thumbprint.trim().eq_ignore_ascii_case(thumb))
}

/// Why a found key cannot be renewed here.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenewError {
    #[error(
        "This key is on the service principal (enterprise application) '{name}', not on an \
         application registration: this page renews application certificates. Renew it \
         where it was added (Entra admin center → Enterprise applications → '{name}')."
    )]
    ServicePrincipalKey { name: String },
    #[error("Graph listed this key without its key ID: search again.")]
    NoKeyId,
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Input(#[from] InputError),
}

/// The tenant's app management policy that decides for the application
/// holding the key, read before planning. Never fails: a policy the
/// sign-in may not read is [`PolicyView::Unreadable`], and said so.
pub async fn read_policy<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    found: &FoundKey,
) -> PolicyView {
    policy::read_for_application(api, Some(&found.owner.object_id)).await
}

/// The months a certificate generated here may last under `policy`, for
/// the application holding `found` (see [`certificate::generated_months`]).
pub fn generated_validity(
    policy: &PolicyView,
    found: &FoundKey,
    now: UnixTime,
) -> Result<(u32, Option<String>), PolicyError> {
    super::certificate::generated_months(policy, found.created, now)
}

/// The renewal: find the application (reading its keys with their bytes,
/// which the update sends back) and register `certificate` keeping every
/// other key. The expired key stays until [`removal_plan`]. A certificate
/// whose lifetime `policy` forbids is refused here, naming the policy,
/// before Graph refuses it.
pub fn renew_plan(
    found: &FoundKey,
    certificate: &Certificate,
    policy: &PolicyView,
    now: UnixTime,
    rng: &mut impl rand_core::RngCore,
) -> Result<Plan, RenewError> {
    check_renewable(found)?;
    let (register, info) = super::register_certificate(certificate, now)?;
    policy.check_fixed(
        CredentialKind::Certificate,
        info.not_after.0.saturating_sub(info.not_before.0),
        found.created,
        now,
    )?;
    Ok(Plan::new(
        new_guid(rng),
        format!("Renew the certificate of '{}'", found.owner.display_name),
        vec![
            Step::FindApplication(FindApplication {
                app_id: found.owner.app_id.clone(),
            }),
            register,
        ],
    ))
}

/// Whether this page can renew `found` (an application's key with its ID).
pub fn check_renewable(found: &FoundKey) -> Result<(), RenewError> {
    if found.owner.kind != OwnerKind::Application {
        return Err(RenewError::ServicePrincipalKey {
            name: found.owner.display_name.clone(),
        });
    }
    if found.key.key_id.is_none() {
        return Err(RenewError::NoKeyId);
    }
    Ok(())
}

/// Removing the old key, once the service uses the new certificate
/// (`new_thumbprint`, which must still be registered when it runs).
pub fn removal_plan(
    found: &FoundKey,
    new_thumbprint: Option<&str>,
    rng: &mut impl rand_core::RngCore,
) -> Result<Plan, RenewError> {
    check_renewable(found)?;
    let key_id = found.key.key_id.clone().ok_or(RenewError::NoKeyId)?;
    let thumbprint = found
        .key
        .thumbprint()
        .unwrap_or_else(|| "unknown".to_string());
    Ok(Plan::new(
        new_guid(rng),
        format!(
            "Remove the old certificate of '{}'",
            found.owner.display_name
        ),
        vec![
            Step::FindApplication(FindApplication {
                app_id: found.owner.app_id.clone(),
            }),
            Step::RemoveKeyCredential(RemoveKeyCredential {
                key_id,
                thumbprint,
                display_name: found.key.display_name.clone(),
                replaced_by: new_thumbprint.map(str::to_string),
            }),
        ],
    ))
}

/// The saved service accounts of `found` that signed in with the old
/// certificate, now with the new one (`auth`), saved at `now`.
pub fn renewed_records(
    found: &FoundKey,
    auth: &AuthMethod,
    now: UnixTime,
) -> Vec<ConnectionRecord> {
    found
        .records
        .iter()
        .map(|r| ConnectionRecord {
            auth: auth.clone(),
            // The old key's ID; Graph gives the new one only on a read.
            key_id: None,
            application_object_id: Some(found.owner.object_id.clone()),
            saved: now,
            ..r.clone()
        })
        .collect()
}

/// What the admin does in the service with the new certificate.
pub fn service_instructions(generated_file: Option<&str>) -> String {
    match generated_file {
        Some(file) => format!(
            "In the service's certificate settings (for example Settings → System → SSL \
             Certificate → Upload a custom certificate), upload {file} and enter the password \
             you chose for it. The service signs in with the new certificate from then on; \
             when it works, remove the expired key below."
        ),
        None => "In the service's certificate settings (for example Settings → System → SSL \
                 Certificate → Upload a custom certificate), upload the same PFX you chose here, \
                 with its password if it has one. The service signs in with the new \
                 certificate from then on; when it works, remove the expired key below."
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THUMB: &str = "FEE7A6C1D2B3E4F5A6B7C8D9E0F1A2B3C4D5E6F7";

    #[test]
    fn thumbprints_as_people_paste_them() {
        assert_eq!(thumbprint(&THUMB.to_lowercase()).unwrap(), THUMB);
        let colons: Vec<String> = THUMB
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        assert_eq!(thumbprint(&colons.join(":")).unwrap(), THUMB);
        assert_eq!(
            thumbprint(&format!("\u{200e}{}", colons.join(" "))).unwrap(),
            THUMB
        );
        assert!(matches!(
            thumbprint(&"ab".repeat(32)),
            Err(StartError::Sha256 { thumbprint }) if thumbprint == "AB".repeat(32)
        ));
        assert!(matches!(
            thumbprint("xyz"),
            Err(StartError::NotAThumbprint(_))
        ));
        assert!(matches!(
            thumbprint("ABCD"),
            Err(StartError::NotAThumbprint(_))
        ));
        assert_eq!(thumbprint("  "), Err(StartError::Empty));
    }

    #[test]
    fn the_error_text_names_the_key() {
        let text = format!(
            "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key \
             used is expired., Thumbprint of key used by client: '{THUMB}', Found key \
             'Start=01/28/2018 16:00:00, End=01/28/2019 16:00:00', Please visit the Azure \
             Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id \
             '082c67e2-3c4e-4548-b957-69746605c3bf'. Review the documentation at \
             https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding \
             service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http \
             to build a query request URL, such as \
             'https://graph.microsoft.com/beta/applications/082c67e2-3c4e-4548-b957-69746605c3bf']"
        );
        let t = read(&text).unwrap();
        assert_eq!(t.thumbprint, THUMB);
        assert_eq!(
            t.app_id.as_deref(),
            Some("082c67e2-3c4e-4548-b957-69746605c3bf")
        );
        let e = t.error.unwrap();
        assert_eq!(e.problem, Problem::CertificateExpired);
        assert!(e.found_key.unwrap().end.is_some());
        // A thumbprint alone.
        assert_eq!(read(THUMB).unwrap().error, None);
        // Other errors say what they are instead.
        assert!(matches!(
            read("AADSTS7000222: The provided client secret keys for app 'x' are expired."),
            Err(StartError::NotACertificateError { code: 7000222, .. })
        ));
        assert!(matches!(
            read("AADSTS700027: Client assertion contains an invalid signature."),
            Err(StartError::NoThumbprint { code: 700027 })
        ));
        assert_eq!(read(""), Err(StartError::Empty));
    }

    #[test]
    fn nothing_found_says_why() {
        let n = NotFound {
            thumbprint: THUMB.into(),
            applications: 4,
            service_principals: 7,
        };
        assert!(n.to_string().contains(THUMB));
        let all = n.reasons().join(" ");
        for why in ["already removed", "another tenant", "SHA-256"] {
            assert!(all.contains(why), "{why}");
        }
    }
}
