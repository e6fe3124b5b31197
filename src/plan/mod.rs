//! Plans: what a wizard will change, as data. A [`Plan`] is an ordered list
//! of typed [`Step`]s, each with one sentence for the admin and the exact
//! requests behind it (secrets and key material redacted). `execute` runs a
//! plan, recording [`Progress`] after every step so that a reloaded page
//! resumes without creating anything twice; `preflight` compares what the
//! plan needs with the signed-in admin's roles before anything runs.

pub mod execute;
pub mod preflight;
pub mod progress;
pub mod step;
pub mod steps;

use serde::{Deserialize, Serialize};

pub use execute::{Event, Finish, StepError, StepFailure, apply};
pub use preflight::{AdminRights, Missing, Requirement};
pub use progress::{AppIds, Outcome, Progress, StepRecord};
pub use step::{GrantResource, RequestPreview, RoleRef, Step, redact};

/// Format of serialised plans and progress. 2: steps are externally
/// tagged (`{"assignRole": {…}}`); format 1 (`{"kind": "assignRole", …}`)
/// is still read.
pub const PLAN_FORMAT: u32 = 2;

/// What a wizard will do, reviewed before it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub format: u32,
    /// Random, from the caller; ties progress to its plan and marks the
    /// objects the plan creates so a lost response can be recovered.
    pub id: String,
    /// "Register a new application for Azure backup".
    pub title: String,
    #[serde(deserialize_with = "step::compat::steps")]
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn new(id: impl Into<String>, title: impl Into<String>, steps: Vec<Step>) -> Self {
        Plan {
            format: PLAN_FORMAT,
            id: id.into(),
            title: title.into(),
            steps,
        }
    }

    /// The sentences of the review list.
    pub fn sentences(&self) -> Vec<String> {
        self.steps.iter().map(Step::sentence).collect()
    }

    /// A fresh progress record for this plan.
    pub fn start(&self) -> Progress {
        Progress::new(self)
    }

    /// What the signed-in admin must be allowed to do.
    pub fn requirements(&self) -> Vec<Requirement> {
        preflight::requirements(self)
    }

    /// The tag the plan's new objects carry (`entra-wizard:plan:{id}`).
    pub fn marker(&self) -> String {
        marker(&self.id)
    }
}

pub fn marker(plan_id: &str) -> String {
    format!("entra-wizard:plan:{plan_id}")
}

/// A version-4 GUID from caller-supplied randomness (the browser's
/// `crypto.getRandomValues`, the OS natively).
pub fn new_guid(rng: &mut impl rand_core::RngCore) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u8);
    impl rand_core::RngCore for Counter {
        fn next_u32(&mut self) -> u32 {
            0
        }
        fn next_u64(&mut self) -> u64 {
            0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for d in dest {
                *d = self.0;
                self.0 = self.0.wrapping_add(1);
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    #[test]
    fn guids_are_version_4() {
        let g = new_guid(&mut Counter(0));
        assert_eq!(g, "00010203-0405-4607-8809-0a0b0c0d0e0f");
        assert!(crate::core::validate::is_guid(&g));
    }
}
