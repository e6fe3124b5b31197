//! Typed Azure Resource Manager calls over [`ApiClient`]: subscriptions,
//! role definitions (built-in and custom), role assignments and the
//! caller's own permissions on a subscription.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::client::{ApiClient, ApiRequest, Page, list_all};
use crate::http::{HttpClient, Method, Sleeper};

/// `api-version` of `Microsoft.Resources/subscriptions`.
pub const SUBSCRIPTIONS_API: &str = "2022-12-01";
/// `api-version` of `Microsoft.Authorization` (role definitions, assignments, permissions).
pub const AUTHORIZATION_API: &str = "2022-04-01";

/// The action that lets a caller assign roles.
pub const ROLE_ASSIGNMENTS_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";
/// The action that lets a caller create custom roles.
pub const ROLE_DEFINITIONS_WRITE: &str = "Microsoft.Authorization/roleDefinitions/write";

/// Built-in role IDs (the same GUID in every cloud).
pub mod builtin {
    pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
    pub const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
    pub const KEY_VAULT_CRYPTO_OFFICER: &str = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603";
    pub const KEY_VAULT_CRYPTO_USER: &str = "12338af0-0e69-4776-bea7-57ae8d297424";
    pub const STORAGE_QUEUE_DATA_CONTRIBUTOR: &str = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";

    /// `(name, id)` of the built-in roles the wizard knows by name.
    pub const ROLES: [(&str, &str); 6] = [
        ("Owner", OWNER),
        ("Contributor", CONTRIBUTOR),
        ("User Access Administrator", USER_ACCESS_ADMINISTRATOR),
        ("Key Vault Crypto Officer", KEY_VAULT_CRYPTO_OFFICER),
        ("Key Vault Crypto User", KEY_VAULT_CRYPTO_USER),
        (
            "Storage Queue Data Contributor",
            STORAGE_QUEUE_DATA_CONTRIBUTOR,
        ),
    ];

