//! `/servicePrincipals`: create (`NoBackingApplicationObject` while the
//! application has not replicated), get, list, delete.
// https://learn.microsoft.com/en-us/graph/api/resources/serviceprincipal

use axum::body::Bytes;
use axum::http::Uri;
use serde_json::{Map, Value, json};

use super::odata::{self, Query};
use super::{
    GraphError, GraphResult, Key, Need, authorize, grants, json_body, no_content, ok, parse_key,
};
use crate::state::{Application, Directory, ServicePrincipal, str_field};
use crate::tokens::AccessClaims;
use crate::{Shared, clock, lock};

/// A service principal for `app`, as Entra creates it.
pub fn new_from_app(dir: &Directory, app: &Application, now: i64) -> ServicePrincipal {
    let b = &app.body;
    let app_id = str_field(b, "appId");
    let mut names = vec![Value::String(app_id.to_string())];
    if let Some(Value::Array(uris)) = b.get("identifierUris") {
        names.extend(uris.iter().cloned());
    }
    let mut reply = Vec::new();
    for kind in ["web", "spa", "publicClient"] {
        if let Some(Value::Array(u)) = b.get(kind).and_then(|k| k.get("redirectUris")) {
            reply.extend(u.iter().cloned());
        }
    }
    let body = json!({
        "id": crate::ids::new_id(),
        "accountEnabled": true,
        "appDisplayName": b.get("displayName"),
        "appDescription": b.get("description"),
        "appId": app_id,
        "appOwnerOrganizationId": dir.tenant.id,
        "appRoleAssignmentRequired": false,
        "appRoles": b.get("appRoles").cloned().unwrap_or(json!([])),
        "createdDateTime": clock::iso(now),
        "deletedDateTime": null,
        "displayName": b.get("displayName"),
        "keyCredentials": [],
        "oauth2PermissionScopes": b.get("api").and_then(|a| a.get("oauth2PermissionScopes")).cloned().unwrap_or(json!([])),
        "passwordCredentials": [],
        "replyUrls": reply,
        "servicePrincipalNames": names,
        "servicePrincipalType": "Application",
        "signInAudience": b.get("signInAudience"),
        "tags": [],
    });
    ServicePrincipal {
        body: serde_json::from_value(body).expect("object"),
        created: now,
    }
}

/// Keeps the service principal's copies of the application's properties
/// (names, roles, scopes, reply URLs) in step, as Entra does.
pub fn sync_from_app(dir: &mut Directory, app: &Application) {
    let app_id = str_field(&app.body, "appId").to_string();
    let Some(sp_id) = dir
        .sp_by_app_id(&app_id)
        .map(|s| str_field(&s.body, "id").to_string())
    else {
        return;
    };
    let fresh = new_from_app(dir, app, 0);
    if let Some(sp) = dir.service_principals.get_mut(&sp_id) {
        for key in [
            "appDisplayName",
            "appDescription",
            "appRoles",
            "displayName",
            "oauth2PermissionScopes",
            "replyUrls",
            "servicePrincipalNames",
        ] {
            if let Some(v) = fresh.body.get(key) {
                sp.body.insert(key.to_string(), v.clone());
            }
        }
    }
}

/// A first-party (Microsoft) service principal from its well-known body.
pub fn first_party(body: Value, now: i64) -> ServicePrincipal {
    let mut m: Map<String, Value> = serde_json::from_value(body).expect("object");
    m.insert("id".into(), Value::String(crate::ids::new_id()));
    m.insert("accountEnabled".into(), Value::Bool(true));
    m.insert(
        "servicePrincipalType".into(),
        Value::String("Application".into()),
    );
    m.insert("keyCredentials".into(), json!([]));
    m.insert("passwordCredentials".into(), json!([]));
    m.insert("tags".into(), json!([]));
    ServicePrincipal {
        body: m,
        created: now - 365 * 24 * 3600,
    }
}

/// The SP of `app_id`, created if it does not exist yet; returns its object ID.
pub fn ensure_for_app(dir: &mut Directory, app_id: &str, now: i64) -> String {
    if let Some(sp) = dir.sp_by_app_id(app_id) {
        return str_field(&sp.body, "id").to_string();
    }
    let Some(app) = dir.app_by_app_id(app_id).cloned() else {
        return String::new();
    };
    let sp = new_from_app(dir, &app, now);
    let id = str_field(&sp.body, "id").to_string();
    dir.service_principals.insert(id.clone(), sp);
    id
}

/// Deletes a service principal with its app role assignments and grants.
pub fn remove(dir: &mut Directory, sp_id: &str) {
    dir.service_principals.remove(sp_id);
    let involves = |v: &Value, keys: &[&str]| {
        keys.iter()
            .any(|k| v.get(*k).and_then(Value::as_str) == Some(sp_id))
    };
    dir.app_role_assignments
        .retain(|a| !involves(a, &["principalId", "resourceId"]));
    dir.oauth2_permission_grants
        .retain(|g| !involves(g, &["clientId", "resourceId"]));
}

