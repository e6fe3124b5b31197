//! The control API under `/_emulator`: reset, seed, state snapshot, faults,
//! request log and the clock.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::faults::FaultConfig;
use crate::known::{self, ARM_APP_ID, GRAPH_APP_ID};
use crate::state::str_field;
use crate::{Shared, clock, lock};

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

#[allow(clippy::result_large_err)]
fn body_json(body: &Bytes) -> Result<Value, Response> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON: {e}")))
}

/// `GET /_emulator/seed`: everything tests and scripts need about the tenant.
pub fn describe(emu: &Shared) -> Value {
    let dir = lock(&emu.dir);
    let users: Vec<Value> = dir
        .users
        .iter()
        .map(|u| {
            let azure: Vec<Value> = dir
                .role_assignments
                .iter()
                .filter(|a| a.principal_id == u.id)
                .map(|a| {
                    json!({
                        "subscriptionId": a.scope.trim_start_matches("/subscriptions/"),
                        "roleDefinitionId": a.role_definition_id,
                        "roleName": known::built_in_role(&a.role_definition_id).map(|r| r.name).unwrap_or("custom"),
                    })
                })
                .collect();
            json!({
                "id": u.id,
                "userPrincipalName": u.user_principal_name,
                "displayName": u.display_name,
                "password": u.password,
                "directoryRoles": u.directory_roles.iter().map(|t| json!({"roleTemplateId": t, "displayName": known::directory_role_name(t)})).collect::<Vec<_>>(),
                "azureRoles": azure,
            })
        })
        .collect();
    let sp_id = |app_id: &str| {
        dir.sp_by_app_id(app_id)
            .map(|s| str_field(&s.body, "id").to_string())
    };
    let client_name = dir
        .app_by_app_id(&dir.seed.client_id)
        .map(|a| str_field(&a.body, "displayName").to_string());
    json!({
        "seed": dir.seed.seed,
        "tenant": {"id": dir.tenant.id, "domain": dir.tenant.domain, "displayName": dir.tenant.display_name},
        "urls": {
            "login": emu.login_url(),
            "graph": emu.graph_url(),
            "arm": emu.arm_url(),
            "authority": format!("{}/{}", emu.login_url(), dir.tenant.id),
            "tokenEndpoint": format!("{}/{}/oauth2/v2.0/token", emu.login_url(), dir.tenant.id),
        },
        "password": dir.seed.password,
        "users": users,
        "client": {"appId": dir.seed.client_id, "displayName": client_name, "redirectUris": dir.seed.redirect_uris, "servicePrincipalId": sp_id(&dir.seed.client_id)},
        "subscriptions": dir.subscriptions,
        "serviceApps": dir.seed.service_apps,
        "microsoft": {
            "graphAppId": GRAPH_APP_ID,
            "graphServicePrincipalId": sp_id(GRAPH_APP_ID),
            "armAppId": ARM_APP_ID,
            "armServicePrincipalId": sp_id(ARM_APP_ID),
        },
    })
}

// Emulator-only (no Microsoft counterpart): the control API.
async fn seed_get(State(emu): State<Shared>) -> Response {
    Json(describe(&emu)).into_response()
}

async fn seed_post(State(emu): State<Shared>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let spec = v
        .get("seed")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| lock(&emu.seed_spec).clone());
    match emu.reseed(&spec) {
        Ok(()) => Json(describe(&emu)).into_response(),
        Err(e) => bad(e),
    }
}

async fn reset(State(emu): State<Shared>) -> Response {
    emu.clock.reset();
    let spec = lock(&emu.seed_spec).clone();
    if let Err(e) = emu.reseed(&spec) {
        return bad(e);
    }
    let config = lock(&emu.faults).config.clone();
    lock(&emu.faults).set(config);
    lock(&emu.log).clear();
    Json(describe(&emu)).into_response()
}

async fn state(State(emu): State<Shared>) -> Response {
    Json(serde_json::to_value(&*lock(&emu.dir)).unwrap_or(Value::Null)).into_response()
}

async fn faults_get(State(emu): State<Shared>) -> Response {
    Json(lock(&emu.faults).config.clone()).into_response()
}

