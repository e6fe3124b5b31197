//! Typed Microsoft Graph v1.0 calls over [`ApiClient`]: applications and
//! their credentials, service principals, app role assignments, delegated
//! permission grants, the signed-in user and the organisation. Paths and
//! payloads are Microsoft's; each call cites its reference page.

pub mod batch;
pub mod model;
pub mod policies;

use serde_json::{Value, json};

use crate::api_error::{ApiError, Service};
use crate::client::{ApiClient, ApiRequest, list_all};
use crate::core::key_credential::KeyCredential;
use crate::http::{HttpClient, Sleeper};

pub use model::*;

/// appId of Microsoft Graph in every cloud.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// appId of Windows Azure Service Management API (ARM delegated access).
pub const ARM_APP_ID: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";

/// The requests behind the calls below, as data: a plan step previews
/// exactly what it sends by building its request here.
pub mod request {
    use serde_json::{Value, json};

    use crate::client::{ApiRequest, odata_quote, query_encode};
    use crate::http::Method::{self, Get, Patch, Post};

    fn filtered(collection: &str, expr: &str) -> ApiRequest {
        ApiRequest::graph(Get, format!("/{collection}?$filter={}", query_encode(expr)))
    }

    fn with(method: Method, path: String, body: Value) -> ApiRequest {
        ApiRequest::graph(method, path).with_body(body)
    }

    // https://learn.microsoft.com/en-us/graph/api/application-get
    pub fn get_application(object_id: &str) -> ApiRequest {
        ApiRequest::graph(Get, format!("/applications/{object_id}"))
    }

    // https://learn.microsoft.com/en-us/graph/api/application-list (filter by appId)
    pub fn find_application_by_app_id(app_id: &str) -> ApiRequest {
        filtered(
            "applications",
            &format!("appId eq '{}'", odata_quote(app_id)),
        )
    }

