//! `/applications`: create, get, list, PATCH (whole-collection semantics),
//! DELETE, addPassword/removePassword and addKey/removeKey (with the
//! proof-of-possession JWT verified).
// https://learn.microsoft.com/en-us/graph/api/resources/application

use axum::body::Bytes;
use axum::http::Uri;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value, json};

use super::odata::{self, Query};
use super::{GraphError, GraphResult, Key, Need, authorize, json_body, no_content, ok, parse_key};
use crate::identity::client_auth::registered_keys;
use crate::known::PROOF_AUDIENCE;
use crate::state::{Application, Directory, Secret, str_field};
use crate::tokens::AccessClaims;
use crate::{Shared, certs, clock, lock};

const TWO_YEARS: i64 = 2 * 365 * 24 * 3600;

fn bad_property(prop: &str, detail: &str) -> GraphError {
    GraphError::bad(format!(
        "Invalid value specified for property '{prop}' of resource 'Application'.{detail}"
    ))
}

/// Normalises one keyCredential: parses the certificate, fills dates,
/// displayName, keyId and customKeyIdentifier (the SHA-1 thumbprint).
pub fn key_credential(input: &Value, existing: &[Value]) -> Result<Value, GraphError> {
    let obj = input
        .as_object()
        .ok_or_else(|| bad_property("keyCredentials", ""))?;
    let key_id = obj.get("keyId").and_then(Value::as_str).map(str::to_string);
    let key_b64 = match obj.get("key").and_then(Value::as_str) {
        Some(k) => k.to_string(),
        None => {
            // An existing credential sent back without its key (as GET returns it) is kept
            // (https://github.com/microsoftgraph/microsoft-graph-docs/issues/3579: "supply the
            // prior keyId (not null) and value (null)"); changing any of its properties is
            // refused with KeyNotUpdatable (https://github.com/Azure/azure-powershell/issues/6784).
            let kid = key_id
                .clone()
                .ok_or_else(|| bad_property("keyCredentials.key", " Key value is required."))?;
            let kept = existing
                .iter()
                .find(|e| e.get("keyId").and_then(Value::as_str) == Some(kid.as_str()))
                .cloned()
                .ok_or_else(|| {
                    bad_property(
                        "keyCredentials.keyId",
                        &format!(" No key credential with keyId '{kid}'."),
                    )
                })?;
            if changes_kept_key(obj, &kept) {
                return Err(GraphError::bad(format!(
                    "Update to existing credential with KeyId '{kid}' is not allowed."
                )));
            }
            return Ok(kept);
        }
    };
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("AsymmetricX509Cert");
    let usage = obj.get("usage").and_then(Value::as_str).unwrap_or("Verify");
    if ty != "AsymmetricX509Cert" || !(usage == "Verify" || usage == "Sign") {
        return Err(bad_property(
            "keyCredentials.type",
            " Only 'AsymmetricX509Cert' keys with usage 'Verify' are supported.",
        ));
    }
    let info = certs::parse_certificate_b64(&key_b64)
        .map_err(|e| bad_property("keyCredentials.key", &format!(" {e}")))?;
    let start = obj
        .get("startDateTime")
        .and_then(Value::as_str)
        .and_then(clock::parse_iso)
        .unwrap_or(info.not_before);
    let end = obj
        .get("endDateTime")
        .and_then(Value::as_str)
        .and_then(clock::parse_iso)
        .unwrap_or(info.not_after);
    if end > info.not_after || start < info.not_before {
        return Err(GraphError::new(
            400,
            "KeyCredentialsInvalidEndDate",
            "Key credential end date is invalid.",
        ));
    }
    Ok(json!({
        "customKeyIdentifier": obj.get("customKeyIdentifier").cloned().filter(|v| !v.is_null()).unwrap_or_else(|| Value::String(info.thumbprint_hex())),
        "displayName": obj.get("displayName").cloned().filter(|v| !v.is_null()).unwrap_or_else(|| Value::String(info.subject.clone())),
        "endDateTime": clock::iso(end),
        "key": key_b64,
        "keyId": key_id.unwrap_or_else(crate::ids::new_id),
        "startDateTime": clock::iso(start),
        "type": "AsymmetricX509Cert",
        "usage": usage,
    }))
}

