//! Browser-facing sign-in: `/authorize` (pick a seeded user, consent to the
//! requested scopes, redirect with a code and the state) and the device-code
//! flow. Like Entra's, these endpoints send no CORS headers.
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use rand::Rng;
use rand::distributions::Alphanumeric;
use serde_json::{Value, json};

use super::token::{self, Resource, ScopeRequest, form, parse_scope, unconsented};
use super::{AuthCode, DeviceCode, error_page, resolve_tenant};
use crate::known::{self, USER_CONSENTABLE};
use crate::state::{Directory, str_field};
use crate::{Shared, clock, graph, lock};

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn random_string(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

struct Validated {
    spa: bool,
    req: ScopeRequest,
}

fn registered(dir: &Directory, client_id: &str, kind: &str) -> Vec<String> {
    dir.app_by_app_id(client_id)
        .and_then(|a| a.body.get(kind))
        .and_then(|k| k.get("redirectUris"))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[allow(clippy::result_large_err)]
fn validate(
    emu: &Shared,
    dir: &Directory,
    tenant: &str,
    p: &HashMap<String, String>,
) -> Result<Validated, Response> {
    let t = resolve_tenant(dir, tenant).map_err(|e| error_page(e.code, &e.message))?;
    let client_id = p.get("client_id").cloned().unwrap_or_default();
    let replication = lock(&emu.faults).config.replication_ms;
    if let Err(e) = token::client_app(dir, &client_id, emu.clock.now_ms(), replication) {
        return Err(error_page(e.code, &e.message));
    }
    let redirect = p.get("redirect_uri").cloned().unwrap_or_default();
    let spa = registered(dir, &client_id, "spa").contains(&redirect);
    let other = registered(dir, &client_id, "web").contains(&redirect)
        || registered(dir, &client_id, "publicClient").contains(&redirect);
    if !spa && !other {
        return Err(error_page(
            50011,
            &format!(
                "The redirect URI '{redirect}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."
            ),
        ));
    }
    if p.get("response_type").map(String::as_str) != Some("code") {
        return Err(error_page(
            900144,
            "The request body must contain the following parameter: 'response_type' with the value 'code'.",
        ));
    }
    if spa && p.get("code_challenge").is_none_or(|c| c.is_empty()) {
        return Err(error_page(
            9002325,
            "Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
        ));
    }
    if p.contains_key("code_challenge")
        && p.get("code_challenge_method")
            .map(String::as_str)
            .unwrap_or("plain")
            != "S256"
    {
        return Err(error_page(
            5002738,
            "Invalid code_challenge_method: only 'S256' is supported.",
        ));
    }
    let req = parse_scope(
        p.get("scope")
            .map(String::as_str)
            .unwrap_or("openid profile"),
        &t,
    )
    .map_err(|e| error_page(e.code, &e.message))?;
    Ok(Validated { spa, req })
}

fn hidden_fields(p: &HashMap<String, String>) -> String {
    let mut keys: Vec<_> = p
        .keys()
        .filter(|k| !matches!(k.as_str(), "user" | "consent"))
        .collect();
    keys.sort();
    keys.iter()
        .map(|k| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(&p[*k])
            )
        })
        .collect()
}

fn page(title: &str, body: &str) -> Response {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>body{{font-family:Segoe UI,sans-serif;max-width:28rem;margin:3rem auto}}button{{display:block;width:100%;margin:.4rem 0;padding:.6rem;text-align:left}}</style></head><body><h1>{}</h1>{body}</body></html>",
        escape(title),
        escape(title)
    ))
    .into_response()
}

// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code
pub async fn authorize_get(
    State(emu): State<Shared>,
    Path(tenant): Path<String>,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let dir = lock(&emu.dir);
    if let Err(r) = validate(&emu, &dir, &tenant, &p) {
        return r;
    }
    let users: String = dir
        .users
        .iter()
        .map(|u| {
            format!(
                "<button type=\"submit\" id=\"pick-{}\" name=\"user\" value=\"{}\">{} <small>{}</small></button>",
                escape(u.user_principal_name.split('@').next().unwrap_or("")),
                escape(&u.id),
                escape(&u.display_name),
                escape(&u.user_principal_name)
            )
        })
        .collect();
    page(
        "Pick an account",
        &format!(
            "<p>{}</p><form method=\"post\">{}{users}</form>",
            escape(&dir.tenant.display_name),
            hidden_fields(&p)
        ),
    )
}

