//! Role assignments at subscription scope: PUT (409 RoleAssignmentExists,
//! 400 PrincipalNotFound during the replication delay unless
//! `principalType: ServicePrincipal`), GET, list with `$filter`, DELETE.
// https://learn.microsoft.com/en-us/rest/api/authorization/role-assignments/create
// https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting

use axum::body::Bytes;
use axum::http::Uri;
use serde_json::{Value, json};

use super::{
    ArmError, ArmResult, allowed, authorization_failed, caller_permissions, find_subscription, ok,
    param, role_definition,
};
use crate::state::{Directory, RoleAssignment};
use crate::tokens::AccessClaims;
use crate::{Shared, clock, lock};

fn to_json(a: &RoleAssignment, sub: &str) -> Value {
    json!({
        "id": format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", a.scope, a.name),
        "name": a.name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{}", a.role_definition_id),
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "condition": null,
            "conditionVersion": null,
            "createdOn": clock::iso(a.created),
            "updatedOn": clock::iso(a.created),
            "createdBy": a.created_by,
            "updatedBy": a.created_by,
            "delegatedManagedIdentityResourceId": null,
            "description": null,
        },
    })
}

fn principal_not_found(principal: &str, tenant: &str) -> ArmError {
    ArmError::new(
        400,
        "PrincipalNotFound",
        format!(
            "Principal {} does not exist in the directory {tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
            principal.replace('-', "")
        ),
    )
}

fn filter(
    dir: &Directory,
    f: Option<String>,
    sub_scope: &str,
) -> Result<Vec<RoleAssignment>, ArmError> {
    let all = dir
        .role_assignments
        .iter()
        .filter(|a| a.scope.eq_ignore_ascii_case(sub_scope) || a.scope == "/");
    let Some(f) = f else {
        return Ok(all.cloned().collect());
    };
    let f = f.trim();
    if f == "atScope()" {
        return Ok(all.cloned().collect());
    }
    let quoted = |s: &str| {
        s.trim()
            .trim_matches(|c| c == '\'' || c == '(' || c == ')')
            .trim_matches('\'')
            .to_string()
    };
    if let Some(rest) = f.strip_prefix("principalId eq ") {
        let p = quoted(rest);
        return Ok(all
            .filter(|a| a.principal_id.eq_ignore_ascii_case(&p))
            .cloned()
            .collect());
    }
    if let Some(rest) = f.strip_prefix("assignedTo(") {
        let p = quoted(rest);
        return Ok(all
            .filter(|a| a.principal_id.eq_ignore_ascii_case(&p))
            .cloned()
            .collect());
    }
    if let Some(rest) = f.strip_prefix("atScope() and assignedTo(") {
        let p = quoted(rest);
        return Ok(all
            .filter(|a| a.principal_id.eq_ignore_ascii_case(&p))
            .cloned()
            .collect());
    }
    Err(ArmError::new(
        400,
        "UnsupportedQuery",
        format!(
            "The filter '{f}' is not supported. Supported filters are 'atScope()', 'principalId eq {{id}}' and 'assignedTo('{{id}}')'."
        ),
    ))
}

