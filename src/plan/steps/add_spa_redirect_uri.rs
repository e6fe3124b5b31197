//! Adds a `spa` redirect URI to an existing application, keeping the
//! others (the PATCH replaces the list).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::ApiRequest;
use crate::graph::{self, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{Outcome, StepRecord};

use super::{Ctx, Run, StepKind, done};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddSpaRedirectUri {
    pub uri: String,
}

fn patch(uris: Value) -> Value {
    json!({ "spa": { "redirectUris": uris } })
}

impl StepKind for AddSpaRedirectUri {
    const KIND: &'static str = "addSpaRedirectUri";

    fn sentence(&self) -> String {
        format!("Add redirect URI {} (single-page application)", self.uri)
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let app = ctx.app_object_id();
        vec![
            request::get_application(&app),
            request::update_application(
                &app,
                patch(json!(["{...existing spa redirect URIs}", self.uri])),
            ),
        ]
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        let (app, current) = run.current_application().await?;
        let mut uris = current.spa.map(|s| s.redirect_uris).unwrap_or_default();
        if uris.contains(&self.uri) {
            return Ok(done(Outcome::AlreadyDone, vec![], None));
        }
        uris.push(self.uri.clone());
        graph::update_application(run.api, &app.object_id, &patch(json!(uris))).await?;
        Ok(done(Outcome::Changed, vec![], None))
    }
}
