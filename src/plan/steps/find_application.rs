//! An existing application, by appId (a clear error if not in the tenant),
//! read with its certificates for a later `RegisterCertificate`.

use serde::{Deserialize, Serialize};

use crate::client::ApiRequest;
use crate::graph::{self, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::preflight::Requirement;
use crate::plan::{AppIds, Outcome, StepRecord};

use super::{Ctx, Run, StepKind, done};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindApplication {
    pub app_id: String,
}

impl StepKind for FindApplication {
    const KIND: &'static str = "findApplication";

    fn sentence(&self) -> String {
        format!("Find application {} in the tenant", self.app_id)
    }

    fn requests(&self, _ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        vec![request::get_application_by_app_id(&self.app_id)]
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        if let Some(record) = run.known_application() {
            return Ok(record);
        }
        let mut app = graph::get_application_by_app_id(run.api, &self.app_id)
            .await?
            .ok_or_else(|| StepError::ApplicationNotInTenant {
                app_id: self.app_id.clone(),
            })?;
        // Kept for this run's certificate step (read with their key bytes).
        run.cache.application_keys = Some(core::mem::take(&mut app.key_credentials));
        run.progress.application = Some(AppIds {
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

    /// Reading needs no directory role.
    fn requirements(&self) -> Vec<Requirement> {
        Vec::new()
    }
}