pub fn route(
    emu: &Shared,
    claims: &AccessClaims,
    m: &str,
    s: &[&str],
    uri: &Uri,
    body: &Bytes,
) -> ArmResult {
    let now = emu.clock.now();
    let mut dir = lock(&emu.dir);
    let sub = find_subscription(&dir, s[1])?;
    let scope = format!("/subscriptions/{sub}");
    let perms = caller_permissions(&dir, &sub, &claims.oid);
    let target =
        |name: &str| format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
    match (m, &s[5..]) {
        // https://learn.microsoft.com/en-us/rest/api/authorization/role-assignments/list-for-subscription
        ("GET", []) => {
            let action = "Microsoft.Authorization/roleAssignments/read";
            if !allowed(&perms, action) {
                return Err(authorization_failed(
                    claims,
                    action,
                    &format!("{scope}/providers/Microsoft.Authorization/roleAssignments"),
                ));
            }
            let value: Vec<Value> = filter(&dir, param(uri, "$filter"), &scope)?
                .iter()
                .map(|a| to_json(a, &sub))
                .collect();
            ok(200, json!({ "value": value }))
        }
        // https://learn.microsoft.com/en-us/rest/api/authorization/role-assignments/get
        ("GET", [name]) => {
            let action = "Microsoft.Authorization/roleAssignments/read";
            if !allowed(&perms, action) {
                return Err(authorization_failed(claims, action, &target(name)));
            }
            match dir
                .role_assignments
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name) && a.scope.eq_ignore_ascii_case(&scope))
            {
                Some(a) => ok(200, to_json(a, &sub)),
                None => Err(ArmError::new(
                    404,
                    "RoleAssignmentNotFound",
                    format!("The role assignment '{name}' is not found."),
                )),
            }
        }
        // https://learn.microsoft.com/en-us/rest/api/authorization/role-assignments/create
        ("PUT", [name]) => {
            let action = "Microsoft.Authorization/roleAssignments/write";
            if !allowed(&perms, action) {
                return Err(authorization_failed(claims, action, &target(name)));
            }
            if uuid::Uuid::parse_str(name).is_err() {
                return Err(ArmError::new(
                    400,
                    "InvalidRoleAssignmentId",
                    format!(
                        "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
                    ),
                ));
            }
            let input: Value = serde_json::from_slice(body).map_err(|_| {
                ArmError::new(
                    400,
                    "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized.",
                )
            })?;
            let props = &input["properties"];
            let role_def = props["roleDefinitionId"].as_str().unwrap_or("");
            let role_id = role_def.rsplit('/').next().unwrap_or("").to_string();
            // A custom role younger than the replication delay is not found yet.
            let replication = lock(&emu.faults).config.replication_ms;
            if role_definition(&dir, &sub, &role_id)
                .is_none_or(|d| super::replicating(&d, emu.clock.now_ms(), replication))
            {
                return Err(ArmError::new(
                    400,
                    "RoleDefinitionDoesNotExist",
                    format!("The specified role definition with ID '{role_id}' does not exist."),
                ));
            }
            let principal = props["principalId"].as_str().unwrap_or("").to_string();
            let declared = props["principalType"].as_str().map(str::to_string);
            let replication = lock(&emu.faults).config.replication_ms as i64;
            if dir.applications.contains_key(&principal) {
                return Err(ArmError::new(
                    400,
                    "PrincipalTypeNotSupported",
                    "Principals of type Application cannot validly be used in role assignments.",
                ));
            }
            let principal_type = match dir.principal_created(&principal) {
                Some((created, kind)) => {
                    let replicated = created * 1000 + replication <= emu.clock.now_ms();
                    if !replicated && declared.is_none() {
                        return Err(principal_not_found(&principal, &dir.tenant.id));
                    }
                    declared.unwrap_or_else(|| kind.to_string())
                }
                None => return Err(principal_not_found(&principal, &dir.tenant.id)),
            };
            if let Some(existing) = dir
                .role_assignments
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
            {
                if existing.principal_id.eq_ignore_ascii_case(&principal)
                    && existing.role_definition_id.eq_ignore_ascii_case(&role_id)
                {
                    return ok(201, to_json(existing, &sub));
                }
                return Err(ArmError::new(
                    400,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                ));
            }
            if dir.role_assignments.iter().any(|a| {
                a.principal_id.eq_ignore_ascii_case(&principal)
                    && a.role_definition_id.eq_ignore_ascii_case(&role_id)
                    && a.scope.eq_ignore_ascii_case(&scope)
            }) {
                return Err(ArmError::new(
                    409,
                    "RoleAssignmentExists",
                    "The role assignment already exists.",
                ));
            }
            let a = RoleAssignment {
                name: name.to_string(),
                scope: scope.clone(),
                role_definition_id: role_id.to_ascii_lowercase(),
                principal_id: principal,
                principal_type,
                created: now,
                created_by: claims.oid.clone(),
            };
            let out = to_json(&a, &sub);
            dir.role_assignments.push(a);
            ok(201, out)
        }
        // https://learn.microsoft.com/en-us/rest/api/authorization/role-assignments/delete
        ("DELETE", [name]) => {
            let action = "Microsoft.Authorization/roleAssignments/delete";
            if !allowed(&perms, action) {
                return Err(authorization_failed(claims, action, &target(name)));
            }
            match dir.role_assignments.iter().position(|a| {
                a.name.eq_ignore_ascii_case(name) && a.scope.eq_ignore_ascii_case(&scope)
            }) {
                Some(i) => {
                    let a = dir.role_assignments.remove(i);
                    ok(200, to_json(&a, &sub))
                }
                None => Ok(axum::http::StatusCode::NO_CONTENT.into_response_ok()),
            }
        }
        _ => Err(ArmError::new(
            405,
            "MethodNotAllowed",
            format!("The requested method '{m}' is not allowed."),
        )),
    }
}

trait IntoOk {
    fn into_response_ok(self) -> axum::response::Response;
}

impl IntoOk for axum::http::StatusCode {
    fn into_response_ok(self) -> axum::response::Response {
        axum::response::IntoResponse::into_response(self)
    }
}
