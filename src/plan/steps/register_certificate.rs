//! Adds the certificate to the application's `keyCredentials`, keeping the
//! others: `PATCH` replaces the whole collection, so it is read first
//! (`$select=keyCredentials`, with each key) and sent back with the new one.
//! In a plan that creates the application the certificate travels with the
//! create instead, and this step only records it.

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::ApiRequest;
use crate::core::certificate::Certificate;
use crate::core::key_credential::{self, KeyCredential};
use crate::core::time::UnixTime;
use crate::graph::{self, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{Outcome, Step, StepRecord};

use super::{Ctx, Run, StepKind, changed_if, done};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterCertificate {
    /// Standard base64 of the certificate's DER (public certificate only).
    pub certificate: String,
    pub thumbprint: String,
    pub subject: String,
    pub not_after: UnixTime,
}

impl RegisterCertificate {
    /// The keyCredential that registers this certificate.
    pub fn key_credential(&self) -> Result<KeyCredential, StepError> {
        let der = Base64::decode_vec(&self.certificate)
            .map_err(|e| StepError::CertificateUnreadable(e.to_string()))?;
        let cert = Certificate::from_der(&der)
            .map_err(|e| StepError::CertificateUnreadable(e.to_string()))?;
        Ok(KeyCredential::for_certificate(&cert)?)
    }
}

/// The PATCH body: every key to keep, and the new one.
fn patch(keys: serde_json::Value) -> serde_json::Value {
    json!({ "keyCredentials": keys })
}

impl StepKind for RegisterCertificate {
    const KIND: &'static str = "registerCertificate";

    fn sentence(&self) -> String {
        format!(
            "Register certificate {} (thumbprint {}), keeping the existing ones",
            self.subject, self.thumbprint
        )
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        if ctx.creates_application() {
            return Vec::new();
        }
        let app = ctx.app_object_id();
        // An earlier FindApplication read the keys in the same run.
        let read = (!ctx.earlier(|s| matches!(s, Step::FindApplication(_))))
            .then(|| request::get_key_credentials(&app));
        let new = self
            .key_credential()
            .map(|k| json!(k))
            .unwrap_or_else(|_| json!("{the certificate}"));
        let update =
            request::update_application(&app, patch(json!(["{...existing keyCredentials}", new])));
        read.into_iter().chain([update]).collect()
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        if run
            .progress
            .registered_certificates
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&self.thumbprint))
        {
            // Done by this plan's create: changed if the create was made in
            // this plan's apply, not found from an earlier attempt.
            let created = run
                .plan
                .steps
                .iter()
                .zip(&run.progress.steps)
                .any(|(s, r)| {
                    matches!(s, Step::CreateApplication(_)) && r.outcome == Some(Outcome::Changed)
                });
            return Ok(done(
                changed_if(created),
                vec![],
                Some("registered with the new application".into()),
            ));
        }
        let app = run.app()?;
        let existing = match run.cache.application_keys.take() {
            Some(keys) => keys,
            None => graph::get_key_credentials(run.api, &app.object_id).await?,
        };
        if let Some(k) = key_credential::find_by_thumbprint(&existing, &self.thumbprint) {
            return Ok(done(
                Outcome::AlreadyDone,
                k.key_id.clone().into_iter().collect(),
                None,
            ));
        }
        let kept = existing.len();
        let all = key_credential::merge(&existing, self.key_credential()?, &[])?;
        graph::update_application(run.api, &app.object_id, &patch(json!(all))).await?;
        let note = (kept > 0).then(|| {
            format!(
                "kept {kept} existing certificate{}",
                if kept == 1 { "" } else { "s" }
            )
        });
        Ok(done(Outcome::Changed, vec![], note))
    }
}
