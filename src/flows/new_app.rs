//! F1 — register a new application: create it (single tenant) with the
//! profile's requiredResourceAccess, create its service principal, register
//! the certificate (public part only; the PFX stays in the page), grant the
//! app roles and delegated consent, and assign the Azure roles.

use serde::{Deserialize, Serialize};

use crate::core::certificate::Certificate;
use crate::core::time::UnixTime;
use crate::plan::step::{CreateApplication, ExposeApi, GrantDelegated};
use crate::plan::{GrantResource, Plan, Step, new_guid};
use crate::profiles::Profile;

use super::policy::{CredentialKind, PolicyView};
use super::{
    InputError, SubscriptionChoice, azure_role_steps, check_name, check_redirect_uri, grant_steps,
    register_certificate,
};

/// What the F1 form collects (the certificate's private key is not here).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApplication {
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub profile: Profile,
    /// DER of the certificate generated in the page or read from the PFX.
    pub certificate_der: Vec<u8>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub subscription: Option<SubscriptionChoice>,
}

/// The F1 plan. `rng` supplies the plan ID and the GUIDs of new objects.
pub fn plan(
    input: &NewApplication,
    now: UnixTime,
    rng: &mut impl rand_core::RngCore,
) -> Result<Plan, InputError> {
    check_name(&input.display_name)?;
    let cert = Certificate::from_der(&input.certificate_der)
        .map_err(|e| InputError::Certificate(e.to_string()))?;
    let (register, _) = register_certificate(&cert, now)?;
    plan_with_credential(input, register, rng)
}

/// The F1 plan under the tenant's app management policy (`policy`: a new
/// application is restricted only by the tenant's default, read with
/// `policy::read_for_application(api, None)`). A certificate the policy does
/// not allow — too long, or certificates not allowed — is refused here,
/// naming the policy, before anything is sent.
pub fn plan_under_policy(
    input: &NewApplication,
    policy: &PolicyView,
    now: UnixTime,
    rng: &mut impl rand_core::RngCore,
) -> Result<Plan, InputError> {
    let cert = Certificate::from_der(&input.certificate_der)
        .map_err(|e| InputError::Certificate(e.to_string()))?;
    let (_, info) = register_certificate(&cert, now)?;
    policy.check_fixed(
        CredentialKind::Certificate,
        info.not_after.0.saturating_sub(info.not_before.0),
        None,
        now,
    )?;
    plan(input, now, rng)
}

/// The F1 plan with `credential` as the step that gives the application its
/// credential: F1's certificate registration, or an `AddPassword` when F3
/// re-creates the application of a service account that signs in with a
/// secret. `input.certificate_der` is not read.
pub fn plan_with_credential(
    input: &NewApplication,
    credential: Step,
    rng: &mut impl rand_core::RngCore,
) -> Result<Plan, InputError> {
    let name = check_name(&input.display_name)?;
    let redirect = input
        .redirect_uri
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(check_redirect_uri)
        .transpose()?;
    let (spa, web) = match redirect {
        Some(u) if input.profile.spa_redirect => (vec![u], vec![]),
        Some(u) => (vec![], vec![u]),
        None => (vec![], vec![]),
    };
    let mut steps = vec![
        Step::CreateApplication(CreateApplication {
            display_name: name.clone(),
            description: input.description.clone(),
            permissions: input.profile.resources.clone(),
            spa_redirect_uris: spa,
            web_redirect_uris: web,
        }),
        Step::CreateServicePrincipal,
        credential,
    ];
    steps.extend(grant_steps(&input.profile));
    if let Some(scope) = &input.profile.expose_scope {
        steps.push(Step::ExposeApi(ExposeApi {
            scope: scope.clone(),
            scope_id: new_guid(rng),
            display_name: format!("Access {name}"),
        }));
        steps.push(Step::GrantDelegated(GrantDelegated {
            resource: GrantResource::ThisApplication,
            scopes: vec![scope.clone()],
        }));
    }
    steps.extend(azure_role_steps(
        &input.profile,
        input.subscription.as_ref(),
        rng,
    )?);
    Ok(Plan::new(
        new_guid(rng),
        format!(
            "Register application '{name}' for {}",
            input.profile.display_name
        ),
        steps,
    ))
}
