//! Runs a plan: each step through the HTTP trait with the retry policy,
//! progress recorded after every step, "already there" counted as done, and
//! a real error stopped on with the step, Microsoft's message and what to do.
//!
//! Every step first looks for its effect (IDs saved in [`Progress`], a
//! lookup by appId, by role name, by principal) or sends a request that is
//! idempotent itself (the application's create is an upsert by a key named
//! after the plan), and only then changes anything, so resuming after a
//! lost response or a reload never creates a second application, service
//! principal, grant or role assignment. The same holds within a run: a step whose POST got no
//! answer (a network error, or a gateway's answer the browser could not
//! read) runs again after a backoff, and its lookup finds what the lost
//! request made.

use core::future::poll_fn;
use core::ops::ControlFlow;
use core::pin::pin;

use crate::api_error::ApiError;
use crate::client::ApiClient;
use crate::core::key_credential::KeyCredentialError;
use crate::http::{HttpClient, RetryNotice, Sleeper};

use super::progress::ProgressError;
use super::step::each_step;
use super::steps::{self, Cache, Run, StepKind};
use super::{Plan, Progress, RequestPreview, Step, StepRecord};

/// What the progress list hears while a plan runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Started {
        index: usize,
        sentence: String,
    },
    /// A request of the step waits before it is sent again, sent as the
    /// wait starts: `notice` says how long and why ("waiting 95 s
    /// (throttled by Microsoft Graph)" is its `Display`).
    Retrying {
        index: usize,
        notice: RetryNotice,
    },
    /// A changing request the step sent (redacted), as the disclosure shows it.
    Sent {
        index: usize,
        request: RequestPreview,
    },
    Done {
        index: usize,
        record: StepRecord,
    },
}

/// How an apply ended without error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Every step is done.
    Completed,
    /// The caller asked to stop (from the event callback); resume with the
    /// saved progress.
    Stopped { next_step: usize },
}

