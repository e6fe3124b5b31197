//! `POST /applications` (single tenant) with the permissions it will ask
//! for and the plan's certificates; tagged with the plan's marker so that a
//! create whose answer was lost (or answered with a 5xx) is found again
//! instead of repeated. After such a create the lookup by marker is a
//! `$filter` query, which shows a new application only once Entra's replicas
//! have it: it is tried again for up to about half a minute
//! ([`LOOKUPS_AFTER_LOST_ANSWER`]) before the application is created again.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api_error::Service;
use crate::client::ApiRequest;
use crate::core::key_credential::KeyCredential;
use crate::graph::{self, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{AppIds, Outcome, Step, StepRecord};
use crate::profiles::ResourcePermissions;

use super::add_required_permissions::{access_placeholders, resolve, resource_ids};
use super::{Ctx, Run, StepKind, done};

/// Lookups by marker after a create got no answer: the backoff between
/// them (1, 2, 4, 8, 16 s, jittered) covers 15 to 30 s of replication.
pub const LOOKUPS_AFTER_LOST_ANSWER: u32 = 6;

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
        // keyCredentials in POST /applications): no read-and-PATCH after.
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
        let mut out = vec![request::find_applications_by_name(&self.display_name)];
        out.extend(
            self.resources()
                .into_iter()
                .filter_map(|id| ctx.resource_lookup(id)),
        );
        out.push(request::create_application(self.body(
            ctx.plan.marker(),
            access_placeholders(&self.permissions),
            &keys,
        )));
        out
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        if let Some(record) = run.known_application() {
            return Ok(record);
        }
        let marker = run.plan.marker();
        let keys = plan_keys(&run.plan.steps);
        // An earlier attempt whose answer was lost: the plan's marker. When
        // this client sent the create without an answer, the list may not
        // show it yet: look again for a while before creating.
        let lookups = if run
            .api
            .sent_without_answer(&request::create_application(Value::Null))
        {
            LOOKUPS_AFTER_LOST_ANSWER
        } else {
            1
        };
        let api = run.api;
        let earlier = api
            .look_up_while_replicating(Service::Graph, lookups, || async {
                Ok(graph::find_applications_by_name(api, &self.display_name)
                    .await?
                    .into_iter()
                    .find(|a| a.tags.contains(&marker)))
            })
            .await?;
        if let Some(app) = earlier {
            // Its create carried the certificates; those it holds are done.
            let held = keys
                .iter()
                .filter(|(t, _)| app.key_credentials.iter().any(|k| k.has_thumbprint(t)))
                .map(|(t, _)| t.clone());
            run.progress.registered_certificates.extend(held);
            run.progress.application = Some(AppIds {
                object_id: app.id.clone(),
                app_id: app.app_id.clone(),
            });
            run.progress.application_created = true;
            return Ok(done(
                Outcome::AlreadyDone,
                vec![app.id],
                Some("created by an earlier attempt".into()),
            ));
        }
        let access = resolve(run, &self.permissions).await?;
        let key_list: Vec<KeyCredential> = keys.iter().map(|(_, k)| k.clone()).collect();
        let body = self.body(marker, json!(access), &key_list);
        let app = graph::create_application(run.api, &body).await?;
        run.progress
            .registered_certificates
            .extend(keys.into_iter().map(|(t, _)| t));
        run.progress.application = Some(AppIds {
            object_id: app.id.clone(),
            app_id: app.app_id.clone(),
        });
        run.progress.application_created = true;
        Ok(done(Outcome::Changed, vec![app.id], None))
    }

    fn resources(&self) -> Vec<&str> {
        resource_ids(&self.permissions)
    }
}
