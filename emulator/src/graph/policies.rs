//! App management policies: the tenant's default
//! (`/policies/defaultAppManagementPolicy`), custom policies
//! (`/policies/appManagementPolicies`) assigned to one application
//! (`/applications/{id}/appManagementPolicies/$ref`), and their enforcement
//! when an application gets a secret or a certificate.
//!
//! An application with an assigned, enabled policy follows that policy
//! instead of the tenant's default ("the application adopts this policy over
//! the tenant-wide tenantAppManagementPolicy setting"); otherwise the
//! default's `applicationRestrictions` apply when it is enabled. A restriction
//! applies to applications created on or after its
//! `restrictForAppsCreatedAfterDateTime` (all of them when that is null) and
//! unless its `state` is `disabled`.
// https://learn.microsoft.com/en-us/graph/api/resources/tenantappmanagementpolicy
// https://learn.microsoft.com/en-us/graph/api/resources/appmanagementpolicy
// https://learn.microsoft.com/en-us/graph/api/resources/passwordcredentialconfiguration
// https://learn.microsoft.com/en-us/graph/api/resources/keycredentialconfiguration
// https://learn.microsoft.com/en-us/graph/api/appmanagementpolicy-post-appliesto
// Error codes as Microsoft's own TeamsFx client matches them
// (CredentialTypeNotAllowedAsPerAppPolicy, CredentialInvalidLifetimeAsPerAppPolicy);
// messages as Graph prints them ("Credential type not allowed as per assigned
// policy '{id}'.", "Credential lifetime exceeds the max value allowed as per
// assigned policy '{id}'.").

use axum::body::Bytes;
use axum::http::Uri;
use serde_json::{Map, Value, json};

use super::odata::{self, Query};
use super::{GraphError, GraphResult, Need, authorize, json_body, no_content, ok, parse_key};
use crate::state::{Application, Directory, str_field};
use crate::tokens::AccessClaims;
use crate::{Shared, clock, lock};

/// The tenant default policy's ID, as Graph returns it.
pub const DEFAULT_POLICY_ID: &str = "00000000-0000-0000-0000-000000000000";

const PASSWORD_TYPES: &[&str] = &[
    "passwordAddition",
    "passwordLifetime",
    "symmetricKeyAddition",
    "symmetricKeyLifetime",
    "customPasswordAddition",
];
const KEY_TYPES: &[&str] = &["asymmetricKeyLifetime", "trustedCertificateAuthority"];

