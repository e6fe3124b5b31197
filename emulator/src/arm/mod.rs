//! Azure Resource Manager under `/arm`: subscriptions, role definitions,
//! permissions; errors as `{"error":{"code","message"}}`.
// https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/common-deployment-errors

pub mod role_assignments;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::known::{self, BUILT_IN_ROLES};
use crate::state::Directory;
use crate::tokens::AccessClaims;
use crate::{Shared, clock, lock};

#[derive(Debug)]
pub struct ArmError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

pub type ArmResult = Result<Response, ArmError>;

impl ArmError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ArmError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code: code.into(),
            message: message.into(),
        }
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

pub fn ok(status: u16, v: Value) -> ArmResult {
    Ok((
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        Json(v),
    )
        .into_response())
}

const AUDIENCES: &[&str] = &[
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

// https://learn.microsoft.com/en-us/rest/api/azure/#create-the-request
pub fn caller(emu: &Shared, headers: &HeaderMap) -> Result<AccessClaims, ArmError> {
    let token = crate::http::bearer_token(headers);
    if token.is_empty() {
        return Err(ArmError::new(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    }
    let Some(claims) = emu.keys.verify::<AccessClaims>(token) else {
        return Err(ArmError::new(
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        ));
    };
    if !AUDIENCES.contains(&claims.aud.as_str()) && claims.aud != known::ARM_APP_ID {
        return Err(ArmError::new(
            401,
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{}'. It should exactly match with one of the allowed audiences '{}'.",
                claims.aud,
                AUDIENCES.join("','")
            ),
        ));
    }
    if !claims.is_app() && !claims.has_scope(&["user_impersonation"]) {
        return Err(ArmError::new(
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid: it does not carry the 'user_impersonation' scope.",
        ));
    }
    let now = emu.clock.now();
    if claims.exp <= now {
        return Err(ArmError::new(
            401,
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                clock::iso(claims.exp),
                clock::iso(now)
            ),
        ));
    }
    if claims.tid != lock(&emu.dir).tenant.id {
        return Err(ArmError::new(
            401,
            "InvalidAuthenticationTokenTenant",
            "The access token is from the wrong issuer.",
        ));
    }
    Ok(claims)
}

/// A role definition's permissions: (actions, notActions, dataActions, notDataActions).
pub struct Perms {
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
}

/// Built-in and custom role definitions as ARM JSON, at a subscription scope.
pub fn role_definitions(dir: &Directory, sub: &str) -> Vec<Value> {
    let scope = format!("/subscriptions/{sub}");
    let mut out: Vec<Value> = BUILT_IN_ROLES
        .iter()
        .map(|r| {
            json!({
                "id": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{}", r.id),
                "name": r.id,
                "type": "Microsoft.Authorization/roleDefinitions",
                "properties": {
                    "roleName": r.name,
                    "type": "BuiltInRole",
                    "description": r.description,
                    "assignableScopes": ["/"],
                    "permissions": [{"actions": r.actions, "notActions": r.not_actions, "dataActions": r.data_actions, "notDataActions": []}],
                    "createdOn": "2015-02-02T21:55:09.8806423Z",
                    "updatedOn": "2024-04-01T15:30:00.0000000Z",
                    "createdBy": null,
                    "updatedBy": null,
                },
            })
        })
        .collect();
    for c in &dir.custom_roles {
        let scopes = c["properties"]["assignableScopes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if scopes.iter().any(|s| {
            s.as_str()
                .is_some_and(|s| s == "/" || s.eq_ignore_ascii_case(&scope))
        }) {
            let mut c = c.clone();
            c["id"] = Value::String(format!(
                "{scope}/providers/Microsoft.Authorization/roleDefinitions/{}",
                c["name"].as_str().unwrap_or("")
            ));
            out.push(c);
        }
    }
    out
}

