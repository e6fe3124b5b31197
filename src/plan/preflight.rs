//! Pre-flight: before a plan runs, compare what it needs (directory roles
//! for Graph, rights on each subscription for ARM) with what the signed-in
//! admin has, and name the missing role instead of failing halfway.
// https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference
// https://learn.microsoft.com/en-us/entra/identity/enterprise-apps/grant-admin-consent#prerequisites
// https://learn.microsoft.com/en-us/rest/api/authorization/permissions/list-for-resource-group

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;
use crate::arm::{self, Permission};
use crate::client::ApiClient;
use crate::graph;
use crate::http::{HttpClient, Sleeper};

use super::Plan;
use super::step::{Step, each_step};
use super::steps::StepKind;

/// Directory role template IDs (the same in every tenant).
pub mod directory_roles {
    pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
    pub const PRIVILEGED_ROLE_ADMINISTRATOR: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
    pub const APPLICATION_ADMINISTRATOR: &str = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3";
    pub const CLOUD_APPLICATION_ADMINISTRATOR: &str = "158c047a-c907-4556-b7ef-446551a6b5f7";

    pub fn name(template_id: &str) -> &'static str {
        match template_id {
            GLOBAL_ADMINISTRATOR => "Global Administrator",
            PRIVILEGED_ROLE_ADMINISTRATOR => "Privileged Role Administrator",
            APPLICATION_ADMINISTRATOR => "Application Administrator",
            CLOUD_APPLICATION_ADMINISTRATOR => "Cloud Application Administrator",
            _ => "a directory role",
        }
    }
}

use directory_roles::*;

/// Something the signed-in admin must be allowed to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Requirement {
    /// One of these directory roles (template IDs), for `purpose`.
    #[serde(rename_all = "camelCase")]
    DirectoryRole {
        any_of: Vec<String>,
        purpose: String,
    },
    /// An ARM action on a subscription, which these roles grant.
    #[serde(rename_all = "camelCase")]
    AzureAction {
        subscription_id: String,
        subscription_name: String,
        action: String,
        granted_by: Vec<String>,
        purpose: String,
    },
}

/// What the signed-in admin has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminRights {
    /// Template IDs of the admin's directory roles.
    pub directory_roles: Vec<String>,
    /// The admin's permissions per subscription ID (empty: no access).
    pub azure: BTreeMap<String, Vec<Permission>>,
}

/// A requirement the admin does not meet, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Missing {
    pub requirement: Requirement,
    pub message: String,
}

fn names(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        _ => {
            let (last, rest) = items.split_last().expect("two or more");
            format!("{} or {last}", rest.join(", "))
        }
    }
}

/// The directory role that lets an admin create and configure
/// applications and grant consent.
pub fn app_admin() -> Requirement {
    Requirement::DirectoryRole {
        any_of: names(&[
            APPLICATION_ADMINISTRATOR,
            CLOUD_APPLICATION_ADMINISTRATOR,
            GLOBAL_ADMINISTRATOR,
            PRIVILEGED_ROLE_ADMINISTRATOR,
        ]),
        purpose: "create and configure applications and grant consent".into(),
    }
}

/// What `plan` needs, in the order its steps need it, each once.
pub fn requirements(plan: &Plan) -> Vec<Requirement> {
    let mut out: Vec<Requirement> = Vec::new();
    for step in &plan.steps {
        for r in each_step!(step, s => s.requirements()) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// The delegated permissions the page's own sign-in must hold to run
/// `plan`, per API: compare with `TokenCache::missing_scopes` and, when
/// some are missing, sign in again for them (incremental consent).
// https://learn.microsoft.com/en-us/graph/permissions-reference
pub fn delegated_scopes(plan: &Plan) -> BTreeMap<crate::auth::Audience, Vec<&'static str>> {
    let mut out: BTreeMap<crate::auth::Audience, Vec<&'static str>> = BTreeMap::new();
    for step in &plan.steps {
        for (audience, scope) in each_step!(step, s => s.scopes()) {
            let list = out.entry(*audience).or_default();
            if !list.contains(scope) {
                list.push(scope);
            }
        }
    }
    out
}

/// The requirements `rights` do not meet.
pub fn check(requirements: &[Requirement], rights: &AdminRights) -> Vec<Missing> {
    requirements
        .iter()
        .filter_map(|r| {
            let message = match r {
                Requirement::DirectoryRole { any_of, purpose } => {
                    if any_of.iter().any(|id| {
                        rights
                            .directory_roles
                            .iter()
                            .any(|h| h.eq_ignore_ascii_case(id))
                    }) {
                        return None;
                    }
                    let wanted: Vec<String> =
                        any_of.iter().map(|id| name(id).to_string()).collect();
                    let have: Vec<String> = rights
                        .directory_roles
                        .iter()
                        .map(|id| name(id).to_string())
                        .collect();
                    format!(
                        "To {purpose} your account needs the {} role in Microsoft Entra ID; {}. \
                         Ask a Global Administrator to assign it, or to sign in here instead.",
                        or_list(&wanted),
                        if have.is_empty() {
                            "it has no directory role".to_string()
                        } else {
                            format!("it has {}", have.join(", "))
                        }
                    )
                }
                Requirement::AzureAction {
                    subscription_id,
                    subscription_name,
                    action,
                    granted_by,
                    purpose,
                } => {
                    let perms = rights
                        .azure
                        .get(subscription_id)
                        .map(Vec::as_slice)
                        .unwrap_or(&[]);
                    if arm::allows(perms, action) {
                        return None;
                    }
                    format!(
                        "To {purpose} on subscription {subscription_name} your account needs the \
                         {} role on it{}. Ask an Owner of the subscription to assign you User \
                         Access Administrator, or to sign in here instead.",
                        or_list(granted_by),
                        if perms.is_empty() {
                            "; it has no access to this subscription"
                        } else {
                            " (it may not write Microsoft.Authorization there)"
                        }
                    )
                }
            };
            Some(Missing {
                requirement: r.clone(),
                message,
            })
        })
        .collect()
}

/// Reads the admin's directory roles (`/me/transitiveMemberOf`: direct or through a role-assignable group) and, for every
/// subscription the plan touches, their permissions there.
pub async fn fetch_rights<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    requirements: &[Requirement],
) -> Result<AdminRights, ApiError> {
    let mut rights = AdminRights {
        directory_roles: graph::my_directory_roles(api)
            .await?
            .into_iter()
            .map(|r| r.role_template_id)
            .collect(),
        azure: BTreeMap::new(),
    };
    for r in requirements {
        if let Requirement::AzureAction {
            subscription_id, ..
        } = r
        {
            if rights.azure.contains_key(subscription_id) {
                continue;
            }
            let perms = match arm::my_permissions(api, subscription_id).await {
                Ok(p) => p,
                // No access at all to the subscription: no permissions.
                Err(e) if matches!(e.status(), Some(403 | 404)) => Vec::new(),
                Err(e) => return Err(e),
            };
            rights.azure.insert(subscription_id.clone(), perms);
        }
    }
    Ok(rights)
}

