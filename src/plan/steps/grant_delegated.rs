//! Admin consent (`AllPrincipals`) for delegated permissions of an API, or
//! of the plan's own application.

use serde::{Deserialize, Serialize};

use crate::auth::Audience;
use crate::client::ApiRequest;
use crate::graph::{self, OAuth2PermissionGrant, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{Outcome, StepRecord};

use super::{APPLICATIONS, Ctx, Run, StepKind, and_list, done, plural};

/// Whose API a delegated grant is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GrantResource {
    /// Another API, by appId (Microsoft Graph…).
    #[serde(rename_all = "camelCase")]
    Api {
        app_id: String,
        display_name: String,
    },
    /// The plan's own application (its exposed `access_as_user`).
    ThisApplication,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantDelegated {
    pub resource: GrantResource,
    pub scopes: Vec<String>,
}

impl GrantDelegated {
    /// Adds the missing scopes to an existing grant.
    async fn complete<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
        grant: &OAuth2PermissionGrant,
    ) -> Result<StepRecord, StepError> {
        let have = grant.scopes();
        let missing: Vec<&String> = self
            .scopes
            .iter()
            .filter(|s| !have.contains(&s.as_str()))
            .collect();
        if missing.is_empty() {
            return Ok(done(Outcome::AlreadyDone, vec![grant.id.clone()], None));
        }
        let mut all: Vec<String> = have.iter().map(|s| s.to_string()).collect();
        all.extend(missing.into_iter().cloned());
        graph::update_grant_scope(run.api, &grant.id, &all.join(" ")).await?;
        Ok(done(Outcome::Changed, vec![grant.id.clone()], None))
    }
}

impl StepKind for GrantDelegated {
    const KIND: &'static str = "grantDelegated";

    fn sentence(&self) -> String {
        let name = match &self.resource {
            GrantResource::Api { display_name, .. } => display_name.clone(),
            GrantResource::ThisApplication => "the application's own API".into(),
        };
        format!(
            "Grant admin consent for {name} delegated permission{} {}",
            plural(self.scopes.len()),
            and_list(&self.scopes)
        )
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let sp = ctx.sp_id();
        let (mut out, resource_id): (Vec<ApiRequest>, String) = match &self.resource {
            GrantResource::Api { app_id, .. } => (
                ctx.resource_lookup(app_id).into_iter().collect(),
                "{resource-service-principal-id}".into(),
            ),
            GrantResource::ThisApplication => (Vec::new(), sp.clone()),
        };
        if !ctx.fresh_principal() {
            out.push(request::find_admin_grants(&sp, &resource_id));
        }
        out.push(request::create_admin_grant(
            &sp,
            &resource_id,
            &self.scopes.join(" "),
        ));
        out
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        let sp = run.sp()?;
        let resource_sp = match &self.resource {
            GrantResource::Api {
                app_id,
                display_name,
            } => {
                let r = run.resource(app_id, display_name).await?;
                if let Some(s) = self.scopes.iter().find(|s| r.scope(s).is_none()) {
                    return Err(StepError::PermissionNotFound {
                        resource: display_name.clone(),
                        kind: "delegated permission",
                        permission: s.clone(),
                    });
                }
                r.id
            }
            GrantResource::ThisApplication => sp.clone(),
        };
        if !run.fresh_principal()
            && let Some(g) = graph::find_admin_grants(run.api, &sp, &resource_sp)
                .await?
                .first()
        {
            return self.complete(run, g).await;
        }
        match graph::create_admin_grant(run.api, &sp, &resource_sp, &self.scopes.join(" ")).await {
            Ok(g) => Ok(done(Outcome::Changed, vec![g.id], None)),
            // Made by an earlier attempt whose answer was lost.
            Err(e) if e.status() == Some(409) => {
                match graph::find_admin_grants(run.api, &sp, &resource_sp)
                    .await?
                    .first()
                {
                    Some(g) => self.complete(run, g).await,
                    None => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    fn scopes(&self) -> &'static [(Audience, &'static str)] {
        &[
            APPLICATIONS,
            (Audience::Graph, "DelegatedPermissionGrant.ReadWrite.All"),
        ]
    }

    fn resources(&self) -> Vec<&str> {
        match &self.resource {
            GrantResource::Api { app_id, .. } => vec![app_id],
            GrantResource::ThisApplication => Vec::new(),
        }
    }
}
