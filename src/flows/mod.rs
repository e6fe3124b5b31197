//! The connect wizards as functions from inputs to a [`Plan`](crate::plan::Plan)
//! (F1 new application, F2 existing application, F4 Azure roles, F5 Restore
//! Portal), the local-only check of F2, and the connection record a
//! finished wizard saves under "Service accounts".
//!
//! How the page drives a wizard (everything below is natively tested; the
//! page adds the forms, `fetch`, a JS timer and storage):
//!
//! 1. Sign in: [`auth::begin`](crate::auth::begin) → keep the
//!    [`PendingSignIn`](crate::auth::PendingSignIn) in sessionStorage →
//!    redirect; back on the page, [`auth::tokens::redeem`](crate::auth::tokens::redeem)
//!    then [`auth::tokens::acquire`](crate::auth::tokens::acquire) per
//!    [`Audience`](crate::auth::Audience).
//! 2. Build an [`ApiClient`](crate::client::ApiClient) with both tokens.
//! 3. Make the plan from the form: [`new_app::plan`], [`existing_app::run`],
//!    [`roles::plan`] (after [`roles::check`]), [`restore_portal::plan`].
//! 4. Check it: [`preflight::run`](crate::plan::preflight::run) (roles the
//!    admin lacks) and [`preflight::delegated_scopes`](crate::plan::preflight::delegated_scopes)
//!    against `TokenCache::missing_scopes` (incremental consent).
//! 5. Review: [`Plan::sentences`](crate::plan::Plan::sentences) and
//!    [`Plan::preview`](crate::plan::Plan::preview) (redacted requests).
//! 6. Apply: [`plan::apply`](crate::plan::apply), saving the plan and the
//!    [`Progress`](crate::plan::Progress) (no secrets) after every event;
//!    after a reload, deserialise both and call `apply` again.
//! 7. Save [`ConnectionRecord::from_progress`] under "Service accounts".

pub mod bulk_renew;
pub mod certificate;
pub mod connection;
pub mod dashboard;
pub mod edit_account;
pub mod existing_app;
pub mod new_app;
pub mod policy;
pub mod renew;
pub mod restore_portal;
pub mod review;
pub mod roles;
pub mod route;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};

use crate::arm::builtin;
use crate::core::certificate::{Certificate, CertificateInfo, KeyKind};
use crate::core::time::UnixTime;
use crate::plan::step::{
    AssignRole, EnsureCustomRole, GrantAppRoles, GrantDelegated, RegisterCertificate,
};
use crate::plan::{RoleRef, Step, new_guid};
use crate::profiles::Profile;

pub use connection::{AuthMethod, ConnectionRecord};

/// The subscription an admin picked for Azure roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionChoice {
    pub subscription_id: String,
    pub display_name: String,
}

/// Wrong wizard input, said so the admin can fix the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("Enter a name for the application.")]
    NameEmpty,
    #[error("The application name is longer than 120 characters.")]
    NameTooLong,
    #[error(
        "The '{profile}' permissions include Azure roles: choose the subscription to assign them on."
    )]
    SubscriptionRequired { profile: String },
    #[error("The certificate cannot be used: {0}")]
    Certificate(String),
    #[error(
        "The certificate's key is {0}; Entra accepts only RSA certificates for application \
         sign-in. Generate an RSA certificate or choose another PFX."
    )]
    NotRsa(String),
    #[error("The certificate expired on {0}. Generate a new certificate or choose another PFX.")]
    CertificateExpired(UnixTime),
    #[error("The permission profile cannot be used: {0}")]
    Profile(String),
    /// The tenant's app management policy refuses the credential.
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error("{0}")]
    PortalAddress(String),
    #[error("{0}")]
    ApplicationId(String),
    #[error(
        "The redirect URI '{0}' is not valid: use https:// (or http://localhost for testing) \
         with no fragment."
    )]
    RedirectUri(String),
}

