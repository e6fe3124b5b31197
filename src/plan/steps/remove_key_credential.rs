//! Removes one certificate from the application's `keyCredentials`, keeping
//! the others: `PATCH` replaces the whole collection, so it is read first
//! (`$select=keyCredentials`, with each key) and sent back without the one
//! removed. `removeKey` is not used: its proof must be signed by a
//! currently valid key of the application, and after AADSTS700027 the key
//! being removed is the expired one.
//!
//! The key is named by its `keyId` and its thumbprint (both must agree, so
//! a plan never removes another key that took the same ID), and a
//! replacement can be required: the removal waits until the new
//! certificate is registered, so it never leaves the service without one.
//! A key no longer there is `AlreadyDone` (a repeat, or a lost answer).
// https://learn.microsoft.com/en-us/graph/api/application-update (keyCredentials replaced whole)
// https://learn.microsoft.com/en-us/graph/api/application-removekey (needs a proof signed by a valid key)

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::ApiRequest;
use crate::core::key_credential;
use crate::graph::{self, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{Outcome, Step, StepRecord};

use super::{Ctx, Run, StepKind, done};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveKeyCredential {
    /// Graph's ID of the key to remove.
    pub key_id: String,
    /// Its SHA-1 thumbprint (hex), checked against the key with that ID.
    pub thumbprint: String,
    /// How the review names it (`CN=Contoso Backup`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// The SHA-1 thumbprint of the certificate that replaces it: the
    /// removal waits until that one is registered.
    #[serde(default)]
    pub replaced_by: Option<String>,
}

/// Why a key is not removed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RemoveKeyError {
    #[error(
        "The application's key {key_id} is now a certificate with thumbprint {found}, not \
         {expected}: nothing was removed. Search for the certificate again and review a new \
         plan."
    )]
    OtherCertificate {
        key_id: String,
        expected: String,
        found: String,
    },
    #[error(
        "The new certificate (thumbprint {thumbprint}) is not registered on the application, \
         so the old one was kept: the service would be left without a certificate. Register \
         the new certificate first (renew again), then remove the old one."
    )]
    ReplacementMissing { thumbprint: String },
}

fn patch(keys: serde_json::Value) -> serde_json::Value {
    json!({ "keyCredentials": keys })
}

impl StepKind for RemoveKeyCredential {
    const KIND: &'static str = "removeKeyCredential";

    fn sentence(&self) -> String {
        let name = self
            .display_name
            .as_deref()
            .map(|n| format!("{n} "))
            .unwrap_or_default();
        format!(
            "Remove certificate {name}(thumbprint {}, key ID {}), keeping the other keys",
            self.thumbprint, self.key_id
        )
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let app = ctx.app_object_id();
        // An earlier FindApplication read the keys in the same run.
        let read = (!ctx.earlier(|s| matches!(s, Step::FindApplication(_))))
            .then(|| request::get_key_credentials(&app));
        let update = request::update_application(
            &app,
            patch(json!(["{...existing keyCredentials but this one}"])),
        );
        read.into_iter().chain([update]).collect()
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        let app = run.app()?;
        // Read again, not trusted from a run before a reload: the PATCH
        // sends every other key back as it is now.
        let existing = match run.cache.application_keys.take() {
            Some(keys) => keys,
            None => graph::get_key_credentials(run.api, &app.object_id).await?,
        };
        if let Some(new) = &self.replaced_by
            && key_credential::find_by_thumbprint(&existing, new).is_none()
        {
            return Err(RemoveKeyError::ReplacementMissing {
                thumbprint: new.clone(),
            }
            .into());
        }
        let Some(key) = existing.iter().find(|k| {
            k.key_id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(self.key_id.trim()))
        }) else {
            return Ok(done(
                Outcome::AlreadyDone,
                vec![],
                Some("the key is no longer registered".into()),
            ));
        };
        if !key.has_thumbprint(&self.thumbprint) {
            return Err(RemoveKeyError::OtherCertificate {
                key_id: self.key_id.clone(),
                expected: self.thumbprint.clone(),
                found: key.thumbprint().unwrap_or_else(|| "unknown".into()),
            }
            .into());
        }
        let kept = key_credential::remove(&existing, &[self.key_id.as_str()])?;
        let n = kept.len();
        graph::update_application(run.api, &app.object_id, &patch(json!(kept))).await?;
        Ok(done(
            Outcome::Changed,
            vec![],
            Some(format!(
                "kept {n} other key{}",
                if n == 1 { "" } else { "s" }
            )),
        ))
    }

    fn advice(&self, error: &StepError) -> Option<String> {
        match error {
            StepError::RemoveKey(RemoveKeyError::ReplacementMissing { .. }) => Some(
                "Open Renew again from the error text or the thumbprint, register a new \
                 certificate, give its PFX to the service, then remove the old key."
                    .into(),
            ),
            _ => None,
        }
    }
}