/// Fetches the admin's rights and checks them against `plan`: empty when
/// the plan may run.
pub async fn run<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    plan: &Plan,
) -> Result<Vec<Missing>, ApiError> {
    let reqs = requirements(plan);
    let rights = fetch_rights(api, &reqs).await?;
    Ok(check(&reqs, &rights))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::RoleRef;
    use crate::plan::step::{AssignRole, GrantAppRoles};

    fn plan() -> Plan {
        Plan::new(
            "p",
            "t",
            vec![
                Step::CreateServicePrincipal,
                Step::GrantAppRoles(GrantAppRoles {
                    resource_app_id: graph::GRAPH_APP_ID.into(),
                    resource_name: "Microsoft Graph".into(),
                    permissions: vec!["Application.Read.All".into()],
                }),
                Step::AssignRole(AssignRole {
                    subscription_id: "s1".into(),
                    subscription_name: "Production".into(),
                    role: RoleRef::BuiltIn {
                        name: "Contributor".into(),
                        id: arm::builtin::CONTRIBUTOR.into(),
                    },
                    assignment_name: "a".into(),
                }),
                Step::AssignRole(AssignRole {
                    subscription_id: "s1".into(),
                    subscription_name: "Production".into(),
                    role: RoleRef::BuiltIn {
                        name: "Key Vault Crypto User".into(),
                        id: arm::builtin::KEY_VAULT_CRYPTO_USER.into(),
                    },
                    assignment_name: "b".into(),
                }),
            ],
        )
    }

    #[test]
    fn requirements_are_listed_once() {
        let reqs = requirements(&plan());
        assert_eq!(reqs.len(), 3);
    }

    #[test]
    fn delegated_scopes_per_api() {
        use crate::auth::Audience;
        let scopes = delegated_scopes(&plan());
        assert_eq!(
            scopes[&Audience::Graph],
            [
                "Application.ReadWrite.All",
                "AppRoleAssignment.ReadWrite.All"
            ]
        );
        assert_eq!(scopes[&Audience::Arm], ["user_impersonation"]);
    }

    #[test]
    fn names_the_missing_roles() {
        let reqs = requirements(&plan());
        let owner = Permission {
            actions: vec!["*".into()],
            ..Default::default()
        };
        let ga = AdminRights {
            directory_roles: vec![GLOBAL_ADMINISTRATOR.into()],
            azure: BTreeMap::from([("s1".to_string(), vec![owner])]),
        };
        assert!(check(&reqs, &ga).is_empty());

        let contributor = Permission {
            actions: vec!["*".into()],
            not_actions: vec!["Microsoft.Authorization/*/Write".into()],
            ..Default::default()
        };
        let appadmin = AdminRights {
            directory_roles: vec![APPLICATION_ADMINISTRATOR.into()],
            azure: BTreeMap::from([("s1".to_string(), vec![contributor])]),
        };
        let missing = check(&reqs, &appadmin);
        assert_eq!(missing.len(), 2);
        assert!(
            missing[0]
                .message
                .contains("Global Administrator or Privileged Role Administrator")
        );
        assert!(
            missing[0]
                .message
                .contains("it has Application Administrator")
        );
        assert!(
            missing[1]
                .message
                .contains("Owner or User Access Administrator")
        );
        assert!(missing[1].message.contains("Production"));

        let reader = AdminRights::default();
        let missing = check(&reqs, &reader);
        assert_eq!(missing.len(), 3);
        assert!(missing[0].message.contains("it has no directory role"));
        assert!(
            missing[2]
                .message
                .contains("no access to this subscription")
        );
    }
}