    pub fn id_of(name: &str) -> Option<&'static str> {
        ROLES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, id)| *id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinition {
    /// Full resource ID (`/subscriptions/…/providers/Microsoft.Authorization/roleDefinitions/{guid}`).
    pub id: String,
    /// The GUID.
    pub name: String,
    pub properties: RoleDefinitionProperties,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinitionProperties {
    pub role_name: String,
    /// `BuiltInRole` or `CustomRole`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub assignable_scopes: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// One permission block of a role, or of the caller's `permissions` list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub not_actions: Vec<String>,
    #[serde(default)]
    pub data_actions: Vec<String>,
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    pub id: String,
    pub name: String,
    pub properties: RoleAssignmentProperties,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentProperties {
    pub role_definition_id: String,
    pub principal_id: String,
    #[serde(default)]
    pub principal_type: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl RoleAssignment {
    /// The role definition GUID (last segment of `roleDefinitionId`).
    pub fn role_definition_guid(&self) -> &str {
        last_segment(&self.properties.role_definition_id)
    }
}

pub fn last_segment(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// `/subscriptions/{id}`
pub fn subscription_scope(subscription_id: &str) -> String {
    format!("/subscriptions/{subscription_id}")
}

fn auth_path(subscription_id: &str, rest: &str) -> String {
    format!("/subscriptions/{subscription_id}/providers/Microsoft.Authorization/{rest}")
}

/// The requests behind the calls below, as data: a plan step previews
/// exactly what it sends by building its request here.
pub mod request {
    use crate::client::{ApiRequest, odata_quote, query_encode};
    use crate::http::Method::{Get, Put};

    use super::{AUTHORIZATION_API, Permission, auth_path};

    fn authorization(subscription_id: &str, rest: &str, filter: Option<String>) -> String {
        let filter = filter
            .map(|f| format!("&$filter={}", query_encode(&f)))
            .unwrap_or_default();
        format!(
            "{}?api-version={AUTHORIZATION_API}{filter}",
            auth_path(subscription_id, rest)
        )
    }

    // https://learn.microsoft.com/en-us/rest/api/authorization/role-definitions/list
    pub fn find_role_definition_by_name(subscription_id: &str, role_name: &str) -> ApiRequest {
        ApiRequest::arm(
            Get,
            authorization(
                subscription_id,
                "roleDefinitions",
                Some(format!("roleName eq '{}'", odata_quote(role_name))),
            ),
        )
    }

    // https://learn.microsoft.com/en-us/rest/api/authorization/role-definitions/get
    pub fn get_role_definition(subscription_id: &str, role_definition_id: &str) -> ApiRequest {
        ApiRequest::arm(
            Get,
            authorization(
                subscription_id,
                &format!("roleDefinitions/{role_definition_id}"),
                None,
            ),
        )
    }

    // https://learn.microsoft.com/en-us/rest/api/authorization/role-definitions/create-or-update
    pub fn put_custom_role(
        subscription_id: &str,
        role_definition_id: &str,
        role_name: &str,
        description: &str,
        permissions: &Permission,
    ) -> ApiRequest {
        ApiRequest::arm(
            Put,
            authorization(
                subscription_id,
                &format!("roleDefinitions/{role_definition_id}"),
                None,
            ),
        )
        .with_body(super::custom_role_body(
            subscription_id,
            role_name,
            description,
            permissions,
        ))
    }

    // https://learn.microsoft.com/en-us/rest/api/authorization/role-assignments/create
    pub fn put_role_assignment(
        subscription_id: &str,
        name: &str,
        role_definition_id: &str,
        principal_id: &str,
    ) -> ApiRequest {
        ApiRequest::arm(
            Put,
            authorization(subscription_id, &format!("roleAssignments/{name}"), None),
        )
        .with_body(super::role_assignment_body(
            subscription_id,
            role_definition_id,
            principal_id,
        ))
    }

    // https://learn.microsoft.com/en-us/rest/api/authorization/role-assignments/list-for-subscription
    pub fn list_role_assignments_for(subscription_id: &str, principal_id: &str) -> ApiRequest {
        ApiRequest::arm(
            Get,
            authorization(
                subscription_id,
                "roleAssignments",
                Some(format!("principalId eq '{}'", odata_quote(principal_id))),
            ),
        )
    }

    // https://learn.microsoft.com/en-us/rest/api/authorization/permissions/list-for-resource-group
    pub fn my_permissions(subscription_id: &str) -> ApiRequest {
        ApiRequest::arm(Get, authorization(subscription_id, "permissions", None))
    }
}

// https://learn.microsoft.com/en-us/rest/api/resources/subscriptions/list
pub async fn list_subscriptions<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
) -> Result<Vec<Subscription>, ApiError> {
    list_all(
        api,
        ApiRequest::arm(
            Method::Get,
            format!("/subscriptions?api-version={SUBSCRIPTIONS_API}"),
        ),
        "subscriptions",
    )
    .await
}

pub async fn find_role_definition_by_name<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    subscription_id: &str,
    role_name: &str,
) -> Result<Option<RoleDefinition>, ApiError> {
    let page: Page<RoleDefinition> = api
        .fetch(
            &request::find_role_definition_by_name(subscription_id, role_name),
            "role definitions",
        )
        .await?;
    Ok(page.value.into_iter().next())
}

pub async fn get_role_definition<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    subscription_id: &str,
    role_definition_id: &str,
) -> Result<RoleDefinition, ApiError> {
    api.fetch(
        &request::get_role_definition(subscription_id, role_definition_id),
        "a role definition",
    )
    .await
}

/// Creates (or updates) a custom role assignable at the subscription.
pub async fn put_custom_role<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    subscription_id: &str,
    role_definition_id: &str,
    role_name: &str,
    description: &str,
    permissions: &Permission,
) -> Result<RoleDefinition, ApiError> {
    api.fetch(
        &request::put_custom_role(
            subscription_id,
            role_definition_id,
            role_name,
            description,
            permissions,
        ),
        "the custom role",
    )
    .await
}

pub fn custom_role_body(
    subscription_id: &str,
    role_name: &str,
    description: &str,
    permissions: &Permission,
) -> Value {
    json!({
        "properties": {
            "roleName": role_name,
            "description": description,
            "type": "CustomRole",
            "permissions": [permissions],
            "assignableScopes": [subscription_scope(subscription_id)],
        }
    })
}

/// Assigns a role to a service principal at subscription scope. `name` is a
/// new GUID chosen by the caller (the same GUID on a retry).
pub async fn put_role_assignment<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    subscription_id: &str,
    name: &str,
    role_definition_id: &str,
    principal_id: &str,
) -> Result<RoleAssignment, ApiError> {
    api.fetch(
        &request::put_role_assignment(subscription_id, name, role_definition_id, principal_id),
        "the role assignment",
    )
    .await
}

pub fn role_assignment_body(
    subscription_id: &str,
    role_definition_id: &str,
    principal_id: &str,
) -> Value {
    json!({
        "properties": {
            "roleDefinitionId": auth_path(subscription_id, &format!("roleDefinitions/{role_definition_id}")),
            "principalId": principal_id,
            "principalType": "ServicePrincipal",
        }
    })
}

pub async fn list_role_assignments_for<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    subscription_id: &str,
    principal_id: &str,
) -> Result<Vec<RoleAssignment>, ApiError> {
    list_all(
        api,
        request::list_role_assignments_for(subscription_id, principal_id),
        "role assignments",
    )
    .await
}

