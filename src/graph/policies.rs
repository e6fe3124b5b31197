//! The tenant's app management policies, as Graph returns them: the
//! default (`/policies/defaultAppManagementPolicy`) and the custom policy
//! assigned to one application (`/applications/{id}/appManagementPolicies`).
//! `flows::policy` decides what they allow.
// https://learn.microsoft.com/en-us/graph/api/resources/tenantappmanagementpolicy
// https://learn.microsoft.com/en-us/graph/api/resources/appmanagementpolicy
// https://learn.microsoft.com/en-us/graph/api/resources/passwordcredentialconfiguration
// https://learn.microsoft.com/en-us/graph/api/resources/keycredentialconfiguration

use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;
use crate::client::{ApiClient, ApiRequest, list_all};
use crate::http::{HttpClient, Sleeper};

/// The requests, as data (reads only: the page never changes a policy).
pub mod request {
    use crate::client::ApiRequest;
    use crate::http::Method::Get;

    // https://learn.microsoft.com/en-us/graph/api/tenantappmanagementpolicy-get
    pub fn get_default_policy() -> ApiRequest {
        ApiRequest::graph(Get, "/policies/defaultAppManagementPolicy")
    }

    // https://learn.microsoft.com/en-us/graph/api/application-list-appmanagementpolicies
    pub fn list_application_policies(object_id: &str) -> ApiRequest {
        ApiRequest::graph(
            Get,
            format!("/applications/{object_id}/appManagementPolicies"),
        )
    }
}

/// One restriction: `restrictionType` (`passwordAddition`,
/// `passwordLifetime`, `customPasswordAddition`, `symmetricKeyAddition`,
/// `symmetricKeyLifetime`, `asymmetricKeyLifetime`, …), its `state`, its
/// `maxLifetime` (ISO 8601 duration) and the creation date from which it
/// applies (`null`: every application).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRestriction {
    #[serde(default)]
    pub restriction_type: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub max_lifetime: Option<String>,
    #[serde(default)]
    pub restrict_for_apps_created_after_date_time: Option<String>,
}

/// `passwordCredentials` and `keyCredentials` restrictions (either may be
/// absent or `null`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Restrictions {
    #[serde(default)]
    pub password_credentials: Option<Vec<CredentialRestriction>>,
    #[serde(default)]
    pub key_credentials: Option<Vec<CredentialRestriction>>,
}

/// `tenantAppManagementPolicy`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantAppManagementPolicy {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub is_enabled: bool,
    #[serde(default)]
    pub application_restrictions: Option<Restrictions>,
}

/// `appManagementPolicy` (a custom policy).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppManagementPolicy {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Absent means enabled.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    #[serde(default)]
    pub restrictions: Option<Restrictions>,
}

pub async fn get_default_policy<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
) -> Result<TenantAppManagementPolicy, ApiError> {
    api.fetch(
        &request::get_default_policy(),
        "the default app management policy",
    )
    .await
}

pub async fn list_application_policies<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: &str,
) -> Result<Vec<AppManagementPolicy>, ApiError> {
    let first: ApiRequest = request::list_application_policies(object_id);
    list_all(api, first, "the application's app management policies").await
}