/// Whether `def` is a custom role created less than `replication_ms` ago:
/// ARM answers `RoleDefinitionDoesNotExist` for it until it has replicated
/// (https://github.com/Azure/terraform-azurerm-caf-enterprise-scale/wiki/Troubleshooting:
/// "a transient error which may occur when the Resource Provider in ARM is yet
/// to complete replication of the newly created Role Definition").
pub fn replicating(def: &Value, now_ms: i64, replication_ms: u64) -> bool {
    def["properties"]["type"] == "CustomRole"
        && def["properties"]["createdOn"]
            .as_str()
            .and_then(clock::parse_iso)
            .is_some_and(|created| created * 1000 + replication_ms as i64 > now_ms)
}

pub fn role_definition(dir: &Directory, sub: &str, id: &str) -> Option<Value> {
    role_definitions(dir, sub).into_iter().find(|r| {
        r["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(id))
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The caller's permissions on a subscription, one entry per assigned role.
pub fn caller_permissions(dir: &Directory, sub: &str, principal: &str) -> Vec<Perms> {
    let scope = format!("/subscriptions/{sub}");
    dir.role_assignments
        .iter()
        .filter(|a| {
            a.principal_id.eq_ignore_ascii_case(principal)
                && (a.scope == "/" || a.scope.eq_ignore_ascii_case(&scope))
        })
        .filter_map(|a| role_definition(dir, sub, &a.role_definition_id))
        .map(|d| {
            let p = &d["properties"]["permissions"][0];
            Perms {
                actions: strings(&p["actions"]),
                not_actions: strings(&p["notActions"]),
                data_actions: strings(&p["dataActions"]),
            }
        })
        .collect()
}

/// ARM's action matching: `*` wildcards, case-insensitive.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == a;
    }
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !a.starts_with(part) {
                return false;
            }
            pos = part.len();
        } else if i == parts.len() - 1 {
            return a.len() >= pos + part.len() && a.ends_with(part);
        } else {
            match a[pos..].find(part) {
                Some(j) => pos += j + part.len(),
                None => return false,
            }
        }
    }
    true
}

pub fn allowed(perms: &[Perms], action: &str) -> bool {
    perms.iter().any(|p| {
        p.actions.iter().any(|a| action_matches(a, action))
            && !p.not_actions.iter().any(|n| action_matches(n, action))
    })
}

pub fn authorization_failed(claims: &AccessClaims, action: &str, scope: &str) -> ArmError {
    let who = claims.upn.clone().unwrap_or_else(|| claims.appid.clone());
    ArmError::new(
        403,
        "AuthorizationFailed",
        format!(
            "The client '{who}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            claims.oid
        ),
    )
}

