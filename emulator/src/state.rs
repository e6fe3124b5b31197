//! The tenant's persistent state: directory objects, Azure subscriptions and
//! role assignments. Graph objects are kept as their JSON bodies (Graph's own
//! property names) next to the few things Graph never shows (secret values,
//! creation time for the replication delay).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Directory {
    pub tenant: Tenant,
    pub users: Vec<User>,
    /// Applications by object ID.
    pub applications: BTreeMap<String, Application>,
    /// Service principals by object ID.
    pub service_principals: BTreeMap<String, ServicePrincipal>,
    pub app_role_assignments: Vec<Value>,
    pub oauth2_permission_grants: Vec<Value>,
    pub subscriptions: Vec<Subscription>,
    /// Custom Azure role definitions (ARM JSON).
    pub custom_roles: Vec<Value>,
    pub role_assignments: Vec<RoleAssignment>,
    /// Groups; role-assignable ones may hold directory roles for their members.
    #[serde(default)]
    pub groups: Vec<Group>,
    /// What the seed made, for `GET /_emulator/seed`.
    pub seed: SeedInfo,
    /// `PATCH`ed properties of the tenant's `defaultAppManagementPolicy`
    /// (`None`: Microsoft's initial one, disabled with no restriction).
    #[serde(default)]
    pub default_app_management_policy: Option<Map<String, Value>>,
    /// `appManagementPolicies` by ID (their Graph bodies).
    #[serde(default)]
    pub app_management_policies: BTreeMap<String, Map<String, Value>>,
    /// Application object ID -> the ID of the one appManagementPolicy assigned to it.
    #[serde(default)]
    pub app_policy_assignments: BTreeMap<String, String>,
    /// Deleted applications (Graph's `deletedItems`), by object ID, restorable
    /// for 30 days.
    #[serde(default)]
    pub deleted_applications: BTreeMap<String, Application>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: String,
    pub domain: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub password: String,
    /// Directory role template IDs.
    pub directory_roles: Vec<String>,
}

/// A security group. A role-assignable group (`isAssignableToRole`) can hold
/// directory roles, which its members then have
/// (https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/groups-concept).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub display_name: String,
    pub is_assignable_to_role: bool,
    /// Member user object IDs.
    pub members: Vec<String>,
    /// Directory role template IDs assigned to the group.
    pub directory_roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Application {
    pub body: Map<String, Value>,
    pub created: i64,
    pub secrets: Vec<Secret>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Secret {
    pub key_id: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServicePrincipal {
    pub body: Map<String, Value>,
    pub created: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub name: String,
    pub scope: String,
    pub role_definition_id: String,
    pub principal_id: String,
    pub principal_type: String,
    pub created: i64,
    pub created_by: String,
}

/// Description of the seeded tenant (the JSON of `GET /_emulator/seed`).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SeedInfo {
    pub seed: String,
    pub password: String,
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub service_apps: Vec<ServiceAppInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAppInfo {
    /// `expired-certificate`, `expiring-secret` or `missing-roles`.
    pub scenario: String,
    pub display_name: String,
    pub app_id: String,
    pub object_id: String,
    pub service_principal_id: String,
    pub thumbprint: Option<String>,
    pub certificate_end: Option<String>,
    /// The certificate's private key (PKCS#8 PEM): demo material only.
    pub private_key_pem: Option<String>,
    pub secret_text: Option<String>,
    pub secret_end: Option<String>,
    /// The permission profile of the matching service-account record
    /// (`GET /_emulator/demo/service-accounts`).
    #[serde(default)]
    pub profile: String,
    /// The subscription its Azure roles are on, if its profile has any.
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// Graph's keyId of the credential the service uses.
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub certificate_subject: Option<String>,
    #[serde(default)]
    pub certificate_start: Option<String>,
    /// The app management policy assigned to the application, by display name.
    #[serde(default)]
    pub policy: Option<String>,
}

pub fn str_field<'a>(body: &'a Map<String, Value>, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or("")
}

impl Directory {
    pub fn user(&self, id_or_upn: &str) -> Option<&User> {
        self.users.iter().find(|u| {
            u.id.eq_ignore_ascii_case(id_or_upn)
                || u.user_principal_name.eq_ignore_ascii_case(id_or_upn)
        })
    }

    /// Groups `user_id` is a direct member of.
    pub fn groups_of(&self, user_id: &str) -> impl Iterator<Item = &Group> {
        self.groups
            .iter()
            .filter(move |g| g.members.iter().any(|m| m.eq_ignore_ascii_case(user_id)))
    }

    /// The user's directory roles, held directly or through role-assignable
    /// groups (each once): what Entra enforces and puts in `wids`.
    pub fn effective_roles(&self, user: &User) -> Vec<String> {
        let mut roles = user.directory_roles.clone();
        for g in self.groups_of(&user.id).filter(|g| g.is_assignable_to_role) {
            for r in &g.directory_roles {
                if !roles.contains(r) {
                    roles.push(r.clone());
                }
            }
        }
        roles
    }

    pub fn app_by_app_id(&self, app_id: &str) -> Option<&Application> {
        self.applications
            .values()
            .find(|a| str_field(&a.body, "appId").eq_ignore_ascii_case(app_id))
    }

    pub fn app_object_id_by_app_id(&self, app_id: &str) -> Option<String> {
        self.app_by_app_id(app_id)
            .map(|a| str_field(&a.body, "id").to_string())
    }

    /// The application with this `uniqueName` (an alternate key, compared
    /// without regard to case).
    pub fn app_object_id_by_unique_name(&self, unique_name: &str) -> Option<String> {
        self.applications
            .values()
            .find(|a| {
                a.body
                    .get("uniqueName")
                    .and_then(Value::as_str)
                    .is_some_and(|u| u.eq_ignore_ascii_case(unique_name))
            })
            .map(|a| str_field(&a.body, "id").to_string())
    }

    pub fn sp_by_app_id(&self, app_id: &str) -> Option<&ServicePrincipal> {
        self.service_principals
            .values()
            .find(|s| str_field(&s.body, "appId").eq_ignore_ascii_case(app_id))
    }

    /// Creation time of a user (never young: seeded) or service principal.
    pub fn principal_created(&self, object_id: &str) -> Option<(i64, &'static str)> {
        if self
            .users
            .iter()
            .any(|u| u.id.eq_ignore_ascii_case(object_id))
        {
            return Some((0, "User"));
        }
        self.service_principals
            .get(object_id)
            .map(|s| (s.created, "ServicePrincipal"))
    }

    pub fn principal_display_name(&self, object_id: &str) -> String {
        if let Some(u) = self.user(object_id) {
            return u.display_name.clone();
        }
        self.service_principals
            .get(object_id)
            .map(|s| str_field(&s.body, "displayName").to_string())
            .unwrap_or_default()
    }
}
