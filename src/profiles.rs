//! Permission profiles: what "the required permissions" are for a kind of
//! service, as data (`profiles/permissions.json`, versioned). Permissions are
//! named (`User.Read`, `Contributor`); their IDs are resolved at run time
//! from the resource's service principal (`appRoles`,
//! `oauth2PermissionScopes`) and from ARM. An admin may load a custom profile
//! in the same JSON form.

use serde::{Deserialize, Serialize};

use crate::arm::builtin;
use crate::core::validate::is_guid;

/// The profiles file format this build reads.
pub const FORMAT_VERSION: u32 = 1;

const BUILT_IN: &str = include_str!("../profiles/permissions.json");

/// The file: a version and the profiles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileFile {
    pub version: u32,
    pub profiles: Vec<Profile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    /// `azure-backup`, `m365-archiver`, `restore-portal`, or a custom ID.
    pub id: String,
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    /// API permissions (Microsoft Graph or another resource) by name.
    #[serde(default)]
    pub resources: Vec<ResourcePermissions>,
    /// Built-in Azure roles to assign at subscription scope, by name.
    #[serde(default)]
    pub azure_roles: Vec<String>,
    /// A custom Azure role to create (if missing) and assign.
    #[serde(default)]
    pub custom_role: Option<CustomRole>,
    /// A delegated scope the application exposes (`api://{appId}/{scope}`).
    #[serde(default)]
    pub expose_scope: Option<String>,
    /// The service's web address becomes a `spa` redirect URI.
    #[serde(default)]
    pub spa_redirect: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourcePermissions {
    /// appId of the API, e.g. Microsoft Graph's `00000003-0000-0000-c000-000000000000`.
    pub resource_app_id: String,
    pub display_name: String,
    /// Application permissions (app roles) by value, e.g. `User.Read.All`.
    #[serde(default)]
    pub application_permissions: Vec<String>,
    /// Delegated permissions (scopes) by value, e.g. `User.Read`.
    #[serde(default)]
    pub delegated_permissions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomRole {
    pub role_name: String,
    #[serde(default)]
    pub description: String,
    pub actions: Vec<String>,
    #[serde(default)]
    pub not_actions: Vec<String>,
}

/// A profile that cannot be used, naming the field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("The profile is not valid JSON for a permission profile: {0}")]
    Json(String),
    #[error("The profiles file is version {found}; this page reads version {FORMAT_VERSION}.")]
    Version { found: u32 },
    #[error("{field}: {problem}")]
    Field { field: String, problem: String },
    #[error("No permission profile is called '{0}'.")]
    Unknown(String),
}

fn field(field: impl Into<String>, problem: impl Into<String>) -> ProfileError {
    ProfileError::Field {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The profiles that ship with the page.
pub fn built_in() -> Vec<Profile> {
    let file: ProfileFile =
        serde_json::from_str(BUILT_IN).expect("profiles/permissions.json is valid");
    file.profiles
}

/// A shipped profile by ID.
pub fn by_id(id: &str) -> Result<Profile, ProfileError> {
    built_in()
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ProfileError::Unknown(id.to_string()))
}

/// Reads a profiles file (or a single profile object) an admin loaded, and
/// validates every profile in it.
pub fn load_custom(json: &str) -> Result<Vec<Profile>, ProfileError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| ProfileError::Json(e.to_string()))?;
    let (profiles, prefix): (Vec<Profile>, bool) = if value.get("profiles").is_some() {
        let file: ProfileFile =
            serde_json::from_value(value).map_err(|e| ProfileError::Json(e.to_string()))?;
        if file.version != FORMAT_VERSION {
            return Err(ProfileError::Version {
                found: file.version,
            });
        }
        (file.profiles, true)
    } else {
        let p: Profile =
            serde_json::from_value(value).map_err(|e| ProfileError::Json(e.to_string()))?;
        (vec![p], false)
    };
    for (i, p) in profiles.iter().enumerate() {
        let at = if prefix {
            format!("profiles[{i}].")
        } else {
            String::new()
        };
        p.validate(&at)?;
    }
    Ok(profiles)
}

/// Reads a custom profile (`load_custom`), refuses the ID of a
/// shipped profile, and adds it to (or replaces it in) `custom`. The ID of
/// the first profile loaded, to select it.
pub fn add_custom(custom: &mut Vec<Profile>, json: &str) -> Result<String, ProfileError> {
    let loaded = load_custom(json)?;
    // A file (`{"version", "profiles"}`) names its fields `profiles[i].…`.
    let is_file =
        serde_json::from_str::<serde_json::Value>(json).is_ok_and(|v| v.get("profiles").is_some());
    for (i, p) in loaded.iter().enumerate() {
        if by_id(&p.id).is_ok() {
            let at = if is_file {
                format!("profiles[{i}].id")
            } else {
                "id".to_string()
            };
            return Err(ProfileError::Field {
                field: at,
                problem: format!(
                    "'{}' is the ID of a profile this page ships; give your profile another ID",
                    p.id
                ),
            });
        }
    }
    let first = loaded.first().map(|p| p.id.clone()).unwrap_or_default();
    for p in loaded {
        custom.retain(|c| c.id != p.id);
        custom.push(p);
    }
    Ok(first)
}

