//! Microsoft's real, well-known identifiers: first-party applications, the
//! Microsoft Graph permission IDs, directory role templates and built-in Azure
//! roles. They are the same in every tenant.
// https://learn.microsoft.com/en-us/graph/permissions-reference
// https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference
// https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles

use serde_json::{Value, json};

/// The tenant that owns Microsoft's first-party applications.
pub const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
pub const ARM_APP_ID: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";
pub const ARM_RESOURCE: &str = "https://management.azure.com";
/// Audience of the addKey/removeKey proof-of-possession token (Azure AD Graph).
pub const PROOF_AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";

/// (value, delegated scope id, application role id)
pub const GRAPH_PERMISSIONS: &[(&str, Option<&str>, Option<&str>)] = &[
    (
        "User.Read",
        Some("e1fe6dd8-ba31-4d61-89e7-88639da4683d"),
        None,
    ),
    (
        "User.Read.All",
        Some("a154be20-db9c-4678-8ab7-66f6cc099a59"),
        Some("df021288-bdef-4463-88db-98f22de89214"),
    ),
    (
        "Directory.Read.All",
        Some("06da0dbc-49e2-44d2-8312-53f166ab848a"),
        Some("7ab1d382-f21e-4acd-a863-ba3e13f7da61"),
    ),
    (
        "Directory.AccessAsUser.All",
        Some("0e263e50-5827-48a4-b97c-d940288653c7"),
        None,
    ),
    (
        "Application.Read.All",
        Some("c79f8feb-a9db-4090-85f9-90d820caa0eb"),
        Some("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"),
    ),
    (
        "Application.ReadWrite.All",
        Some("bdfbf15f-ee85-4955-8675-146e8e5296b5"),
        Some("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9"),
    ),
    (
        "Application.ReadWrite.OwnedBy",
        None,
        Some("18a4783c-866b-4cc7-a460-3d5e5662c884"),
    ),
    (
        "AppRoleAssignment.ReadWrite.All",
        Some("84bccea3-f856-4a8a-967b-dbe0a3d53a64"),
        Some("06b708a9-e830-4db3-a914-8e69da51d44f"),
    ),
    (
        "DelegatedPermissionGrant.ReadWrite.All",
        Some("41ce6ca6-6826-4807-84f1-1c82854f7ee5"),
        Some("8e8e4742-1d95-4f68-9d56-6ee75648c72a"),
    ),
    (
        "offline_access",
        Some("7427e0e9-2fba-42fe-b0c0-848c9e6a8182"),
        None,
    ),
    ("openid", Some("37f7f235-527c-4136-accd-4a02d197296e"), None),
    (
        "profile",
        Some("14dad69e-099b-42c9-810b-d002981feec1"),
        None,
    ),
    ("email", Some("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0"), None),
    (
        "Policy.Read.All",
        Some("572fea84-0151-49b2-9301-11cb16974376"),
        Some("246dd0d5-5bd0-4def-940b-0421030a5b68"),
    ),
    (
        "Policy.ReadWrite.ApplicationConfiguration",
        Some("b27add92-efb2-4f16-84f5-8108ba77985c"),
        Some("be74164b-cff1-491c-8741-e671cb536e13"),
    ),
];

/// Delegated scopes a user may consent to for themselves; the rest need an admin.
pub const USER_CONSENTABLE: &[&str] =
    &["User.Read", "offline_access", "openid", "profile", "email"];

/// Scopes that are OpenID Connect's, not Graph permissions carried in `scp`.
pub const OIDC_SCOPES: &[&str] = &["offline_access", "openid", "profile", "email"];

pub const ARM_USER_IMPERSONATION: &str = "41094075-9dad-400e-a0bd-54e686782033";

pub fn graph_scope_id(value: &str) -> Option<&'static str> {
    GRAPH_PERMISSIONS
        .iter()
        .find(|p| p.0.eq_ignore_ascii_case(value))
        .and_then(|p| p.1)
}

pub fn graph_role_id(value: &str) -> Option<&'static str> {
    GRAPH_PERMISSIONS
        .iter()
        .find(|p| p.0.eq_ignore_ascii_case(value))
        .and_then(|p| p.2)
}

pub fn graph_service_principal_body() -> Value {
    let mut roles = Vec::new();
    let mut scopes = Vec::new();
    for (value, scope, role) in GRAPH_PERMISSIONS {
        if let Some(id) = role {
            roles.push(json!({
                "allowedMemberTypes": ["Application"],
                "description": format!("Allows the app to use {value} without a signed-in user."),
                "displayName": value.replace('.', " "),
                "id": id,
                "isEnabled": true,
                "origin": "Application",
                "value": value,
            }));
        }
        if let Some(id) = scope {
            let admin = !USER_CONSENTABLE.contains(value);
            scopes.push(json!({
                "adminConsentDescription": format!("Allows the app to use {value} on behalf of the signed-in user."),
                "adminConsentDisplayName": value.replace('.', " "),
                "id": id,
                "isEnabled": true,
                "type": if admin { "Admin" } else { "User" },
                "userConsentDescription": format!("Allows the app to use {value} on your behalf."),
                "userConsentDisplayName": value.replace('.', " "),
                "value": value,
            }));
        }
    }
    json!({
        "appId": GRAPH_APP_ID,
        "displayName": "Microsoft Graph",
        "appDisplayName": "Microsoft Graph",
        "appOwnerOrganizationId": MICROSOFT_TENANT,
        "servicePrincipalNames": [GRAPH_APP_ID, "https://graph.microsoft.com", "https://graph.microsoft.com/", "https://canary.graph.microsoft.com", "https://ags.windows.net", "https://dod-graph.microsoft.us"],
        "appRoles": roles,
        "oauth2PermissionScopes": scopes,
    })
}