    /// One application by appId, with its certificates' key bytes (Graph
    /// returns `key` only for a single object whose `$select` names
    /// keyCredentials), so that a certificate step can PATCH without
    /// another read.
    // https://learn.microsoft.com/en-us/graph/api/application-get (GET /applications(appId='{appId}'))
    // https://learn.microsoft.com/en-us/graph/api/resources/keycredential (key: returned only on $select for a single object)
    pub fn get_application_by_app_id(app_id: &str) -> ApiRequest {
        ApiRequest::graph(
            Get,
            format!(
                "/applications(appId='{}')?$select=id,appId,displayName,keyCredentials",
                query_encode(&odata_quote(app_id))
            ),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/application-list (filter by displayName)
    pub fn find_applications_by_name(display_name: &str) -> ApiRequest {
        filtered(
            "applications",
            &format!("displayName eq '{}'", odata_quote(display_name)),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/application-post-applications
    pub fn create_application(body: Value) -> ApiRequest {
        with(Post, "/applications".into(), body)
    }

    fn by_unique_name(unique_name: &str) -> String {
        format!(
            "/applications(uniqueName='{}')",
            query_encode(&odata_quote(unique_name))
        )
    }

    /// Creates the application with this client-chosen key, or updates the
    /// one that has it: sent twice, it still makes one application.
    // https://learn.microsoft.com/en-us/graph/api/application-upsert
    pub fn upsert_application(unique_name: &str, body: Value) -> ApiRequest {
        with(Patch, by_unique_name(unique_name), body).with_header("Prefer", "create-if-missing")
    }

    // https://learn.microsoft.com/en-us/graph/api/application-get (GET /applications(uniqueName='{uniqueName}'))
    pub fn get_application_by_unique_name(unique_name: &str) -> ApiRequest {
        ApiRequest::graph(Get, by_unique_name(unique_name))
    }

    // https://learn.microsoft.com/en-us/graph/api/application-update
    pub fn update_application(object_id: &str, patch: Value) -> ApiRequest {
        with(Patch, format!("/applications/{object_id}"), patch)
    }

    // https://learn.microsoft.com/en-us/graph/api/application-update (keyCredentials: read with $select first)
    pub fn get_key_credentials(object_id: &str) -> ApiRequest {
        ApiRequest::graph(
            Get,
            format!("/applications/{object_id}?$select=keyCredentials"),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/application-get ($select=passwordCredentials)
    pub fn get_password_credentials(object_id: &str) -> ApiRequest {
        ApiRequest::graph(
            Get,
            format!("/applications/{object_id}?$select=passwordCredentials"),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/application-addpassword
    pub fn add_password(
        object_id: &str,
        display_name: &str,
        end: Option<crate::core::time::UnixTime>,
    ) -> ApiRequest {
        let mut credential = json!({ "displayName": display_name });
        if let Some(end) = end {
            credential["endDateTime"] = json!(end);
        }
        with(
            Post,
            format!("/applications/{object_id}/addPassword"),
            json!({ "passwordCredential": credential }),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/application-removepassword
    pub fn remove_password(object_id: &str, key_id: &str) -> ApiRequest {
        with(
            Post,
            format!("/applications/{object_id}/removePassword"),
            json!({ "keyId": key_id }),
        )
    }

    /// Every application with its certificates (no key bytes in a list)
    /// and creation date (app management policies may apply only to
    /// applications created after a date), `top` per page (Graph allows
    /// 1–999); follow `@odata.nextLink`.
    /// Graph cannot filter by a key's thumbprint, so a search reads them all.
    // https://learn.microsoft.com/en-us/graph/api/application-list ($select, $top, @odata.nextLink)
    // https://learn.microsoft.com/en-us/graph/paging
    pub fn list_applications_with_keys(top: u32) -> ApiRequest {
        ApiRequest::graph(
            Get,
            format!(
                "/applications?$select=id,appId,displayName,keyCredentials,createdDateTime&$top={top}"
            ),
        )
    }

    /// Every service principal with its certificates, as
    /// [`list_applications_with_keys`].
    // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list
    pub fn list_service_principals_with_keys(top: u32) -> ApiRequest {
        ApiRequest::graph(
            Get,
            format!("/servicePrincipals?$select=id,appId,displayName,keyCredentials&$top={top}"),
        )
    }

    /// Every application with its certificates and secrets, only the
    /// fields a credential list needs, `top` per page (1–999; follow
    /// `@odata.nextLink`). Graph cannot filter by a credential's end date,
    /// so an expiry overview reads them all. `keyCredentials` in `$select`
    /// also brings each certificate's `key` bytes, and Graph throttles such
    /// lists at 150 requests a minute per tenant: full pages keep a
    /// 10,000-application tenant at 11 requests.
    // https://learn.microsoft.com/en-us/graph/api/application-list (default page 100, maximum 999)
    pub fn list_applications_with_credentials(top: u32) -> ApiRequest {
        ApiRequest::graph(
            Get,
            format!(
                "/applications?$select=id,appId,displayName,keyCredentials,passwordCredentials&$top={top}"
            ),
        )
    }

    /// Every service principal with its own certificates and secrets, as
    /// [`list_applications_with_credentials`].
    // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list
    pub fn list_service_principals_with_credentials(top: u32) -> ApiRequest {
        ApiRequest::graph(
            Get,
            format!(
                "/servicePrincipals?$select=id,appId,displayName,keyCredentials,passwordCredentials&$top={top}"
            ),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-post-serviceprincipals
    pub fn create_service_principal(app_id: &str) -> ApiRequest {
        with(
            Post,
            "/servicePrincipals".into(),
            json!({ "appId": app_id }),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list (filter by appId)
    pub fn find_service_principal(app_id: &str) -> ApiRequest {
        filtered(
            "servicePrincipals",
            &format!("appId eq '{}'", odata_quote(app_id)),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list-approleassignments
    pub fn list_app_role_assignments(principal_sp_id: &str) -> ApiRequest {
        ApiRequest::graph(
            Get,
            format!("/servicePrincipals/{principal_sp_id}/appRoleAssignments"),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-post-approleassignedto
    pub fn grant_app_role(
        resource_sp_id: &str,
        principal_sp_id: &str,
        app_role_id: &str,
    ) -> ApiRequest {
        with(
            Post,
            format!("/servicePrincipals/{resource_sp_id}/appRoleAssignedTo"),
            json!({
                "principalId": principal_sp_id,
                "resourceId": resource_sp_id,
                "appRoleId": app_role_id,
            }),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-list
    pub fn find_admin_grants(client_sp_id: &str, resource_sp_id: &str) -> ApiRequest {
        filtered(
            "oauth2PermissionGrants",
            &format!(
                "clientId eq '{}' and resourceId eq '{}' and consentType eq 'AllPrincipals'",
                odata_quote(client_sp_id),
                odata_quote(resource_sp_id)
            ),
        )
    }

    // https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-post
    pub fn create_admin_grant(client_sp_id: &str, resource_sp_id: &str, scope: &str) -> ApiRequest {
        with(
            Post,
            "/oauth2PermissionGrants".into(),
            json!({
                "clientId": client_sp_id,
                "consentType": "AllPrincipals",
                "resourceId": resource_sp_id,
                "scope": scope,
            }),
        )
    }

    /// The signed-in user's memberships, direct and transitive: a directory
    /// role held through a role-assignable group is listed here, not in
    /// `/me/memberOf`. Groups, roles and administrative units come in one
    /// list, each with its `@odata.type`.
    // https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof
    // https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/groups-concept
    pub fn my_transitive_memberships() -> ApiRequest {
        ApiRequest::graph(Get, "/me/transitiveMemberOf")
    }

    // https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-update
    pub fn update_grant_scope(grant_id: &str, scope: &str) -> ApiRequest {
        with(
            Patch,
            format!("/oauth2PermissionGrants/{grant_id}"),
            json!({ "scope": scope }),
        )
    }
}

/// Sends a request whose answer the caller does not need (a 204).
async fn send<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    request: ApiRequest,
) -> Result<(), ApiError> {
    api.call(&request).await.map(|_| ())
}

pub async fn get_application<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
) -> Result<Application, ApiError> {
    api.fetch(&request::get_application(object_id), "an application")
        .await
}

pub async fn find_application_by_app_id<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    app_id: &str,
) -> Result<Option<Application>, ApiError> {
    let page: crate::client::Page<Application> = api
        .fetch(&request::find_application_by_app_id(app_id), "applications")
        .await?;
    Ok(page.value.into_iter().next())
}

/// The application with this appId and its keys (`None`: not in the tenant).
pub async fn get_application_by_app_id<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    app_id: &str,
) -> Result<Option<Application>, ApiError> {
    match api
        .fetch(
            &request::get_application_by_app_id(app_id),
            "an application",
        )
        .await
    {
        Ok(app) => Ok(Some(app)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn find_applications_by_name<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    display_name: &str,
) -> Result<Vec<Application>, ApiError> {
    list_all(
        api,
        request::find_applications_by_name(display_name),
        "applications",
    )
    .await
}

pub async fn create_application<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    body: &Value,
) -> Result<Application, ApiError> {
    api.fetch(
        &request::create_application(body.clone()),
        "the new application",
    )
    .await
}

/// The upsert's answer: `Some` with the new application (201), `None`
/// when one with `unique_name` existed and was updated (204).
pub async fn upsert_application<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    unique_name: &str,
    body: &Value,
) -> Result<Option<Application>, ApiError> {
    let response = api
        .call(&request::upsert_application(unique_name, body.clone()))
        .await?;
    if response.status == 204 {
        return Ok(None);
    }
    crate::client::decode_bytes(Service::Graph, "the new application", &response.body).map(Some)
}

/// The application with this `uniqueName`; `None` while Graph answers 404
/// (not there, or not yet on the replica that answered).
pub async fn get_application_by_unique_name<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    unique_name: &str,
) -> Result<Option<Application>, ApiError> {
    match api
        .fetch(
            &request::get_application_by_unique_name(unique_name),
            "an application",
        )
        .await
    {
        Ok(app) => Ok(Some(app)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn update_application<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
    patch: &Value,
) -> Result<(), ApiError> {
    send(api, request::update_application(object_id, patch.clone())).await
}

// https://learn.microsoft.com/en-us/graph/api/application-delete
pub async fn delete_application<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
) -> Result<(), ApiError> {
    send(
        api,
        ApiRequest::graph(
            crate::http::Method::Delete,
            format!("/applications/{object_id}"),
        ),
    )
    .await
}

/// The application's certificates with their `key` bytes, as
/// `core::key_credential::merge` needs them.
pub async fn get_key_credentials<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
) -> Result<Vec<KeyCredential>, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Keys {
        #[serde(default)]
        key_credentials: Vec<KeyCredential>,
    }
    let keys: Keys = api
        .fetch(
            &request::get_key_credentials(object_id),
            "the application's keyCredentials",
        )
        .await?;
    Ok(keys.key_credentials)
}

/// Replaces the application's `keyCredentials` (send old + new).
pub async fn set_key_credentials<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
    keys: &[KeyCredential],
) -> Result<(), ApiError> {
    update_application(api, object_id, &json!({ "keyCredentials": keys })).await
}

/// The application's secrets (hint, dates, displayName; never a value).
pub async fn get_password_credentials<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
) -> Result<Vec<PasswordCredential>, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Secrets {
        #[serde(default)]
        password_credentials: Vec<PasswordCredential>,
    }
    let s: Secrets = api
        .fetch(
            &request::get_password_credentials(object_id),
            "the application's passwordCredentials",
        )
        .await?;
    Ok(s.password_credentials)
}

// https://learn.microsoft.com/en-us/graph/api/application-addpassword
pub async fn add_password<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
    display_name: &str,
    end: Option<crate::core::time::UnixTime>,
) -> Result<NewPassword, ApiError> {
    api.fetch(
        &request::add_password(object_id, display_name, end),
        "the new client secret",
    )
    .await
}

// https://learn.microsoft.com/en-us/graph/api/application-removepassword
pub async fn remove_password<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
    key_id: &str,
) -> Result<(), ApiError> {
    send(api, request::remove_password(object_id, key_id)).await
}

pub async fn create_service_principal<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    app_id: &str,
) -> Result<ServicePrincipal, ApiError> {
    api.fetch(
        &request::create_service_principal(app_id),
        "the new service principal",
    )
    .await
}

pub async fn find_service_principal<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    app_id: &str,
) -> Result<Option<ServicePrincipal>, ApiError> {
    let page: crate::client::Page<ServicePrincipal> = api
        .fetch(
            &request::find_service_principal(app_id),
            "service principals",
        )
        .await?;
    Ok(page.value.into_iter().next())
}

/// App roles granted to a service principal (as the principal).
pub async fn list_app_role_assignments<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    principal_sp_id: &str,
) -> Result<Vec<AppRoleAssignment>, ApiError> {
    list_all(
        api,
        request::list_app_role_assignments(principal_sp_id),
        "app role assignments",
    )
    .await
}

/// Grants an app role of the resource to a service principal.
pub async fn grant_app_role<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    resource_sp_id: &str,
    principal_sp_id: &str,
    app_role_id: &str,
) -> Result<AppRoleAssignment, ApiError> {
    api.fetch(
        &request::grant_app_role(resource_sp_id, principal_sp_id, app_role_id),
        "the app role assignment",
    )
    .await
}

/// Tenant-wide delegated grants of a client to a resource.
pub async fn find_admin_grants<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    client_sp_id: &str,
    resource_sp_id: &str,
) -> Result<Vec<OAuth2PermissionGrant>, ApiError> {
    list_all(
        api,
        request::find_admin_grants(client_sp_id, resource_sp_id),
        "delegated permission grants",
    )
    .await
}

/// Admin consent for the whole organisation (`consentType: AllPrincipals`).
pub async fn create_admin_grant<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    client_sp_id: &str,
    resource_sp_id: &str,
    scope: &str,
) -> Result<OAuth2PermissionGrant, ApiError> {
    api.fetch(
        &request::create_admin_grant(client_sp_id, resource_sp_id, scope),
        "the delegated permission grant",
    )
    .await
}

pub async fn update_grant_scope<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    grant_id: &str,
    scope: &str,
) -> Result<(), ApiError> {
    send(api, request::update_grant_scope(grant_id, scope)).await
}

// https://learn.microsoft.com/en-us/graph/api/user-get
pub async fn me<C: HttpClient, S: Sleeper>(api: &ApiClient<'_, C, S>) -> Result<User, ApiError> {
    api.fetch(
        &ApiRequest::graph(crate::http::Method::Get, "/me"),
        "the signed-in user",
    )
    .await
}

/// The signed-in user's directory roles, held directly or through a
/// role-assignable group (other memberships left out).
///
/// With only `User.Read` consented, Graph lists a role with just its
/// `@odata.type` and `id` (limited information for objects the page may not
/// read): the roles cannot be told apart, so this fails with an error that
/// asks for `Directory.Read.All` rather than concluding "no role".
// https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof
// https://learn.microsoft.com/en-us/graph/permissions-overview#limited-information-returned-for-inaccessible-member-objects
pub async fn my_directory_roles<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
) -> Result<Vec<DirectoryRole>, ApiError> {
    // Groups come in the same list: read the type, keep the roles.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Membership {
        #[serde(rename = "@odata.type", default)]
        kind: String,
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        display_name: Option<String>,
        #[serde(default)]
        role_template_id: Option<String>,
    }
    let all: Vec<Membership> = list_all(
        api,
        request::my_transitive_memberships(),
        "group and role memberships",
    )
    .await?;
    all.into_iter()
        .filter(|m| m.kind == "#microsoft.graph.directoryRole")
        .map(|m| {
            Ok(DirectoryRole {
                role_template_id: m.role_template_id.ok_or_else(roles_unreadable)?,
                id: m.id,
                display_name: m.display_name,
            })
        })
        .collect()
}

/// Directory roles listed without `roleTemplateId`: the page's sign-in may
/// read memberships (`User.Read`) but not the roles themselves.
fn roles_unreadable() -> ApiError {
    ApiError::ConsentNeeded {
        service: Service::Graph,
        what: "which directory roles you hold".into(),
        permission: "Directory.Read.All".into(),
    }
}

// https://learn.microsoft.com/en-us/graph/api/organization-list
pub async fn organization<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
) -> Result<Organization, ApiError> {
    let page: crate::client::Page<Organization> = api
        .fetch(
            &ApiRequest::graph(crate::http::Method::Get, "/organization"),
            "the organization",
        )
        .await?;
    page.value
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Unexpected {
            service: Service::Graph,
            what: "the organization".into(),
            detail: "an empty list".into(),
        })
}
