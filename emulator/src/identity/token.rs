//! `POST /login/{tenant}/oauth2/v2.0/token`: authorization_code (PKCE S256),
//! refresh_token, password (ROPC), client_credentials and device_code grants.
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::client_auth::{self, has_credential, refuse_cross_origin};
use super::{TokenError, issuer_v1, issuer_v2, resolve_tenant};
use crate::known::{self, ARM_APP_ID, ARM_RESOURCE, GRAPH_APP_ID, GRAPH_RESOURCE, OIDC_SCOPES};
use crate::state::{Application, Directory, Tenant, User, str_field};
use crate::tokens::{AccessClaims, RefreshClaims};
use crate::{Shared, lock};

pub const ACCESS_TOKEN_LIFETIME: i64 = 3600;
pub const SPA_REFRESH_LIFETIME: i64 = 24 * 3600;
pub const REFRESH_LIFETIME: i64 = 90 * 24 * 3600;
pub const CODE_LIFETIME: i64 = 600;
pub const DEVICE_CODE_LIFETIME: i64 = 900;
/// Every user's default directory role, present in `wids`.
const DEFAULT_USER_ROLE: &str = "b79fbf4d-3ef9-4689-8143-76b194e85509";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resource {
    Graph,
    Arm,
}

impl Resource {
    pub fn app_id(self) -> &'static str {
        match self {
            Resource::Graph => GRAPH_APP_ID,
            Resource::Arm => ARM_APP_ID,
        }
    }
    pub fn audience(self) -> &'static str {
        match self {
            Resource::Graph => GRAPH_RESOURCE,
            Resource::Arm => ARM_RESOURCE,
        }
    }
    fn from_identifier(id: &str) -> Option<Resource> {
        let id = id.trim_end_matches('/').to_ascii_lowercase();
        match id.as_str() {
            "https://graph.microsoft.com" | GRAPH_APP_ID => Some(Resource::Graph),
            "https://management.azure.com" | "https://management.core.windows.net" | ARM_APP_ID => {
                Some(Resource::Arm)
            }
            _ => None,
        }
    }
}

/// A parsed `scope` parameter: one resource, its permissions, and OIDC scopes.
#[derive(Debug, Clone)]
pub struct ScopeRequest {
    pub resource: Resource,
    pub permissions: Vec<String>,
    pub default: bool,
    pub oidc: Vec<String>,
}

pub fn parse_scope(scope: &str, tenant: &Tenant) -> Result<ScopeRequest, TokenError> {
    let mut resource: Option<Resource> = None;
    let mut permissions = Vec::new();
    let mut default = false;
    let mut oidc = Vec::new();
    for s in scope.split_whitespace() {
        if OIDC_SCOPES.iter().any(|o| o.eq_ignore_ascii_case(s)) {
            oidc.push(s.to_ascii_lowercase());
            continue;
        }
        let (res, perm) = match s.rfind('/') {
            Some(i) if s.contains("://") || s[..i].len() == 36 => {
                let r = Resource::from_identifier(&s[..i]).ok_or_else(|| {
                    TokenError::new(
                        400,
                        "invalid_resource",
                        500011,
                        format!(
                            "The resource principal named {} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                            &s[..i],
                            tenant.display_name
                        ),
                    )
                })?;
                (r, s[i + 1..].to_string())
            }
            _ => (Resource::Graph, s.to_string()),
        };
        if resource.is_some_and(|r| r != res) {
            return Err(TokenError::new(
                400,
                "invalid_scope",
                28000,
                format!(
                    "Provided value for the input parameter scope '{scope}' is not valid because it contains more than one resource. Scope {scope} is not valid."
                ),
            ));
        }
        resource = Some(res);
        if perm == ".default" {
            default = true;
        } else if !perm.is_empty() {
            permissions.push(perm);
        }
    }
    Ok(ScopeRequest {
        resource: resource.unwrap_or(Resource::Graph),
        permissions,
        default,
        oidc,
    })
}

