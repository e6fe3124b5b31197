//! Grants application permissions (app roles) of an API to the
//! application's service principal.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api_error::ApiError;
use crate::auth::Audience;
use crate::client::ApiRequest;
use crate::graph::{self, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::StepRecord;
use crate::plan::execute::StepError;
use crate::plan::preflight::{self, Requirement, directory_roles};

use super::{APPLICATIONS, Ctx, Run, StepKind, and_list, changed_if, done, plural};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantAppRoles {
    pub resource_app_id: String,
    pub resource_name: String,
    pub permissions: Vec<String>,
}

/// Graph's answer to granting an app role the principal already has.
fn already_assigned(e: &ApiError) -> bool {
    e.service().is_some_and(|s| {
        s.status == 400
            && s.message
                .contains("Permission being assigned already exists on the object")
    })
}

impl StepKind for GrantAppRoles {
    const KIND: &'static str = "grantAppRoles";

    fn sentence(&self) -> String {
        format!(
            "Grant {} application permission{} {}",
            self.resource_name,
            plural(self.permissions.len()),
            and_list(&self.permissions)
        )
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let sp = ctx.sp_id();
        let mut out: Vec<ApiRequest> = ctx
            .resource_lookup(&self.resource_app_id)
            .into_iter()
            .collect();
        if !ctx.fresh_principal() {
            out.push(request::list_app_role_assignments(&sp));
        }
        for p in &self.permissions {
            let mut grant = request::grant_app_role("{resource-service-principal-id}", &sp, "");
            if let Some(body) = grant.body.as_mut() {
                body["appRoleId"] = json!(format!("{{{p} app role id}}"));
            }
            out.push(grant);
        }
        out
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        let sp = run.sp()?;
        let resource = run
            .resource(&self.resource_app_id, &self.resource_name)
            .await?;
        let mut roles = Vec::new();
        for name in &self.permissions {
            let role = resource
                .app_role(name)
                .ok_or_else(|| StepError::PermissionNotFound {
                    resource: self.resource_name.clone(),
                    kind: "application permission",
                    permission: name.clone(),
                })?;
            roles.push(role.id.clone());
        }
        let existing = if run.fresh_principal() {
            Vec::new()
        } else {
            graph::list_app_role_assignments(run.api, &sp).await?
        };
        let mut ids = Vec::new();
        let mut changed = false;
        for role in roles {
            if let Some(a) = existing
                .iter()
                .find(|a| a.resource_id == resource.id && a.app_role_id == role)
            {
                ids.push(a.id.clone());
                continue;
            }
            match graph::grant_app_role(run.api, &resource.id, &sp, &role).await {
                Ok(a) => {
                    ids.push(a.id);
                    changed = true;
                }
                Err(e) if already_assigned(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(done(changed_if(changed), ids, None))
    }

    fn advice(&self, error: &StepError) -> Option<String> {
        if !error.has_code("Authorization_RequestDenied") {
            return None;
        }
        let who = if self.resource_app_id == graph::GRAPH_APP_ID {
            "Granting Microsoft Graph application permissions needs the Global Administrator \
             or Privileged Role Administrator role; Application Administrator and Cloud \
             Application Administrator may not grant them."
                .to_string()
        } else {
            format!(
                "Granting {} application permissions needs Application Administrator, Cloud \
                 Application Administrator or Global Administrator.",
                self.resource_name
            )
        };
        Some(format!(
            "{who} Ask an administrator with that role to sign in here and apply again, or to \
             grant admin consent for {} on the application's API permissions page in the \
             Microsoft Entra admin center. {}",
            self.permissions.join(", "),
            super::AGAIN
        ))
    }

    fn requirements(&self) -> Vec<Requirement> {
        if self.resource_app_id == graph::GRAPH_APP_ID {
            vec![Requirement::DirectoryRole {
                any_of: vec![
                    directory_roles::GLOBAL_ADMINISTRATOR.into(),
                    directory_roles::PRIVILEGED_ROLE_ADMINISTRATOR.into(),
                ],
                purpose: format!("grant {} application permissions", self.resource_name),
            }]
        } else {
            vec![preflight::app_admin()]
        }
    }

    fn scopes(&self) -> &'static [(Audience, &'static str)] {
        &[
            APPLICATIONS,
            (Audience::Graph, "AppRoleAssignment.ReadWrite.All"),
        ]
    }

    fn resources(&self) -> Vec<&str> {
        vec![&self.resource_app_id]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_app_role_refusal_is_explained() {
        let step = GrantAppRoles {
            resource_app_id: graph::GRAPH_APP_ID.into(),
            resource_name: "Microsoft Graph".into(),
            permissions: vec!["Application.Read.All".into()],
        };
        let err = StepError::Api(ApiError::Service(crate::api_error::ServiceError {
            service: crate::api_error::Service::Graph,
            status: 403,
            code: "Authorization_RequestDenied".into(),
            message: "Insufficient privileges to complete the operation.".into(),
            detail_codes: vec![],
            request_id: None,
        }));
        let a = step.advice(&err).unwrap();
        assert!(
            a.contains("Global Administrator or Privileged Role Administrator"),
            "{a}"
        );
        assert!(a.contains("Application.Read.All"));
    }
}