/// An ISO 8601 duration (`P90D`, `P1Y`, `PT12H`, `P4DT12H30M5S`, `P2W`) in
/// seconds; a year counts 365 days and a month 30.
pub fn parse_duration(text: &str) -> Option<i64> {
    let rest = text.trim().strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    fn fields(part: &str, units: &[(char, i64)]) -> Option<i64> {
        let mut total = 0i64;
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let pos = units[next_unit..].iter().position(|(u, _)| *u == c)? + next_unit;
            let value: f64 = number.parse().ok()?;
            total = total.checked_add((value * units[pos].1 as f64).round() as i64)?;
            number.clear();
            next_unit = pos + 1;
        }
        number.is_empty().then_some(total)
    }
    let day = 86_400;
    let mut total = fields(
        date,
        &[
            ('Y', 365 * day),
            ('M', 30 * day),
            ('W', 7 * day),
            ('D', day),
        ],
    )?;
    if let Some(t) = time {
        total += fields(t, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    Some(total)
}

/// What Graph returns for the tenant's default policy.
pub fn default_policy(dir: &Directory) -> Map<String, Value> {
    let mut body: Map<String, Value> = serde_json::from_value(json!({
        "id": DEFAULT_POLICY_ID,
        "displayName": "Default app management tenant policy",
        "description": "Default app management tenant policy",
        "isEnabled": false,
        "applicationRestrictions": {"passwordCredentials": [], "keyCredentials": []},
        "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []},
    }))
    .expect("object");
    if let Some(patch) = &dir.default_app_management_policy {
        for (k, v) in patch {
            body.insert(k.clone(), v.clone());
        }
    }
    body
}

/// Checks the restrictions of a `PATCH`ed or created policy body.
fn check_restrictions(restrictions: Option<&Value>, what: &str) -> Result<(), GraphError> {
    let Some(r) = restrictions.filter(|r| !r.is_null()) else {
        return Ok(());
    };
    let invalid = |detail: String| {
        GraphError::bad(format!(
            "Invalid value specified for property '{what}' of resource 'AppManagementPolicy'. {detail}"
        ))
    };
    for (list, allowed) in [
        ("passwordCredentials", PASSWORD_TYPES),
        ("keyCredentials", KEY_TYPES),
    ] {
        let Some(items) = r.get(list).filter(|v| !v.is_null()) else {
            continue;
        };
        let items = items
            .as_array()
            .ok_or_else(|| invalid(format!("'{list}' must be a collection.")))?;
        let mut seen = Vec::new();
        for item in items {
            let ty = item
                .get("restrictionType")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !allowed.contains(&ty) {
                return Err(invalid(format!("'{ty}' is not a {list} restriction type.")));
            }
            if seen.contains(&ty) {
                return Err(invalid(format!("'{ty}' can be used only once per policy.")));
            }
            seen.push(ty);
            let max = item.get("maxLifetime").and_then(Value::as_str);
            if ty.ends_with("Lifetime") && max.and_then(parse_duration).is_none() {
                return Err(invalid(format!(
                    "'{ty}' needs maxLifetime as an ISO 8601 duration (for example P90D)."
                )));
            }
            if let Some(d) = item
                .get("restrictForAppsCreatedAfterDateTime")
                .and_then(Value::as_str)
                && clock::parse_iso(d).is_none()
            {
                return Err(invalid(format!("'{d}' is not a date and time.")));
            }
        }
    }
    Ok(())
}

/// The policy deciding for `app`: its ID and its restrictions (an object
/// with `passwordCredentials` and `keyCredentials`), or `None` when none is
/// enforced.
fn deciding(dir: &Directory, app_object_id: &str) -> Option<(String, Value)> {
    let enabled =
        |b: &Map<String, Value>| b.get("isEnabled").and_then(Value::as_bool) != Some(false);
    if let Some(policy) = dir
        .app_policy_assignments
        .get(app_object_id)
        .and_then(|id| dir.app_management_policies.get(id))
        .filter(|p| enabled(p))
    {
        return Some((
            str_field(policy, "id").to_string(),
            policy.get("restrictions").cloned().unwrap_or(Value::Null),
        ));
    }
    let default = default_policy(dir);
    (default.get("isEnabled").and_then(Value::as_bool) == Some(true)).then(|| {
        (
            DEFAULT_POLICY_ID.to_string(),
            default
                .get("applicationRestrictions")
                .cloned()
                .unwrap_or(Value::Null),
        )
    })
}

/// The enabled restriction of `ty` in `list` that applies to an application
/// created at `created`.
fn restriction<'a>(
    restrictions: &'a Value,
    list: &str,
    ty: &str,
    created: i64,
) -> Option<&'a Value> {
    restrictions.get(list)?.as_array()?.iter().find(|r| {
        r.get("restrictionType").and_then(Value::as_str) == Some(ty)
            && r.get("state").and_then(Value::as_str) != Some("disabled")
            && r.get("restrictForAppsCreatedAfterDateTime")
                .and_then(Value::as_str)
                .and_then(clock::parse_iso)
                .is_none_or(|after| created >= after)
    })
}

fn not_allowed(policy: &str) -> GraphError {
    GraphError::new(
        400,
        "CredentialTypeNotAllowedAsPerAppPolicy",
        format!("Credential type not allowed as per assigned policy '{policy}'."),
    )
}

