//! Sets the identifier URI `api://{appId}` and exposes a delegated scope
//! (both collections are replaced whole: the existing entries are kept).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::ApiRequest;
use crate::graph::{self, PermissionScope, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{Outcome, Plan, Step, StepRecord};

use super::{Ctx, Run, StepKind, done};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExposeApi {
    pub scope: String,
    /// New GUID for the scope (kept if the scope already exists).
    pub scope_id: String,
    pub display_name: String,
}

impl ExposeApi {
    /// The new scope; `api_name` is the application's display name.
    fn new_scope(&self, api_name: &str) -> PermissionScope {
        PermissionScope {
            id: self.scope_id.clone(),
            value: Some(self.scope.clone()),
            admin_consent_display_name: Some(self.display_name.clone()),
            admin_consent_description: Some(format!(
                "Allows the application to access {api_name} on behalf of the signed-in user."
            )),
            user_consent_display_name: Some(self.display_name.clone()),
            user_consent_description: Some(format!(
                "Allows the application to access {api_name} on your behalf."
            )),
            kind: Some("User".into()),
            is_enabled: true,
        }
    }
}

/// The name of the application the plan creates, if it creates one.
fn new_application_name(plan: &Plan) -> Option<&str> {
    plan.steps.iter().find_map(|s| match s {
        Step::CreateApplication(c) => Some(c.display_name.as_str()),
        _ => None,
    })
}

impl ExposeApi {
    /// The PATCH of an application this plan created: it has no identifier
    /// URI and no scope yet, so nothing needs keeping.
    fn first_patch(&self, object_id: &str, uri: String, name: &str) -> ApiRequest {
        request::update_application(
            object_id,
            patch(Some(json!([uri])), Some(json!([self.new_scope(name)]))),
        )
    }
}

/// The PATCH: either collection only when it changes.
fn patch(uris: Option<Value>, scopes: Option<Value>) -> Value {
    let mut patch = Map::new();
    if let Some(u) = uris {
        patch.insert("identifierUris".into(), u);
    }
    if let Some(s) = scopes {
        patch.insert("api".into(), json!({ "oauth2PermissionScopes": s }));
    }
    Value::Object(patch)
}

impl StepKind for ExposeApi {
    const KIND: &'static str = "exposeApi";

    fn sentence(&self) -> String {
        format!(
            "Expose the API api://{{application ID}} with scope {}",
            self.scope
        )
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let app = ctx.app_object_id();
        let uri = format!("api://{}", ctx.app_id());
        if let Some(name) = new_application_name(ctx.plan) {
            return vec![self.first_patch(&app, uri, name)];
        }
        let mut scope = json!(self.new_scope("{application name}"));
        // The descriptions name the application, read by the GET.
        scope["adminConsentDescription"] = json!("{description naming the application}");
        scope["userConsentDescription"] = json!("{description naming the application}");
        vec![
            request::get_application(&app),
            request::update_application(
                &app,
                patch(
                    Some(json!(["{...existing identifierUris}", uri])),
                    Some(json!(["{...existing scopes}", scope])),
                ),
            ),
        ]
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        if let Some(name) = new_application_name(run.plan) {
            // The plan made the application with neither: set both, with
            // no read (a repeat sends the same and changes nothing).
            let app = run.app()?;
            let uri = format!("api://{}", app.app_id);
            run.api
                .call(&self.first_patch(&app.object_id, uri, name))
                .await?;
            return Ok(done(Outcome::Changed, vec![self.scope_id.clone()], None));
        }
        let (app, current) = run.current_application().await?;
        let identifier = format!("api://{}", app.app_id);
        let mut uris = current.identifier_uris.clone();
        let mut scopes = current
            .api
            .map(|a| a.oauth2_permission_scopes)
            .unwrap_or_default();
        let has_uri = uris.iter().any(|u| u.eq_ignore_ascii_case(&identifier));
        let existing_scope = scopes
            .iter()
            .find(|s| s.value.as_deref() == Some(self.scope.as_str()))
            .map(|s| s.id.clone());
        if has_uri && existing_scope.is_some() {
            return Ok(done(
                Outcome::AlreadyDone,
                existing_scope.into_iter().collect(),
                None,
            ));
        }
        let new_uris = (!has_uri).then(|| {
            uris.push(identifier);
            json!(uris)
        });
        let (id, new_scopes) = match existing_scope {
            Some(id) => (id, None),
            None => {
                let name = current.display_name.as_deref().unwrap_or("this API");
                scopes.push(self.new_scope(name));
                (self.scope_id.clone(), Some(json!(scopes)))
            }
        };
        graph::update_application(run.api, &app.object_id, &patch(new_uris, new_scopes)).await?;
        Ok(done(Outcome::Changed, vec![id], None))
    }
}