async fn faults_post(State(emu): State<Shared>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let current = lock(&emu.faults).config.clone();
    let next = if let Some(spec) = v.get("spec").and_then(Value::as_str) {
        current.apply_spec(spec)
    } else {
        let mut merged = serde_json::to_value(&current).unwrap_or(Value::Null);
        if let (Some(m), Some(new)) = (merged.as_object_mut(), v.as_object()) {
            for (k, val) in new {
                m.insert(k.clone(), val.clone());
            }
        }
        serde_json::from_value::<FaultConfig>(merged).map_err(|e| e.to_string())
    };
    match next {
        Ok(c) => {
            lock(&emu.faults).set(c.clone());
            Json(c).into_response()
        }
        Err(e) => bad(e),
    }
}

async fn requests_get(State(emu): State<Shared>) -> Response {
    Json(json!({ "value": *lock(&emu.log) })).into_response()
}

async fn requests_delete(State(emu): State<Shared>) -> Response {
    lock(&emu.log).clear();
    StatusCode::NO_CONTENT.into_response()
}

fn clock_json(emu: &Shared) -> Value {
    let now = emu.clock.now();
    json!({"now": clock::iso(now), "unix": now})
}

async fn clock_get(State(emu): State<Shared>) -> Response {
    Json(clock_json(&emu)).into_response()
}

async fn clock_post(State(emu): State<Shared>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(n) = v.get("advance_seconds").and_then(Value::as_i64) {
        emu.clock.advance(n);
    } else if let Some(t) = v.get("now").and_then(Value::as_str) {
        match clock::parse_iso(t) {
            Some(ts) => emu.clock.set(ts),
            None => return bad(format!("'{t}' is not an RFC 3339 time")),
        }
    } else {
        return bad("expected {\"advance_seconds\": N} or {\"now\": \"RFC 3339 time\"}");
    }
    Json(clock_json(&emu)).into_response()
}

/// The demo tenant's service accounts as the page's Service accounts page
/// imports them (its connection-record format, version 1): one per seeded
/// service application, certificate or secret, never the secret or key.
pub fn demo_service_accounts(emu: &Shared) -> Value {
    let dir = lock(&emu.dir);
    let now = clock::iso(emu.clock.now());
    let subscription = |id: &Option<String>| {
        id.as_ref().and_then(|id| {
            dir.subscriptions
                .iter()
                .find(|s| &s.subscription_id == id)
                .map(
                    |s| json!({"subscriptionId": s.subscription_id, "displayName": s.display_name}),
                )
        })
    };
    let records: Vec<Value> = dir
        .seed
        .service_apps
        .iter()
        .map(|a| {
            let auth = match (&a.thumbprint, &a.secret_text) {
                (Some(t), _) => json!({
                    "type": "certificate",
                    "thumbprint": t,
                    "subject": a.certificate_subject,
                    "notBefore": a.certificate_start,
                    "notAfter": a.certificate_end,
                }),
                (None, secret) => json!({
                    "type": "clientSecret",
                    "hint": secret.as_deref().map(|s| s.chars().take(3).collect::<String>()).unwrap_or_default(),
                    "end": a.secret_end,
                }),
            };
            let mut record = json!({
                "format": 1,
                "name": a.display_name,
                "cloud": {"cloud": "local", "baseUrl": emu.public_base()},
                "tenantId": dir.tenant.id,
                "appId": a.app_id,
                "applicationObjectId": a.object_id,
                "servicePrincipalId": a.service_principal_id,
                "auth": auth,
                "profile": a.profile,
                "subscription": subscription(&a.subscription_id),
                "objectIds": [],
                "portalAddress": null,
                "saved": now,
            });
            if let Some(k) = &a.key_id {
                record["keyId"] = Value::String(k.clone());
            }
            record
        })
        .collect();
    Value::Array(records)
}

async fn demo_accounts_get(State(emu): State<Shared>) -> Response {
    Json(demo_service_accounts(&emu)).into_response()
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/_emulator/demo/service-accounts", get(demo_accounts_get))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/seed", get(seed_get).post(seed_post))
        .route("/_emulator/state", get(state))
        .route("/_emulator/faults", get(faults_get).post(faults_post))
        .route(
            "/_emulator/requests",
            get(requests_get).delete(requests_delete),
        )
        .route("/_emulator/clock", get(clock_get).post(clock_post))
}
