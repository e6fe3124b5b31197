//! Microsoft Graph v1.0 under `/graph/v1.0`: token checks, authorization as in
//! Entra, OData query options, and the error envelope
//! `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
// https://learn.microsoft.com/en-us/graph/errors

pub mod applications;
pub mod batch;
pub mod deleted;
pub mod directory;
pub mod grants;
pub mod odata;
pub mod policies;
pub mod service_principals;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::known;
use crate::tokens::AccessClaims;
use crate::{Shared, http};

#[derive(Debug)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Option<Value>,
}

pub type GraphResult = Result<Response, GraphError>;

impl GraphError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        GraphError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code: code.into(),
            message: message.into(),
            details: None,
        }
    }
    pub fn not_found(id: &str) -> Self {
        GraphError::new(
            404,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }
    pub fn denied() -> Self {
        GraphError::new(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }
    pub fn bad(message: impl Into<String>) -> Self {
        GraphError::new(400, "Request_BadRequest", message)
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let ctx = http::ctx();
        let mut error = json!({
            "code": self.code,
            "message": self.message,
            "innerError": {"date": ctx.date, "request-id": ctx.request_id, "client-request-id": ctx.client_request_id},
        });
        if let Some(d) = self.details {
            error["details"] = d;
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

/// Who is calling, from a verified Graph access token.
pub fn caller(emu: &Shared, headers: &HeaderMap) -> Result<AccessClaims, GraphError> {
    let unauth = |m: &str| GraphError::new(401, "InvalidAuthenticationToken", m);
    let token = crate::http::bearer_token(headers);
    if token.is_empty() {
        return Err(unauth("Access token is empty."));
    }
    let Some(claims) = emu.keys.verify::<AccessClaims>(token) else {
        return Err(unauth(
            "Access token validation failure. Invalid signature.",
        ));
    };
    let aud = claims.aud.trim_end_matches('/');
    if aud != known::GRAPH_RESOURCE && aud != known::GRAPH_APP_ID {
        return Err(unauth("Access token validation failure. Invalid audience."));
    }
    let now = emu.clock.now();
    if claims.exp <= now || claims.nbf > now + 300 {
        return Err(unauth("Lifetime validation failed, the token is expired."));
    }
    if claims.tid != crate::lock(&emu.dir).tenant.id {
        return Err(unauth("Access token validation failure. Invalid issuer."));
    }
    Ok(claims)
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Need {
    ReadApps,
    WriteApps,
    AssignAppRole {
        to_graph: bool,
    },
    ReadGrants,
    WriteGrants,
    /// Read app management policies (the tenant's default and the custom ones).
    // https://learn.microsoft.com/en-us/graph/api/tenantappmanagementpolicy-get
    ReadPolicies,
    /// Create, update, delete and assign custom app management policies.
    // https://learn.microsoft.com/en-us/graph/api/appmanagementpolicy-post
    WriteAppPolicies,
    /// Update the tenant's default app management policy.
    // https://learn.microsoft.com/en-us/graph/api/tenantappmanagementpolicy-update
    WriteTenantPolicy,
}

fn user_is(claims: &AccessClaims, roles: &[&str]) -> bool {
    claims.wids.iter().any(|w| roles.contains(&w.as_str()))
}

/// Entra's authorization: the token must carry the permission, and a signed-in
/// user must also hold a directory role that allows the operation.
pub fn authorize(claims: &AccessClaims, need: Need) -> Result<(), GraphError> {
    use known::*;
    let full = [GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR];
    let app_admins = [
        GLOBAL_ADMINISTRATOR,
        PRIVILEGED_ROLE_ADMINISTRATOR,
        APPLICATION_ADMINISTRATOR,
        CLOUD_APPLICATION_ADMINISTRATOR,
    ];
    let (perms, user_roles): (&[&str], Option<&[&str]>) = match need {
        Need::ReadApps => (
            &[
                "Application.Read.All",
                "Application.ReadWrite.All",
                "Directory.Read.All",
                "Directory.ReadWrite.All",
                "Directory.AccessAsUser.All",
            ],
            None,
        ),
        Need::WriteApps => (
            &["Application.ReadWrite.All", "Directory.AccessAsUser.All"],
            Some(&app_admins),
        ),
        Need::AssignAppRole { to_graph } => (
            &[
                "AppRoleAssignment.ReadWrite.All",
                "Directory.AccessAsUser.All",
            ],
            Some(if to_graph { &full[..] } else { &app_admins[..] }),
        ),
        Need::ReadGrants => (
            &[
                "DelegatedPermissionGrant.ReadWrite.All",
                "Directory.Read.All",
                "Directory.ReadWrite.All",
                "Directory.AccessAsUser.All",
                "Application.Read.All",
                "Application.ReadWrite.All",
            ],
            None,
        ),
        Need::WriteGrants => (
            &[
                "DelegatedPermissionGrant.ReadWrite.All",
                "Directory.AccessAsUser.All",
            ],
            Some(&app_admins),
        ),
        Need::ReadPolicies => (
            &[
                "Policy.Read.All",
                "Policy.ReadWrite.ApplicationConfiguration",
            ],
            None,
        ),
        Need::WriteAppPolicies => (
            &["Policy.ReadWrite.ApplicationConfiguration"],
            Some(&app_admins),
        ),
        Need::WriteTenantPolicy => (
            &["Policy.ReadWrite.ApplicationConfiguration"],
            Some(&[GLOBAL_ADMINISTRATOR, SECURITY_ADMINISTRATOR]),
        ),
    };
    if claims.is_app() {
        let app_perms: Vec<&str> = perms
            .iter()
            .copied()
            .filter(|p| *p != "Directory.AccessAsUser.All")
            .collect();
        return if claims.has_role(&app_perms) {
            Ok(())
        } else {
            Err(GraphError::denied())
        };
    }
    if !claims.has_scope(perms) {
        return Err(GraphError::denied());
    }
    match user_roles {
        Some(roles) if !user_is(claims, roles) => Err(GraphError::denied()),
        _ => Ok(()),
    }
}

/// Parses a JSON request body into an object.
pub fn json_body(body: &Bytes) -> Result<Map<String, Value>, GraphError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(GraphError::new(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

pub fn ok(status: u16, v: Value) -> GraphResult {
    Ok((
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        Json(v),
    )
        .into_response())
}

pub fn no_content() -> GraphResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A path segment addressed either by ID or by an alternate key, e.g. `(appId='…')`.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Id(String),
    AppId(String),
    /// `applications(uniqueName='…')`: the client-provided alternate key.
    UniqueName(String),
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Splits `/graph/v1.0/...` into segments, turning `applications(appId='x')`
/// into `["applications", "(appId='x')"]`.
fn segments(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix("/graph/v1.0/")?;
    let mut out = Vec::new();
    for raw in rest.split('/').filter(|s| !s.is_empty()) {
        let s = decode(raw);
        match s.find('(') {
            Some(i) if i > 0 => {
                out.push(s[..i].to_string());
                out.push(s[i..].to_string());
            }
            _ => out.push(s),
        }
    }
    Some(out)
}

pub fn parse_key(seg: &str) -> Key {
    let inner = seg.trim_start_matches('(').trim_end_matches(')');
    if let Some(v) = inner.strip_prefix("appId=") {
        return Key::AppId(v.trim_matches('\'').to_string());
    }
    if let Some(v) = inner.strip_prefix("uniqueName=") {
        return Key::UniqueName(v.trim_matches('\'').to_string());
    }
    Key::Id(inner.trim_matches('\'').to_string())
}

async fn dispatch(
    State(emu): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = odata::Query::parse(uri.query().unwrap_or(""));
    let result = match segments(&path) {
        None => Err(GraphError::new(400, "BadRequest", "Invalid version.")),
        Some(segs) => match caller(&emu, &headers) {
            Err(e) => Err(e),
            Ok(claims) => {
                let create = prefers_create(&headers);
                route(&emu, &claims, &method, &segs, &query, &body, &uri, create)
            }
        },
    };
    result.unwrap_or_else(|e| e.into_response())
}

/// `Prefer: create-if-missing`: a PATCH by alternate key is an upsert.
// https://learn.microsoft.com/en-us/graph/api/application-upsert
fn prefers_create(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("create-if-missing"))
}

#[allow(clippy::too_many_arguments)]
fn route(
    emu: &Shared,
    claims: &AccessClaims,
    method: &Method,
    segs: &[String],
    q: &odata::Query,
    body: &Bytes,
    uri: &Uri,
    create_if_missing: bool,
) -> GraphResult {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method.as_str();
    match (s.first().copied().unwrap_or(""), s.len()) {
        ("applications", n) if n >= 3 && s[2] == "appManagementPolicies" => {
            policies::route_application(emu, claims, m, s[1], &s[3..], q, body, uri)
        }
        ("applications", _) => {
            applications::route(emu, claims, m, &s[1..], q, body, uri, create_if_missing)
        }
        ("policies", _) => policies::route(emu, claims, m, &s[1..], q, body, uri),
        ("directory", _) => deleted::route(emu, claims, m, &s[1..], q, uri),
        ("servicePrincipals", _) => {
            service_principals::route(emu, claims, m, &s[1..], q, body, uri)
        }
        ("oauth2PermissionGrants", _) => {
            grants::route_grants(emu, claims, m, &s[1..], q, body, uri)
        }
        ("me", _) | ("organization", _) | ("users", _) => {
            directory::route(emu, claims, m, &s, q, uri)
        }
        _ => Err(GraphError::new(
            400,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                s.first().copied().unwrap_or("")
            ),
        )),
    }
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/graph/v1.0/$batch", axum::routing::any(batch::handle))
        .route("/graph/v1.0/%24batch", axum::routing::any(batch::handle))
        .route("/graph/v1.0/{*rest}", axum::routing::any(dispatch))
        .route("/graph/oidc/userinfo", axum::routing::get(userinfo))
}

// https://learn.microsoft.com/en-us/entra/identity-platform/userinfo
async fn userinfo(State(emu): State<Shared>, headers: HeaderMap) -> Response {
    let claims = match caller(&emu, &headers) {
        Ok(c) if !c.is_app() => c,
        Ok(_) => {
            return GraphError::new(
                400,
                "BadRequest",
                "/oidc/userinfo is only valid with delegated authentication flow.",
            )
            .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let dir = crate::lock(&emu.dir);
    match dir.user(&claims.oid) {
        Some(u) => Json(json!({
            "sub": u.id,
            "name": u.display_name,
            "given_name": u.display_name.split(' ').next(),
            "family_name": u.display_name.split(' ').nth(1),
            "email": u.user_principal_name,
        }))
        .into_response(),
        None => GraphError::not_found(&claims.oid).into_response(),
    }
}

/// `@odata.context` for a collection or entity.
pub fn context(emu: &Shared, what: &str) -> String {
    format!("{}/v1.0/$metadata#{what}", emu.graph_url())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::known::*;

    fn user(roles: &[&str], scp: &str) -> AccessClaims {
        AccessClaims {
            aud: GRAPH_RESOURCE.into(),
            iss: String::new(),
            iat: 0,
            nbf: 0,
            exp: 0,
            tid: String::new(),
            oid: String::new(),
            sub: String::new(),
            appid: String::new(),
            idtyp: "user".into(),
            ver: "1.0".into(),
            uti: String::new(),
            upn: None,
            name: None,
            scp: Some(scp.into()),
            roles: Vec::new(),
            wids: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn directory_roles_gate_operations_as_in_entra() {
        let scp = "Application.ReadWrite.All AppRoleAssignment.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All";
        for role in [GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR] {
            let c = user(&[role], scp);
            for need in [
                Need::ReadApps,
                Need::WriteApps,
                Need::AssignAppRole { to_graph: true },
                Need::WriteGrants,
            ] {
                assert!(authorize(&c, need).is_ok(), "{role} {need:?}");
            }
        }
        for role in [APPLICATION_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR] {
            let c = user(&[role], scp);
            assert!(authorize(&c, Need::WriteApps).is_ok());
            assert!(authorize(&c, Need::WriteGrants).is_ok());
            assert!(authorize(&c, Need::AssignAppRole { to_graph: false }).is_ok());
            assert_eq!(
                authorize(&c, Need::AssignAppRole { to_graph: true })
                    .unwrap_err()
                    .code,
                "Authorization_RequestDenied"
            );
        }
        let plain = user(&[], scp);
        assert!(authorize(&plain, Need::ReadApps).is_ok());
        assert!(authorize(&plain, Need::WriteApps).is_err());
        // The scope must be in the token too.
        assert!(authorize(&user(&[GLOBAL_ADMINISTRATOR], "User.Read"), Need::WriteApps).is_err());
        // App-only: roles decide.
        let mut app = user(&[], "");
        app.idtyp = "app".into();
        app.scp = None;
        assert!(authorize(&app, Need::ReadApps).is_err());
        app.roles = vec!["Application.ReadWrite.All".into()];
        assert!(authorize(&app, Need::WriteApps).is_ok());
        assert!(authorize(&app, Need::AssignAppRole { to_graph: true }).is_err());
        app.roles.push("AppRoleAssignment.ReadWrite.All".into());
        assert!(authorize(&app, Need::AssignAppRole { to_graph: true }).is_ok());
    }
}
