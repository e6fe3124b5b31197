//! `PATCH /applications(uniqueName='entra-wizard-{plan}')` with `Prefer:
//! create-if-missing` (single tenant), with the permissions it will ask for
//! and the plan's certificates; tagged with the plan's marker too. Graph's
//! upsert makes the create idempotent: an attempt whose answer was lost (or
//! answered with a 5xx), or a request the browser silently sent twice,
//! updates the application the first one made (204) instead of making a
//! second. After a 204 the application is read by its key.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api_error::{ApiError, Service};
use crate::client::ApiRequest;
use crate::core::key_credential::KeyCredential;
use crate::graph::{self, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{AppIds, Outcome, Step, StepRecord};
use crate::profiles::ResourcePermissions;

use super::add_required_permissions::{access_placeholders, resolve, resource_ids};
use super::{Ctx, Run, StepKind, done};

/// Reads of an object a lost answer (or a 204) says exists: the backoff
/// between them (1, 2, 4, 8, 16 s, jittered) covers 15 to 30 s of
/// replication.
pub const LOOKUPS_AFTER_LOST_ANSWER: u32 = 6;

/// The application's client-chosen alternate key: the plan's ID, so that
/// every attempt of the plan (and a request the browser sends twice)
/// upserts the same application.
pub fn unique_name(plan_id: &str) -> String {
    format!("entra-wizard-{plan_id}")
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateApplication {
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<ResourcePermissions>,
    #[serde(default)]
    pub spa_redirect_uris: Vec<String>,
    #[serde(default)]
    pub web_redirect_uris: Vec<String>,
}

impl CreateApplication {
    /// The create's body. `access` is the resolved `requiredResourceAccess`
    /// (placeholders in a preview).
    fn body(&self, marker: String, access: Value, keys: &[KeyCredential]) -> Value {
        let mut body = json!({
            "displayName": self.display_name,
            "signInAudience": "AzureADMyOrg",
            "tags": [marker],
            "requiredResourceAccess": access,
        });
        if let Some(d) = self.description.as_deref().filter(|d| !d.trim().is_empty()) {
            body["description"] = d.into();
        }
        if !self.spa_redirect_uris.is_empty() {
            body["spa"] = json!({ "redirectUris": self.spa_redirect_uris });
        }
        if !self.web_redirect_uris.is_empty() {
            body["web"] = json!({ "redirectUris": self.web_redirect_uris });
        }
        // The certificates travel with the create (Graph takes
        // keyCredentials in the create): no read-and-PATCH after.
        if !keys.is_empty() {
            body["keyCredentials"] = json!(keys);
        }
        body
    }
}

/// The plan's certificates as keyCredentials, with their thumbprints.
fn plan_keys(steps: &[Step]) -> Vec<(String, KeyCredential)> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::RegisterCertificate(r) => {
                r.key_credential().ok().map(|k| (r.thumbprint.clone(), k))
            }
            _ => None,
        })
        .collect()
}

impl StepKind for CreateApplication {
    const KIND: &'static str = "createApplication";

    fn sentence(&self) -> String {
        format!("Create application '{}'", self.display_name)
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let keys: Vec<KeyCredential> = plan_keys(&ctx.plan.steps)
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        let mut out: Vec<ApiRequest> = self
            .resources()
            .into_iter()
            .filter_map(|id| ctx.resource_lookup(id))
            .collect();
        out.push(request::upsert_application(
            &unique_name(&ctx.plan.id),
            self.body(
                ctx.plan.marker(),
                access_placeholders(&self.permissions),
                &keys,
            ),
        ));
        out
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        if let Some(record) = run.known_application() {
            return Ok(record);
        }
        let unique = unique_name(&run.plan.id);
        let keys = plan_keys(&run.plan.steps);
        let access = resolve(run, &self.permissions).await?;
        let key_list: Vec<KeyCredential> = keys.iter().map(|(_, k)| k.clone()).collect();
        let body = self.body(run.plan.marker(), json!(access), &key_list);
        let api = run.api;
        let (app, outcome, note) = match graph::upsert_application(api, &unique, &body).await? {
            Some(app) => (app, Outcome::Changed, None),
            // 204: an earlier attempt whose answer was lost (or the browser
            // sending the request twice) made it, and it now holds the
            // plan's body again. A read by key reaches it once the replica
            // that answers has it.
            None => {
                let app = api
                    .look_up_while_replicating(Service::Graph, LOOKUPS_AFTER_LOST_ANSWER, || {
                        graph::get_application_by_unique_name(api, &unique)
                    })
                    .await?
                    .ok_or_else(|| ApiError::Unexpected {
                        service: Service::Graph,
                        what: format!("the application with uniqueName '{unique}'"),
                        detail: "Graph said it exists (204) but does not return it".into(),
                    })?;
                (
                    app,
                    Outcome::AlreadyDone,
                    Some("created by an earlier attempt".into()),
                )
            }
        };
        // The body carried the certificates, created or updated.
        run.progress
            .registered_certificates
            .extend(keys.into_iter().map(|(t, _)| t));
        run.progress.application = Some(AppIds {
            object_id: app.id.clone(),
            app_id: app.app_id.clone(),
        });
        run.progress.application_created = true;
        Ok(done(outcome, vec![app.id], note))
    }

    fn resources(&self) -> Vec<&str> {
        resource_ids(&self.permissions)
    }
}