fn too_long(policy: &str) -> GraphError {
    GraphError::new(
        400,
        "CredentialInvalidLifetimeAsPerAppPolicy",
        format!(
            "Credential lifetime exceeds the max value allowed as per assigned policy '{policy}'."
        ),
    )
}

fn max_lifetime(r: &Value) -> Option<i64> {
    r.get("maxLifetime")
        .and_then(Value::as_str)
        .and_then(parse_duration)
}

/// `addPassword` on `app` for a secret valid from `start` to `end`.
pub fn check_password(
    dir: &Directory,
    app: &Application,
    start: i64,
    end: i64,
) -> Result<(), GraphError> {
    let Some((policy, r)) = deciding(dir, str_field(&app.body, "id")) else {
        return Ok(());
    };
    if restriction(&r, "passwordCredentials", "passwordAddition", app.created).is_some() {
        return Err(not_allowed(&policy));
    }
    if let Some(max) = restriction(&r, "passwordCredentials", "passwordLifetime", app.created)
        .and_then(max_lifetime)
        && end - start > max
    {
        return Err(too_long(&policy));
    }
    Ok(())
}

/// The certificates `after` holds that `before` did not (by keyId), checked
/// against `asymmetricKeyLifetime`, for an application with this object ID
/// and creation time.
pub fn check_new_keys(
    dir: &Directory,
    object_id: &str,
    created: i64,
    before: &[Value],
    after: &[Value],
) -> Result<(), GraphError> {
    let Some((policy, r)) = deciding(dir, object_id) else {
        return Ok(());
    };
    let Some(max) =
        restriction(&r, "keyCredentials", "asymmetricKeyLifetime", created).and_then(max_lifetime)
    else {
        return Ok(());
    };
    let key_id = |k: &Value| k.get("keyId").and_then(Value::as_str).map(str::to_string);
    let date = |k: &Value, p: &str| k.get(p).and_then(Value::as_str).and_then(clock::parse_iso);
    for k in after
        .iter()
        .filter(|k| before.iter().all(|b| key_id(b) != key_id(k)))
    {
        if let (Some(s), Some(e)) = (date(k, "startDateTime"), date(k, "endDateTime"))
            && e - s > max
        {
            return Err(too_long(&policy));
        }
    }
    Ok(())
}

fn with_context(emu: &Shared, mut body: Map<String, Value>, what: &str) -> Value {
    body.insert(
        "@odata.context".into(),
        Value::String(super::context(emu, what)),
    );
    Value::Object(body)
}

fn policy_not_found(id: &str) -> GraphError {
    GraphError::not_found(id)
}

