//! Runs a plan: each step through the HTTP trait with the retry policy,
//! progress recorded after every step, "already there" counted as done, and
//! a real error stopped on with the step, Microsoft's message and what to do.
//!
//! Every step first looks for its effect (IDs saved in [`Progress`], a
//! lookup by appId, by the plan's marker tag, by role name, by principal)
//! and only then changes anything, so resuming after a lost response or a
//! reload never creates a second application, service principal, grant or
//! role assignment.

use core::ops::ControlFlow;
use std::collections::BTreeMap;

use base64ct::{Base64, Encoding};

use crate::api_error::ApiError;
use crate::arm::{self, Permission};
use crate::client::ApiClient;
use crate::core::certificate::Certificate;
use crate::core::key_credential::{self, KeyCredential, KeyCredentialError};
use crate::graph::{
    self, PermissionScope, RequiredResourceAccess, ResourceAccess, ServicePrincipal,
};
use crate::http::{HttpClient, RetryNotice, Sleeper};
use crate::profiles::ResourcePermissions;

use super::progress::ProgressError;
use super::{
    AppIds, GrantResource, Outcome, Plan, Progress, RequestPreview, RoleRef, Step, StepRecord,
};

/// What the progress list hears while a plan runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Started {
        index: usize,
        sentence: String,
    },
    Retrying {
        index: usize,
        notice: RetryNotice,
    },
    /// A changing request the step sent (redacted), as the disclosure shows it.
    Sent {
        index: usize,
        request: RequestPreview,
    },
    Done {
        index: usize,
        record: StepRecord,
    },
}

/// How an apply ended without error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Every step is done.
    Completed,
    /// The caller asked to stop (from the event callback); resume with the
    /// saved progress.
    Stopped { next_step: usize },
}

/// Why a step could not be done.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(
        "No application with application (client) ID {app_id} exists in this tenant. Check the \
         ID (Microsoft Entra admin center → App registrations → Application (client) ID) and \
         that you signed in to the right tenant."
    )]
    ApplicationNotInTenant { app_id: String },
    #[error(
        "{name} ({app_id}) has no service principal in this tenant, so its permissions cannot \
         be granted."
    )]
    ResourceNotInTenant { app_id: String, name: String },
    #[error("{resource} has no {kind} called '{permission}'. Check the permission profile.")]
    PermissionNotFound {
        resource: String,
        kind: &'static str,
        permission: String,
    },
    #[error(transparent)]
    Certificate(#[from] KeyCredentialError),
    #[error("The certificate in the plan cannot be read: {0}")]
    CertificateUnreadable(String),
    #[error("No custom role called '{0}' exists on the subscription.")]
    CustomRoleMissing(String),
    /// A step ran before the step that provides what it needs.
    #[error("This step needs {0}, which an earlier step provides; the plan is out of order.")]
    Prerequisite(&'static str),
}

/// A stopped apply: which step, what Microsoft said, what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Step {} failed — {sentence}: {error}", index + 1)]
pub struct StepFailure {
    pub index: usize,
    pub sentence: String,
    pub error: StepError,
    pub what_to_do: String,
}

/// Applying could not start, or a step failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Progress(#[from] ProgressError),
    #[error(transparent)]
    Step(#[from] StepFailure),
}

/// Runs the steps of `plan` not yet done in `progress`. After every step
/// `on_event` gets the updated progress (save it: it holds no secret) and
/// may return `ControlFlow::Break(())` to stop there.
pub async fn apply<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    plan: &Plan,
    progress: &mut Progress,
    on_event: &mut dyn FnMut(&Event, &Progress) -> ControlFlow<()>,
) -> Result<Finish, ApplyError> {
    progress.check(plan)?;
    let mut resources = Resources::default();
    for (index, step) in plan.steps.iter().enumerate() {
        if progress.steps[index].is_done() {
            continue;
        }
        let _ = on_event(
            &Event::Started {
                index,
                sentence: step.sentence(),
            },
            progress,
        );
        api.expect_replication(progress.application_created);
        let result = run(api, plan, step, progress, &mut resources).await;
        for notice in api.take_retries() {
            let _ = on_event(&Event::Retrying { index, notice }, progress);
        }
        for request in api.take_changes() {
            let _ = on_event(&Event::Sent { index, request }, progress);
        }
        let record = result.map_err(|error| StepFailure {
            index,
            sentence: step.sentence(),
            what_to_do: advice(step, &error),
            error,
        })?;
        progress.steps[index] = record.clone();
        if on_event(&Event::Done { index, record }, progress).is_break()
            && let Some(next_step) = progress.next_step()
        {
            return Ok(Finish::Stopped { next_step });
        }
    }
    Ok(Finish::Completed)
}

