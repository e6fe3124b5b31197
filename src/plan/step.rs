//! The steps a plan is made of: typed data (serde), each with its sentence
//! and a preview of its requests.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::arm::{self, AUTHORIZATION_API};
use crate::cloud::Endpoints;
use crate::core::time::UnixTime;
use crate::profiles::{CustomRole, ResourcePermissions};

use super::Progress;

/// Whose API a delegated grant is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum GrantResource {
    /// Another API, by appId (Microsoft Graph…).
    #[serde(rename_all = "camelCase")]
    Api {
        app_id: String,
        display_name: String,
    },
    /// The plan's own application (its exposed `access_as_user`).
    ThisApplication,
}

/// An Azure role to assign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RoleRef {
    #[serde(rename_all = "camelCase")]
    BuiltIn { name: String, id: String },
    /// Created by an earlier `EnsureCustomRole` step (or found by name).
    #[serde(rename_all = "camelCase")]
    Custom { name: String },
}

impl RoleRef {
    pub fn name(&self) -> &str {
        match self {
            RoleRef::BuiltIn { name, .. } | RoleRef::Custom { name } => name,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Step {
    /// `POST /applications` (single tenant) with the permissions it will
    /// ask for; tagged with the plan's marker so that a create whose answer
    /// was lost is found again instead of repeated.
    #[serde(rename_all = "camelCase")]
    CreateApplication {
        display_name: String,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        permissions: Vec<ResourcePermissions>,
        #[serde(default)]
        spa_redirect_uris: Vec<String>,
        #[serde(default)]
        web_redirect_uris: Vec<String>,
    },
    /// An existing application, by appId (a clear error if not in the tenant).
    #[serde(rename_all = "camelCase")]
    FindApplication { app_id: String },
    /// Adds to the application's `requiredResourceAccess` what it misses.
    #[serde(rename_all = "camelCase")]
    AddRequiredPermissions {
        permissions: Vec<ResourcePermissions>,
    },
    /// Its service principal (found first; created if missing).
    CreateServicePrincipal,
    /// Adds the certificate to `keyCredentials`, keeping the others.
    #[serde(rename_all = "camelCase")]
    RegisterCertificate {
        /// Standard base64 of the certificate's DER (public certificate only).
        certificate: String,
        thumbprint: String,
        subject: String,
        not_after: UnixTime,
    },
    /// Adds a `spa` redirect URI, keeping the others.
    #[serde(rename_all = "camelCase")]
    AddSpaRedirectUri { uri: String },
    /// Sets the identifier URI `api://{appId}` and exposes a delegated scope.
    #[serde(rename_all = "camelCase")]
    ExposeApi {
        scope: String,
        /// New GUID for the scope (kept if the scope already exists).
        scope_id: String,
        display_name: String,
    },
    /// Grants application permissions (app roles) of an API.
    #[serde(rename_all = "camelCase")]
    GrantAppRoles {
        resource_app_id: String,
        resource_name: String,
        permissions: Vec<String>,
    },
    /// Admin consent (`AllPrincipals`) for delegated permissions.
    #[serde(rename_all = "camelCase")]
    GrantDelegated {
        resource: GrantResource,
        scopes: Vec<String>,
    },
    /// A custom role on the subscription, created if no role has its name.
    #[serde(rename_all = "camelCase")]
    EnsureCustomRole {
        subscription_id: String,
        subscription_name: String,
        role: CustomRole,
        /// New GUID for the role definition.
        role_definition_id: String,
    },
    /// An Azure role for the service principal at subscription scope.
    #[serde(rename_all = "camelCase")]
    AssignRole {
        subscription_id: String,
        subscription_name: String,
        role: RoleRef,
        /// New GUID for the assignment (the same on a retry).
        assignment_name: String,
    },
}

fn quoted_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        _ => {
            let (last, rest) = items.split_last().expect("two or more");
            format!("{} and {last}", rest.join(", "))
        }
    }
}

impl Step {
    /// One sentence for the review and progress lists.
    pub fn sentence(&self) -> String {
        match self {
            Step::CreateApplication { display_name, .. } => {
                format!("Create application '{display_name}'")
            }
            Step::FindApplication { app_id } => format!("Find application {app_id} in the tenant"),
            Step::AddRequiredPermissions { permissions } => {
                let names: Vec<String> = permissions
                    .iter()
                    .flat_map(|r| {
                        r.application_permissions
                            .iter()
                            .chain(&r.delegated_permissions)
                            .cloned()
                    })
                    .collect();
                format!(
                    "Add the required permissions {} to the application",
                    quoted_list(&names)
                )
            }
            Step::CreateServicePrincipal => "Create the application's service principal".into(),
            Step::RegisterCertificate {
                subject,
                thumbprint,
                ..
            } => format!(
                "Register certificate {subject} (thumbprint {thumbprint}), keeping the existing ones"
            ),
            Step::AddSpaRedirectUri { uri } => {
                format!("Add redirect URI {uri} (single-page application)")
            }
            Step::ExposeApi { scope, .. } => {
                format!("Expose the API api://{{application ID}} with scope {scope}")
            }
            Step::GrantAppRoles {
                resource_name,
                permissions,
                ..
            } => format!(
                "Grant {resource_name} application permission{} {}",
                if permissions.len() > 1 { "s" } else { "" },
                quoted_list(permissions)
            ),
            Step::GrantDelegated { resource, scopes } => {
                let name = match resource {
                    GrantResource::Api { display_name, .. } => display_name.clone(),
                    GrantResource::ThisApplication => "the application's own API".into(),
                };
                format!(
                    "Grant admin consent for {name} delegated permission{} {}",
                    if scopes.len() > 1 { "s" } else { "" },
                    quoted_list(scopes)
                )
            }
            Step::EnsureCustomRole {
                subscription_name,
                role,
                ..
            } => format!(
                "Create custom role '{}' on subscription {subscription_name} (if missing)",
                role.role_name
            ),
            Step::AssignRole {
                subscription_name,
                role,
                ..
            } => format!("Assign {} on subscription {subscription_name}", role.name()),
        }
    }