/// `/policies/...`
pub fn route(
    emu: &Shared,
    claims: &AccessClaims,
    m: &str,
    s: &[&str],
    q: &Query,
    body: &Bytes,
    uri: &Uri,
) -> GraphResult {
    match (m, s) {
        // https://learn.microsoft.com/en-us/graph/api/tenantappmanagementpolicy-get
        ("GET", ["defaultAppManagementPolicy"]) => {
            authorize(claims, Need::ReadPolicies)?;
            let dir = lock(&emu.dir);
            let out = odata::project(default_policy(&dir), q);
            ok(
                200,
                with_context(emu, out, "policies/defaultAppManagementPolicy/$entity"),
            )
        }
        // https://learn.microsoft.com/en-us/graph/api/tenantappmanagementpolicy-update
        ("PATCH", ["defaultAppManagementPolicy"]) => {
            authorize(claims, Need::WriteTenantPolicy)?;
            let input = json_body(body)?;
            for part in ["applicationRestrictions", "servicePrincipalRestrictions"] {
                check_restrictions(input.get(part), part)?;
            }
            let mut dir = lock(&emu.dir);
            let mut patch = dir
                .default_app_management_policy
                .clone()
                .unwrap_or_default();
            for (k, v) in input {
                if k != "id" {
                    patch.insert(k, v);
                }
            }
            dir.default_app_management_policy = Some(patch);
            no_content()
        }
        // https://learn.microsoft.com/en-us/graph/api/appmanagementpolicy-list
        ("GET", ["appManagementPolicies"]) => {
            authorize(claims, Need::ReadPolicies)?;
            let dir = lock(&emu.dir);
            let items = dir.app_management_policies.values().cloned().collect();
            odata::collection(
                emu,
                uri,
                q,
                "policies/appManagementPolicies",
                items,
                &["id", "displayName"],
                100,
            )
        }
        // https://learn.microsoft.com/en-us/graph/api/appmanagementpolicy-post
        ("POST", ["appManagementPolicies"]) => {
            authorize(claims, Need::WriteAppPolicies)?;
            let input = json_body(body)?;
            for required in ["displayName", "description"] {
                if input
                    .get(required)
                    .and_then(Value::as_str)
                    .is_none_or(|s| s.trim().is_empty())
                {
                    return Err(GraphError::bad(format!(
                        "Invalid value specified for property '{required}' of resource 'AppManagementPolicy'."
                    )));
                }
            }
            check_restrictions(input.get("restrictions"), "restrictions")?;
            let id = crate::ids::new_id();
            let mut policy: Map<String, Value> = serde_json::from_value(json!({
                "id": id,
                "isEnabled": true,
                "restrictions": {"passwordCredentials": [], "keyCredentials": []},
            }))
            .expect("object");
            for (k, v) in input {
                if k != "id" {
                    policy.insert(k, v);
                }
            }
            lock(&emu.dir)
                .app_management_policies
                .insert(id, policy.clone());
            ok(
                201,
                with_context(emu, policy, "policies/appManagementPolicies/$entity"),
            )
        }
        // https://learn.microsoft.com/en-us/graph/api/appmanagementpolicy-get
        ("GET", ["appManagementPolicies", id]) => {
            authorize(claims, Need::ReadPolicies)?;
            let dir = lock(&emu.dir);
            let policy = dir
                .app_management_policies
                .get(*id)
                .ok_or_else(|| policy_not_found(id))?;
            let out = odata::project(policy.clone(), q);
            ok(
                200,
                with_context(emu, out, "policies/appManagementPolicies/$entity"),
            )
        }
        // https://learn.microsoft.com/en-us/graph/api/appmanagementpolicy-update
        ("PATCH", ["appManagementPolicies", id]) => {
            authorize(claims, Need::WriteAppPolicies)?;
            let input = json_body(body)?;
            check_restrictions(input.get("restrictions"), "restrictions")?;
            let mut dir = lock(&emu.dir);
            let policy = dir
                .app_management_policies
                .get_mut(*id)
                .ok_or_else(|| policy_not_found(id))?;
            for (k, v) in input {
                if k != "id" {
                    policy.insert(k, v);
                }
            }
            no_content()
        }
        // https://learn.microsoft.com/en-us/graph/api/appmanagementpolicy-delete
        ("DELETE", ["appManagementPolicies", id]) => {
            authorize(claims, Need::WriteAppPolicies)?;
            let mut dir = lock(&emu.dir);
            dir.app_management_policies
                .remove(*id)
                .ok_or_else(|| policy_not_found(id))?;
            dir.app_policy_assignments.retain(|_, p| p != id);
            no_content()
        }
        // https://learn.microsoft.com/en-us/graph/api/appmanagementpolicy-list-appliesto
        ("GET", ["appManagementPolicies", id, "appliesTo"]) => {
            authorize(claims, Need::ReadPolicies)?;
            authorize(claims, Need::ReadApps)?;
            let dir = lock(&emu.dir);
            if !dir.app_management_policies.contains_key(*id) {
                return Err(policy_not_found(id));
            }
            let items = dir
                .app_policy_assignments
                .iter()
                .filter(|(_, p)| p == id)
                .filter_map(|(app, _)| dir.applications.get(app))
                .map(|a| {
                    let mut o = super::applications::output(a, &Query::default());
                    o.insert("@odata.type".into(), "#microsoft.graph.application".into());
                    o
                })
                .collect();
            odata::collection(
                emu,
                uri,
                q,
                "directoryObjects",
                items,
                &["id", "appId", "displayName"],
                100,
            )
        }
        _ => Err(GraphError::new(
            400,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                s.first().copied().unwrap_or("policies")
            ),
        )),
    }
}

