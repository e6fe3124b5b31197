//! The review every wizard's plan goes through before Apply, and the only
//! path the page uses to decide whether Apply is offered:
//! - pre-flight ([`preflight::run`]): the roles the signed-in admin lacks;
//! - tenant mismatch: the wizard names a tenant other than the one the
//!   admin signed in to;
//! - incremental consent: the Microsoft Graph permissions the plan needs
//!   ([`preflight::delegated_scopes`]) that the page's sign-in was not
//!   granted.

use crate::api_error::ApiError;
use crate::auth::tokens::{Audience, TokenCache};
use crate::client::ApiClient;
use crate::core::validate;
use crate::http::{HttpClient, Sleeper};
use crate::plan::{Missing, Plan, preflight};

/// The scopes the page's sign-in holds, per API.
pub trait GrantedScopes {
    /// The `needed` permissions (bare names) not granted for `audience`.
    fn missing(&self, audience: Audience, needed: &[&str]) -> Vec<String>;
}

impl GrantedScopes for TokenCache {
    fn missing(&self, audience: Audience, needed: &[&str]) -> Vec<String> {
        self.missing_scopes(audience, needed)
    }
}

impl<F: Fn(Audience, &[&str]) -> Vec<String>> GrantedScopes for F {
    fn missing(&self, audience: Audience, needed: &[&str]) -> Vec<String> {
        self(audience, needed)
    }
}

/// Who is signed in, as far as the review is concerned.
pub struct SignedIn<'a, G: GrantedScopes> {
    /// The tenant ID of the signed-in account.
    pub tenant_id: &'a str,
    pub granted: &'a G,
}

/// The wizard is for another tenant than the one signed in to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "You are signed in to tenant {signed_in}, not {wizard}: sign out and sign in to the \
     application's tenant."
)]
pub struct TenantMismatch {
    pub signed_in: String,
    pub wizard: String,
}

/// Compares the tenant a wizard names (an ID or a domain, as typed) with
/// the signed-in tenant ID. A domain cannot be compared with an ID without
/// asking Microsoft, so only a tenant ID can mismatch.
pub fn tenant_mismatch(signed_in_tenant: &str, wizard_tenant: &str) -> Option<TenantMismatch> {
    let wizard = wizard_tenant.trim();
    (validate::is_guid(wizard) && !wizard.eq_ignore_ascii_case(signed_in_tenant.trim())).then(
        || TenantMismatch {
            signed_in: signed_in_tenant.trim().to_string(),
            wizard: wizard.to_string(),
        },
    )
}

/// A plan ready to be shown, with what stands between it and Apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub plan: Plan,
    /// The roles the admin lacks (empty: may apply), or why they could not
    /// be checked.
    pub preflight: Result<Vec<Missing>, ApiError>,
    pub tenant_mismatch: Option<TenantMismatch>,
    /// Microsoft Graph permissions the page's sign-in needs consent for.
    pub consent: Vec<String>,
}

impl Review {
    /// Apply is offered only when nothing blocks it.
    pub fn may_apply(&self) -> bool {
        matches!(&self.preflight, Ok(m) if m.is_empty())
            && self.tenant_mismatch.is_none()
            && self.consent.is_empty()
    }
}

/// Reviews `plan` for the signed-in admin. `wizard_tenant` is the tenant
/// the wizard's form named, if it names one. Pre-flight failing to read the
/// admin's rights is part of the review (Apply stays blocked), not an error.
pub async fn prepare<C: HttpClient, S: Sleeper, G: GrantedScopes>(
    api: &ApiClient<'_, C, S>,
    plan: Plan,
    signed_in: &SignedIn<'_, G>,
    wizard_tenant: Option<&str>,
) -> Review {
    let tenant_mismatch = wizard_tenant.and_then(|t| tenant_mismatch(signed_in.tenant_id, t));
    let preflight = preflight::run(api, &plan).await;
    let consent = preflight::delegated_scopes(&plan)
        .get(&Audience::Graph)
        .map(|needed| signed_in.granted.missing(Audience::Graph, needed))
        .unwrap_or_default();
    Review {
        plan,
        preflight,
        tenant_mismatch,
        consent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "8f3a6c2e-4b1d-4e7a-9c5f-2d8b6a1e0c47";

    #[test]
    fn only_another_tenant_id_mismatches() {
        assert_eq!(tenant_mismatch(T, T), None);
        assert_eq!(tenant_mismatch(T, &format!(" {} ", T.to_uppercase())), None);
        assert_eq!(tenant_mismatch(T, "contoso.onmicrosoft.com"), None);
        assert_eq!(tenant_mismatch(T, ""), None);
        let m = tenant_mismatch(T, "11111111-2222-3333-4444-555555555555").unwrap();
        assert_eq!(m.wizard, "11111111-2222-3333-4444-555555555555");
        assert!(m.to_string().contains(&format!("signed in to tenant {T}")));
    }
}
