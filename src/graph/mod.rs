//! Typed Microsoft Graph v1.0 calls over [`ApiClient`]: applications and
//! their credentials, service principals, app role assignments, delegated
//! permission grants, the signed-in user and the organisation. Paths and
//! payloads are Microsoft's; each call cites its reference page.

pub mod model;

use serde_json::{Value, json};

use crate::api_error::{ApiError, Service};
use crate::client::{ApiClient, decode, odata_quote, query_encode};
use crate::core::key_credential::KeyCredential;
use crate::http::{HttpClient, Method, Sleeper};

pub use model::*;

/// appId of Microsoft Graph in every cloud.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// appId of Windows Azure Service Management API (ARM delegated access).
pub const ARM_APP_ID: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";

fn list<T: serde::de::DeserializeOwned>(what: &str, v: Value) -> Result<Vec<T>, ApiError> {
    decode(Service::Graph, what, v["value"].clone())
}

/// Follows `@odata.nextLink` until the collection ends.
async fn list_all<T: serde::de::DeserializeOwned, C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    what: &str,
    first: &str,
) -> Result<Vec<T>, ApiError> {
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    while let Some(path) = next {
        let page = api.graph(Method::Get, &path, None).await?;
        next = page["@odata.nextLink"].as_str().map(str::to_string);
        out.extend(list::<T>(what, page)?);
    }
    Ok(out)
}

fn filter(expr: &str) -> String {
    format!("$filter={}", query_encode(expr))
}

// https://learn.microsoft.com/en-us/graph/api/application-get
pub async fn get_application<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
) -> Result<Application, ApiError> {
    let v = api
        .graph(Method::Get, &format!("/applications/{object_id}"), None)
        .await?;
    decode(Service::Graph, "an application", v)
}

// https://learn.microsoft.com/en-us/graph/api/application-list (filter by appId)
pub async fn find_application_by_app_id<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    app_id: &str,
) -> Result<Option<Application>, ApiError> {
    let path = format!(
        "/applications?{}",
        filter(&format!("appId eq '{}'", odata_quote(app_id)))
    );
    let v = api.graph(Method::Get, &path, None).await?;
    Ok(list::<Application>("applications", v)?.into_iter().next())
}

// https://learn.microsoft.com/en-us/graph/api/application-list (filter by displayName)
pub async fn find_applications_by_name<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    display_name: &str,
) -> Result<Vec<Application>, ApiError> {
    let path = format!(
        "/applications?{}",
        filter(&format!("displayName eq '{}'", odata_quote(display_name)))
    );
    list_all(api, "applications", &path).await
}

// https://learn.microsoft.com/en-us/graph/api/application-post-applications
pub async fn create_application<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    body: &Value,
) -> Result<Application, ApiError> {
    let v = api
        .graph(Method::Post, "/applications", Some(body.clone()))
        .await?;
    decode(Service::Graph, "the new application", v)
}

// https://learn.microsoft.com/en-us/graph/api/application-update
pub async fn update_application<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
    patch: &Value,
) -> Result<(), ApiError> {
    api.graph(
        Method::Patch,
        &format!("/applications/{object_id}"),
        Some(patch.clone()),
    )
    .await
    .map(|_| ())
}

// https://learn.microsoft.com/en-us/graph/api/application-delete
pub async fn delete_application<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
) -> Result<(), ApiError> {
    api.graph(Method::Delete, &format!("/applications/{object_id}"), None)
        .await
        .map(|_| ())
}

/// The application's certificates with their `key` bytes, as
/// `core::key_credential::merge` needs them.
// https://learn.microsoft.com/en-us/graph/api/application-update (keyCredentials: read with $select first)
pub async fn get_key_credentials<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
) -> Result<Vec<KeyCredential>, ApiError> {
    let v = api
        .graph(
            Method::Get,
            &format!("/applications/{object_id}?$select=keyCredentials"),
            None,
        )
        .await?;
    decode(
        Service::Graph,
        "the application's keyCredentials",
        v["keyCredentials"].clone(),
    )
}

/// Replaces the application's `keyCredentials` (send old + new).
// https://learn.microsoft.com/en-us/graph/api/application-update
pub async fn set_key_credentials<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
    keys: &[KeyCredential],
) -> Result<(), ApiError> {
    update_application(api, object_id, &json!({ "keyCredentials": keys })).await
}

// https://learn.microsoft.com/en-us/graph/api/application-addpassword
pub async fn add_password<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
    display_name: &str,
    end: Option<crate::core::time::UnixTime>,
) -> Result<NewPassword, ApiError> {
    let mut credential = json!({ "displayName": display_name });
    if let Some(end) = end {
        credential["endDateTime"] = json!(end);
    }
    let v = api
        .graph(
            Method::Post,
            &format!("/applications/{object_id}/addPassword"),
            Some(json!({ "passwordCredential": credential })),
        )
        .await?;
    decode(Service::Graph, "the new client secret", v)
}

