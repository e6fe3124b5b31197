//! `/me`, `/me/memberOf`, `/users` and `/organization`.
// https://learn.microsoft.com/en-us/graph/api/user-get
// https://learn.microsoft.com/en-us/graph/api/user-list-memberof
// https://learn.microsoft.com/en-us/graph/api/organization-get
// https://learn.microsoft.com/en-us/graph/api/user-get

use axum::http::Uri;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::odata::{self, Query};
use super::{GraphError, GraphResult, ok};
use crate::known::DIRECTORY_ROLES;
use crate::tokens::AccessClaims;
use crate::{Shared, lock};

fn user_json(u: &crate::state::User) -> serde_json::Map<String, Value> {
    json!({
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": u.display_name.split(' ').next(),
        "jobTitle": null,
        "mail": u.user_principal_name,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": "en-US",
        "surname": u.display_name.split(' ').nth(1),
        "userPrincipalName": u.user_principal_name,
        "id": u.id,
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

fn may_read_users(claims: &AccessClaims) -> Result<(), GraphError> {
    let ok = if claims.is_app() {
        claims.has_role(&[
            "User.Read.All",
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ])
    } else {
        claims.has_scope(&[
            "User.ReadBasic.All",
            "User.Read.All",
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
            "Directory.AccessAsUser.All",
        ])
    };
    if ok {
        Ok(())
    } else {
        Err(GraphError::denied())
    }
}

/// A tenant-specific, stable object ID for a directory role.
fn role_object_id(tenant: &str, template: &str) -> String {
    let h = Sha1::digest(format!("{tenant}/{template}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

pub fn route(
    emu: &Shared,
    claims: &AccessClaims,
    m: &str,
    s: &[&str],
    q: &Query,
    uri: &Uri,
) -> GraphResult {
    if m != "GET" {
        return Err(GraphError::new(
            405,
            "Request_BadRequest",
            "Only GET is supported here.",
        ));
    }
    let dir = lock(&emu.dir);
    match s {
        ["me", ..] if claims.is_app() => Err(GraphError::new(
            400,
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        )),
        // https://learn.microsoft.com/en-us/graph/api/user-get
        ["me"] => {
            let u = dir
                .user(&claims.oid)
                .ok_or_else(|| GraphError::not_found(&claims.oid))?;
            let mut obj = user_json(u);
            obj.insert(
                "@odata.context".into(),
                Value::String(super::context(emu, "users/$entity")),
            );
            let obj = Value::Object(obj);
            let mut map = obj.as_object().cloned().unwrap_or_default();
            if q.select().is_some() {
                let ctx = map.remove("@odata.context");
                map = odata::project(map, q);
                if let Some(c) = ctx {
                    map.insert("@odata.context".into(), c);
                }
            }
            ok(200, Value::Object(map))
        }
        // https://learn.microsoft.com/en-us/graph/api/user-list-memberof
        ["me", "memberOf"] => {
            let u = dir
                .user(&claims.oid)
                .ok_or_else(|| GraphError::not_found(&claims.oid))?;
            let items = u
                .directory_roles
                .iter()
                .filter_map(|t| DIRECTORY_ROLES.iter().find(|r| r.0 == t))
                .map(|(template, name, description)| {
                    json!({
                        "@odata.type": "#microsoft.graph.directoryRole",
                        "id": role_object_id(&dir.tenant.id, template),
                        "deletedDateTime": null,
                        "description": description,
                        "displayName": name,
                        "roleTemplateId": template,
                    })
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
                })
                .collect();
            odata::collection(
                emu,
                uri,
                q,
                "directoryObjects",
                items,
                &["id", "displayName", "roleTemplateId"],
                100,
            )
        }
        // https://learn.microsoft.com/en-us/graph/api/user-list
        ["users"] => {
            may_read_users(claims)?;
            let items = dir.users.iter().map(user_json).collect();
            odata::collection(
                emu,
                uri,
                q,
                "users",
                items,
                &["id", "userPrincipalName", "displayName", "mail"],
                100,
            )
        }
        ["users", key] => {
            may_read_users(claims)?;
            let key = key.trim_matches(|c| c == '(' || c == ')' || c == '\'');
            let u = dir.user(key).ok_or_else(|| GraphError::not_found(key))?;
            let mut obj = odata::project(user_json(u), q);
            obj.insert(
                "@odata.context".into(),
                Value::String(super::context(emu, "users/$entity")),
            );
            ok(200, Value::Object(obj))
        }
        // https://learn.microsoft.com/en-us/graph/api/organization-get
        ["organization"] => {
            let t = &dir.tenant;
            let org = json!({
                "id": t.id,
                "displayName": t.display_name,
                "tenantType": "AAD",
                "countryLetterCode": "US",
                "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": true, "name": t.domain, "type": "Managed"}],
            });
            odata::collection(
                emu,
                uri,
                q,
                "organization",
                vec![org.as_object().cloned().unwrap_or_default()],
                &["id"],
                100,
            )
        }
        _ => Err(GraphError::new(
            400,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                s.last().unwrap_or(&"")
            ),
        )),
    }
}
