//! An Azure role for the service principal at subscription scope.

use serde::{Deserialize, Serialize};

use crate::arm::{self, ROLE_ASSIGNMENTS_WRITE, request};
use crate::auth::Audience;
use crate::client::ApiRequest;
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::preflight::Requirement;
use crate::plan::{Outcome, Step, StepRecord};

use super::{Ctx, Run, StepKind, done};

/// An ARM action on the subscription, which Owner and User Access
/// Administrator grant.
pub(crate) fn azure_action(
    subscription_id: &str,
    subscription_name: &str,
    action: &str,
    purpose: &str,
) -> Requirement {
    Requirement::AzureAction {
        subscription_id: subscription_id.into(),
        subscription_name: subscription_name.into(),
        action: action.into(),
        granted_by: vec!["Owner".into(), "User Access Administrator".into()],
        purpose: purpose.into(),
    }
}
/// The ARM scope of the page's sign-in.
pub(crate) const ARM: (Audience, &str) = (Audience::Arm, "user_impersonation");

/// An Azure role to assign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RoleRef {
    #[serde(rename_all = "camelCase")]
    BuiltIn { name: String, id: String },
    /// Created by an earlier `EnsureCustomRole` step (or found by name).
    #[serde(rename_all = "camelCase")]
    Custom { name: String },
}

impl RoleRef {
    pub fn name(&self) -> &str {
        match self {
            RoleRef::BuiltIn { name, .. } | RoleRef::Custom { name } => name,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignRole {
    pub subscription_id: String,
    pub subscription_name: String,
    pub role: RoleRef,
    /// New GUID for the assignment (the same on a retry).
    pub assignment_name: String,
}

impl AssignRole {
    fn same_subscription(&self, s: &Step) -> bool {
        matches!(s, Step::AssignRole(a) if a.subscription_id == self.subscription_id)
    }
}

impl StepKind for AssignRole {
    const KIND: &'static str = "assignRole";

    fn sentence(&self) -> String {
        format!(
            "Assign {} on subscription {}",
            self.role.name(),
            self.subscription_name
        )
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let sp = ctx.sp_id();
        let mut out = Vec::new();
        let role_id = match &self.role {
            RoleRef::BuiltIn { id, .. } => id.clone(),
            RoleRef::Custom { name } => {
                let known = ctx.progress.and_then(|p| p.custom_roles.get(name).cloned());
                let made_before = ctx.earlier(
                    |s| matches!(s, Step::EnsureCustomRole(e) if e.role.role_name == *name),
                );
                if known.is_none() && !made_before {
                    out.push(request::find_role_definition_by_name(
                        &self.subscription_id,
                        name,
                    ));
                }
                known.unwrap_or_else(|| format!("{{{name} role id}}"))
            }
        };
        // The list is read once per subscription, and not at all for a
        // service principal this plan made.
        if !ctx.fresh_principal() && !ctx.earlier(|s| self.same_subscription(s)) {
            out.push(request::list_role_assignments_for(
                &self.subscription_id,
                &sp,
            ));
        }
        out.push(request::put_role_assignment(
            &self.subscription_id,
            &self.assignment_name,
            &role_id,
            &sp,
        ));
        out
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        let sp = run.sp()?;
        let sub = &self.subscription_id;
        // A custom role this plan's EnsureCustomRole step created (or found)
        // moments ago may not have replicated yet: ARM then refuses the
        // assignment with RoleDefinitionDoesNotExist, which is waited for.
        let (role_id, role_replicating) = match &self.role {
            RoleRef::BuiltIn { id, .. } => (id.clone(), false),
            RoleRef::Custom { name } => match run.progress.custom_roles.get(name) {
                Some(id) => (id.clone(), true),
                None => (
                    arm::find_role_definition_by_name(run.api, sub, name)
                        .await?
                        .map(|d| d.name)
                        .ok_or_else(|| StepError::CustomRoleMissing(name.clone()))?,
                    false,
                ),
            },
        };
        let has_role = |list: &[arm::RoleAssignment]| {
            list.iter()
                .find(|a| a.role_definition_guid().eq_ignore_ascii_case(&role_id))
                .map(|a| a.name.clone())
        };
        if !run.fresh_principal()
            && let Some(name) = has_role(run.role_assignments(sub, &sp).await?)
        {
            return Ok(done(Outcome::AlreadyDone, vec![name], None));
        }
        run.api.expect_role_replication(role_replicating);
        let put =
            arm::put_role_assignment(run.api, sub, &self.assignment_name, &role_id, &sp).await;
        run.api.expect_role_replication(false);
        match put {
            Ok(a) => {
                if let Some(list) = run
                    .cache
                    .role_assignments
                    .get_mut(&(sub.clone(), sp.clone()))
                {
                    list.push(a.clone());
                }
                Ok(done(Outcome::Changed, vec![a.name], None))
            }
            // Assigned under another name (by someone else, or a lost answer).
            Err(e) if e.has_code("RoleAssignmentExists") => {
                let found = has_role(run.role_assignments(sub, &sp).await?);
                Ok(done(
                    Outcome::AlreadyDone,
                    found.into_iter().collect(),
                    Some("the role assignment already exists".into()),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn advice(&self, error: &StepError) -> Option<String> {
        error.has_code("AuthorizationFailed").then(|| {
            format!(
                "Assigning {} on subscription {} needs the Owner or User Access Administrator \
                 role on that subscription, which your account does not have. Ask an Owner to \
                 assign you User Access Administrator, or to sign in here. {}",
                self.role.name(),
                self.subscription_name,
                super::AGAIN
            )
        })
    }

    fn requirements(&self) -> Vec<Requirement> {
        vec![azure_action(
            &self.subscription_id,
            &self.subscription_name,
            ROLE_ASSIGNMENTS_WRITE,
            "assign Azure roles",
        )]
    }

    fn scopes(&self) -> &'static [(Audience, &'static str)] {
        &[ARM]
    }
}
