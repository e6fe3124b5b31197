//! `addPassword`: a new client secret, named by the admin and tagged with
//! the plan's marker in its displayName. Graph returns the secret's value
//! once, in the answer to this POST: the run hands it to the page through a
//! [`SecretChannel`] (memory only, never serialised, taken once) and the
//! progress keeps only its keyId.
//!
//! `addPassword` is not idempotent: if an earlier attempt's answer was lost
//! (a network error, a reload during the POST), the secret exists and
//! nobody has its value. The run looks for the plan's marker first, removes
//! such a secret and creates one new one; after the create it removes any
//! other copy (a request the client resent after a 5xx whose change had
//! been made), so the plan ends with exactly one new secret whose value the
//! page holds.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::client::ApiRequest;
use crate::core::time::UnixTime;
use crate::graph::{self, request};
use crate::http::{HttpClient, Sleeper};
use crate::plan::execute::StepError;
use crate::plan::{Outcome, StepRecord};

use super::{Ctx, Run, StepKind, done};

/// A secret Graph just made: shown once by the page, then dropped (its
/// value is zeroized on drop).
pub struct NewSecret {
    pub key_id: String,
    pub value: Zeroizing<String>,
    /// The first three characters, as Entra shows them.
    pub hint: Option<String>,
    pub end: Option<UnixTime>,
}

impl core::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NewSecret")
            .field("key_id", &self.key_id)
            .field("value", &"(redacted)")
            .field("hint", &self.hint)
            .field("end", &self.end)
            .finish()
    }
}

/// The way from the step's run to the page's result card: shared by the
/// clones of one plan in memory, skipped by serde (a plan read back from
/// saved progress has an empty one), emptied by [`SecretChannel::take`].
/// Two channels compare equal: it is not part of what the plan does.
#[derive(Clone, Default)]
pub struct SecretChannel(Arc<Mutex<Option<NewSecret>>>);

impl SecretChannel {
    fn put(&self, secret: NewSecret) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(secret);
        }
    }

    /// The new secret, once: the channel is empty afterwards.
    pub fn take(&self) -> Option<NewSecret> {
        self.0.lock().ok().and_then(|mut s| s.take())
    }

    /// What Entra shows of the secret waiting to be taken (its hint and
    /// end date), without taking it.
    pub fn facts(&self) -> Option<(Option<String>, Option<UnixTime>)> {
        self.0
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(|n| (n.hint.clone(), n.end)))
    }

    /// The keyId of the secret waiting to be taken, if any.
    pub fn key_id(&self) -> Option<String> {
        self.0
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(|n| n.key_id.clone()))
    }
}

impl PartialEq for SecretChannel {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for SecretChannel {}

impl core::fmt::Debug for SecretChannel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretChannel")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddPassword {
    /// The name the admin chose ("Backup 2027").
    pub display_name: String,
    /// When the secret expires (the admin's lifetime, within the tenant's
    /// policy).
    pub end: UnixTime,
    #[serde(skip)]
    pub channel: SecretChannel,
}

impl AddPassword {
    pub fn new(display_name: impl Into<String>, end: UnixTime) -> Self {
        AddPassword {
            display_name: display_name.into(),
            end,
            channel: SecretChannel::default(),
        }
    }
}

/// The displayName sent: the admin's name and the plan's marker, which
/// finds a secret whose creation answer was lost.
pub fn tagged_name(display_name: &str, marker: &str) -> String {
    format!("{} ({marker})", display_name.trim())
}

/// Whether a secret was made by the plan with this marker.
pub fn made_by(credential: &graph::PasswordCredential, marker: &str) -> bool {
    credential
        .display_name
        .as_deref()
        .is_some_and(|n| n.contains(marker))
}

impl StepKind for AddPassword {
    const KIND: &'static str = "addPassword";

    fn sentence(&self) -> String {
        format!(
            "Create client secret '{}', valid until {} (its value is shown once, then only the service has it)",
            self.display_name.trim(),
            self.end
        )
    }

    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest> {
        let app = ctx.app_object_id();
        vec![
            request::get_password_credentials(&app),
            request::add_password(
                &app,
                &tagged_name(&self.display_name, &ctx.plan.marker()),
                Some(self.end),
            ),
            // Checks that no copy of it was left by a resent request.
            request::get_password_credentials(&app),
        ]
    }

    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError> {
        let app = run.app()?;
        let marker = run.plan.marker();
        let existing = graph::get_password_credentials(run.api, &app.object_id).await?;
        // Made by an earlier attempt of this plan whose answer never came:
        // its value is nowhere, so it cannot be used. Remove it, then make
        // the one secret this plan hands over.
        let lost: Vec<String> = existing
            .iter()
            .filter(|p| made_by(p, &marker))
            .map(|p| p.key_id.clone())
            .collect();
        for key_id in &lost {
            graph::remove_password(run.api, &app.object_id, key_id).await?;
        }
        let new = graph::add_password(
            run.api,
            &app.object_id,
            &tagged_name(&self.display_name, &marker),
            Some(self.end),
        )
        .await?;
        let key_id = new.key_id.clone();
        self.channel.put(NewSecret {
            key_id: key_id.clone(),
            value: Zeroizing::new(new.secret_text.clone()),
            hint: new.hint.clone(),
            end: new.end_date_time,
        });
        // A request resent by the client after a 5xx whose change had been
        // made leaves an earlier copy: keep only the one whose value we hold.
        let copies: Vec<String> = graph::get_password_credentials(run.api, &app.object_id)
            .await?
            .into_iter()
            .filter(|p| made_by(p, &marker) && !p.key_id.eq_ignore_ascii_case(&key_id))
            .map(|p| p.key_id)
            .collect();
        for copy in &copies {
            graph::remove_password(run.api, &app.object_id, copy).await?;
        }
        let removed = lost.len() + copies.len();
        let note = match removed {
            0 => format!("key ID {key_id}"),
            n => format!(
                "key ID {key_id}; removed {n} secret{} an earlier attempt made whose value was lost",
                super::plural(n)
            ),
        };
        Ok(done(Outcome::Changed, vec![key_id], Some(note)))
    }
}