/// Resource service principals looked up during this run, by appId.
#[derive(Default)]
struct Resources(BTreeMap<String, ServicePrincipal>);

impl Resources {
    async fn get<C: HttpClient, S: Sleeper>(
        &mut self,
        api: &ApiClient<'_, C, S>,
        app_id: &str,
        name: &str,
    ) -> Result<ServicePrincipal, StepError> {
        if let Some(sp) = self.0.get(app_id) {
            return Ok(sp.clone());
        }
        let sp = graph::find_service_principal(api, app_id)
            .await?
            .ok_or_else(|| StepError::ResourceNotInTenant {
                app_id: app_id.into(),
                name: name.into(),
            })?;
        self.0.insert(app_id.into(), sp.clone());
        Ok(sp)
    }
}

fn done(outcome: Outcome, ids: Vec<String>, note: Option<String>) -> StepRecord {
    StepRecord {
        outcome: Some(outcome),
        ids,
        note,
    }
}

fn app_of(progress: &Progress) -> Result<AppIds, StepError> {
    progress
        .application
        .clone()
        .ok_or(StepError::Prerequisite("the application"))
}

fn sp_of(progress: &Progress) -> Result<String, StepError> {
    progress
        .service_principal_id
        .clone()
        .ok_or(StepError::Prerequisite("the service principal"))
}