fn subscription_json(dir: &Directory, s: &crate::state::Subscription) -> Value {
    json!({
        "id": format!("/subscriptions/{}", s.subscription_id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": s.subscription_id,
        "tenantId": dir.tenant.id,
        "displayName": s.display_name,
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
    })
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default()
}

pub fn param(uri: &Uri, key: &str) -> Option<String> {
    query_pairs(uri)
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

async fn dispatch(
    State(emu): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    route(&emu, &method, &uri, &headers, &body).unwrap_or_else(|e| e.into_response())
}

fn route(emu: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> ArmResult {
    let path = uri.path().strip_prefix("/arm").unwrap_or("");
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    if param(uri, "api-version").is_none() {
        return Err(ArmError::new(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    }
    let claims = caller(emu, headers)?;
    let m = method.as_str();
    let lower: Vec<String> = s.iter().map(|x| x.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    match (m, l.as_slice()) {
        // https://learn.microsoft.com/en-us/rest/api/resources/subscriptions/list
        ("GET", ["subscriptions"]) => {
            let dir = lock(&emu.dir);
            let visible: Vec<Value> = dir
                .subscriptions
                .iter()
                .filter(|sub| {
                    !caller_permissions(&dir, &sub.subscription_id, &claims.oid).is_empty()
                })
                .map(|sub| subscription_json(&dir, sub))
                .collect();
            let top = param(uri, "$top")
                .and_then(|t| t.parse::<usize>().ok())
                .filter(|t| *t > 0)
                .unwrap_or(100);
            let skip = param(uri, "$skiptoken")
                .and_then(|t| t.parse::<usize>().ok())
                .unwrap_or(0);
            let end = (skip + top).min(visible.len());
            let mut out = json!({"value": visible[skip.min(end)..end], "count": {"type": "Total", "value": visible.len()}});
            if end < visible.len() {
                let api = param(uri, "api-version").unwrap_or_default();
                out["nextLink"] = Value::String(format!(
                    "{}/subscriptions?api-version={api}&$top={top}&$skiptoken={end}",
                    emu.arm_url()
                ));
            }
            ok(200, out)
        }
        // https://learn.microsoft.com/en-us/rest/api/resources/subscriptions/get
        ("GET", ["subscriptions", _]) => {
            let dir = lock(&emu.dir);
            let sub = find_subscription(&dir, s[1])?;
            if caller_permissions(&dir, &sub, &claims.oid).is_empty() {
                return Err(authorization_failed(
                    &claims,
                    "Microsoft.Resources/subscriptions/read",
                    &format!("/subscriptions/{sub}"),
                ));
            }
            let entry = dir
                .subscriptions
                .iter()
                .find(|x| x.subscription_id == sub)
                .expect("found");
            ok(200, subscription_json(&dir, entry))
        }
        // https://learn.microsoft.com/en-us/rest/api/authorization/permissions/list-for-resource-group
        (
            "GET",
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.authorization",
                "permissions",
            ],
        ) => {
            let dir = lock(&emu.dir);
            let sub = find_subscription(&dir, s[1])?;
            let value: Vec<Value> = caller_permissions(&dir, &sub, &claims.oid)
                .into_iter()
                .map(|p| json!({"actions": p.actions, "notActions": p.not_actions, "dataActions": p.data_actions, "notDataActions": []}))
                .collect();
            ok(200, json!({ "value": value }))
        }
        // https://learn.microsoft.com/en-us/rest/api/authorization/role-definitions/list
        (
            "GET",
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.authorization",
                "roledefinitions",
            ],
        ) => {
            let dir = lock(&emu.dir);
            let sub = find_subscription(&dir, s[1])?;
            let defs = role_definitions(&dir, &sub);
            let value: Vec<Value> = match param(uri, "$filter") {
                None => defs,
                Some(f) => {
                    let (field, want) = f.split_once(" eq ").ok_or_else(|| {
                        ArmError::new(
                            400,
                            "InvalidFilter",
                            format!("The filter '{f}' is not supported."),
                        )
                    })?;
                    let want = want.trim().trim_matches('\'').to_string();
                    let key = match field.trim() {
                        "roleName" => "roleName",
                        "type" => "type",
                        other => {
                            return Err(ArmError::new(
                                400,
                                "InvalidFilter",
                                format!("The filter property '{other}' is not supported."),
                            ));
                        }
                    };
                    defs.into_iter()
                        .filter(|d| {
                            d["properties"][key]
                                .as_str()
                                .is_some_and(|v| v.eq_ignore_ascii_case(&want))
                        })
                        .collect()
                }
            };
            ok(200, json!({ "value": value }))
        }
        // https://learn.microsoft.com/en-us/rest/api/authorization/role-definitions/get
        (
            "GET",
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.authorization",
                "roledefinitions",
                _,
            ],
        ) => {
            let dir = lock(&emu.dir);
            let sub = find_subscription(&dir, s[1])?;
            let replication = lock(&emu.faults).config.replication_ms;
            role_definition(&dir, &sub, s[5])
                .filter(|d| !replicating(d, emu.clock.now_ms(), replication))
                .map(|d| ok(200, d))
                .unwrap_or_else(|| {
                    Err(ArmError::new(
                        404,
                        "RoleDefinitionDoesNotExist",
                        format!(
                            "The specified role definition with ID '{}' does not exist.",
                            s[5]
                        ),
                    ))
                })
        }
        // https://learn.microsoft.com/en-us/rest/api/authorization/role-definitions/create-or-update
        (
            "PUT",
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.authorization",
                "roledefinitions",
                _,
            ],
        ) => {
            let mut dir = lock(&emu.dir);
            let sub = find_subscription(&dir, s[1])?;
            let scope = format!("/subscriptions/{sub}");
            let action = "Microsoft.Authorization/roleDefinitions/write";
            if !allowed(&caller_permissions(&dir, &sub, &claims.oid), action) {
                return Err(authorization_failed(
                    &claims,
                    action,
                    &format!(
                        "{scope}/providers/Microsoft.Authorization/roleDefinitions/{}",
                        s[5]
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
            let name = s[5].to_string();
            if uuid::Uuid::parse_str(&name).is_err() || known::built_in_role(&name).is_some() {
                return Err(ArmError::new(
                    400,
                    "RoleDefinitionIdMustBeAGuid",
                    format!("The role definition ID '{name}' is not valid: it must be a new GUID."),
                ));
            }
            let props = &input["properties"];
            let role_name = props["roleName"].as_str().unwrap_or("").to_string();
            if role_name.is_empty() {
                return Err(ArmError::new(
                    400,
                    "InvalidRoleDefinition",
                    "The role name cannot be empty.",
                ));
            }
            if known::built_in_role_by_name(&role_name).is_some()
                || dir.custom_roles.iter().any(|c| {
                    c["name"] != name
                        && c["properties"]["roleName"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(&role_name))
                })
            {
                return Err(ArmError::new(
                    409,
                    "RoleDefinitionWithSameNameExists",
                    "A custom role with the same name already exists in this directory. Use a different name.",
                ));
            }
            let now = clock::iso(emu.clock.now());
            let existed = dir.custom_roles.iter().position(|c| c["name"] == name);
            let created = existed
                .map(|i| dir.custom_roles[i]["properties"]["createdOn"].clone())
                .unwrap_or_else(|| Value::String(now.clone()));
            let def = json!({
                "id": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{name}"),
                "name": name,
                "type": "Microsoft.Authorization/roleDefinitions",
                "properties": {
                    "roleName": role_name,
                    "type": "CustomRole",
                    "description": props["description"],
                    "assignableScopes": props["assignableScopes"].as_array().cloned().unwrap_or_else(|| vec![Value::String(scope.clone())]),
                    "permissions": props["permissions"].as_array().cloned().unwrap_or_default(),
                    "createdOn": created, "updatedOn": now, "createdBy": claims.oid, "updatedBy": claims.oid,
                },
            });
            match existed {
                Some(i) => dir.custom_roles[i] = def.clone(),
                None => dir.custom_roles.push(def.clone()),
            }
            ok(if existed.is_some() { 200 } else { 201 }, def)
        }
        (
            _,
            [
                "subscriptions",
                _,
                "providers",
                "microsoft.authorization",
                "roleassignments",
                ..,
            ],
        ) => role_assignments::route(emu, &claims, m, &s, uri, body),
        _ => Err(ArmError::new(
            404,
            "InvalidResourceType",
            format!(
                "The resource type could not be found in the namespace for api version '{}'.",
                param(uri, "api-version").unwrap_or_default()
            ),
        )),
    }
}

pub fn find_subscription(dir: &Directory, id: &str) -> Result<String, ArmError> {
    dir.subscriptions
        .iter()
        .find(|s| s.subscription_id.eq_ignore_ascii_case(id))
        .map(|s| s.subscription_id.clone())
        .ok_or_else(|| {
            ArmError::new(
                404,
                "SubscriptionNotFound",
                format!("The subscription '{id}' could not be found."),
            )
        })
}

pub fn router() -> Router<Shared> {
    Router::new().route("/arm/{*rest}", axum::routing::any(dispatch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_actions() {
        assert!(action_matches(
            "*",
            "Microsoft.Authorization/roleAssignments/write"
        ));
        assert!(action_matches(
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/roleAssignments/write"
        ));
        assert!(action_matches(
            "*/read",
            "Microsoft.Authorization/roleAssignments/read"
        ));
        assert!(!action_matches(
            "*/read",
            "Microsoft.Authorization/roleAssignments/write"
        ));
        assert!(!action_matches(
            "Microsoft.Support/*",
            "Microsoft.Authorization/roleAssignments/write"
        ));
    }
}