pub fn form(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn missing(param: &str) -> TokenError {
    TokenError::new(
        400,
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{param}'."),
    )
}

fn unknown_app(client_id: &str, tenant: &Tenant) -> TokenError {
    TokenError::new(
        400,
        "unauthorized_client",
        700016,
        format!(
            "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
            tenant.display_name
        ),
    )
}

/// The client application, honouring the replication delay.
pub fn client_app<'a>(
    dir: &'a Directory,
    client_id: &str,
    now_ms: i64,
    replication_ms: u64,
) -> Result<&'a Application, TokenError> {
    match dir.app_by_app_id(client_id) {
        Some(app) if app.created * 1000 + replication_ms as i64 <= now_ms => Ok(app),
        _ => Err(unknown_app(client_id, &dir.tenant)),
    }
}

/// Scopes consented for `client_id` on `resource` for this user (or all users).
pub fn consented_scopes(
    dir: &Directory,
    client_id: &str,
    user_id: &str,
    resource: Resource,
) -> Vec<String> {
    let (Some(client), Some(res)) = (
        dir.sp_by_app_id(client_id),
        dir.sp_by_app_id(resource.app_id()),
    ) else {
        return Vec::new();
    };
    let client_sp = str_field(&client.body, "id");
    let res_sp = str_field(&res.body, "id");
    let mut scopes: Vec<String> = Vec::new();
    for g in &dir.oauth2_permission_grants {
        let field = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("");
        let applies = field("consentType") == "AllPrincipals"
            || field("principalId").eq_ignore_ascii_case(user_id);
        if field("clientId") == client_sp && field("resourceId") == res_sp && applies {
            for s in field("scope").split_whitespace() {
                if !scopes.iter().any(|have| have.eq_ignore_ascii_case(s)) {
                    scopes.push(s.to_string());
                }
            }
        }
    }
    scopes
}

/// AADSTS70011 for a permission the resource does not expose.
pub fn check_known_scopes(dir: &Directory, req: &ScopeRequest) -> Result<(), TokenError> {
    let known: Vec<String> = dir
        .sp_by_app_id(req.resource.app_id())
        .and_then(|sp| sp.body.get("oauth2PermissionScopes"))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|s| s.get("value").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    for p in &req.permissions {
        if !known.iter().any(|k| k.eq_ignore_ascii_case(p)) {
            return Err(TokenError::new(
                400,
                "invalid_scope",
                70011,
                format!(
                    "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {p} is not valid."
                ),
            ));
        }
    }
    Ok(())
}

/// Requested permissions that are not consented yet.
pub fn unconsented(
    dir: &Directory,
    client_id: &str,
    user_id: &str,
    req: &ScopeRequest,
) -> Vec<String> {
    let have = consented_scopes(dir, client_id, user_id, req.resource);
    let mut want = req.permissions.clone();
    if req.default && have.is_empty() && req.resource == Resource::Arm {
        want.push("user_impersonation".into());
    }
    want.into_iter()
        .filter(|w| !have.iter().any(|h| h.eq_ignore_ascii_case(w)))
        .collect()
}

fn no_consent(app: &Application) -> TokenError {
    TokenError::new(
        400,
        "invalid_grant",
        65001,
        format!(
            "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.",
            str_field(&app.body, "appId"),
            str_field(&app.body, "displayName")
        ),
    )
}

pub struct Delegated<'a> {
    pub user: &'a User,
    pub app: &'a Application,
    pub req: &'a ScopeRequest,
    pub spa: bool,
    pub nonce: Option<String>,
    /// Keep the original expiry of a SPA refresh token.
    pub refresh_exp: Option<i64>,
}

