//! Adds to an existing application's `requiredResourceAccess` what it
//! misses (whole-collection PATCH: the existing entries are sent back).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::ApiRequest;
use crate::graph::{self, RequiredResourceAccess, ResourceAccess, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{Outcome, StepRecord};
use crate::profiles::ResourcePermissions;

use super::{Ctx, Run, StepKind, and_list, done};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddRequiredPermissions {
    pub permissions: Vec<ResourcePermissions>,
}

/// The APIs the permissions are of, by appId.
pub(crate) fn resource_ids(permissions: &[ResourcePermissions]) -> Vec<&str> {
    permissions
        .iter()
        .map(|p| p.resource_app_id.as_str())
        .collect()
}

/// `requiredResourceAccess` entries for the permissions, with IDs read
/// from each resource's service principal.
pub(crate) async fn resolve<C: HttpClient, S: Sleeper>(
    run: &mut Run<'_, '_, C, S>,
    permissions: &[ResourcePermissions],
) -> Result<Vec<RequiredResourceAccess>, StepError> {
    let mut out = Vec::new();
    for p in permissions {
        let sp = run.resource(&p.resource_app_id, &p.display_name).await?;
        let mut access = Vec::new();
        for name in &p.application_permissions {
            let role = sp
                .app_role(name)
                .ok_or_else(|| StepError::PermissionNotFound {
                    resource: p.display_name.clone(),
                    kind: "application permission",
                    permission: name.clone(),
                })?;
            access.push(ResourceAccess {
                id: role.id.clone(),
                kind: "Role".into(),
            });
        }
        for name in &p.delegated_permissions {
            let scope = sp
                .scope(name)
                .ok_or_else(|| StepError::PermissionNotFound {
                    resource: p.display_name.clone(),
                    kind: "delegated permission",
                    permission: name.clone(),
                })?;
            access.push(ResourceAccess {
                id: scope.id.clone(),
                kind: "Scope".into(),
            });
        }
        out.push(RequiredResourceAccess {
            resource_app_id: p.resource_app_id.clone(),
            resource_access: access,
        });
    }
    Ok(out)
}

/// What [`resolve`] gives, with the IDs still to be read as placeholders.
pub(crate) fn access_placeholders(permissions: &[ResourcePermissions]) -> Value {
    let access: Vec<RequiredResourceAccess> = permissions
        .iter()
        .map(|p| RequiredResourceAccess {
            resource_app_id: p.resource_app_id.clone(),
            resource_access: p
                .application_permissions
                .iter()
                .map(|n| ResourceAccess {
                    id: format!("{{{n} app role id}}"),
                    kind: "Role".into(),
                })
                .chain(p.delegated_permissions.iter().map(|n| ResourceAccess {
                    id: format!("{{{n} scope id}}"),
                    kind: "Scope".into(),
                }))
                .collect(),
        })
        .collect();
    json!(access)
}

/// `existing` plus what `wanted` adds; `None` when nothing is missing.
pub(crate) fn merge_access(
    existing: &[RequiredResourceAccess],
    wanted: &[RequiredResourceAccess],
) -> Option<Vec<RequiredResourceAccess>> {
    let mut out = existing.to_vec();
    let mut changed = false;
    for w in wanted {
        match out
            .iter_mut()
            .find(|e| e.resource_app_id.eq_ignore_ascii_case(&w.resource_app_id))
        {
            Some(e) => {
                for a in &w.resource_access {
                    if !e
                        .resource_access
                        .iter()
                        .any(|x| x.id == a.id && x.kind == a.kind)
                    {
                        e.resource_access.push(a.clone());
                        changed = true;
                    }
                }
            }
            None => {
                out.push(w.clone());
                changed = true;
            }
        }
    }
    changed.then_some(out)
}

fn patch(access: Value) -> Value {
    json!({ "requiredResourceAccess": access })
}

impl StepKind for AddRequiredPermissions {
    const KIND: &'static str = "addRequiredPermissions";

    fn sentence(&self) -> String {
        let names: Vec<String> = self
            .permissions
            .iter()
            .flat_map(|r| {
                r.application_permissions
                    .iter()
                    .chain(&r.delegated_permissions)
                    .cloned()
            })
            .collect();
        format!(
            "Add the required permissions {} to the application",
            and_list(&names)
        )
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let app = ctx.app_object_id();
        let mut out = vec![request::get_application(&app)];
        out.extend(
            self.resources()
                .into_iter()
                .filter_map(|id| ctx.resource_lookup(id)),
        );
        let mut all = vec![json!("{...existing requiredResourceAccess}")];
        all.extend(
            access_placeholders(&self.permissions)
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        out.push(request::update_application(&app, patch(json!(all))));
        out
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        let (app, current) = run.current_application().await?;
        let wanted = resolve(run, &self.permissions).await?;
        match merge_access(&current.required_resource_access, &wanted) {
            None => Ok(done(Outcome::AlreadyDone, vec![], None)),
            Some(all) => {
                graph::update_application(run.api, &app.object_id, &patch(json!(all))).await?;
                Ok(done(Outcome::Changed, vec![], None))
            }
        }
    }

    fn resources(&self) -> Vec<&str> {
        resource_ids(&self.permissions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rra(app: &str, ids: &[(&str, &str)]) -> RequiredResourceAccess {
        RequiredResourceAccess {
            resource_app_id: app.into(),
            resource_access: ids
                .iter()
                .map(|(id, k)| ResourceAccess {
                    id: id.to_string(),
                    kind: k.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn required_access_merges_without_duplicates() {
        let existing = vec![rra("g", &[("a", "Scope")])];
        assert_eq!(
            merge_access(&existing, &[rra("g", &[("a", "Scope")])]),
            None
        );
        let merged = merge_access(
            &existing,
            &[rra("g", &[("b", "Role")]), rra("h", &[("c", "Scope")])],
        )
        .unwrap();
        assert_eq!(
            merged,
            vec![
                rra("g", &[("a", "Scope"), ("b", "Role")]),
                rra("h", &[("c", "Scope")])
            ]
        );
    }
}