/// The `RegisterCertificate` step for a certificate (public part only).
pub(crate) fn register_certificate(
    cert: &Certificate,
    now: UnixTime,
) -> Result<(Step, CertificateInfo), InputError> {
    let info = cert
        .info()
        .map_err(|e| InputError::Certificate(e.to_string()))?;
    if !matches!(info.key, KeyKind::Rsa { .. }) {
        return Err(InputError::NotRsa(info.key.to_string()));
    }
    if info.not_after <= now {
        return Err(InputError::CertificateExpired(info.not_after));
    }
    Ok((
        Step::RegisterCertificate(RegisterCertificate {
            certificate: Base64::encode_string(cert.der()),
            thumbprint: info.sha1.clone(),
            subject: info.subject.clone(),
            not_after: info.not_after,
        }),
        info,
    ))
}

/// Grant steps for a profile's API permissions (app roles, then delegated).
pub(crate) fn grant_steps(profile: &Profile) -> Vec<Step> {
    let mut out = Vec::new();
    for r in &profile.resources {
        if !r.application_permissions.is_empty() {
            out.push(Step::GrantAppRoles(GrantAppRoles {
                resource_app_id: r.resource_app_id.clone(),
                resource_name: r.display_name.clone(),
                permissions: r.application_permissions.clone(),
            }));
        }
        if !r.delegated_permissions.is_empty() {
            out.push(Step::GrantDelegated(GrantDelegated {
                resource: crate::plan::GrantResource::Api {
                    app_id: r.resource_app_id.clone(),
                    display_name: r.display_name.clone(),
                },
                scopes: r.delegated_permissions.clone(),
            }));
        }
    }
    out
}

/// Steps for a profile's Azure roles on the subscription: the custom role
/// (created if missing) and every role assignment.
pub(crate) fn azure_role_steps(
    profile: &Profile,
    subscription: Option<&SubscriptionChoice>,
    rng: &mut impl rand_core::RngCore,
) -> Result<Vec<Step>, InputError> {
    if !profile.needs_subscription() {
        return Ok(Vec::new());
    }
    let sub = subscription.ok_or_else(|| InputError::SubscriptionRequired {
        profile: profile.display_name.clone(),
    })?;
    let mut out = Vec::new();
    if let Some(custom) = &profile.custom_role {
        out.push(Step::EnsureCustomRole(EnsureCustomRole {
            subscription_id: sub.subscription_id.clone(),
            subscription_name: sub.display_name.clone(),
            role: custom.clone(),
            role_definition_id: new_guid(rng),
        }));
        out.push(Step::AssignRole(AssignRole {
            subscription_id: sub.subscription_id.clone(),
            subscription_name: sub.display_name.clone(),
            role: RoleRef::Custom {
                name: custom.role_name.clone(),
            },
            assignment_name: new_guid(rng),
        }));
    }
    for name in &profile.azure_roles {
        let id = builtin::id_of(name).ok_or_else(|| {
            InputError::Profile(format!("'{name}' is not an Azure role this page knows"))
        })?;
        out.push(Step::AssignRole(AssignRole {
            subscription_id: sub.subscription_id.clone(),
            subscription_name: sub.display_name.clone(),
            role: RoleRef::BuiltIn {
                name: name.clone(),
                id: id.to_string(),
            },
            assignment_name: new_guid(rng),
        }));
    }
    Ok(out)
}

/// A redirect URI Entra accepts for web and spa platforms.
pub(crate) fn check_redirect_uri(uri: &str) -> Result<String, InputError> {
    let u = uri.trim();
    let bad = || InputError::RedirectUri(u.to_string());
    let parsed = url::Url::parse(u).map_err(|_| bad())?;
    let local = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1"));
    if parsed.fragment().is_some()
        || !(parsed.scheme() == "https" || (parsed.scheme() == "http" && local))
    {
        return Err(bad());
    }
    Ok(u.to_string())
}