/// Issues a delegated token response, or AADSTS65001 when consent is missing.
pub fn issue_delegated(
    emu: &Shared,
    dir: &Directory,
    d: Delegated<'_>,
) -> Result<Value, TokenError> {
    let now = emu.clock.now();
    let client_id = str_field(&d.app.body, "appId").to_string();
    check_known_scopes(dir, d.req)?;
    if !unconsented(dir, &client_id, &d.user.id, d.req).is_empty() {
        return Err(no_consent(d.app));
    }
    let scopes = consented_scopes(dir, &client_id, &d.user.id, d.req.resource);
    if scopes.is_empty() && (d.req.default || !d.req.permissions.is_empty()) {
        return Err(no_consent(d.app));
    }
    let tenant = &dir.tenant;
    // Roles held through role-assignable groups count like direct ones.
    let mut wids = dir.effective_roles(d.user);
    wids.push(DEFAULT_USER_ROLE.to_string());
    let claims = AccessClaims {
        aud: d.req.resource.audience().to_string(),
        iss: issuer_v1(&tenant.id),
        iat: now,
        nbf: now,
        exp: now + ACCESS_TOKEN_LIFETIME,
        tid: tenant.id.clone(),
        oid: d.user.id.clone(),
        sub: d.user.id.clone(),
        appid: client_id.clone(),
        idtyp: "user".into(),
        ver: "1.0".into(),
        uti: uuid::Uuid::new_v4().simple().to_string(),
        upn: Some(d.user.user_principal_name.clone()),
        name: Some(d.user.display_name.clone()),
        scp: Some(scopes.join(" ")),
        roles: Vec::new(),
        wids,
    };
    let mut scope_out: Vec<String> = match d.req.resource {
        Resource::Graph => scopes.clone(),
        Resource::Arm => scopes
            .iter()
            .map(|s| format!("{ARM_RESOURCE}/{s}"))
            .collect(),
    };
    scope_out.extend(
        d.req
            .oidc
            .iter()
            .filter(|o| *o != "offline_access")
            .cloned(),
    );
    let mut out = json!({
        "token_type": "Bearer",
        "scope": scope_out.join(" "),
        "expires_in": ACCESS_TOKEN_LIFETIME,
        "ext_expires_in": ACCESS_TOKEN_LIFETIME,
        "access_token": emu.keys.sign(&claims),
    });
    if d.req.oidc.iter().any(|o| o == "offline_access") {
        let lifetime = if d.spa {
            SPA_REFRESH_LIFETIME
        } else {
            REFRESH_LIFETIME
        };
        let rt = RefreshClaims {
            typ: "refresh".into(),
            tid: tenant.id.clone(),
            oid: d.user.id.clone(),
            client_id: client_id.clone(),
            spa: d.spa,
            iat: now,
            exp: d.refresh_exp.unwrap_or(now + lifetime),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        out["refresh_token"] = Value::String(emu.keys.sign(&rt));
        if d.spa {
            out["refresh_token_expires_in"] = json!(rt.exp - now);
        }
    }
    if d.req.oidc.iter().any(|o| o == "openid") {
        let mut id = json!({
            "aud": client_id,
            "iss": issuer_v2(emu, &tenant.id),
            "iat": now, "nbf": now, "exp": now + ACCESS_TOKEN_LIFETIME,
            "name": d.user.display_name,
            "oid": d.user.id,
            "preferred_username": d.user.user_principal_name,
            "sub": d.user.id,
            "tid": tenant.id,
            "ver": "2.0",
        });
        if let Some(n) = &d.nonce {
            id["nonce"] = Value::String(n.clone());
        }
        out["id_token"] = Value::String(emu.keys.sign(&id));
    }
    Ok(out)
}

fn accepted_audiences(emu: &Shared, tenant: &Tenant, path_tenant: &str) -> Vec<String> {
    let mut out = Vec::new();
    for host in [
        emu.login_url(),
        "https://login.microsoftonline.com".to_string(),
    ] {
        for t in [tenant.id.as_str(), tenant.domain.as_str(), path_tenant] {
            out.push(format!("{host}/{t}/oauth2/v2.0/token"));
            out.push(format!("{host}/{t}/oauth2/token"));
            out.push(format!("{host}/{t}/v2.0"));
        }
    }
    out
}

// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-access-token-with-a-client_secret
pub async fn token(
    State(emu): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut f = form(&body);
    // client_secret_basic: `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
    if let Some(basic) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = base64ct::Base64::decode_vec(basic.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            f.entry("client_id".into()).or_insert_with(|| dec(id));
            f.entry("client_secret".into())
                .or_insert_with(|| dec(secret));
        }
    }
    match grant(&emu, &tenant, &headers, &f) {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn grant(
    emu: &Shared,
    path_tenant: &str,
    headers: &HeaderMap,
    f: &HashMap<String, String>,
) -> Result<Value, TokenError> {
    let origin = headers.get("origin").and_then(|v| v.to_str().ok());
    let now = emu.clock.now();
    let now_ms = emu.clock.now_ms();
    let replication = lock(&emu.faults).config.replication_ms;
    let grant_type = f
        .get("grant_type")
        .ok_or_else(|| missing("grant_type"))?
        .clone();
    let client_id = f.get("client_id").cloned().unwrap_or_default();
    let scope = f.get("scope").cloned();

    // Authorization codes and device codes live outside the directory lock.
    let code = if grant_type == "authorization_code" {
        let code_value = f.get("code").ok_or_else(|| missing("code"))?;
        let mut sessions = lock(&emu.sessions);
        let Some(code) = sessions.codes.get_mut(code_value) else {
            return Err(TokenError::new(
                400,
                "invalid_grant",
                70000,
                "The provided value for the 'code' parameter is not valid.",
            ));
        };
        if code.redeemed {
            return Err(TokenError::new(
                400,
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        Some(code.clone())
    } else {
        None
    };

    let dir = lock(&emu.dir);
    let tenant = resolve_tenant(&dir, path_tenant)?;
    if client_id.is_empty() && !f.contains_key("client_assertion") {
        return Err(missing("client_id"));
    }
    let app = client_app(&dir, &client_id, now_ms, replication)?;
    let audiences = accepted_audiences(emu, &tenant, path_tenant);
    let public = app
        .body
        .get("isFallbackPublicClient")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    match grant_type.as_str() {
        "client_credentials" => {
            refuse_cross_origin(origin)?;
            let scope = scope.ok_or_else(|| missing("scope"))?;
            let req = parse_scope(&scope, &tenant)?;
            if !req.default || !req.permissions.is_empty() || scope.split_whitespace().count() != 1
            {
                return Err(TokenError::new(
                    400,
                    "invalid_scope",
                    1002012,
                    format!(
                        "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                    ),
                ));
            }
            client_auth::authenticate(app, f, now, &audiences)?;
            let Some(sp) = dir.sp_by_app_id(&client_id) else {
                return Err(TokenError::new(
                    400,
                    "invalid_client",
                    7000229,
                    format!(
                        "The client application {client_id} is missing service principal in the tenant {}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119",
                        tenant.id
                    ),
                ));
            };
            let sp_id = str_field(&sp.body, "id").to_string();
            let roles = app_roles_of(&dir, &sp_id, req.resource);
            let claims = AccessClaims {
                aud: req.resource.audience().to_string(),
                iss: issuer_v1(&tenant.id),
                iat: now,
                nbf: now,
                exp: now + ACCESS_TOKEN_LIFETIME,
                tid: tenant.id.clone(),
                oid: sp_id.clone(),
                sub: sp_id,
                appid: client_id.clone(),
                idtyp: "app".into(),
                ver: "1.0".into(),
                uti: uuid::Uuid::new_v4().simple().to_string(),
                upn: None,
                name: None,
                scp: None,
                roles,
                wids: vec!["0997a1d0-0d1d-4acb-b408-d5ca73121e90".into()],
            };
            Ok(json!({
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_LIFETIME,
                "ext_expires_in": ACCESS_TOKEN_LIFETIME,
                "access_token": emu.keys.sign(&claims),
            }))
        }
        "password" => {
            if has_credential(f) {
                refuse_cross_origin(origin)?;
                client_auth::authenticate(app, f, now, &audiences)?;
            } else if !public {
                return Err(TokenError::new(
                    401,
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                ));
            }
            let username = f.get("username").ok_or_else(|| missing("username"))?;
            let password = f.get("password").ok_or_else(|| missing("password"))?;
            let Some(user) = dir.user(username) else {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    50034,
                    format!(
                        "The user account {{EmailHidden}} does not exist in the {} directory. To sign into this application, the account must be added to the directory.",
                        tenant.id
                    ),
                ));
            };
            if user.password != *password {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    50126,
                    "Error validating credentials due to invalid username or password.",
                ));
            }
            let req = parse_scope(
                scope.as_deref().unwrap_or("openid profile offline_access"),
                &tenant,
            )?;
            issue_delegated(
                emu,
                &dir,
                Delegated {
                    user,
                    app,
                    req: &req,
                    spa: false,
                    nonce: None,
                    refresh_exp: None,
                },
            )
        }
        "authorization_code" => {
            let code = code.expect("code parsed above");
            if now - code.created > CODE_LIFETIME {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
                ));
            }
            if !code.client_id.eq_ignore_ascii_case(&client_id) {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    70000,
                    "The provided value for the 'code' parameter is not valid. The code was issued to a different client.",
                ));
            }
            let redirect = f
                .get("redirect_uri")
                .ok_or_else(|| missing("redirect_uri"))?;
            if *redirect != code.redirect_uri {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    50011,
                    format!(
                        "The redirect URI '{redirect}' specified in the request does not match the redirect URI used to request the authorization code '{}'.",
                        code.redirect_uri
                    ),
                ));
            }
            if code.spa {
                if !cross_origin(origin) {
                    return Err(TokenError::new(
                        400,
                        "invalid_request",
                        9002327,
                        "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
                    ));
                }
            } else if has_credential(f) {
                refuse_cross_origin(origin)?;
                client_auth::authenticate(app, f, now, &audiences)?;
            } else if origin.is_some() {
                refuse_cross_origin(origin)?;
            } else if !public {
                return Err(TokenError::new(
                    401,
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                ));
            }
            if let Some(challenge) = &code.code_challenge {
                let verifier = f.get("code_verifier").cloned().unwrap_or_default();
                let computed =
                    Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()));
                if computed != *challenge {
                    return Err(TokenError::new(
                        400,
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    ));
                }
            }
            let Some(user) = dir.user(&code.user_id) else {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    70000,
                    "The provided value for the 'code' parameter is not valid.",
                ));
            };
            let req = parse_scope(scope.as_deref().unwrap_or(&code.scope), &tenant)?;
            let out = issue_delegated(
                emu,
                &dir,
                Delegated {
                    user,
                    app,
                    req: &req,
                    spa: code.spa,
                    nonce: code.nonce.clone(),
                    refresh_exp: None,
                },
            )?;
            drop(dir);
            if let Some(c) = lock(&emu.sessions)
                .codes
                .get_mut(f.get("code").map(String::as_str).unwrap_or_default())
            {
                c.redeemed = true;
            }
            Ok(out)
        }
        "refresh_token" => {
            let rt_text = f
                .get("refresh_token")
                .ok_or_else(|| missing("refresh_token"))?;
            let Some(rt) = emu
                .keys
                .verify::<RefreshClaims>(rt_text)
                .filter(|r| r.typ == "refresh" && r.tid == tenant.id)
            else {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    9002313,
                    "Invalid request. Request is malformed or invalid.",
                ));
            };
            if !rt.client_id.eq_ignore_ascii_case(&client_id) {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    70000,
                    "Provided grant is invalid or malformed. The refresh token was issued to a different client.",
                ));
            }
            if rt.exp <= now {
                return Err(if rt.spa {
                    TokenError::new(
                        400,
                        "invalid_grant",
                        700084,
                        format!(
                            "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on {}.",
                            crate::clock::iso(rt.iat)
                        ),
                    )
                } else {
                    TokenError::new(
                        400,
                        "invalid_grant",
                        70008,
                        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
                    )
                });
            }
            if rt.spa && !cross_origin(origin) {
                return Err(TokenError::new(
                    400,
                    "invalid_request",
                    9002327,
                    "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
                ));
            }
            if !rt.spa && has_credential(f) {
                refuse_cross_origin(origin)?;
                client_auth::authenticate(app, f, now, &audiences)?;
            }
            let Some(user) = dir.user(&rt.oid) else {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    50034,
                    "The user account does not exist in the directory.",
                ));
            };
            let mut req = parse_scope(
                scope.as_deref().unwrap_or("openid profile offline_access"),
                &tenant,
            )?;
            if !req.oidc.iter().any(|o| o == "offline_access") {
                req.oidc.push("offline_access".into());
            }
            issue_delegated(
                emu,
                &dir,
                Delegated {
                    user,
                    app,
                    req: &req,
                    spa: rt.spa,
                    nonce: None,
                    refresh_exp: rt.spa.then_some(rt.exp),
                },
            )
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let device_code = f
                .get("device_code")
                .ok_or_else(|| missing("device_code"))?
                .clone();
            let entry = lock(&emu.sessions).device_codes.get(&device_code).cloned();
            let Some(entry) = entry.filter(|e| e.client_id.eq_ignore_ascii_case(&client_id)) else {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    70000,
                    "The provided value for the 'device_code' parameter is not valid.",
                ));
            };
            if now - entry.created > DEVICE_CODE_LIFETIME {
                return Err(TokenError::new(
                    400,
                    "expired_token",
                    70020,
                    "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
                ));
            }
            let Some(user_id) = entry.approved_user.clone() else {
                return Err(TokenError::new(
                    400,
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ));
            };
            let Some(user) = dir.user(&user_id) else {
                return Err(TokenError::new(
                    400,
                    "invalid_grant",
                    70000,
                    "The provided value for the 'device_code' parameter is not valid.",
                ));
            };
            let req = parse_scope(&entry.scope, &tenant)?;
            let out = issue_delegated(
                emu,
                &dir,
                Delegated {
                    user,
                    app,
                    req: &req,
                    spa: false,
                    nonce: None,
                    refresh_exp: None,
                },
            )?;
            drop(dir);
            lock(&emu.sessions).device_codes.remove(&device_code);
            Ok(out)
        }
        other => Err(TokenError::new(
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// Whether a SPA code or refresh token is redeemed cross-origin: an `Origin`
/// header, but not the opaque `null` origin, which Entra answers with
/// AADSTS9002327 (https://github.com/AzureAD/microsoft-authentication-library-for-python/issues/641).
/// Entra does not compare the origin with the redirect URI: any other origin
/// is accepted (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#redirect-uris-for-single-page-apps-spas
/// asks only for "an Origin header").
fn cross_origin(origin: Option<&str>) -> bool {
    origin.is_some_and(|o| !o.trim().eq_ignore_ascii_case("null"))
}

/// App role values assigned to `sp_id` on the resource's service principal.
pub fn app_roles_of(dir: &Directory, sp_id: &str, resource: Resource) -> Vec<String> {
    let Some(res) = dir.sp_by_app_id(resource.app_id()) else {
        return Vec::new();
    };
    let res_id = str_field(&res.body, "id");
    let roles = res
        .body
        .get("appRoles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    dir.app_role_assignments
        .iter()
        .filter(|a| {
            a.get("principalId").and_then(Value::as_str) == Some(sp_id)
                && a.get("resourceId").and_then(Value::as_str) == Some(res_id)
        })
        .filter_map(|a| {
            let role_id = a.get("appRoleId")?.as_str()?;
            roles
                .iter()
                .find(|r| r.get("id").and_then(Value::as_str) == Some(role_id))?
                .get("value")?
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

/// Graph permission names known to the emulator (for the consent screen).
pub fn describe_scope(resource: Resource, perm: &str) -> String {
    match resource {
        Resource::Graph => format!(
            "Microsoft Graph: {perm}{}",
            if known::USER_CONSENTABLE
                .iter()
                .any(|u| u.eq_ignore_ascii_case(perm))
            {
                ""
            } else {
                " (admin consent required)"
            }
        ),
        Resource::Arm => format!("Azure Service Management: {perm}"),
    }
}
