//! Permission grants: app role assignments (`appRoleAssignments`,
//! `appRoleAssignedTo`) and delegated `oauth2PermissionGrants`.
// https://learn.microsoft.com/en-us/graph/api/serviceprincipal-post-approleassignments
// https://learn.microsoft.com/en-us/graph/api/serviceprincipal-post-approleassignedto
// https://learn.microsoft.com/en-us/graph/api/resources/oauth2permissiongrant

use axum::body::Bytes;
use axum::http::Uri;
use serde_json::{Value, json};

use super::odata::{self, Query};
use super::{
    GraphError, GraphResult, Need, authorize, json_body, no_content, ok, parse_key,
    service_principals,
};
use crate::known::GRAPH_APP_ID;
use crate::state::{Directory, str_field};
use crate::tokens::AccessClaims;
use crate::{Shared, clock, lock};

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn is_graph(dir: &Directory, resource_sp: &str) -> bool {
    dir.service_principals
        .get(resource_sp)
        .is_some_and(|s| str_field(&s.body, "appId") == GRAPH_APP_ID)
}

#[allow(clippy::too_many_arguments)]
// https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list-approleassignments
// https://learn.microsoft.com/en-us/graph/api/serviceprincipal-delete-approleassignedto
pub fn route_assignments(
    emu: &Shared,
    claims: &AccessClaims,
    m: &str,
    key: &str,
    rel: &str,
    rest: &[&str],
    q: &Query,
    body: &Bytes,
    uri: &Uri,
) -> GraphResult {
    let as_principal = rel == "appRoleAssignments";
    let mut dir = lock(&emu.dir);
    let sp_id = service_principals::find(emu, &dir, &parse_key(key))?;
    let side = if as_principal {
        "principalId"
    } else {
        "resourceId"
    };
    match (m, rest) {
        ("GET", []) => {
            authorize(claims, Need::ReadApps)?;
            let items: Vec<_> = dir
                .app_role_assignments
                .iter()
                .filter(|a| field(a, side) == sp_id)
                .filter_map(|a| a.as_object().cloned())
                .collect();
            odata::collection(
                emu,
                uri,
                q,
                &format!("servicePrincipals('{sp_id}')/{rel}"),
                items,
                &["resourceId", "principalId", "appRoleId"],
                100,
            )
        }
        ("POST", []) => {
            let input = json_body(body)?;
            let principal_id = input
                .get("principalId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let resource_id = input
                .get("resourceId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let app_role_id = input
                .get("appRoleId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if (as_principal && principal_id != sp_id) || (!as_principal && resource_id != sp_id) {
                return Err(GraphError::bad(format!(
                    "The {side} in the request body must be the service principal in the URL ('{sp_id}')."
                )));
            }
            authorize(
                claims,
                Need::AssignAppRole {
                    to_graph: is_graph(&dir, &resource_id),
                },
            )?;
            let Some(resource) = dir.service_principals.get(&resource_id) else {
                return Err(GraphError::not_found(&resource_id));
            };
            let Some((_, principal_type)) = dir.principal_created(&principal_id) else {
                return Err(GraphError::not_found(&principal_id));
            };
            let roles = resource
                .body
                .get("appRoles")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let default_role = app_role_id == "00000000-0000-0000-0000-000000000000";
            if !default_role && !roles.iter().any(|r| field(r, "id") == app_role_id) {
                return Err(GraphError::bad(
                    "Permission being assigned was not found on application",
                ));
            }
            if dir.app_role_assignments.iter().any(|a| {
                field(a, "principalId") == principal_id
                    && field(a, "resourceId") == resource_id
                    && field(a, "appRoleId") == app_role_id
            }) {
                return Err(GraphError::bad(
                    "Permission being assigned already exists on the object",
                ));
            }
            let assignment = json!({
                "id": crate::ids::new_id(),
                "appRoleId": app_role_id,
                "createdDateTime": clock::iso(emu.clock.now()),
                "deletedDateTime": null,
                "principalDisplayName": dir.principal_display_name(&principal_id),
                "principalId": principal_id,
                "principalType": principal_type,
                "resourceDisplayName": str_field(&resource.body, "displayName"),
                "resourceId": resource_id,
            });
            dir.app_role_assignments.push(assignment.clone());
            let mut out = assignment;
            out["@odata.context"] = Value::String(super::context(
                emu,
                &format!("servicePrincipals('{sp_id}')/{rel}/$entity"),
            ));
            ok(201, out)
        }
        ("GET", [aid]) => {
            authorize(claims, Need::ReadApps)?;
            let a = dir
                .app_role_assignments
                .iter()
                .find(|a| field(a, "id") == *aid && field(a, side) == sp_id)
                .cloned();
            ok(200, a.ok_or_else(|| GraphError::not_found(aid))?)
        }
        ("DELETE", [aid]) => {
            let Some(pos) = dir
                .app_role_assignments
                .iter()
                .position(|a| field(a, "id") == *aid && field(a, side) == sp_id)
            else {
                return Err(GraphError::not_found(aid));
            };
            let resource = field(&dir.app_role_assignments[pos], "resourceId").to_string();
            authorize(
                claims,
                Need::AssignAppRole {
                    to_graph: is_graph(&dir, &resource),
                },
            )?;
            dir.app_role_assignments.remove(pos);
            no_content()
        }
        _ => Err(GraphError::new(
            405,
            "Request_BadRequest",
            format!("Unsupported request: {m} {rel}."),
        )),
    }
}

fn check_scopes(dir: &Directory, resource_id: &str, scope: &str) -> Result<(), GraphError> {
    let Some(resource) = dir.service_principals.get(resource_id) else {
        return Err(GraphError::not_found(resource_id));
    };
    let known = resource
        .body
        .get("oauth2PermissionScopes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for s in scope.split_whitespace() {
        if !known
            .iter()
            .any(|k| field(k, "value").eq_ignore_ascii_case(s))
        {
            return Err(GraphError::bad(format!(
                "Invalid value specified for property 'scope' of resource 'OAuth2PermissionGrant': '{s}' is not a scope of the resource."
            )));
        }
    }
    Ok(())
}

pub fn route_grants(
    emu: &Shared,
    claims: &AccessClaims,
    m: &str,
    s: &[&str],
    q: &Query,
    body: &Bytes,
    uri: &Uri,
) -> GraphResult {
    let mut dir = lock(&emu.dir);
    match (m, s) {
        // https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-list
        ("GET", []) => {
            authorize(claims, Need::ReadGrants)?;
            let items: Vec<_> = dir
                .oauth2_permission_grants
                .iter()
                .filter_map(|g| g.as_object().cloned())
                .collect();
            odata::collection(
                emu,
                uri,
                q,
                "oauth2PermissionGrants",
                items,
                &["clientId", "resourceId", "consentType", "principalId", "id"],
                100,
            )
        }
        // https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-post
        ("POST", []) => {
            authorize(claims, Need::WriteGrants)?;
            let input = json_body(body)?;
            let g = |k: &str| {
                input
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let (client, resource, consent_type, principal, scope) = (
                g("clientId"),
                g("resourceId"),
                g("consentType"),
                g("principalId"),
                g("scope"),
            );
            if !dir.service_principals.contains_key(&client) {
                return Err(GraphError::not_found(&client));
            }
            check_scopes(&dir, &resource, &scope)?;
            match consent_type.as_str() {
                "AllPrincipals" if principal.is_empty() => {}
                "Principal" if dir.user(&principal).is_some() => {}
                _ => {
                    return Err(GraphError::bad(
                        "Invalid value specified for property 'consentType' or 'principalId' of resource 'OAuth2PermissionGrant'.",
                    ));
                }
            }
            if dir.oauth2_permission_grants.iter().any(|x| {
                field(x, "clientId") == client
                    && field(x, "resourceId") == resource
                    && field(x, "consentType") == consent_type
                    && field(x, "principalId") == principal
            }) {
                return Err(GraphError::new(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "Permission entry already exists.",
                ));
            }
            let grant = json!({
                "id": crate::ids::new_id(),
                "clientId": client,
                "consentType": consent_type,
                "principalId": if principal.is_empty() { Value::Null } else { Value::String(principal) },
                "resourceId": resource,
                "scope": scope,
            });
            dir.oauth2_permission_grants.push(grant.clone());
            let mut out = grant;
            out["@odata.context"] =
                Value::String(super::context(emu, "oauth2PermissionGrants/$entity"));
            ok(201, out)
        }
        ("GET", [id]) => {
            authorize(claims, Need::ReadGrants)?;
            let g = dir
                .oauth2_permission_grants
                .iter()
                .find(|g| field(g, "id") == *id)
                .cloned();
            ok(200, g.ok_or_else(|| GraphError::not_found(id))?)
        }
        // https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-update
        ("PATCH", [id]) => {
            authorize(claims, Need::WriteGrants)?;
            let input = json_body(body)?;
            let pos = dir
                .oauth2_permission_grants
                .iter()
                .position(|g| field(g, "id") == *id)
                .ok_or_else(|| GraphError::not_found(id))?;
            if let Some(scope) = input.get("scope").and_then(Value::as_str) {
                let resource = field(&dir.oauth2_permission_grants[pos], "resourceId").to_string();
                check_scopes(&dir, &resource, scope)?;
                dir.oauth2_permission_grants[pos]["scope"] = Value::String(scope.to_string());
            }
            no_content()
        }
        // https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-delete
        ("DELETE", [id]) => {
            authorize(claims, Need::WriteGrants)?;
            let pos = dir
                .oauth2_permission_grants
                .iter()
                .position(|g| field(g, "id") == *id)
                .ok_or_else(|| GraphError::not_found(id))?;
            dir.oauth2_permission_grants.remove(pos);
            no_content()
        }
        _ => Err(GraphError::new(
            405,
            "Request_BadRequest",
            format!(
                "Unsupported request: {m} oauth2PermissionGrants/{}.",
                s.join("/")
            ),
        )),
    }
}
