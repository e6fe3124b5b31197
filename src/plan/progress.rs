//! What an apply has done so far: serialisable, never a secret — only the
//! IDs of what each step found or created — saved after every step so that a
//! reloaded page resumes where it stopped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{PLAN_FORMAT, Plan};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppIds {
    /// The application object's `id`.
    pub object_id: String,
    /// The application (client) ID.
    pub app_id: String,
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// The step made a change.
    Changed,
    /// Nothing to do: it was already so (found by ID or by lookup, or
    /// Microsoft answered "already exists").
    AlreadyDone,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// IDs of the objects this step created or found (assignment IDs,
    /// grant IDs, role definition IDs…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// A short note for the progress list ("kept 2 existing certificates").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl StepRecord {
    pub fn is_done(&self) -> bool {
        self.outcome.is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub format: u32,
    pub plan_id: String,
    pub steps: Vec<StepRecord>,
    /// The application the plan works on, once created or found.
    #[serde(default)]
    pub application: Option<AppIds>,
    /// Whether this plan created it (then lookups may meet replication delays).
    #[serde(default)]
    pub application_created: bool,
    #[serde(default)]
    pub service_principal_id: Option<String>,
    /// Whether this plan created it (then it holds only what the plan gave
    /// it, and the grant and role steps need not read before writing).
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub service_principal_created: bool,
    /// Custom role name → role definition GUID.
    #[serde(default)]
    pub custom_roles: BTreeMap<String, String>,
    /// Thumbprints of the certificates registered by the application's
    /// create (their `RegisterCertificate` steps have nothing left to send).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registered_certificates: Vec<String>,
}

/// A saved progress that does not belong to the plan being resumed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProgressError {
    #[error(
        "The saved progress belongs to another plan ({found}); start this plan afresh or open \
         the plan it was saved for."
    )]
    OtherPlan { found: String },
    #[error("The saved progress has {found} steps, the plan {expected}: it was changed since.")]
    StepCount { found: usize, expected: usize },
    #[error("The saved progress is from another version of this page (format {0}).")]
    Format(u32),
}

impl Progress {
    pub fn new(plan: &Plan) -> Self {
        Progress {
            format: PLAN_FORMAT,
            plan_id: plan.id.clone(),
            steps: vec![StepRecord::default(); plan.steps.len()],
            application: None,
            application_created: false,
            service_principal_id: None,
            service_principal_created: false,
            custom_roles: BTreeMap::new(),
            registered_certificates: Vec::new(),
        }
    }

    /// Checks that this saved progress may resume `plan`.
    pub fn check(&self, plan: &Plan) -> Result<(), ProgressError> {
        // Format 1 progress holds the same fields (fewer of them).
        if !(1..=PLAN_FORMAT).contains(&self.format) {
            return Err(ProgressError::Format(self.format));
        }
        if self.plan_id != plan.id {
            return Err(ProgressError::OtherPlan {
                found: self.plan_id.clone(),
            });
        }
        if self.steps.len() != plan.steps.len() {
            return Err(ProgressError::StepCount {
                found: self.steps.len(),
                expected: plan.steps.len(),
            });
        }
        Ok(())
    }

    pub fn done_count(&self) -> usize {
        self.steps.iter().filter(|s| s.is_done()).count()
    }

    pub fn is_finished(&self) -> bool {
        self.steps.iter().all(StepRecord::is_done)
    }

    /// The first step not yet done.
    pub fn next_step(&self) -> Option<usize> {
        self.steps.iter().position(|s| !s.is_done())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Step;

    #[test]
    fn progress_belongs_to_its_plan() {
        let plan = Plan::new("p1", "t", vec![Step::CreateServicePrincipal]);
        let mut progress = plan.start();
        assert_eq!(progress.next_step(), Some(0));
        progress.steps[0].outcome = Some(Outcome::Changed);
        progress.service_principal_id = Some("sp".into());
        assert!(progress.is_finished());
        let json = serde_json::to_string(&progress).unwrap();
        let back: Progress = serde_json::from_str(&json).unwrap();
        assert_eq!(back, progress);
        back.check(&plan).unwrap();

        let other = Plan::new("p2", "t", vec![Step::CreateServicePrincipal]);
        assert!(matches!(
            back.check(&other),
            Err(ProgressError::OtherPlan { .. })
        ));
        let longer = Plan::new("p1", "t", vec![Step::CreateServicePrincipal; 2]);
        assert_eq!(
            back.check(&longer),
            Err(ProgressError::StepCount {
                found: 1,
                expected: 2
            })
        );
        let mut old = back.clone();
        old.format = 0;
        assert_eq!(old.check(&plan), Err(ProgressError::Format(0)));
    }
}