fn is_admin(roles: &[String]) -> bool {
    roles.iter().any(|r| {
        [
            known::GLOBAL_ADMINISTRATOR,
            known::PRIVILEGED_ROLE_ADMINISTRATOR,
            known::APPLICATION_ADMINISTRATOR,
            known::CLOUD_APPLICATION_ADMINISTRATOR,
        ]
        .contains(&r.as_str())
    })
}

/// Records consent: an oauth2PermissionGrant (AllPrincipals for an admin,
/// Principal otherwise), creating the client's service principal if needed.
fn consent(
    dir: &mut Directory,
    client_id: &str,
    user_id: &str,
    admin: bool,
    resource: Resource,
    scopes: &[String],
    now: i64,
) {
    let client_sp = graph::service_principals::ensure_for_app(dir, client_id, now);
    let Some(res_sp) = dir
        .sp_by_app_id(resource.app_id())
        .map(|s| str_field(&s.body, "id").to_string())
    else {
        return;
    };
    let consent_type = if admin { "AllPrincipals" } else { "Principal" };
    let existing = dir.oauth2_permission_grants.iter_mut().find(|g| {
        let f = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        f("clientId") == client_sp
            && f("resourceId") == res_sp
            && f("consentType") == consent_type
            && (admin || f("principalId") == user_id)
    });
    match existing {
        Some(g) => {
            let mut have: Vec<String> = g
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_string)
                .collect();
            for s in scopes {
                if !have.iter().any(|h| h.eq_ignore_ascii_case(s)) {
                    have.push(s.clone());
                }
            }
            g["scope"] = Value::String(have.join(" "));
        }
        None => dir.oauth2_permission_grants.push(json!({
            "id": crate::ids::new_id(),
            "clientId": client_sp,
            "consentType": consent_type,
            "principalId": if admin { Value::Null } else { Value::String(user_id.to_string()) },
            "resourceId": res_sp,
            "scope": scopes.join(" "),
        })),
    }
}

// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#successful-response
pub async fn authorize_post(
    State(emu): State<Shared>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let p = form(&body);
    let now = emu.clock.now();
    let mut dir = lock(&emu.dir);
    let v = match validate(&emu, &dir, &tenant, &p) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let client_id = p.get("client_id").cloned().unwrap_or_default();
    let redirect = p.get("redirect_uri").cloned().unwrap_or_default();
    let Some(user) = p.get("user").and_then(|u| dir.user(u)).cloned() else {
        return error_page(50034, "The user account does not exist in the directory.");
    };
    let sep = if p.get("response_mode").map(String::as_str) == Some("fragment") {
        '#'
    } else if redirect.contains('?') {
        '&'
    } else {
        '?'
    };
    let state_param = p
        .get("state")
        .map(|s| {
            format!(
                "&state={}",
                percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .unwrap_or_default();
    let missing = unconsented(&dir, &client_id, &user.id, &v.req);
    if !missing.is_empty() {
        match p.get("consent").map(String::as_str) {
            Some("accept") => {
                let admin = is_admin(&dir.effective_roles(&user));
                let needs_admin = v.req.resource == Resource::Graph
                    && missing
                        .iter()
                        .any(|m| !USER_CONSENTABLE.iter().any(|u| u.eq_ignore_ascii_case(m)));
                if needs_admin && !admin {
                    return error_page(
                        90094,
                        "Admin consent is required for the permissions requested by this application. An admin consent request may be sent to the admin.",
                    );
                }
                consent(
                    &mut dir,
                    &client_id,
                    &user.id,
                    admin,
                    v.req.resource,
                    &missing,
                    now,
                );
            }
            Some(_) => {
                let location = format!(
                    "{redirect}{sep}error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent+to+access+the+app.{state_param}"
                );
                return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
            }
            None => {
                let app_name = dir
                    .app_by_app_id(&client_id)
                    .map(|a| str_field(&a.body, "displayName").to_string())
                    .unwrap_or_default();
                let list: String = missing
                    .iter()
                    .map(|m| {
                        format!(
                            "<li>{}</li>",
                            escape(&token::describe_scope(v.req.resource, m))
                        )
                    })
                    .collect();
                return page(
                    "Permissions requested",
                    &format!(
                        "<p>{} wants to:</p><ul>{list}</ul><form method=\"post\">{}<input type=\"hidden\" name=\"user\" value=\"{}\"><button type=\"submit\" id=\"consent-accept\" name=\"consent\" value=\"accept\">Accept</button><button type=\"submit\" id=\"consent-deny\" name=\"consent\" value=\"deny\">Cancel</button></form>",
                        escape(&app_name),
                        hidden_fields(&p),
                        escape(&user.id)
                    ),
                );
            }
        }
    }
    drop(dir);
    let code = format!("1.{}", random_string(64));
    let mut sessions = lock(&emu.sessions);
    // Forget codes long past their lifetime.
    sessions
        .codes
        .retain(|_, c| now - c.created <= 2 * token::CODE_LIFETIME);
    sessions.codes.insert(
        code.clone(),
        AuthCode {
            client_id,
            redirect_uri: redirect.clone(),
            code_challenge: p.get("code_challenge").cloned(),
            user_id: user.id.clone(),
            scope: p
                .get("scope")
                .cloned()
                .unwrap_or_else(|| "openid profile".into()),
            nonce: p.get("nonce").cloned(),
            created: now,
            redeemed: false,
            spa: v.spa,
        },
    );
    let location = format!(
        "{redirect}{sep}code={}{state_param}&session_state={}",
        percent_encoding::utf8_percent_encode(&code, percent_encoding::NON_ALPHANUMERIC),
        uuid::Uuid::new_v4()
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code#device-authorization-response
pub async fn devicecode(
    State(emu): State<Shared>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let dir = lock(&emu.dir);
    if let Err(e) = resolve_tenant(&dir, &tenant) {
        return e.into_response();
    }
    let client_id = f.get("client_id").cloned().unwrap_or_default();
    if let Err(e) = token::client_app(
        &dir,
        &client_id,
        emu.clock.now_ms(),
        lock(&emu.faults).config.replication_ms,
    ) {
        return e.into_response();
    }
    drop(dir);
    let device_code = random_string(48);
    let user_code = random_string(9).to_ascii_uppercase();
    let uri = format!("{}/device", emu.login_url());
    lock(&emu.sessions).device_codes.insert(
        device_code.clone(),
        DeviceCode {
            user_code: user_code.clone(),
            client_id,
            scope: f
                .get("scope")
                .cloned()
                .unwrap_or_else(|| "openid profile offline_access".into()),
            created: emu.clock.now(),
            approved_user: None,
        },
    );
    Json(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": uri,
        "expires_in": token::DEVICE_CODE_LIFETIME,
        "interval": 5,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
    }))
    .into_response()
}

// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code#authenticating-the-user
pub async fn device_page(State(emu): State<Shared>) -> Response {
    let dir = lock(&emu.dir);
    let users: String = dir
        .users
        .iter()
        .map(|u| {
            format!(
                "<button type=\"submit\" name=\"user\" value=\"{}\">{}</button>",
                escape(&u.id),
                escape(&u.user_principal_name)
            )
        })
        .collect();
    page(
        "Enter code",
        &format!("<form method=\"post\"><input name=\"user_code\" autofocus>{users}</form>"),
    )
}

// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code#authenticating-the-user
pub async fn device_post(State(emu): State<Shared>, body: Bytes) -> Response {
    let f = form(&body);
    let code = f
        .get("user_code")
        .map(|c| c.trim().to_ascii_uppercase())
        .unwrap_or_default();
    let Some(user) = f
        .get("user")
        .and_then(|u| lock(&emu.dir).user(u).map(|u| u.id.clone()))
    else {
        return error_page(50034, "The user account does not exist in the directory.");
    };
    let mut sessions = lock(&emu.sessions);
    let now = emu.clock.now();
    match sessions
        .device_codes
        .values_mut()
        .find(|d| d.user_code == code && now - d.created <= token::DEVICE_CODE_LIFETIME)
    {
        Some(d) => {
            d.approved_user = Some(user);
            page(
                "You have signed in",
                &format!(
                    "<p>Signed in at {}. You may close this window.</p>",
                    clock::iso(now)
                ),
            )
        }
        None => error_page(70000, "The code you entered is not valid or has expired."),
    }
}
