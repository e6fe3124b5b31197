//! Microsoft identity platform: discovery, keys, sign-in, consent and tokens
//! under `/login/{tenant}`.

pub mod authorize;
pub mod client_auth;
pub mod token;

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64ct::{Base64, Encoding};
use serde_json::{Value, json};

use crate::state::{Directory, Tenant};
use crate::{Shared, certs, clock, http, lock};

/// Authorization codes and device codes in flight (not persisted).
#[derive(Debug, Default)]
pub struct Sessions {
    pub codes: HashMap<String, AuthCode>,
    pub device_codes: HashMap<String, DeviceCode>,
}

#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub user_id: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub created: i64,
    pub redeemed: bool,
    pub spa: bool,
}

#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub user_code: String,
    pub client_id: String,
    pub scope: String,
    pub created: i64,
    pub approved_user: Option<String>,
}

/// An Entra token-endpoint error: `{error, error_description, error_codes, timestamp, trace_id, correlation_id}`.
#[derive(Debug)]
pub struct TokenError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub message: String,
}

impl TokenError {
    pub fn new(status: u16, error: &'static str, code: u32, message: impl Into<String>) -> Self {
        TokenError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            error,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let ctx = http::ctx();
        let timestamp = ctx.date.replace('T', " ");
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.code, self.message, ctx.request_id, ctx.client_request_id, timestamp
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": ctx.request_id,
            "correlation_id": ctx.client_request_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        (self.status, Json(body)).into_response()
    }
}

/// Resolves `{tenant}`: the tenant ID, its domain, `organizations` or `common`.
pub fn resolve_tenant(dir: &Directory, tenant: &str) -> Result<Tenant, TokenError> {
    let t = &dir.tenant;
    if tenant.eq_ignore_ascii_case(&t.id)
        || tenant.eq_ignore_ascii_case(&t.domain)
        || tenant.eq_ignore_ascii_case("organizations")
        || tenant.eq_ignore_ascii_case("common")
    {
        Ok(t.clone())
    } else {
        Err(TokenError::new(
            400,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        ))
    }
}

pub fn issuer_v2(emu: &Shared, tenant_id: &str) -> String {
    format!("{}/{}/v2.0", emu.login_url(), tenant_id)
}

/// v1 issuer carried by access tokens for Graph and ARM, as Entra issues them.
pub fn issuer_v1(tenant_id: &str) -> String {
    format!("https://sts.windows.net/{tenant_id}/")
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route(
            "/login/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/login/{tenant}/discovery/v2.0/keys", get(keys))
        .route("/login/{tenant}/discovery/keys", get(keys))
        .route("/login/{tenant}/oauth2/v2.0/token", post(token::token))
        .route(
            "/login/{tenant}/oauth2/v2.0/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route(
            "/login/{tenant}/oauth2/v2.0/devicecode",
            post(authorize::devicecode),
        )
        .route(
            "/login/device",
            get(authorize::device_page).post(authorize::device_post),
        )
        .route("/login/{tenant}/oauth2/v2.0/logout", get(logout))
}

// https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri
async fn openid_configuration(State(emu): State<Shared>, Path(tenant): Path<String>) -> Response {
    let t = match resolve_tenant(&lock(&emu.dir), &tenant) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let base = format!("{}/{}", emu.login_url(), t.id);
    Json(json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer_v2(&emu, &t.id),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{}/oidc/userinfo", emu.graph_url()),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }))
    .into_response()
}

// https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#validate-the-signature
async fn keys(State(emu): State<Shared>, Path(tenant): Path<String>) -> Response {
    let t = match resolve_tenant(&lock(&emu.dir), &tenant) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let (n, e) = certs::rsa_components(&emu.keys.info.public_key);
    Json(json!({"keys": [{
        "kty": "RSA",
        "use": "sig",
        "kid": emu.keys.kid(),
        "x5t": emu.keys.kid(),
        "n": n,
        "e": e,
        "x5c": [Base64::encode_string(&emu.keys.cert_der)],
        "issuer": issuer_v2(&emu, &t.id),
    }]}))
    .into_response()
}

// https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc#send-a-sign-out-request
async fn logout(
    axum::extract::Query(p): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    match p.get("post_logout_redirect_uri") {
        Some(uri) => (
            StatusCode::FOUND,
            [(axum::http::header::LOCATION, uri.clone())],
        )
            .into_response(),
        None => axum::response::Html(
            "<!doctype html><html><body><h1>You signed out of your account</h1></body></html>",
        )
        .into_response(),
    }
}

/// `{"error": ...}` page text for the browser-facing endpoints.
pub fn error_page(code: u32, message: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p id=\"error\">AADSTS{code}: {}</p></body></html>",
        authorize::escape(message)
    );
    (StatusCode::BAD_REQUEST, axum::response::Html(html)).into_response()
}

pub fn now_value(emu: &Shared) -> Value {
    Value::String(clock::iso(emu.clock.now()))
}
