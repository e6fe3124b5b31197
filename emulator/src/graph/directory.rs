//! `/me`, `/me/memberOf`, `/me/transitiveMemberOf`, `/users` and `/organization`.
// https://learn.microsoft.com/en-us/graph/api/user-get
// https://learn.microsoft.com/en-us/graph/api/user-list-memberof
// https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof
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

/// Delegated scopes that read the signed-in user: User.Read or higher
/// (https://learn.microsoft.com/en-us/graph/api/user-get#permissions).
const READ_ME: &[&str] = &[
    "User.Read",
    "User.ReadWrite",
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
];

/// Delegated scopes for the signed-in user's memberships
/// (https://learn.microsoft.com/en-us/graph/api/user-list-memberof#permissions:
/// User.Read; Directory.Read.All, Directory.ReadWrite.All, GroupMember.Read.All;
/// transitiveMemberOf adds Group.Read.All and User.Read.All).
const READ_MY_MEMBERSHIPS: &[&str] = &[
    "User.Read",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
    "GroupMember.Read.All",
    "Group.Read.All",
    "User.Read.All",
];

/// Scopes that read directory roles; without one, a role in a membership
/// list comes back with only `@odata.type` and `id`
/// (https://learn.microsoft.com/en-us/graph/permissions-overview#limited-information-returned-for-inaccessible-member-objects).
const READ_ROLES: &[&str] = &[
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "RoleManagement.ReadWrite.Directory",
];

/// Scopes that read groups (else limited information, as for roles).
const READ_GROUPS: &[&str] = &[
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
];

fn require_scope(claims: &AccessClaims, any_of: &[&str]) -> Result<(), GraphError> {
    if claims.has_scope(any_of) {
        Ok(())
    } else {
        Err(GraphError::denied())
    }
}

/// A membership entry, or its limited form (type and id, every other
/// property null) when the caller may not read that kind of object.
fn member(full: Value, readable: bool) -> serde_json::Map<String, Value> {
    let mut obj = full.as_object().cloned().unwrap_or_default();
    if !readable {
        for (k, v) in obj.iter_mut() {
            if k != "@odata.type" && k != "id" {
                *v = Value::Null;
            }
        }
    }
    obj
}

fn role_json(tenant: &str, template: &str) -> Option<Value> {
    let (template, name, description) = DIRECTORY_ROLES.iter().find(|r| r.0 == template)?;
    Some(json!({
        "@odata.type": "#microsoft.graph.directoryRole",
        "id": role_object_id(tenant, template),
        "deletedDateTime": null,
        "description": description,
        "displayName": name,
        "roleTemplateId": template,
    }))
}

fn group_json(g: &crate::state::Group) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.group",
        "id": g.id,
        "deletedDateTime": null,
        "displayName": g.display_name,
        "isAssignableToRole": g.is_assignable_to_role,
        "securityEnabled": true,
        "mailEnabled": false,
        "groupTypes": [],
    })
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
            require_scope(claims, READ_ME)?;
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
        // https://learn.microsoft.com/en-us/graph/api/user-list-memberof: direct
        // memberships only, so a role held through a group is not listed;
        // https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof
        // lists it too.
        ["me", which @ ("memberOf" | "transitiveMemberOf")] => {
            require_scope(claims, READ_MY_MEMBERSHIPS)?;
            let u = dir
                .user(&claims.oid)
                .ok_or_else(|| GraphError::not_found(&claims.oid))?;
            let (roles_ok, groups_ok) =
                (claims.has_scope(READ_ROLES), claims.has_scope(READ_GROUPS));
            let roles = if *which == "memberOf" {
                u.directory_roles.clone()
            } else {
                dir.effective_roles(u)
            };
            let mut items: Vec<_> = dir
                .groups_of(&u.id)
                .map(|g| member(group_json(g), groups_ok))
                .collect();
            items.extend(
                roles
                    .iter()
                    .filter_map(|t| role_json(&dir.tenant.id, t))
                    .map(|r| member(r, roles_ok)),
            );
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