fn is_permission_value(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_action(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty()
        && s == s.trim()
        && (s == "*" || s.contains('/'))
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '*' | '_' | '-'))
}

impl Profile {
    fn validate(&self, at: &str) -> Result<(), ProfileError> {
        let id_ok = !self.id.is_empty()
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return Err(field(
                format!("{at}id"),
                "use lower-case letters, digits and hyphens (e.g. my-service)",
            ));
        }
        if self.display_name.trim().is_empty() {
            return Err(field(format!("{at}displayName"), "must not be empty"));
        }
        for (i, r) in self.resources.iter().enumerate() {
            let f = format!("{at}resources[{i}]");
            if !is_guid(&r.resource_app_id) {
                return Err(field(
                    format!("{f}.resourceAppId"),
                    format!(
                        "'{}' is not an application ID (GUID); Microsoft Graph is 00000003-0000-0000-c000-000000000000",
                        r.resource_app_id
                    ),
                ));
            }
            for (kind, list) in [
                ("applicationPermissions", &r.application_permissions),
                ("delegatedPermissions", &r.delegated_permissions),
            ] {
                for (j, v) in list.iter().enumerate() {
                    if !is_permission_value(v) {
                        return Err(field(
                            format!("{f}.{kind}[{j}]"),
                            format!(
                                "'{v}' is not a permission name such as User.Read or Application.Read.All"
                            ),
                        ));
                    }
                }
            }
            if r.application_permissions.is_empty() && r.delegated_permissions.is_empty() {
                return Err(field(f, "lists no permission"));
            }
        }
        for (i, role) in self.azure_roles.iter().enumerate() {
            if builtin::id_of(role).is_none() {
                let known: Vec<&str> = builtin::ROLES.iter().map(|(n, _)| *n).collect();
                return Err(field(
                    format!("{at}azureRoles[{i}]"),
                    format!(
                        "'{role}' is not a role this page knows; use one of: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        if let Some(c) = &self.custom_role {
            if c.role_name.trim().is_empty() {
                return Err(field(
                    format!("{at}customRole.roleName"),
                    "must not be empty",
                ));
            }
            if builtin::id_of(&c.role_name).is_some() {
                return Err(field(
                    format!("{at}customRole.roleName"),
                    "is the name of a built-in role; choose another name",
                ));
            }
            if c.actions.is_empty() {
                return Err(field(
                    format!("{at}customRole.actions"),
                    "must list at least one action",
                ));
            }
            for (kind, list) in [("actions", &c.actions), ("notActions", &c.not_actions)] {
                for (j, a) in list.iter().enumerate() {
                    if !is_action(a) {
                        return Err(field(
                            format!("{at}customRole.{kind}[{j}]"),
                            format!(
                                "'{a}' is not an Azure action such as Microsoft.Compute/virtualMachines/read"
                            ),
                        ));
                    }
                }
            }
        }
        if let Some(s) = &self.expose_scope
            && !is_permission_value(s)
        {
            return Err(field(
                format!("{at}exposeScope"),
                format!("'{s}' is not a scope name such as access_as_user"),
            ));
        }
        Ok(())
    }

    /// Whether applying the profile touches Azure (needs a subscription).
    pub fn needs_subscription(&self) -> bool {
        !self.azure_roles.is_empty() || self.custom_role.is_some()
    }

    /// Whether any application permission (app role) is granted.
    pub fn grants_app_roles(&self) -> bool {
        self.resources
            .iter()
            .any(|r| !r.application_permissions.is_empty())
    }

    /// `(name, id)` of the built-in roles to assign.
    pub fn built_in_roles(&self) -> Vec<(String, String)> {
        self.azure_roles
            .iter()
            .filter_map(|n| builtin::id_of(n).map(|id| (n.clone(), id.to_string())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_profiles_join_the_list_but_not_over_a_shipped_one() {
        let one = r#"{"id":"reader","displayName":"Reader","resources":[{"resourceAppId":"00000003-0000-0000-c000-000000000000","displayName":"Microsoft Graph","applicationPermissions":["Application.Read.All"]}]}"#;
        let mut custom = Vec::new();
        assert_eq!(add_custom(&mut custom, one).unwrap(), "reader");
        // Loading it again replaces it.
        let renamed = one.replace("\"Reader\"", "\"Reader 2\"");
        assert_eq!(add_custom(&mut custom, &renamed).unwrap(), "reader");
        assert_eq!(custom.len(), 1);
        assert_eq!(custom[0].display_name, "Reader 2");
        assert_eq!(
            custom[0].resources[0].application_permissions,
            ["Application.Read.All"]
        );
        let shipped = one.replace("\"reader\"", "\"azure-backup\"");
        assert_eq!(
            add_custom(&mut custom, &shipped).unwrap_err().to_string(),
            "id: 'azure-backup' is the ID of a profile this page ships; give your profile another ID"
        );
        let file = format!(r#"{{"version":1,"profiles":[{}]}}"#, shipped);
        assert!(
            add_custom(&mut custom, &file)
                .unwrap_err()
                .to_string()
                .starts_with("profiles[0].id: ")
        );
        let bad = one.replace("00000003-0000-0000-c000-000000000000", "graph");
        assert!(
            add_custom(&mut custom, &bad)
                .unwrap_err()
                .to_string()
                .starts_with("resources[0].resourceAppId: 'graph' is not an application ID")
        );
        assert_eq!(custom.len(), 1);
    }

    #[test]
    fn shipped_profiles_are_valid() {
        let all = built_in();
        let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["azure-backup", "m365-archiver", "restore-portal"]);
        for p in &all {
            p.validate("").unwrap();
        }
        let backup = by_id("azure-backup").unwrap();
        assert_eq!(
            backup
                .built_in_roles()
                .iter()
                .map(|(_, id)| id.as_str())
                .collect::<Vec<_>>(),
            [
                builtin::CONTRIBUTOR,
                builtin::KEY_VAULT_CRYPTO_USER,
                builtin::STORAGE_QUEUE_DATA_CONTRIBUTOR
            ]
        );
        assert!(backup.needs_subscription());
        let archiver = by_id("m365-archiver").unwrap();
        let actions = &archiver.custom_role.as_ref().unwrap().actions;
        assert!(actions.contains(&"Microsoft.Compute/disks/delete".to_string()));
        assert!(actions.contains(&"Microsoft.Storage/storageAccounts/read".to_string()));
        let portal = by_id("restore-portal").unwrap();
        assert_eq!(portal.resources[0].delegated_permissions, ["User.Read"]);
        assert_eq!(portal.expose_scope.as_deref(), Some("access_as_user"));
        assert!(!portal.needs_subscription());
        assert!(matches!(by_id("nope"), Err(ProfileError::Unknown(_))));
    }

    #[test]
    fn custom_profile_loads() {
        let p = load_custom(
            r#"{"id": "mail-export", "displayName": "Mail export",
                "resources": [{"resourceAppId": "00000003-0000-0000-c000-000000000000",
                  "displayName": "Microsoft Graph", "applicationPermissions": ["Mail.Read"]}],
                "azureRoles": ["Contributor"]}"#,
        )
        .unwrap();
        assert_eq!(p[0].id, "mail-export");
        assert!(p[0].grants_app_roles());
    }

    #[test]
    fn errors_name_the_bad_field() {
        let err = |json: &str| load_custom(json).unwrap_err().to_string();
        assert!(
            err(r#"{"id": "x", "displayName": "X", "azureRoles": ["Contributer"]}"#)
                .starts_with("azureRoles[0]: 'Contributer'")
        );
        assert!(
            err(
                r#"{"id": "x", "displayName": "X", "resources": [{"resourceAppId": "graph",
            "displayName": "G", "delegatedPermissions": ["User.Read"]}]}"#
            )
            .starts_with("resources[0].resourceAppId:")
        );
        assert!(
            err(
                r#"{"id": "x", "displayName": "X", "resources": [{"resourceAppId":
            "00000003-0000-0000-c000-000000000000", "displayName": "G",
            "delegatedPermissions": ["User Read"]}]}"#
            )
            .starts_with("resources[0].delegatedPermissions[0]:")
        );
        assert!(
            err(
                r#"{"version": 1, "profiles": [{"id": "ok", "displayName": "A"},
            {"id": "Bad Id", "displayName": "B"}]}"#
            )
            .starts_with("profiles[1].id:")
        );
        assert!(
            err(
                r#"{"id": "x", "displayName": "X", "customRole": {"roleName": "R",
            "actions": ["read everything"]}}"#
            )
            .starts_with("customRole.actions[0]:")
        );
        assert!(err(r#"{"id": "x", "displayName": " "}"#).starts_with("displayName:"));
        assert!(err(r#"{"version": 2, "profiles": []}"#).contains("version 2"));
        assert!(err(r#"{"id": "x", "displayName": "X", "azureRole": []}"#).contains("azureRole"));
    }
}