/// Why a step could not be done.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(
        "No application with application (client) ID {app_id} exists in this tenant. Check the \
         ID (Microsoft Entra admin center → App registrations → Application (client) ID) and \
         that you signed in to the right tenant."
    )]
    ApplicationNotInTenant { app_id: String },
    #[error(
        "{name} ({app_id}) has no service principal in this tenant, so its permissions cannot \
         be granted."
    )]
    ResourceNotInTenant { app_id: String, name: String },
    #[error("{resource} has no {kind} called '{permission}'. Check the permission profile.")]
    PermissionNotFound {
        resource: String,
        kind: &'static str,
        permission: String,
    },
    #[error(transparent)]
    Certificate(#[from] KeyCredentialError),
    #[error("The certificate in the plan cannot be read: {0}")]
    CertificateUnreadable(String),
    #[error("No custom role called '{0}' exists on the subscription.")]
    CustomRoleMissing(String),
    /// A step ran before the step that provides what it needs.
    #[error("This step needs {0}, which an earlier step provides; the plan is out of order.")]
    Prerequisite(&'static str),
    #[error(transparent)]
    RemoveKey(#[from] super::steps::remove_key_credential::RemoveKeyError),
}

impl StepError {
    /// Whether Microsoft answered with this error code.
    pub fn has_code(&self, code: &str) -> bool {
        matches!(self, StepError::Api(e) if e.has_code(code))
    }
}

/// A stopped apply: which step, what Microsoft said, what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Step {} failed — {sentence}: {error}", index + 1)]
pub struct StepFailure {
    pub index: usize,
    pub sentence: String,
    pub error: StepError,
    pub what_to_do: String,
}

/// Applying could not start, or a step failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Progress(#[from] ProgressError),
    #[error(transparent)]
    Step(#[from] StepFailure),
}

/// Runs the steps of `plan` not yet done in `progress`. After every step
/// `on_event` gets the updated progress (save it: it holds no secret) and
/// may return `ControlFlow::Break(())` to stop there.
pub async fn apply<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    plan: &Plan,
    progress: &mut Progress,
    on_event: &mut dyn FnMut(&Event, &Progress) -> ControlFlow<()>,
) -> Result<Finish, ApplyError> {
    progress.check(plan)?;
    let mut cache = Cache::default();
    for (index, step) in plan.steps.iter().enumerate() {
        if progress.steps[index].is_done() {
            continue;
        }
        let _ = on_event(
            &Event::Started {
                index,
                sentence: step.sentence(),
            },
            progress,
        );
        api.expect_replication(progress.application_created);
        api.expect_role_replication(false);
        // The step holds the progress while it runs: a wait is reported
        // with the progress as it was when the step started (what a reload
        // resumes from), as soon as the wait starts.
        let before = progress.clone();
        let result = {
            let mut run = Run {
                api,
                plan,
                progress,
                cache: &mut cache,
            };
            let mut running = pin!(async {
                let mut attempt = 1;
                loop {
                    api.take_unanswered_post();
                    let result = each_step!(step, s => s.run(&mut run).await);
                    // A POST got no answer, or a 5xx, and was not sent again
                    // (it may have been carried out): the step runs again after the
                    // backoff and looks up what it creates before creating it.
                    if let Err(StepError::Api(_)) = &result
                        && let Some(service) = api.take_unanswered_post()
                        && api.back_off_after_unanswered_post(service, attempt).await
                    {
                        attempt += 1;
                        continue;
                    }
                    break result;
                }
            });
            poll_fn(|cx| {
                let poll = running.as_mut().poll(cx);
                for notice in api.take_retries() {
                    let _ = on_event(&Event::Retrying { index, notice }, &before);
                }
                poll
            })
            .await
        };
        for request in api.take_changes() {
            let _ = on_event(&Event::Sent { index, request }, progress);
        }
        let record = result.map_err(|error| StepFailure {
            index,
            sentence: step.sentence(),
            what_to_do: advice(step, &error),
            error,
        })?;
        progress.steps[index] = record.clone();
        if on_event(&Event::Done { index, record }, progress).is_break()
            && let Some(next_step) = progress.next_step()
        {
            return Ok(Finish::Stopped { next_step });
        }
    }
    Ok(Finish::Completed)
}

/// What to do after `error` in `step`: the step's own reason when it is
/// a known refusal, else the error's general advice.
pub fn advice(step: &Step, error: &StepError) -> String {
    if let Some(own) = each_step!(step, s => s.advice(error)) {
        return own;
    }
    let again = steps::AGAIN;
    if error.has_code("Authorization_RequestDenied") {
        return format!(
            "Creating and updating applications, service principals and consent needs the \
             Application Administrator, Cloud Application Administrator or Global Administrator \
             role. Ask an administrator with one of them to sign in here. {again}"
        );
    }
    match error {
        StepError::Api(e) => e.advice(),
        StepError::ApplicationNotInTenant { .. } => {
            "Correct the application ID, or sign in to the tenant the application belongs to."
                .into()
        }
        StepError::ResourceNotInTenant { name, .. } => format!(
            "{name} must be present in the tenant (an administrator adds it by consenting to \
             it once). {again}"
        ),
        StepError::PermissionNotFound { .. } => {
            "Correct the permission name in the profile (they are case-sensitive, e.g. \
             User.Read), then review the plan again."
                .into()
        }
        StepError::Certificate(_) | StepError::CertificateUnreadable(_) => {
            "Choose or generate another certificate, then review the plan again.".into()
        }
        StepError::CustomRoleMissing(_) => {
            "Review the plan again: it creates the custom role before assigning it.".into()
        }
        StepError::Prerequisite(_) => "Review the plan again from the start.".into(),
        StepError::RemoveKey(_) => {
            "Search for the certificate again, then review a new plan.".into()
        }
    }
}