// https://learn.microsoft.com/en-us/graph/api/application-removepassword
pub async fn remove_password<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
    key_id: &str,
) -> Result<(), ApiError> {
    api.graph(
        Method::Post,
        &format!("/applications/{object_id}/removePassword"),
        Some(json!({ "keyId": key_id })),
    )
    .await
    .map(|_| ())
}

// https://learn.microsoft.com/en-us/graph/api/serviceprincipal-post-serviceprincipals
pub async fn create_service_principal<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    app_id: &str,
) -> Result<ServicePrincipal, ApiError> {
    let v = api
        .graph(
            Method::Post,
            "/servicePrincipals",
            Some(json!({ "appId": app_id })),
        )
        .await?;
    decode(Service::Graph, "the new service principal", v)
}

// https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list (filter by appId)
pub async fn find_service_principal<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    app_id: &str,
) -> Result<Option<ServicePrincipal>, ApiError> {
    let path = format!(
        "/servicePrincipals?{}",
        filter(&format!("appId eq '{}'", odata_quote(app_id)))
    );
    let v = api.graph(Method::Get, &path, None).await?;
    Ok(list::<ServicePrincipal>("service principals", v)?
        .into_iter()
        .next())
}

/// App roles granted to a service principal (as the principal).
// https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list-approleassignments
pub async fn list_app_role_assignments<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    principal_sp_id: &str,
) -> Result<Vec<AppRoleAssignment>, ApiError> {
    list_all(
        api,
        "app role assignments",
        &format!("/servicePrincipals/{principal_sp_id}/appRoleAssignments"),
    )
    .await
}

/// Grants an app role of the resource to a service principal.
// https://learn.microsoft.com/en-us/graph/api/serviceprincipal-post-approleassignedto
pub async fn grant_app_role<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    resource_sp_id: &str,
    principal_sp_id: &str,
    app_role_id: &str,
) -> Result<AppRoleAssignment, ApiError> {
    let v = api
        .graph(
            Method::Post,
            &format!("/servicePrincipals/{resource_sp_id}/appRoleAssignedTo"),
            Some(json!({
                "principalId": principal_sp_id,
                "resourceId": resource_sp_id,
                "appRoleId": app_role_id,
            })),
        )
        .await?;
    decode(Service::Graph, "the app role assignment", v)
}

/// Tenant-wide delegated grants of a client to a resource.
// https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-list
pub async fn find_admin_grants<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    client_sp_id: &str,
    resource_sp_id: &str,
) -> Result<Vec<OAuth2PermissionGrant>, ApiError> {
    let path = format!(
        "/oauth2PermissionGrants?{}",
        filter(&format!(
            "clientId eq '{}' and resourceId eq '{}' and consentType eq 'AllPrincipals'",
            odata_quote(client_sp_id),
            odata_quote(resource_sp_id)
        ))
    );
    list_all(api, "delegated permission grants", &path).await
}

/// Admin consent for the whole organisation (`consentType: AllPrincipals`).
// https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-post
pub async fn create_admin_grant<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    client_sp_id: &str,
    resource_sp_id: &str,
    scope: &str,
) -> Result<OAuth2PermissionGrant, ApiError> {
    let v = api
        .graph(
            Method::Post,
            "/oauth2PermissionGrants",
            Some(json!({
                "clientId": client_sp_id,
                "consentType": "AllPrincipals",
                "resourceId": resource_sp_id,
                "scope": scope,
            })),
        )
        .await?;
    decode(Service::Graph, "the delegated permission grant", v)
}

// https://learn.microsoft.com/en-us/graph/api/oauth2permissiongrant-update
pub async fn update_grant_scope<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    grant_id: &str,
    scope: &str,
) -> Result<(), ApiError> {
    api.graph(
        Method::Patch,
        &format!("/oauth2PermissionGrants/{grant_id}"),
        Some(json!({ "scope": scope })),
    )
    .await
    .map(|_| ())
}

// https://learn.microsoft.com/en-us/graph/api/user-get
pub async fn me<C: HttpClient, S: Sleeper>(api: &ApiClient<'_, C, S>) -> Result<User, ApiError> {
    let v = api.graph(Method::Get, "/me", None).await?;
    decode(Service::Graph, "the signed-in user", v)
}

/// The signed-in user's directory roles (other memberships left out).
// https://learn.microsoft.com/en-us/graph/api/user-list-memberof
pub async fn my_directory_roles<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
) -> Result<Vec<DirectoryRole>, ApiError> {
    let all: Vec<Value> = list_all(api, "group and role memberships", "/me/memberOf").await?;
    all.into_iter()
        .filter(|m| m["@odata.type"] == "#microsoft.graph.directoryRole")
        .map(|m| decode(Service::Graph, "a directory role", m))
        .collect()
}

// https://learn.microsoft.com/en-us/graph/api/organization-list
pub async fn organization<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
) -> Result<Organization, ApiError> {
    let v = api.graph(Method::Get, "/organization", None).await?;
    list::<Organization>("the organization", v)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Unexpected {
            service: Service::Graph,
            what: "the organization".into(),
            detail: "an empty list".into(),
        })
}
