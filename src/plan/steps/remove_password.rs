//! `removePassword`: removes one client secret by keyId — the old one after
//! the admin confirmed the service uses its replacement, or a secret whose
//! value nobody has. Already gone counts as done.

use serde::{Deserialize, Serialize};

use crate::client::ApiRequest;
use crate::graph::{self, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{Outcome, StepRecord};

use super::{Ctx, Run, StepKind, done};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovePassword {
    pub key_id: String,
    /// The first characters Entra shows, for the sentence.
    #[serde(default)]
    pub hint: Option<String>,
    /// What the secret is, for the sentence ("the old secret").
    pub what: String,
}

impl StepKind for RemovePassword {
    const KIND: &'static str = "removePassword";

    fn sentence(&self) -> String {
        let hint = self
            .hint
            .as_deref()
            .map(|h| format!("{h}…, "))
            .unwrap_or_default();
        format!(
            "Remove {} (client secret {hint}key ID {})",
            self.what, self.key_id
        )
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let app = ctx.app_object_id();
        vec![
            request::get_password_credentials(&app),
            request::remove_password(&app, &self.key_id),
        ]
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        let app = run.app()?;
        let present = graph::get_password_credentials(run.api, &app.object_id)
            .await?
            .iter()
            .any(|p| p.key_id.eq_ignore_ascii_case(&self.key_id));
        if !present {
            return Ok(done(
                Outcome::AlreadyDone,
                vec![],
                Some("already removed".into()),
            ));
        }
        graph::remove_password(run.api, &app.object_id, &self.key_id).await?;
        Ok(done(Outcome::Changed, vec![], None))
    }
}