pub fn arm_service_principal_body() -> Value {
    json!({
        "appId": ARM_APP_ID,
        "displayName": "Windows Azure Service Management API",
        "appDisplayName": "Windows Azure Service Management API",
        "appOwnerOrganizationId": MICROSOFT_TENANT,
        "servicePrincipalNames": [ARM_APP_ID, "https://management.azure.com/", "https://management.core.windows.net/"],
        "appRoles": [],
        "oauth2PermissionScopes": [{
            "adminConsentDescription": "Allows the application to access the Azure Management Service API acting as users in the organization.",
            "adminConsentDisplayName": "Access Azure Service Management as organization users (preview)",
            "id": ARM_USER_IMPERSONATION,
            "isEnabled": true,
            "type": "User",
            "userConsentDescription": "Allows the application to access Azure Service Management as you.",
            "userConsentDisplayName": "Access Azure Service Management as you (preview)",
            "value": "user_impersonation",
        }],
    })
}

/// Directory role templates: (template id, display name).
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const APPLICATION_ADMINISTRATOR: &str = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3";
pub const CLOUD_APPLICATION_ADMINISTRATOR: &str = "158c047a-c907-4556-b7ef-446551a6b5f7";
pub const PRIVILEGED_ROLE_ADMINISTRATOR: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
/// Updates the tenant's default app management policy
/// (https://learn.microsoft.com/en-us/graph/api/tenantappmanagementpolicy-update).
pub const SECURITY_ADMINISTRATOR: &str = "194ae4cb-b126-40b2-bd5b-6091b380977d";

pub const DIRECTORY_ROLES: &[(&str, &str, &str)] = &[
    (
        GLOBAL_ADMINISTRATOR,
        "Global Administrator",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
    ),
    (
        APPLICATION_ADMINISTRATOR,
        "Application Administrator",
        "Can create and manage all aspects of app registrations and enterprise apps.",
    ),
    (
        CLOUD_APPLICATION_ADMINISTRATOR,
        "Cloud Application Administrator",
        "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
    ),
    (
        PRIVILEGED_ROLE_ADMINISTRATOR,
        "Privileged Role Administrator",
        "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
    ),
];

pub fn directory_role_name(template: &str) -> Option<&'static str> {
    DIRECTORY_ROLES
        .iter()
        .find(|r| r.0 == template)
        .map(|r| r.1)
}

/// Built-in Azure role definitions: (id, name, description, actions, notActions, dataActions).
pub struct BuiltInRole {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub actions: &'static [&'static str],
    pub not_actions: &'static [&'static str],
    pub data_actions: &'static [&'static str],
}

pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
pub const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
pub const KEY_VAULT_CRYPTO_OFFICER: &str = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603";
pub const KEY_VAULT_CRYPTO_USER: &str = "12338af0-0e69-4776-bea7-57ae8d297424";
pub const STORAGE_QUEUE_DATA_CONTRIBUTOR: &str = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
pub const RBAC_ADMINISTRATOR: &str = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
pub const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

pub const BUILT_IN_ROLES: &[BuiltInRole] = &[
    BuiltInRole {
        id: OWNER,
        name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltInRole {
        id: CONTRIBUTOR,
        name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ],
        data_actions: &[],
    },
    BuiltInRole {
        id: USER_ACCESS_ADMINISTRATOR,
        name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltInRole {
        id: RBAC_ADMINISTRATOR,
        name: "Role Based Access Control Administrator",
        description: "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.",
        actions: &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltInRole {
        id: READER,
        name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltInRole {
        id: KEY_VAULT_CRYPTO_OFFICER,
        name: "Key Vault Crypto Officer",
        description: "Perform any action on the keys of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
            "Microsoft.KeyVault/checkNameAvailability/read",
            "Microsoft.KeyVault/deletedVaults/read",
            "Microsoft.KeyVault/locations/*/read",
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/operations/read",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/*",
            "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
        ],
    },
    BuiltInRole {
        id: KEY_VAULT_CRYPTO_USER,
        name: "Key Vault Crypto User",
        description: "Perform cryptographic operations using keys. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/update/action",
            "Microsoft.KeyVault/vaults/keys/backup/action",
            "Microsoft.KeyVault/vaults/keys/encrypt/action",
            "Microsoft.KeyVault/vaults/keys/decrypt/action",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
            "Microsoft.KeyVault/vaults/keys/sign/action",
            "Microsoft.KeyVault/vaults/keys/verify/action",
        ],
    },
    BuiltInRole {
        id: STORAGE_QUEUE_DATA_CONTRIBUTOR,
        name: "Storage Queue Data Contributor",
        description: "Read, write, and delete Azure Storage queues and queue messages.",
        actions: &[
            "Microsoft.Storage/storageAccounts/queueServices/queues/delete",
            "Microsoft.Storage/storageAccounts/queueServices/queues/read",
            "Microsoft.Storage/storageAccounts/queueServices/queues/write",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.Storage/storageAccounts/queueServices/queues/messages/delete",
            "Microsoft.Storage/storageAccounts/queueServices/queues/messages/read",
            "Microsoft.Storage/storageAccounts/queueServices/queues/messages/write",
            "Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action",
        ],
    },
];

pub fn built_in_role(id: &str) -> Option<&'static BuiltInRole> {
    BUILT_IN_ROLES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id))
}

pub fn built_in_role_by_name(name: &str) -> Option<&'static BuiltInRole> {
    BUILT_IN_ROLES
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(name))
}