pub(crate) fn check_name(name: &str) -> Result<String, InputError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(InputError::NameEmpty);
    }
    if n.chars().count() > 120 {
        return Err(InputError::NameTooLong);
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::certificate::{self, CertificateRequest};
    use crate::core::keygen::{KeySize, RsaKeyGenerator};
    use crate::core::time::DAY;
    use crate::flows::new_app::{self, NewApplication};
    use crate::plan::GrantResource;
    use crate::plan::step::CreateApplication;
    use crate::profiles;

    const NOW: UnixTime = UnixTime(1_790_000_000);

    fn cert(not_after: UnixTime) -> Vec<u8> {
        let key = RsaKeyGenerator.generate_blocking(KeySize::Rsa2048).unwrap();
        certificate::self_signed(
            &key,
            &CertificateRequest::new("Test"),
            [1; 10],
            UnixTime(NOW.0 - DAY),
            not_after,
        )
        .unwrap()
        .into_der()
    }

    fn input(profile: &str, der: Vec<u8>) -> NewApplication {
        NewApplication {
            display_name: "  Test app ".into(),
            description: None,
            profile: profiles::by_id(profile).unwrap(),
            certificate_der: der,
            redirect_uri: None,
            subscription: Some(SubscriptionChoice {
                subscription_id: "s".into(),
                display_name: "Production".into(),
            }),
        }
    }

    #[test]
    fn f1_plans_follow_the_profile() {
        let der = cert(NOW.plus_days(365));
        let rng = &mut rand_core::OsRng;

        let archiver = new_app::plan(&input("m365-archiver", der.clone()), NOW, rng).unwrap();
        let kinds: Vec<&str> = archiver
            .steps
            .iter()
            .map(|s| match s {
                Step::CreateApplication(_) => "app",
                Step::CreateServicePrincipal => "sp",
                Step::RegisterCertificate(_) => "cert",
                Step::EnsureCustomRole(_) => "custom role",
                Step::AssignRole(AssignRole {
                    role: RoleRef::Custom { .. },
                    ..
                }) => "assign custom",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["app", "sp", "cert", "custom role", "assign custom"]);
        assert_eq!(archiver.sentences()[0], "Create application 'Test app'");

        let mut portal = input("restore-portal", der.clone());
        portal.redirect_uri = Some("https://portal.contoso.com:4443".into());
        portal.subscription = None;
        let plan = new_app::plan(&portal, NOW, rng).unwrap();
        match &plan.steps[0] {
            Step::CreateApplication(CreateApplication {
                spa_redirect_uris,
                web_redirect_uris,
                ..
            }) => {
                assert_eq!(spa_redirect_uris, &["https://portal.contoso.com:4443"]);
                assert!(web_redirect_uris.is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert!(
            plan.steps
                .iter()
                .any(|s| matches!(s, Step::ExposeApi(e) if e.scope == "access_as_user"))
        );
        assert!(plan.steps.iter().any(|s| matches!(s,
            Step::GrantDelegated(GrantDelegated { resource: GrantResource::ThisApplication, scopes }) if scopes == &["access_as_user"])));

        // Two plans never share IDs.
        let again = new_app::plan(&input("m365-archiver", der), NOW, rng).unwrap();
        assert_ne!(again.id, archiver.id);
        assert_ne!(again.steps[3], archiver.steps[3]);
    }

    #[test]
    fn f1_inputs_are_checked() {
        let rng = &mut rand_core::OsRng;
        let der = cert(NOW.plus_days(365));
        let mut i = input("azure-backup", der.clone());
        i.subscription = None;
        assert!(matches!(
            new_app::plan(&i, NOW, rng),
            Err(InputError::SubscriptionRequired { .. })
        ));
        let mut i = input("azure-backup", der.clone());
        i.display_name = " ".into();
        assert_eq!(
            new_app::plan(&i, NOW, rng).unwrap_err(),
            InputError::NameEmpty
        );
        let mut i = input("azure-backup", der.clone());
        i.redirect_uri = Some("http://backup.contoso.com/callback".into());
        assert!(matches!(
            new_app::plan(&i, NOW, rng),
            Err(InputError::RedirectUri(_))
        ));
        let mut i = input("azure-backup", cert(UnixTime(NOW.0 - 10)));
        i.redirect_uri = None;
        assert!(matches!(
            new_app::plan(&i, NOW, rng),
            Err(InputError::CertificateExpired(_))
        ));
        let mut i = input("azure-backup", b"not a certificate".to_vec());
        i.redirect_uri = None;
        assert!(matches!(
            new_app::plan(&i, NOW, rng),
            Err(InputError::Certificate(_))
        ));
    }

    #[test]
    fn redirect_uris() {
        assert!(check_redirect_uri("https://backup.contoso.com/auth").is_ok());
        assert!(check_redirect_uri("http://localhost:8080/").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:5000").is_ok());
        assert!(check_redirect_uri("https://x.contoso.com/#frag").is_err());
        assert!(check_redirect_uri("ftp://x").is_err());
        assert!(check_redirect_uri("backup.contoso.com").is_err());
    }
}
