//! The application's service principal: found first, created if missing.
//! When the plan created the application, the create goes first (a
//! duplicate answers 409, then it is looked up).

use crate::api_error::Service;
use crate::client::ApiRequest;
use crate::graph::{self, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{Outcome, StepRecord};

use super::{Ctx, Run, StepKind, done};

/// The data of `Step::CreateServicePrincipal` (none: the application is
/// the plan's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CreateServicePrincipal;

impl StepKind for CreateServicePrincipal {
    const KIND: &'static str = "createServicePrincipal";

    fn sentence(&self) -> String {
        "Create the application's service principal".into()
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let app_id = ctx.app_id();
        let create = request::create_service_principal(&app_id);
        if ctx.creates_application() {
            vec![create]
        } else {
            vec![request::find_service_principal(&app_id), create]
        }
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        if let Some(sp) = &run.progress.service_principal_id {
            return Ok(done(Outcome::AlreadyDone, vec![sp.clone()], None));
        }
        let app = run.app()?;
        if !run.creates_application()
            && let Some(sp) = graph::find_service_principal(run.api, &app.app_id).await?
        {
            run.progress.service_principal_id = Some(sp.id.clone());
            return Ok(done(Outcome::AlreadyDone, vec![sp.id], None));
        }
        let (sp, outcome) = match graph::create_service_principal(run.api, &app.app_id).await {
            Ok(sp) => (sp, Outcome::Changed),
            // It exists (made by an earlier attempt whose answer was lost,
            // moments ago): find it, waiting while lists lag behind.
            Err(e) if e.status() == Some(409) => {
                let api = run.api;
                let app_id = &app.app_id;
                let found = api
                    .look_up_while_replicating(
                        Service::Graph,
                        super::create_application::LOOKUPS_AFTER_LOST_ANSWER,
                        || graph::find_service_principal(api, app_id),
                    )
                    .await?;
                (found.ok_or(StepError::Api(e))?, Outcome::AlreadyDone)
            }
            Err(e) => return Err(e.into()),
        };
        run.progress.service_principal_id = Some(sp.id.clone());
        run.progress.service_principal_created = outcome == Outcome::Changed;
        Ok(done(outcome, vec![sp.id], None))
    }
}