/// `requiredResourceAccess` entries for the permissions, with IDs read
/// from each resource's service principal.
async fn resolve<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    resources: &mut Resources,
    permissions: &[ResourcePermissions],
) -> Result<Vec<RequiredResourceAccess>, StepError> {
    let mut out = Vec::new();
    for p in permissions {
        let sp = resources
            .get(api, &p.resource_app_id, &p.display_name)
            .await?;
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

/// `existing` plus what `wanted` adds; `None` when nothing is missing.
fn merge_access(
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

async fn run<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    plan: &Plan,
    step: &Step,
    progress: &mut Progress,
    resources: &mut Resources,
) -> Result<StepRecord, StepError> {
    match step {
        Step::CreateApplication {
            display_name,
            description,
            permissions,
            spa_redirect_uris,
            web_redirect_uris,
        } => {
            if let Some(app) = &progress.application {
                return Ok(done(
                    Outcome::AlreadyDone,
                    vec![app.object_id.clone()],
                    None,
                ));
            }
            let marker = plan.marker();
            // An earlier attempt whose answer was lost: the plan's marker.
            let earlier = graph::find_applications_by_name(api, display_name)
                .await?
                .into_iter()
                .find(|a| a.tags.contains(&marker));
            if let Some(app) = earlier {
                progress.application = Some(AppIds {
                    object_id: app.id.clone(),
                    app_id: app.app_id.clone(),
                });
                progress.application_created = true;
                return Ok(done(
                    Outcome::AlreadyDone,
                    vec![app.id],
                    Some("created by an earlier attempt".into()),
                ));
            }
            let access = resolve(api, resources, permissions).await?;
            let mut body = serde_json::json!({
                "displayName": display_name,
                "signInAudience": "AzureADMyOrg",
                "tags": [marker],
                "requiredResourceAccess": access,
            });
            if let Some(d) = description.as_deref().filter(|d| !d.trim().is_empty()) {
                body["description"] = d.into();
            }
            if !spa_redirect_uris.is_empty() {
                body["spa"] = serde_json::json!({ "redirectUris": spa_redirect_uris });
            }
            if !web_redirect_uris.is_empty() {
                body["web"] = serde_json::json!({ "redirectUris": web_redirect_uris });
            }
            let app = graph::create_application(api, &body).await?;
            progress.application = Some(AppIds {
                object_id: app.id.clone(),
                app_id: app.app_id.clone(),
            });
            progress.application_created = true;
            Ok(done(Outcome::Changed, vec![app.id], None))
        }
        Step::FindApplication { app_id } => {
            if let Some(app) = &progress.application {
                return Ok(done(
                    Outcome::AlreadyDone,
                    vec![app.object_id.clone()],
                    None,
                ));
            }
            let app = graph::find_application_by_app_id(api, app_id)
                .await?
                .ok_or_else(|| StepError::ApplicationNotInTenant {
                    app_id: app_id.clone(),
                })?;
            progress.application = Some(AppIds {
                object_id: app.id.clone(),
                app_id: app.app_id.clone(),
            });
            let name = app.display_name.unwrap_or_default();
            Ok(done(
                Outcome::AlreadyDone,
                vec![app.id],
                Some(format!("found '{name}'")),
            ))
        }
        Step::AddRequiredPermissions { permissions } => {
            let app = app_of(progress)?;
            let current = graph::get_application(api, &app.object_id).await?;
            let wanted = resolve(api, resources, permissions).await?;
            match merge_access(&current.required_resource_access, &wanted) {
                None => Ok(done(Outcome::AlreadyDone, vec![], None)),
                Some(all) => {
                    graph::update_application(
                        api,
                        &app.object_id,
                        &serde_json::json!({ "requiredResourceAccess": all }),
                    )
                    .await?;
                    Ok(done(Outcome::Changed, vec![], None))
                }
            }
        }
        Step::CreateServicePrincipal => {
            if let Some(sp) = &progress.service_principal_id {
                return Ok(done(Outcome::AlreadyDone, vec![sp.clone()], None));
            }
            let app = app_of(progress)?;
            if let Some(sp) = graph::find_service_principal(api, &app.app_id).await? {
                progress.service_principal_id = Some(sp.id.clone());
                return Ok(done(Outcome::AlreadyDone, vec![sp.id], None));
            }
            let sp = match graph::create_service_principal(api, &app.app_id).await {
                Ok(sp) => sp,
                Err(e) if e.status() == Some(409) => {
                    graph::find_service_principal(api, &app.app_id)
                        .await?
                        .ok_or(StepError::Api(e))?
                }
                Err(e) => return Err(e.into()),
            };
            progress.service_principal_id = Some(sp.id.clone());
            Ok(done(Outcome::Changed, vec![sp.id], None))
        }
        Step::RegisterCertificate {
            certificate,
            thumbprint,
            ..
        } => {
            let app = app_of(progress)?;
            let existing = graph::get_key_credentials(api, &app.object_id).await?;
            if let Some(k) = key_credential::find_by_thumbprint(&existing, thumbprint) {
                return Ok(done(
                    Outcome::AlreadyDone,
                    k.key_id.clone().into_iter().collect(),
                    None,
                ));
            }
            let der = Base64::decode_vec(certificate)
                .map_err(|e| StepError::CertificateUnreadable(e.to_string()))?;
            let cert = Certificate::from_der(&der)
                .map_err(|e| StepError::CertificateUnreadable(e.to_string()))?;
            let new = KeyCredential::for_certificate(&cert)?;
            let kept = existing.len();
            let all = key_credential::merge(&existing, new, &[])?;
            graph::set_key_credentials(api, &app.object_id, &all).await?;
            let note = (kept > 0).then(|| {
                format!(
                    "kept {kept} existing certificate{}",
                    if kept == 1 { "" } else { "s" }
                )
            });
            Ok(done(Outcome::Changed, vec![], note))
        }
        Step::AddSpaRedirectUri { uri } => {
            let app = app_of(progress)?;
            let current = graph::get_application(api, &app.object_id).await?;
            let mut uris = current.spa.map(|s| s.redirect_uris).unwrap_or_default();
            if uris.iter().any(|u| u == uri) {
                return Ok(done(Outcome::AlreadyDone, vec![], None));
            }
            uris.push(uri.clone());
            graph::update_application(
                api,
                &app.object_id,
                &serde_json::json!({ "spa": { "redirectUris": uris } }),
            )
            .await?;
            Ok(done(Outcome::Changed, vec![], None))
        }
        Step::ExposeApi {
            scope,
            scope_id,
            display_name,
        } => {
            let app = app_of(progress)?;
            let current = graph::get_application(api, &app.object_id).await?;
            let identifier = format!("api://{}", app.app_id);
            let mut uris = current.identifier_uris.clone();
            let mut scopes = current
                .api
                .map(|a| a.oauth2_permission_scopes)
                .unwrap_or_default();
            let has_uri = uris.iter().any(|u| u.eq_ignore_ascii_case(&identifier));
            let existing_scope = scopes
                .iter()
                .find(|s| s.value.as_deref() == Some(scope.as_str()))
                .map(|s| s.id.clone());
            if has_uri && existing_scope.is_some() {
                return Ok(done(
                    Outcome::AlreadyDone,
                    existing_scope.into_iter().collect(),
                    None,
                ));
            }
            let mut patch = serde_json::Map::new();
            if !has_uri {
                uris.push(identifier);
                patch.insert("identifierUris".into(), serde_json::json!(uris));
            }
            let id = match existing_scope {
                Some(id) => id,
                None => {
                    scopes.push(PermissionScope {
                        id: scope_id.clone(),
                        value: Some(scope.clone()),
                        admin_consent_display_name: Some(display_name.clone()),
                        admin_consent_description: Some(format!(
                            "Allows the application to access {} on behalf of the signed-in user.",
                            current.display_name.as_deref().unwrap_or("this API")
                        )),
                        user_consent_display_name: Some(display_name.clone()),
                        user_consent_description: Some(format!(
                            "Allows the application to access {} on your behalf.",
                            current.display_name.as_deref().unwrap_or("this API")
                        )),
                        kind: Some("User".into()),
                        is_enabled: true,
                    });
                    patch.insert(
                        "api".into(),
                        serde_json::json!({ "oauth2PermissionScopes": scopes }),
                    );
                    scope_id.clone()
                }
            };
            graph::update_application(api, &app.object_id, &serde_json::Value::Object(patch))
                .await?;
            Ok(done(Outcome::Changed, vec![id], None))
        }
        Step::GrantAppRoles {
            resource_app_id,
            resource_name,
            permissions,
        } => {
            let sp = sp_of(progress)?;
            let resource = resources.get(api, resource_app_id, resource_name).await?;
            let existing = graph::list_app_role_assignments(api, &sp).await?;
            let mut ids = Vec::new();
            let mut changed = false;
            for name in permissions {
                let role =
                    resource
                        .app_role(name)
                        .ok_or_else(|| StepError::PermissionNotFound {
                            resource: resource_name.clone(),
                            kind: "application permission",
                            permission: name.clone(),
                        })?;
                if let Some(a) = existing
                    .iter()
                    .find(|a| a.resource_id == resource.id && a.app_role_id == role.id)
                {
                    ids.push(a.id.clone());
                    continue;
                }
                match graph::grant_app_role(api, &resource.id, &sp, &role.id).await {
                    Ok(a) => {
                        ids.push(a.id);
                        changed = true;
                    }
                    Err(e) if already_assigned(&e) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let outcome = if changed {
                Outcome::Changed
            } else {
                Outcome::AlreadyDone
            };
            Ok(done(outcome, ids, None))
        }
        Step::GrantDelegated { resource, scopes } => {
            let sp = sp_of(progress)?;
            let resource_sp = match resource {
                GrantResource::Api {
                    app_id,
                    display_name,
                } => {
                    let r = resources.get(api, app_id, display_name).await?;
                    for s in scopes {
                        if r.scope(s).is_none() {
                            return Err(StepError::PermissionNotFound {
                                resource: display_name.clone(),
                                kind: "delegated permission",
                                permission: s.clone(),
                            });
                        }
                    }
                    r.id
                }
                GrantResource::ThisApplication => sp.clone(),
            };
            let grants = graph::find_admin_grants(api, &sp, &resource_sp).await?;
            if let Some(g) = grants.first() {
                let have = g.scopes();
                let missing: Vec<&String> = scopes
                    .iter()
                    .filter(|s| !have.contains(&s.as_str()))
                    .collect();
                if missing.is_empty() {
                    return Ok(done(Outcome::AlreadyDone, vec![g.id.clone()], None));
                }
                let mut all: Vec<String> = have.iter().map(|s| s.to_string()).collect();
                all.extend(missing.into_iter().cloned());
                graph::update_grant_scope(api, &g.id, &all.join(" ")).await?;
                return Ok(done(Outcome::Changed, vec![g.id.clone()], None));
            }
            let g = graph::create_admin_grant(api, &sp, &resource_sp, &scopes.join(" ")).await?;
            Ok(done(Outcome::Changed, vec![g.id], None))
        }
        Step::EnsureCustomRole {
            subscription_id,
            role,
            role_definition_id,
            ..
        } => {
            if let Some(id) = progress.custom_roles.get(&role.role_name) {
                return Ok(done(Outcome::AlreadyDone, vec![id.clone()], None));
            }
            if let Some(def) =
                arm::find_role_definition_by_name(api, subscription_id, &role.role_name).await?
            {
                progress
                    .custom_roles
                    .insert(role.role_name.clone(), def.name.clone());
                return Ok(done(Outcome::AlreadyDone, vec![def.name], None));
            }
            let def = arm::put_custom_role(
                api,
                subscription_id,
                role_definition_id,
                &role.role_name,
                &role.description,
                &Permission {
                    actions: role.actions.clone(),
                    not_actions: role.not_actions.clone(),
                    ..Default::default()
                },
            )
            .await?;
            progress
                .custom_roles
                .insert(role.role_name.clone(), def.name.clone());
            Ok(done(Outcome::Changed, vec![def.name], None))
        }
        Step::AssignRole {
            subscription_id,
            role,
            assignment_name,
            ..
        } => {
            let sp = sp_of(progress)?;
            let role_id = match role {
                RoleRef::BuiltIn { id, .. } => id.clone(),
                RoleRef::Custom { name } => match progress.custom_roles.get(name) {
                    Some(id) => id.clone(),
                    None => arm::find_role_definition_by_name(api, subscription_id, name)
                        .await?
                        .map(|d| d.name)
                        .ok_or_else(|| StepError::CustomRoleMissing(name.clone()))?,
                },
            };
            let existing = arm::list_role_assignments_for(api, subscription_id, &sp).await?;
            if let Some(a) = existing
                .iter()
                .find(|a| a.role_definition_guid().eq_ignore_ascii_case(&role_id))
            {
                return Ok(done(Outcome::AlreadyDone, vec![a.name.clone()], None));
            }
            match arm::put_role_assignment(api, subscription_id, assignment_name, &role_id, &sp)
                .await
            {
                Ok(a) => Ok(done(Outcome::Changed, vec![a.name], None)),
                Err(e) if e.has_code("RoleAssignmentExists") => Ok(done(
                    Outcome::AlreadyDone,
                    vec![],
                    Some("the role assignment already exists".into()),
                )),
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn already_assigned(e: &ApiError) -> bool {
    e.service().is_some_and(|s| {
        s.status == 400
            && s.message
                .contains("Permission being assigned already exists on the object")
    })
}

/// What to do after `error` in `step`: the step's own reason when it is
/// a known refusal, else the error's general advice.
pub fn advice(step: &Step, error: &StepError) -> String {
    let again = "Then apply again: the steps already done are not repeated.";
    let denied_graph =
        matches!(error, StepError::Api(e) if e.has_code("Authorization_RequestDenied"));
    let denied_arm = matches!(error, StepError::Api(e) if e.has_code("AuthorizationFailed"));
    match (step, error) {
        (
            Step::GrantAppRoles {
                resource_name,
                resource_app_id,
                permissions,
            },
            _,
        ) if denied_graph => {
            let who = if resource_app_id == graph::GRAPH_APP_ID {
                "Granting Microsoft Graph application permissions needs the Global Administrator \
                 or Privileged Role Administrator role; Application Administrator and Cloud \
                 Application Administrator may not grant them."
                    .to_string()
            } else {
                format!(
                    "Granting {resource_name} application permissions needs Application \
                     Administrator, Cloud Application Administrator or Global Administrator."
                )
            };
            format!(
                "{who} Ask an administrator with that role to sign in here and apply again, or \
                 to grant admin consent for {} on the application's API permissions page in the \
                 Microsoft Entra admin center. {again}",
                permissions.join(", ")
            )
        }
        (
            Step::AssignRole {
                role,
                subscription_name,
                ..
            },
            _,
        ) if denied_arm => format!(
            "Assigning {} on subscription {subscription_name} needs the Owner or User Access \
             Administrator role on that subscription, which your account does not have. Ask an \
             Owner to assign you User Access Administrator, or to sign in here. {again}",
            role.name()
        ),
        (
            Step::EnsureCustomRole {
                subscription_name, ..
            },
            _,
        ) if denied_arm => format!(
            "Creating a custom role on subscription {subscription_name} needs the Owner (or User \
             Access Administrator) role on it. Ask an Owner to sign in here. {again}"
        ),
        (_, _) if denied_graph => format!(
            "Creating and updating applications, service principals and consent needs the \
             Application Administrator, Cloud Application Administrator or Global Administrator \
             role. Ask an administrator with one of them to sign in here. {again}"
        ),
        (_, StepError::Api(e)) => e.advice(),
        (_, StepError::ApplicationNotInTenant { .. }) => {
            "Correct the application ID, or sign in to the tenant the application belongs to."
                .into()
        }
        (_, StepError::ResourceNotInTenant { name, .. }) => format!(
            "{name} must be present in the tenant (an administrator adds it by consenting to \
             it once). {again}"
        ),
        (_, StepError::PermissionNotFound { .. }) => {
            "Correct the permission name in the profile (they are case-sensitive, e.g. \
             User.Read), then review the plan again."
                .into()
        }
        (_, StepError::Certificate(_) | StepError::CertificateUnreadable(_)) => {
            "Choose or generate another certificate, then review the plan again.".into()
        }
        (_, StepError::CustomRoleMissing(_)) => {
            "Review the plan again: it creates the custom role before assigning it.".into()
        }
        (_, StepError::Prerequisite(_)) => "Review the plan again from the start.".into(),
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

    #[test]
    fn graph_app_role_refusal_is_explained() {
        let step = Step::GrantAppRoles {
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
        let a = advice(&step, &err);
        assert!(
            a.contains("Global Administrator or Privileged Role Administrator"),
            "{a}"
        );
        assert!(a.contains("Application.Read.All"));
    }
}