pub fn find(emu: &Shared, dir: &Directory, key: &Key) -> Result<String, GraphError> {
    let replication = lock(&emu.faults).config.replication_ms as i64;
    let now_ms = emu.clock.now_ms();
    let (id, label) = match key {
        Key::Id(id) => (
            dir.service_principals.get(id).map(|_| id.clone()),
            id.clone(),
        ),
        Key::AppId(a) => (
            dir.sp_by_app_id(a)
                .map(|s| str_field(&s.body, "id").to_string()),
            format!("appId={a}"),
        ),
        // Only applications have a uniqueName.
        Key::UniqueName(u) => (None, format!("uniqueName={u}")),
    };
    match id {
        Some(id) if dir.service_principals[&id].created * 1000 + replication <= now_ms => Ok(id),
        _ => Err(GraphError::not_found(&label)),
    }
}

pub fn route(
    emu: &Shared,
    claims: &AccessClaims,
    m: &str,
    s: &[&str],
    q: &Query,
    body: &Bytes,
    uri: &Uri,
) -> GraphResult {
    let now = emu.clock.now();
    match (m, s) {
        // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list
        ("GET", []) => {
            authorize(claims, Need::ReadApps)?;
            let dir = lock(&emu.dir);
            let faults = lock(&emu.faults).config.clone();
            let now_ms = emu.clock.now_ms();
            let items: Vec<_> = dir
                .service_principals
                .values()
                .filter(|s| !faults.lags_in_lists(s.created * 1000, now_ms))
                .map(|s| s.body.clone())
                .collect();
            odata::collection(
                emu,
                uri,
                q,
                "servicePrincipals",
                items,
                &["appId", "displayName", "id", "servicePrincipalType"],
                100,
            )
        }
        // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-post-serviceprincipals
        ("POST", []) => {
            authorize(claims, Need::WriteApps)?;
            let input = json_body(body)?;
            let app_id = input
                .get("appId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let mut dir = lock(&emu.dir);
            let replication = lock(&emu.faults).config.replication_ms as i64;
            let app = dir
                .app_by_app_id(&app_id)
                .filter(|a| a.created * 1000 + replication <= emu.clock.now_ms())
                .cloned();
            let Some(app) = app else {
                let mut e = GraphError::bad(format!(
                    "The appId '{app_id}' of the service principal does not reference a valid application object."
                ));
                e.details = Some(
                    json!([{"code": "NoBackingApplicationObject", "message": "The appId of the service principal does not reference a valid application object.", "target": "appId"}]),
                );
                return Err(e);
            };
            if dir.sp_by_app_id(&app_id).is_some() {
                return Err(GraphError::new(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "The service principal cannot be created, updated, or restored because the service principal name "
                        .to_string()
                        + &app_id
                        + " is already in use.",
                ));
            }
            let mut sp = new_from_app(&dir, &app, now);
            for (k, v) in input {
                if !matches!(
                    k.as_str(),
                    "appId" | "id" | "appOwnerOrganizationId" | "servicePrincipalNames"
                ) {
                    sp.body.insert(k, v);
                }
            }
            let id = str_field(&sp.body, "id").to_string();
            let mut out = sp.body.clone();
            dir.service_principals.insert(id, sp);
            out.insert(
                "@odata.context".into(),
                Value::String(super::context(emu, "servicePrincipals/$entity")),
            );
            ok(201, Value::Object(out))
        }
        // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-get
        ("GET", [key]) => {
            authorize(claims, Need::ReadApps)?;
            let dir = lock(&emu.dir);
            let id = find(emu, &dir, &parse_key(key))?;
            let mut out = odata::project(dir.service_principals[&id].body.clone(), q);
            out.insert(
                "@odata.context".into(),
                Value::String(super::context(emu, "servicePrincipals/$entity")),
            );
            ok(200, Value::Object(out))
        }
        // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-delete
        ("DELETE", [key]) => {
            authorize(claims, Need::WriteApps)?;
            let mut dir = lock(&emu.dir);
            let id = find(emu, &dir, &parse_key(key))?;
            remove(&mut dir, &id);
            no_content()
        }
        (
            _,
            [
                key,
                rel @ ("appRoleAssignments" | "appRoleAssignedTo"),
                rest @ ..,
            ],
        ) => grants::route_assignments(emu, claims, m, key, rel, rest, q, body, uri),
        _ => Err(GraphError::new(
            405,
            "Request_BadRequest",
            format!(
                "Unsupported request: {m} servicePrincipals/{}.",
                s.join("/")
            ),
        )),
    }
}