/// Whether a credential sent back without its key differs from the stored one
/// in a property it carries (dates compared as instants; absent or null
/// properties change nothing).
fn changes_kept_key(sent: &Map<String, Value>, kept: &Value) -> bool {
    sent.iter().any(|(k, v)| {
        if v.is_null() || k == "keyId" || k == "key" {
            return false;
        }
        let stored = kept.get(k).unwrap_or(&Value::Null);
        match k.as_str() {
            "startDateTime" | "endDateTime" => {
                v.as_str().and_then(clock::parse_iso) != stored.as_str().and_then(clock::parse_iso)
            }
            _ => v != stored,
        }
    })
}

fn check_redirects(obj: &Map<String, Value>) -> Result<(), GraphError> {
    for kind in ["web", "spa"] {
        if let Some(uris) = obj
            .get(kind)
            .and_then(|k| k.get("redirectUris"))
            .and_then(Value::as_array)
        {
            for u in uris {
                let s = u.as_str().unwrap_or("");
                let ok = s.starts_with("https://")
                    || s.starts_with("http://localhost")
                    || s.starts_with("http://127.0.0.1");
                if !ok {
                    return Err(bad_property(
                        &format!("{kind}.redirectUris"),
                        &format!(" '{s}' must use https, except for http://localhost."),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_scopes(old: &Map<String, Value>, new_api: &Value) -> Result<(), GraphError> {
    let Some(new_scopes) = new_api
        .get("oauth2PermissionScopes")
        .and_then(Value::as_array)
    else {
        return Ok(());
    };
    for s in new_scopes {
        if s.get("id")
            .and_then(Value::as_str)
            .is_none_or(|id| uuid::Uuid::parse_str(id).is_err())
        {
            return Err(bad_property("api.oauth2PermissionScopes.id", ""));
        }
    }
    let old_scopes = old
        .get("api")
        .and_then(|a| a.get("oauth2PermissionScopes"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for o in old_scopes
        .iter()
        .filter(|o| o.get("isEnabled").and_then(Value::as_bool).unwrap_or(true))
    {
        let id = o.get("id");
        if !new_scopes.iter().any(|n| n.get("id") == id) {
            return Err(GraphError::new(
                400,
                "CannotDeleteOrUpdateEnabledEntitlement",
                "Property value cannot be deleted or updated unless it is disabled first.",
            ));
        }
    }
    Ok(())
}

/// Applies a PATCH (or the create body) to an application body: collections
/// are replaced whole, complex properties merged one level.
pub fn apply_patch(
    body: &mut Map<String, Value>,
    input: Map<String, Value>,
) -> Result<(), GraphError> {
    check_redirects(&input)?;
    if let Some(api) = input.get("api") {
        check_scopes(body, api)?;
    }
    let existing_keys = body
        .get("keyCredentials")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (k, v) in input {
        match k.as_str() {
            "id"
            | "appId"
            | "createdDateTime"
            | "passwordCredentials"
            | "publisherDomain"
            | "uniqueName"
            | "deletedDateTime" => {}
            "keyCredentials" => {
                let list = v
                    .as_array()
                    .ok_or_else(|| bad_property("keyCredentials", ""))?;
                let keys = list
                    .iter()
                    .map(|i| key_credential(i, &existing_keys))
                    .collect::<Result<Vec<_>, _>>()?;
                body.insert(k, Value::Array(keys));
            }
            "displayName" if v.as_str().is_none_or(|s| s.trim().is_empty()) => {
                return Err(bad_property("displayName", ""));
            }
            _ => match (body.get_mut(&k), v) {
                (Some(Value::Object(old)), Value::Object(new)) => {
                    for (nk, nv) in new {
                        old.insert(nk, nv);
                    }
                }
                (_, v) => {
                    body.insert(k, v);
                }
            },
        }
    }
    Ok(())
}

pub fn new_application(
    dir: &Directory,
    input: Map<String, Value>,
    now: i64,
) -> Result<Application, GraphError> {
    if input
        .get("displayName")
        .and_then(Value::as_str)
        .is_none_or(|s| s.trim().is_empty())
    {
        return Err(bad_property("displayName", ""));
    }
    let mut body: Map<String, Value> = serde_json::from_value(json!({
        "id": crate::ids::new_id(),
        "appId": crate::ids::new_id(),
        "createdDateTime": clock::iso(now),
        "deletedDateTime": null,
        "description": null,
        "displayName": "",
        "identifierUris": [],
        "isFallbackPublicClient": null,
        "keyCredentials": [],
        "passwordCredentials": [],
        "publisherDomain": dir.tenant.domain,
        "requiredResourceAccess": [],
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "uniqueName": null,
        "appRoles": [],
        "api": {"acceptMappedClaims": null, "knownClientApplications": [], "oauth2PermissionScopes": [], "preAuthorizedApplications": [], "requestedAccessTokenVersion": null},
        "publicClient": {"redirectUris": []},
        "spa": {"redirectUris": []},
        "web": {"homePageUrl": null, "logoutUrl": null, "redirectUris": [], "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}},
    }))
    .expect("object");
    apply_patch(&mut body, input)?;
    Ok(Application {
        body,
        created: now,
        secrets: Vec::new(),
    })
}

fn secret_text() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut s: String = (0..3)
        .map(|_| CHARS[crate::ids::index(62)] as char)
        .collect();
    s.push_str("8Q~");
    s.extend((0..34).map(|_| CHARS[crate::ids::index(CHARS.len())] as char));
    s
}

/// Adds a generated secret; returns the passwordCredential with its secretText.
pub fn add_password(
    app: &mut Application,
    display_name: Option<&str>,
    start: i64,
    end: i64,
) -> Value {
    let text = secret_text();
    let key_id = crate::ids::new_id();
    let cred = json!({
        "customKeyIdentifier": null,
        "displayName": display_name,
        "endDateTime": clock::iso(end),
        "hint": &text[..3],
        "keyId": key_id,
        "secretText": null,
        "startDateTime": clock::iso(start),
    });
    if let Some(Value::Array(list)) = app.body.get_mut("passwordCredentials") {
        list.push(cred.clone());
    }
    app.secrets.push(Secret {
        key_id,
        text: text.clone(),
    });
    let mut out = cred;
    out["secretText"] = Value::String(text);
    out
}

/// The application's keyCredentials.
fn key_list(body: &Map<String, Value>) -> Vec<Value> {
    body.get("keyCredentials")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// What Graph returns for an application: keys only when `$select`ed.
/// Keeps a new application (POST, or an upsert that found none) and
/// answers 201 with it.
fn created(emu: &Shared, dir: &mut Directory, app: Application, q: &Query) -> GraphResult {
    let id = str_field(&app.body, "id").to_string();
    super::policies::check_new_keys(dir, &id, app.created, &[], &key_list(&app.body))?;
    let mut out = output(&app, q);
    dir.applications.insert(id, app);
    out.insert(
        "@odata.context".into(),
        Value::String(super::context(emu, "applications/$entity")),
    );
    ok(201, Value::Object(out))
}

pub fn output(app: &Application, q: &Query) -> Map<String, Value> {
    let mut body = app.body.clone();
    if !q.selects("keyCredentials")
        && let Some(Value::Array(keys)) = body.get_mut("keyCredentials")
    {
        for k in keys {
            k["key"] = Value::Null;
        }
    }
    body
}

/// Finds an application by object ID or `(appId='…')`, hiding objects younger
/// than the replication delay.
pub fn find(emu: &Shared, dir: &Directory, key: &Key) -> Result<String, GraphError> {
    let replication = lock(&emu.faults).config.replication_ms as i64;
    let now_ms = emu.clock.now_ms();
    let (id, label) = match key {
        Key::Id(id) => (dir.applications.get(id).map(|_| id.clone()), id.clone()),
        Key::AppId(a) => (dir.app_object_id_by_app_id(a), format!("appId={a}")),
        Key::UniqueName(u) => (
            dir.app_object_id_by_unique_name(u),
            format!("uniqueName={u}"),
        ),
    };
    match id {
        Some(id) if dir.applications[&id].created * 1000 + replication <= now_ms => Ok(id),
        _ => Err(GraphError::not_found(&label)),
    }
}

fn verify_proof(app: &Application, proof: &str, now: i64) -> Result<(), GraphError> {
    let fail = |why: &str| {
        GraphError::bad(format!(
            "Proof of possession token validation failed: {why}"
        ))
    };
    let object_id = str_field(&app.body, "id");
    let header = jsonwebtoken::decode_header(proof).map_err(|_| fail("the proof is not a JWT."))?;
    let valid: Vec<_> = registered_keys(app)
        .into_iter()
        .filter(|k| k.start <= now && now < k.end)
        .collect();
    if valid.is_empty() {
        return Err(fail(
            "the application has no currently valid certificate; use PATCH /applications/{id} instead.",
        ));
    }
    for k in valid {
        let (n, e) = certs::rsa_components(&k.info.public_key);
        let Ok(decoding) = DecodingKey::from_rsa_components(&n, &e) else {
            continue;
        };
        let mut v = Validation::new(if header.alg == Algorithm::PS256 {
            Algorithm::PS256
        } else {
            Algorithm::RS256
        });
        v.validate_exp = false;
        v.validate_nbf = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        if let Ok(data) = jsonwebtoken::decode::<Value>(proof, &decoding, &v) {
            let c = data.claims;
            if c.get("aud").and_then(Value::as_str) != Some(PROOF_AUDIENCE) {
                return Err(fail(&format!("aud must be '{PROOF_AUDIENCE}'.")));
            }
            if !c
                .get("iss")
                .and_then(Value::as_str)
                .is_some_and(|i| i.eq_ignore_ascii_case(object_id))
            {
                return Err(fail("iss must be the application's object ID."));
            }
            let exp = c.get("exp").and_then(Value::as_i64).unwrap_or(0);
            let nbf = c.get("nbf").and_then(Value::as_i64).unwrap_or(0);
            if exp <= now || nbf > now + 300 {
                return Err(fail("the proof is expired or not yet valid."));
            }
            return Ok(());
        }
    }
    Err(fail(
        "the signature does not match any currently valid key of the application.",
    ))
}

fn may_roll_own_keys(claims: &AccessClaims, app: &Application) -> bool {
    claims.is_app()
        && claims
            .appid
            .eq_ignore_ascii_case(str_field(&app.body, "appId"))
}

#[allow(clippy::too_many_arguments)]
pub fn route(
    emu: &Shared,
    claims: &AccessClaims,
    m: &str,
    s: &[&str],
    q: &Query,
    body: &Bytes,
    uri: &Uri,
    create_if_missing: bool,
) -> GraphResult {
    let now = emu.clock.now();
    match (m, s) {
        // https://learn.microsoft.com/en-us/graph/api/application-list
        ("GET", []) => {
            authorize(claims, Need::ReadApps)?;
            let dir = lock(&emu.dir);
            let faults = lock(&emu.faults).config.clone();
            let now_ms = emu.clock.now_ms();
            // `key` is returned only for a single object, never in lists;
            // new objects reach lists only after `listlag`.
            let items: Vec<_> = dir
                .applications
                .values()
                .filter(|a| !faults.lags_in_lists(a.created * 1000, now_ms))
                .map(|a| output(a, &Query::default()))
                .collect();
            odata::collection(
                emu,
                uri,
                q,
                "applications",
                items,
                &[
                    "appId",
                    "displayName",
                    "id",
                    "identifierUris",
                    "publisherDomain",
                ],
                100,
            )
        }
        // https://learn.microsoft.com/en-us/graph/api/application-post-applications
        ("POST", []) => {
            authorize(claims, Need::WriteApps)?;
            let input = json_body(body)?;
            let mut dir = lock(&emu.dir);
            let app = new_application(&dir, input, now)?;
            created(emu, &mut dir, app, q)
        }
        // https://learn.microsoft.com/en-us/graph/api/application-get
        ("GET", [key]) => {
            authorize(claims, Need::ReadApps)?;
            let dir = lock(&emu.dir);
            let id = find(emu, &dir, &parse_key(key))?;
            let mut out = odata::project(output(&dir.applications[&id], q), q);
            out.insert(
                "@odata.context".into(),
                Value::String(super::context(emu, "applications/$entity")),
            );
            ok(200, Value::Object(out))
        }
        // https://learn.microsoft.com/en-us/graph/api/application-update
        // https://learn.microsoft.com/en-us/graph/api/application-upsert
        ("PATCH", [key]) => {
            authorize(claims, Need::WriteApps)?;
            let input = json_body(body)?;
            let mut dir = lock(&emu.dir);
            let key = parse_key(key);
            // An upsert is a write: the primary knows every object, however
            // new, so a request sent twice finds what the first one made.
            let id = match &key {
                Key::UniqueName(u) => match dir.app_object_id_by_unique_name(u) {
                    Some(id) => id,
                    None if create_if_missing => {
                        let mut app = new_application(&dir, input, now)?;
                        app.body
                            .insert("uniqueName".into(), Value::String(u.clone()));
                        return created(emu, &mut dir, app, q);
                    }
                    None => return Err(GraphError::not_found(&format!("uniqueName={u}"))),
                },
                other => find(emu, &dir, other)?,
            };
            let app = dir.applications.get_mut(&id).expect("found");
            let mut updated = app.body.clone();
            apply_patch(&mut updated, input)?;
            let (before, created) = (key_list(&app.body), app.created);
            super::policies::check_new_keys(&dir, &id, created, &before, &key_list(&updated))?;
            let app = dir.applications.get_mut(&id).expect("found");
            app.body = updated;
            let app = app.clone();
            super::service_principals::sync_from_app(&mut dir, &app);
            no_content()
        }
        // https://learn.microsoft.com/en-us/graph/api/application-delete
        ("DELETE", [key]) => {
            authorize(claims, Need::WriteApps)?;
            let mut dir = lock(&emu.dir);
            let id = find(emu, &dir, &parse_key(key))?;
            let mut app = dir.applications.remove(&id).expect("found");
            let app_id = str_field(&app.body, "appId").to_string();
            // Kept in deletedItems (restorable for 30 days), as Entra does.
            app.body
                .insert("deletedDateTime".into(), Value::String(clock::iso(now)));
            dir.deleted_applications.insert(id.clone(), app);
            if let Some(sp_id) = dir
                .sp_by_app_id(&app_id)
                .map(|s| str_field(&s.body, "id").to_string())
            {
                super::service_principals::remove(&mut dir, &sp_id);
            }
            no_content()
        }
        // https://learn.microsoft.com/en-us/graph/api/application-addpassword
        ("POST", [key, "addPassword"]) => {
            authorize(claims, Need::WriteApps)?;
            let input = if body.is_empty() {
                Map::new()
            } else {
                json_body(body)?
            };
            let pc = input
                .get("passwordCredential")
                .cloned()
                .unwrap_or(Value::Null);
            let start = pc
                .get("startDateTime")
                .and_then(Value::as_str)
                .and_then(clock::parse_iso)
                .unwrap_or(now);
            let end = pc
                .get("endDateTime")
                .and_then(Value::as_str)
                .and_then(clock::parse_iso)
                .unwrap_or(start + TWO_YEARS);
            if end <= start {
                return Err(GraphError::bad(
                    "Invalid value specified for property 'passwordCredential.endDateTime': it must be after startDateTime.",
                ));
            }
            let mut dir = lock(&emu.dir);
            let id = find(emu, &dir, &parse_key(key))?;
            super::policies::check_password(&dir, &dir.applications[&id], start, end)?;
            let app = dir.applications.get_mut(&id).expect("found");
            let mut out = add_password(
                app,
                pc.get("displayName").and_then(Value::as_str),
                start,
                end,
            );
            out["@odata.context"] =
                Value::String(super::context(emu, "microsoft.graph.passwordCredential"));
            ok(200, out)
        }
        // https://learn.microsoft.com/en-us/graph/api/application-removepassword
        ("POST", [key, "removePassword"]) => {
            authorize(claims, Need::WriteApps)?;
            let input = json_body(body)?;
            let key_id = input
                .get("keyId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let mut dir = lock(&emu.dir);
            let id = find(emu, &dir, &parse_key(key))?;
            let app = dir.applications.get_mut(&id).expect("found");
            let Some(Value::Array(list)) = app.body.get_mut("passwordCredentials") else {
                return Err(GraphError::bad("No password credentials."));
            };
            let before = list.len();
            list.retain(|p| p.get("keyId").and_then(Value::as_str) != Some(key_id.as_str()));
            if list.len() == before {
                return Err(GraphError::bad(format!(
                    "No password credential found with keyId '{key_id}'."
                )));
            }
            app.secrets.retain(|s| s.key_id != key_id);
            no_content()
        }
        // https://learn.microsoft.com/en-us/graph/api/application-addkey
        ("POST", [key, "addKey"]) => {
            let input = json_body(body)?;
            let mut dir = lock(&emu.dir);
            let id = find(emu, &dir, &parse_key(key))?;
            let app = dir.applications.get_mut(&id).expect("found");
            if !may_roll_own_keys(claims, app) {
                authorize(claims, Need::WriteApps)?;
            }
            verify_proof(
                app,
                input.get("proof").and_then(Value::as_str).unwrap_or(""),
                now,
            )?;
            let existing = app
                .body
                .get("keyCredentials")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut kc = input
                .get("keyCredential")
                .cloned()
                .ok_or_else(|| GraphError::bad("keyCredential is required."))?;
            if kc.get("key").is_none() {
                return Err(bad_property("keyCredential.key", " Key value is required."));
            }
            kc.as_object_mut().map(|o| o.remove("keyId"));
            let cred = key_credential(&kc, &existing)?;
            let created = app.created;
            super::policies::check_new_keys(&dir, &id, created, &[], std::slice::from_ref(&cred))?;
            let app = dir.applications.get_mut(&id).expect("found");
            if let Some(Value::Array(list)) = app.body.get_mut("keyCredentials") {
                list.push(cred.clone());
            }
            let mut out = cred;
            out["key"] = Value::Null;
            out["@odata.context"] =
                Value::String(super::context(emu, "microsoft.graph.keyCredential"));
            ok(200, out)
        }
        // https://learn.microsoft.com/en-us/graph/api/application-removekey
        ("POST", [key, "removeKey"]) => {
            let input = json_body(body)?;
            let key_id = input
                .get("keyId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let mut dir = lock(&emu.dir);
            let id = find(emu, &dir, &parse_key(key))?;
            let app = dir.applications.get_mut(&id).expect("found");
            if !may_roll_own_keys(claims, app) {
                authorize(claims, Need::WriteApps)?;
            }
            verify_proof(
                app,
                input.get("proof").and_then(Value::as_str).unwrap_or(""),
                now,
            )?;
            let Some(Value::Array(list)) = app.body.get_mut("keyCredentials") else {
                return Err(GraphError::bad("No key credentials."));
            };
            let before = list.len();
            list.retain(|k| k.get("keyId").and_then(Value::as_str) != Some(key_id.as_str()));
            if list.len() == before {
                return Err(GraphError::bad(format!(
                    "No key credential found with keyId '{key_id}'."
                )));
            }
            no_content()
        }
        _ => Err(GraphError::new(
            405,
            "Request_BadRequest",
            format!("Unsupported request: {m} applications/{}.", s.join("/")),
        )),
    }
}
