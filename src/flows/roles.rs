//! F4 — Azure roles: list the subscriptions the admin can see; for the
//! chosen one, which of the profile's roles the application's service
//! principal has and which it misses; whether the admin may assign them
//! (`Microsoft.Authorization/roleAssignments/write`), naming the role they
//! lack; and the plan that assigns the missing ones (creating the custom
//! role first when the profile has one).

use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;
use crate::arm::{self, Subscription};
use crate::client::ApiClient;
use crate::graph;
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::preflight::{self, Missing};
use crate::plan::step::{AssignRole, EnsureCustomRole, FindApplication};
use crate::plan::{Plan, RoleRef, Step, new_guid};
use crate::profiles::Profile;

use super::{InputError, SubscriptionChoice, azure_role_steps};

/// The subscriptions the signed-in admin can see.
pub async fn subscriptions<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
) -> Result<Vec<Subscription>, ApiError> {
    arm::list_subscriptions(api).await
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleStatus {
    pub role: RoleRef,
    /// `None` for a custom role not created yet.
    pub role_definition_id: Option<String>,
    pub assigned: bool,
}

/// What F4 shows for one subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolesReport {
    pub subscription: SubscriptionChoice,
    pub app_id: String,
    /// `None`: the application has no service principal yet.
    pub service_principal_id: Option<String>,
    pub roles: Vec<RoleStatus>,
    /// What the admin lacks to assign the missing roles (empty: may assign).
    pub admin_missing: Vec<Missing>,
}

impl RolesReport {
    pub fn missing_roles(&self) -> Vec<&RoleStatus> {
        self.roles.iter().filter(|r| !r.assigned).collect()
    }
    pub fn complete(&self) -> bool {
        self.roles.iter().all(|r| r.assigned)
    }
}

/// Checks the application's roles on the subscription and the admin's
/// right to assign the missing ones.
pub async fn check<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    app_id: &str,
    profile: &Profile,
    subscription: &SubscriptionChoice,
) -> Result<RolesReport, StepError> {
    if graph::find_application_by_app_id(api, app_id)
        .await?
        .is_none()
    {
        return Err(StepError::ApplicationNotInTenant {
            app_id: app_id.to_string(),
        });
    }
    let sp = graph::find_service_principal(api, app_id).await?;
    let sub = &subscription.subscription_id;
    let assigned: Vec<String> = match &sp {
        Some(sp) => arm::list_role_assignments_for(api, sub, &sp.id)
            .await?
            .iter()
            .map(|a| a.role_definition_guid().to_ascii_lowercase())
            .collect(),
        None => Vec::new(),
    };
    let mut roles = Vec::new();
    if let Some(custom) = &profile.custom_role {
        let def = arm::find_role_definition_by_name(api, sub, &custom.role_name).await?;
        let id = def.map(|d| d.name);
        roles.push(RoleStatus {
            role: RoleRef::Custom {
                name: custom.role_name.clone(),
            },
            assigned: id
                .as_ref()
                .is_some_and(|id| assigned.contains(&id.to_ascii_lowercase())),
            role_definition_id: id,
        });
    }
    for (name, id) in profile.built_in_roles() {
        roles.push(RoleStatus {
            assigned: assigned.contains(&id.to_ascii_lowercase()),
            role: RoleRef::BuiltIn {
                name,
                id: id.clone(),
            },
            role_definition_id: Some(id),
        });
    }
    let mut report = RolesReport {
        subscription: subscription.clone(),
        app_id: app_id.to_string(),
        service_principal_id: sp.map(|s| s.id),
        roles,
        admin_missing: Vec::new(),
    };
    if !report.complete() {
        let mut needs = vec![Step::AssignRole(AssignRole {
            subscription_id: sub.clone(),
            subscription_name: subscription.display_name.clone(),
            role: report.missing_roles()[0].role.clone(),
            assignment_name: String::new(),
        })];
        if let Some(custom) = &profile.custom_role
            && report
                .roles
                .iter()
                .any(|r| matches!(r.role, RoleRef::Custom { .. }) && r.role_definition_id.is_none())
        {
            needs.push(Step::EnsureCustomRole(EnsureCustomRole {
                subscription_id: sub.clone(),
                subscription_name: subscription.display_name.clone(),
                role: custom.clone(),
                role_definition_id: String::new(),
            }));
        }
        let reqs = preflight::requirements(&Plan::new("check", "check", needs));
        let rights = preflight::fetch_rights(api, &reqs).await?;
        report.admin_missing = preflight::check(&reqs, &rights);
    }
    Ok(report)
}

/// The F4 plan: find the application, make sure it has a service principal,
/// create the custom role if the profile has one and it is missing, assign
/// every role (roles already assigned are found and left alone).
pub fn plan(
    app_id: &str,
    profile: &Profile,
    subscription: &SubscriptionChoice,
    rng: &mut impl rand_core::RngCore,
) -> Result<Plan, InputError> {
    let app_id = crate::core::validate::application_id(app_id)
        .map_err(|e| InputError::ApplicationId(e.to_string()))?;
    let mut steps = vec![
        Step::FindApplication(FindApplication {
            app_id: app_id.clone(),
        }),
        Step::CreateServicePrincipal,
    ];
    steps.extend(azure_role_steps(profile, Some(subscription), rng)?);
    Ok(Plan::new(
        new_guid(rng),
        format!(
            "Assign the Azure roles of {} on subscription {}",
            profile.display_name, subscription.display_name
        ),
        steps,
    ))
}
