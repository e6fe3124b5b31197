//! A custom role on the subscription, created if no role has its name.

use serde::{Deserialize, Serialize};

use crate::arm::{self, Permission, ROLE_DEFINITIONS_WRITE, request};
use crate::auth::Audience;
use crate::client::ApiRequest;
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::preflight::Requirement;
use crate::plan::{Outcome, StepRecord};
use crate::profiles::CustomRole;

use super::{Ctx, Run, StepKind, done};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnsureCustomRole {
    pub subscription_id: String,
    pub subscription_name: String,
    pub role: CustomRole,
    /// New GUID for the role definition.
    pub role_definition_id: String,
}

impl EnsureCustomRole {
    fn permission(&self) -> Permission {
        Permission {
            actions: self.role.actions.clone(),
            not_actions: self.role.not_actions.clone(),
            ..Default::default()
        }
    }
}

impl StepKind for EnsureCustomRole {
    const KIND: &'static str = "ensureCustomRole";

    fn sentence(&self) -> String {
        format!(
            "Create custom role '{}' on subscription {} (if missing)",
            self.role.role_name, self.subscription_name
        )
    }

    fn requests(&self, _ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        vec![
            request::find_role_definition_by_name(&self.subscription_id, &self.role.role_name),
            request::put_custom_role(
                &self.subscription_id,
                &self.role_definition_id,
                &self.role.role_name,
                &self.role.description,
                &self.permission(),
            ),
        ]
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        let name = &self.role.role_name;
        if let Some(id) = run.progress.custom_roles.get(name) {
            return Ok(done(Outcome::AlreadyDone, vec![id.clone()], None));
        }
        let (def, outcome) =
            match arm::find_role_definition_by_name(run.api, &self.subscription_id, name).await? {
                Some(def) => (def, Outcome::AlreadyDone),
                None => (
                    arm::put_custom_role(
                        run.api,
                        &self.subscription_id,
                        &self.role_definition_id,
                        name,
                        &self.role.description,
                        &self.permission(),
                    )
                    .await?,
                    Outcome::Changed,
                ),
            };
        run.progress
            .custom_roles
            .insert(name.clone(), def.name.clone());
        Ok(done(outcome, vec![def.name], None))
    }

    fn advice(&self, error: &StepError) -> Option<String> {
        error.has_code("AuthorizationFailed").then(|| {
            format!(
                "Creating a custom role on subscription {} needs the Owner (or User Access \
                 Administrator) role on it. Ask an Owner to sign in here. {}",
                self.subscription_name,
                super::AGAIN
            )
        })
    }

    fn requirements(&self) -> Vec<Requirement> {
        vec![super::assign_role::azure_action(
            &self.subscription_id,
            &self.subscription_name,
            ROLE_DEFINITIONS_WRITE,
            "create the custom role",
        )]
    }

    fn scopes(&self) -> &'static [(Audience, &'static str)] {
        &[super::assign_role::ARM]
    }
}