    /// The requests this step sends (reads included), with IDs from
    /// `progress` when known and placeholders otherwise, and the certificate
    /// shown by thumbprint rather than its bytes.
    pub fn preview(
        &self,
        endpoints: &Endpoints,
        plan_id: &str,
        progress: Option<&Progress>,
    ) -> Vec<RequestPreview> {
        let g = endpoints.graph_v1();
        let a = &endpoints.arm_base;
        let app = progress
            .and_then(|p| p.application.as_ref())
            .map(|x| x.object_id.clone())
            .unwrap_or_else(|| "{application-object-id}".into());
        let app_id = progress
            .and_then(|p| p.application.as_ref())
            .map(|x| x.app_id.clone())
            .unwrap_or_else(|| "{application-id}".into());
        let sp = progress
            .and_then(|p| p.service_principal_id.clone())
            .unwrap_or_else(|| "{service-principal-id}".into());
        let r = RequestPreview::new;
        match self {
            Step::CreateApplication {
                display_name,
                description,
                permissions,
                spa_redirect_uris,
                web_redirect_uris,
            } => vec![
                r(
                    "GET",
                    format!("{g}/applications?$filter=displayName eq '{display_name}'"),
                    None,
                ),
                r(
                    "POST",
                    format!("{g}/applications"),
                    Some(json!({
                        "displayName": display_name,
                        "description": description,
                        "signInAudience": "AzureADMyOrg",
                        "tags": [super::marker(plan_id)],
                        "requiredResourceAccess": permissions.iter().map(|p| json!({
                            "resourceAppId": p.resource_app_id,
                            "resourceAccess": p.application_permissions.iter().map(|n| json!({"id": format!("{{{n} app role id}}"), "type": "Role"}))
                                .chain(p.delegated_permissions.iter().map(|n| json!({"id": format!("{{{n} scope id}}"), "type": "Scope"})))
                                .collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                        "spa": {"redirectUris": spa_redirect_uris},
                        "web": {"redirectUris": web_redirect_uris},
                    })),
                ),
            ],
            Step::FindApplication { app_id } => vec![r(
                "GET",
                format!("{g}/applications?$filter=appId eq '{app_id}'"),
                None,
            )],
            Step::AddRequiredPermissions { permissions } => vec![
                r("GET", format!("{g}/applications/{app}"), None),
                r(
                    "PATCH",
                    format!("{g}/applications/{app}"),
                    Some(json!({"requiredResourceAccess": format!(
                        "(the existing entries plus {})",
                        permissions.iter().flat_map(|p| p.application_permissions.iter().chain(&p.delegated_permissions)).cloned().collect::<Vec<_>>().join(", ")
                    )})),
                ),
            ],
            Step::CreateServicePrincipal => vec![
                r(
                    "GET",
                    format!("{g}/servicePrincipals?$filter=appId eq '{app_id}'"),
                    None,
                ),
                r(
                    "POST",
                    format!("{g}/servicePrincipals"),
                    Some(json!({"appId": app_id})),
                ),
            ],
            Step::RegisterCertificate {
                thumbprint,
                subject,
                not_after,
                ..
            } => vec![
                r(
                    "GET",
                    format!("{g}/applications/{app}?$select=keyCredentials"),
                    None,
                ),
                r(
                    "PATCH",
                    format!("{g}/applications/{app}"),
                    Some(json!({"keyCredentials": [
                        "(every existing certificate, unchanged)",
                        {"type": "AsymmetricX509Cert", "usage": "Verify",
                         "key": format!("(public certificate {subject}, thumbprint {thumbprint})"),
                         "endDateTime": not_after},
                    ]})),
                ),
            ],
            Step::AddSpaRedirectUri { uri } => vec![
                r("GET", format!("{g}/applications/{app}"), None),
                r(
                    "PATCH",
                    format!("{g}/applications/{app}"),
                    Some(json!({"spa": {"redirectUris": ["(the existing URIs)", uri]}})),
                ),
            ],
            Step::ExposeApi {
                scope,
                scope_id,
                display_name,
            } => vec![
                r("GET", format!("{g}/applications/{app}"), None),
                r(
                    "PATCH",
                    format!("{g}/applications/{app}"),
                    Some(json!({
                        "identifierUris": [format!("api://{app_id}")],
                        "api": {"oauth2PermissionScopes": ["(the existing scopes)", {
                            "id": scope_id, "value": scope, "type": "User", "isEnabled": true,
                            "adminConsentDisplayName": display_name,
                        }]},
                    })),
                ),
            ],
            Step::GrantAppRoles {
                resource_app_id,
                permissions,
                ..
            } => {
                let mut v = vec![
                    r(
                        "GET",
                        format!("{g}/servicePrincipals?$filter=appId eq '{resource_app_id}'"),
                        None,
                    ),
                    r(
                        "GET",
                        format!("{g}/servicePrincipals/{sp}/appRoleAssignments"),
                        None,
                    ),
                ];
                for p in permissions {
                    v.push(r(
                        "POST",
                        format!("{g}/servicePrincipals/{{resource-service-principal-id}}/appRoleAssignedTo"),
                        Some(json!({"principalId": sp, "resourceId": "{resource-service-principal-id}", "appRoleId": format!("{{{p} app role id}}")})),
                    ));
                }
                v
            }
            Step::GrantDelegated { resource, scopes } => {
                let (lookup, resource_id) = match resource {
                    GrantResource::Api { app_id, .. } => (
                        Some(r(
                            "GET",
                            format!("{g}/servicePrincipals?$filter=appId eq '{app_id}'"),
                            None,
                        )),
                        "{resource-service-principal-id}".to_string(),
                    ),
                    GrantResource::ThisApplication => (None, sp.clone()),
                };
                let mut v: Vec<_> = lookup.into_iter().collect();
                v.push(r(
                    "GET",
                    format!("{g}/oauth2PermissionGrants?$filter=clientId eq '{sp}' and resourceId eq '{resource_id}' and consentType eq 'AllPrincipals'"),
                    None,
                ));
                v.push(r(
                    "POST",
                    format!("{g}/oauth2PermissionGrants"),
                    Some(json!({"clientId": sp, "consentType": "AllPrincipals", "resourceId": resource_id, "scope": scopes.join(" ")})),
                ));
                v
            }
            Step::EnsureCustomRole {
                subscription_id,
                role,
                role_definition_id,
                ..
            } => vec![
                r(
                    "GET",
                    format!(
                        "{a}/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions?api-version={AUTHORIZATION_API}&$filter=roleName eq '{}'",
                        role.role_name
                    ),
                    None,
                ),
                r(
                    "PUT",
                    format!(
                        "{a}/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role_definition_id}?api-version={AUTHORIZATION_API}"
                    ),
                    Some(arm::custom_role_body(
                        subscription_id,
                        &role.role_name,
                        &role.description,
                        &arm::Permission {
                            actions: role.actions.clone(),
                            not_actions: role.not_actions.clone(),
                            ..Default::default()
                        },
                    )),
                ),
            ],
            Step::AssignRole {
                subscription_id,
                role,
                assignment_name,
                ..
            } => {
                let role_id = match role {
                    RoleRef::BuiltIn { id, .. } => id.clone(),
                    RoleRef::Custom { name } => progress
                        .and_then(|p| p.custom_roles.get(name).cloned())
                        .unwrap_or_else(|| format!("{{{name} role id}}")),
                };
                vec![
                    r(
                        "GET",
                        format!(
                            "{a}/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleAssignments?api-version={AUTHORIZATION_API}&$filter=principalId eq '{sp}'"
                        ),
                        None,
                    ),
                    r(
                        "PUT",
                        format!(
                            "{a}/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleAssignments/{assignment_name}?api-version={AUTHORIZATION_API}"
                        ),
                        Some(arm::role_assignment_body(subscription_id, &role_id, &sp)),
                    ),
                ]
            }
        }
    }
}

/// A request as the review's disclosure shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestPreview {
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl RequestPreview {
    /// A request as sent (JSON bodies redacted; forms are never shown).
    pub fn sent(request: &crate::http::HttpRequest) -> Self {
        let body = match &request.body {
            Some(crate::http::Body::Json(v)) => Some(redact(v.clone())),
            Some(crate::http::Body::Form(_)) => Some(Value::String("(form, not shown)".into())),
            None => None,
        };
        RequestPreview {
            method: request.method.as_str().into(),
            url: request.url.clone(),
            body,
        }
    }

    fn new(method: &str, url: String, body: Option<Value>) -> Self {
        RequestPreview {
            method: method.into(),
            url,
            body: body.map(redact),
        }
    }
}

/// Property names whose values are secrets or key material.
const SECRET_FIELDS: [&str; 8] = [
    "secretText",
    "client_secret",
    "password",
    "privateKey",
    "refresh_token",
    "code_verifier",
    "client_assertion",
    "access_token",
];

/// Replaces secret values anywhere in `v` with `"(redacted)"`; a `key`
/// holding certificate bytes (long base64) is replaced too.
pub fn redact(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    let long_key = k == "key"
                        && val
                            .as_str()
                            .is_some_and(|s| s.len() > 64 && !s.starts_with('('));
                    if SECRET_FIELDS.contains(&k.as_str()) || long_key {
                        *val = Value::String("(redacted)".into());
                    } else {
                        walk(val);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_read_like_the_seeds() {
        let s = Step::CreateApplication {
            display_name: "Backup Azure SA".into(),
            description: None,
            permissions: vec![],
            spa_redirect_uris: vec![],
            web_redirect_uris: vec![],
        };
        assert_eq!(s.sentence(), "Create application 'Backup Azure SA'");
        let s = Step::AssignRole {
            subscription_id: "x".into(),
            subscription_name: "Production".into(),
            role: RoleRef::BuiltIn {
                name: "Contributor".into(),
                id: arm::builtin::CONTRIBUTOR.into(),
            },
            assignment_name: "g".into(),
        };
        assert_eq!(
            s.sentence(),
            "Assign Contributor on subscription Production"
        );
        let s = Step::GrantDelegated {
            resource: GrantResource::Api {
                app_id: "a".into(),
                display_name: "Microsoft Graph".into(),
            },
            scopes: vec!["User.Read".into(), "openid".into(), "profile".into()],
        };
        assert_eq!(
            s.sentence(),
            "Grant admin consent for Microsoft Graph delegated permissions User.Read, openid and profile"
        );
    }

    #[test]
    fn previews_redact_secrets_and_certificates() {
        let v = redact(
            json!({"keyCredentials": [{"key": "MII".repeat(100), "type": "AsymmetricX509Cert"}],
            "passwordCredential": {"secretText": "abc"}, "scope": "User.Read"}),
        );
        assert_eq!(v["keyCredentials"][0]["key"], "(redacted)");
        assert_eq!(v["passwordCredential"]["secretText"], "(redacted)");
        assert_eq!(v["scope"], "User.Read");
        let step = Step::RegisterCertificate {
            certificate: "MII".repeat(300),
            thumbprint: "AB".repeat(20),
            subject: "CN=Backup".into(),
            not_after: UnixTime(1_900_000_000),
        };
        let e = crate::cloud::Cloud::Global.endpoints();
        let shown = serde_json::to_string(&step.preview(&e, "p", None)).unwrap();
        assert!(!shown.contains("MIIMII"), "{shown}");
        assert!(shown.contains("{application-object-id}"));
        assert!(shown.contains("https://graph.microsoft.com/v1.0/applications/"));
    }

    #[test]
    fn steps_are_data() {
        let step = Step::AssignRole {
            subscription_id: "s".into(),
            subscription_name: "Production".into(),
            role: RoleRef::Custom { name: "R".into() },
            assignment_name: "n".into(),
        };
        let j = serde_json::to_value(&step).unwrap();
        assert_eq!(j["kind"], "assignRole");
        assert_eq!(j["role"]["type"], "custom");
        assert_eq!(serde_json::from_value::<Step>(j).unwrap(), step);
    }
}