/// `/applications/{key}/appManagementPolicies...`
#[allow(clippy::too_many_arguments)]
pub fn route_application(
    emu: &Shared,
    claims: &AccessClaims,
    m: &str,
    key: &str,
    rest: &[&str],
    q: &Query,
    body: &Bytes,
    uri: &Uri,
) -> GraphResult {
    match (m, rest) {
        // https://learn.microsoft.com/en-us/graph/api/application-list-appmanagementpolicies
        ("GET", []) => {
            authorize(claims, Need::ReadApps)?;
            authorize(claims, Need::ReadPolicies)?;
            let dir = lock(&emu.dir);
            let id = super::applications::find(emu, &dir, &parse_key(key))?;
            let items = dir
                .app_policy_assignments
                .get(&id)
                .and_then(|p| dir.app_management_policies.get(p))
                .cloned()
                .into_iter()
                .collect();
            odata::collection(
                emu,
                uri,
                q,
                "policies/appManagementPolicies",
                items,
                &["id", "displayName"],
                100,
            )
        }
        // https://learn.microsoft.com/en-us/graph/api/appmanagementpolicy-post-appliesto
        ("POST", ["$ref"]) => {
            authorize(claims, Need::WriteApps)?;
            authorize(claims, Need::WriteAppPolicies)?;
            let input = json_body(body)?;
            let reference = input.get("@odata.id").and_then(Value::as_str).unwrap_or("");
            let policy_id = reference
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("");
            let mut dir = lock(&emu.dir);
            let id = super::applications::find(emu, &dir, &parse_key(key))?;
            if policy_id.is_empty() || !dir.app_management_policies.contains_key(policy_id) {
                return Err(GraphError::not_found(policy_id));
            }
            // One policy per application.
            if dir.app_policy_assignments.contains_key(&id) {
                return Err(GraphError::bad(
                    "One or more added object references already exist for the following modified properties: 'appManagementPolicies'.",
                ));
            }
            dir.app_policy_assignments.insert(id, policy_id.to_string());
            no_content()
        }
        // https://learn.microsoft.com/en-us/graph/api/appmanagementpolicy-delete-appliesto
        ("DELETE", [policy_id, "$ref"]) => {
            authorize(claims, Need::WriteApps)?;
            authorize(claims, Need::WriteAppPolicies)?;
            let mut dir = lock(&emu.dir);
            let id = super::applications::find(emu, &dir, &parse_key(key))?;
            if dir.app_policy_assignments.get(&id).map(String::as_str) != Some(*policy_id) {
                return Err(GraphError::not_found(policy_id));
            }
            dir.app_policy_assignments.remove(&id);
            no_content()
        }
        _ => Err(GraphError::new(
            405,
            "Request_BadRequest",
            format!(
                "Unsupported request: {m} applications/{key}/appManagementPolicies/{}.",
                rest.join("/")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_8601_durations() {
        let day = 86_400;
        assert_eq!(parse_duration("P90D"), Some(90 * day));
        assert_eq!(parse_duration("P1Y"), Some(365 * day));
        assert_eq!(parse_duration("P2W"), Some(14 * day));
        assert_eq!(parse_duration("PT12H"), Some(12 * 3600));
        assert_eq!(
            parse_duration("P4DT12H30M5S"),
            Some(4 * day + 12 * 3600 + 30 * 60 + 5)
        );
        assert_eq!(parse_duration("P1M"), Some(30 * day));
        for bad in ["", "P", "90D", "PT", "P1H", "PD", "P1D2"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
