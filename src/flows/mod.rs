//! The connect wizards as functions from inputs to a [`Plan`](crate::plan::Plan)
//! (F1 new application, F2 existing application, F4 Azure roles, F5 Restore
//! Portal), the local-only check of F2, and the connection record a
//! finished wizard saves under "Service accounts".

pub mod connection;
pub mod existing_app;
pub mod new_app;
pub mod restore_portal;
pub mod roles;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};

use crate::arm::builtin;
use crate::core::certificate::{Certificate, CertificateInfo, KeyKind};
use crate::core::time::UnixTime;
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
        Step::RegisterCertificate {
            certificate: Base64::encode_string(cert.der()),
            thumbprint: info.sha1.clone(),
            subject: info.subject.clone(),
            not_after: info.not_after,
        },
        info,
    ))
}

/// Grant steps for a profile's API permissions (app roles, then delegated).
pub(crate) fn grant_steps(profile: &Profile) -> Vec<Step> {
    let mut out = Vec::new();
    for r in &profile.resources {
        if !r.application_permissions.is_empty() {
            out.push(Step::GrantAppRoles {
                resource_app_id: r.resource_app_id.clone(),
                resource_name: r.display_name.clone(),
                permissions: r.application_permissions.clone(),
            });
        }
        if !r.delegated_permissions.is_empty() {
            out.push(Step::GrantDelegated {
                resource: crate::plan::GrantResource::Api {
                    app_id: r.resource_app_id.clone(),
                    display_name: r.display_name.clone(),
                },
                scopes: r.delegated_permissions.clone(),
            });
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
        out.push(Step::EnsureCustomRole {
            subscription_id: sub.subscription_id.clone(),
            subscription_name: sub.display_name.clone(),
            role: custom.clone(),
            role_definition_id: new_guid(rng),
        });
        out.push(Step::AssignRole {
            subscription_id: sub.subscription_id.clone(),
            subscription_name: sub.display_name.clone(),
            role: RoleRef::Custom {
                name: custom.role_name.clone(),
            },
            assignment_name: new_guid(rng),
        });
    }
    for name in &profile.azure_roles {
        let id = builtin::id_of(name).ok_or_else(|| {
            InputError::Certificate(format!("unknown Azure role '{name}' in the profile"))
        })?;
        out.push(Step::AssignRole {
            subscription_id: sub.subscription_id.clone(),
            subscription_name: sub.display_name.clone(),
            role: RoleRef::BuiltIn {
                name: name.clone(),
                id: id.to_string(),
            },
            assignment_name: new_guid(rng),
        });
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