/// What the signed-in caller may do on the subscription.
pub async fn my_permissions<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    subscription_id: &str,
) -> Result<Vec<Permission>, ApiError> {
    let page: Page<Permission> = api
        .fetch(&request::my_permissions(subscription_id), "permissions")
        .await?;
    Ok(page.value)
}

/// Whether `permissions` allow `action`: some block's actions match it
/// (wildcards, case-insensitive) and that block's notActions do not.
pub fn allows(permissions: &[Permission], action: &str) -> bool {
    permissions.iter().any(|p| {
        p.actions.iter().any(|a| action_matches(a, action))
            && !p.not_actions.iter().any(|a| action_matches(a, action))
    })
}

/// ARM action pattern matching: `*` matches any run of characters.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == a;
    }
    let mut rest = a.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_arm() {
        assert!(action_matches("*", ROLE_ASSIGNMENTS_WRITE));
        assert!(action_matches(
            "Microsoft.Authorization/*",
            ROLE_ASSIGNMENTS_WRITE
        ));
        assert!(action_matches(
            "*/read",
            "Microsoft.Resources/subscriptions/read"
        ));
        assert!(!action_matches("*/read", ROLE_ASSIGNMENTS_WRITE));
        assert!(action_matches(
            "microsoft.authorization/*/write",
            ROLE_ASSIGNMENTS_WRITE
        ));
        assert!(!action_matches(
            "Microsoft.Storage/*",
            ROLE_ASSIGNMENTS_WRITE
        ));
    }

    #[test]
    fn contributor_cannot_assign_roles() {
        let contributor = Permission {
            actions: vec!["*".into()],
            not_actions: vec![
                "Microsoft.Authorization/*/Delete".into(),
                "Microsoft.Authorization/*/Write".into(),
                "Microsoft.Authorization/elevateAccess/Action".into(),
            ],
            ..Default::default()
        };
        assert!(!allows(
            std::slice::from_ref(&contributor),
            ROLE_ASSIGNMENTS_WRITE
        ));
        let owner = Permission {
            actions: vec!["*".into()],
            ..Default::default()
        };
        assert!(allows(&[contributor, owner], ROLE_ASSIGNMENTS_WRITE));
    }

    struct Pages(core::cell::RefCell<Vec<(String, Value)>>);
    impl crate::http::HttpClient for Pages {
        async fn send(
            &self,
            request: crate::http::HttpRequest,
        ) -> Result<crate::http::HttpResponse, crate::http::TransportError> {
            let (url, body) = self.0.borrow_mut().remove(0);
            assert_eq!(request.url, url);
            assert!(
                request
                    .headers
                    .iter()
                    .any(|(k, v)| k == "Authorization" && v == "Bearer t")
            );
            Ok(crate::http::HttpResponse {
                status: 200,
                headers: vec![],
                body: serde_json::to_vec(&body).unwrap(),
            })
        }
    }
    struct NoSleep;
    impl crate::http::Sleeper for NoSleep {
        async fn sleep(&self, _: u64) {}
    }

    #[test]
    fn subscriptions_follow_next_link() {
        let next = "https://management.azure.com/subscriptions?api-version=2022-12-01&$skiptoken=1";
        let pages = Pages(core::cell::RefCell::new(vec![
            (
                "https://management.azure.com/subscriptions?api-version=2022-12-01".into(),
                json!({"value": [{"subscriptionId": "a", "displayName": "A"}], "nextLink": next}),
            ),
            (
                next.into(),
                json!({"value": [{"subscriptionId": "b", "displayName": "B"}]}),
            ),
        ]));
        let api = ApiClient::new(
            &pages,
            &NoSleep,
            crate::cloud::Cloud::Global.endpoints(),
            Default::default(),
            1,
            crate::core::time::UnixTime(0),
        )
        .with_arm_token("t");
        let fut = list_subscriptions(&api);
        let mut fut = core::pin::pin!(fut);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        let core::task::Poll::Ready(subs) = fut.as_mut().poll(&mut cx) else {
            panic!("never waits")
        };
        let names: Vec<String> = subs.unwrap().into_iter().map(|s| s.display_name).collect();
        assert_eq!(names, ["A", "B"]);
        assert!(pages.0.borrow().is_empty());
    }

    #[test]
    fn assignment_body_names_the_principal_type() {
        let b = role_assignment_body("s", builtin::CONTRIBUTOR, "p");
        assert_eq!(b["properties"]["principalType"], "ServicePrincipal");
        assert_eq!(
            b["properties"]["roleDefinitionId"],
            "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
        );
        assert_eq!(
            builtin::id_of("key vault crypto user"),
            Some(builtin::KEY_VAULT_CRYPTO_USER)
        );
    }
}
