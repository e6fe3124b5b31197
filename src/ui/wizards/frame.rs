//! The one frame every connect wizard runs in: its form → its plan →
//! `flows::review::prepare` → the review → apply with a progress list that
//! survives a reload → the result card. A wizard supplies its form, and the
//! form hands the frame a [`Draft`]: its plan, what to save when it is
//! applied (its [`Completion`]) and, when it names one, its tenant.

use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};

use super::card::ResultCard;
use super::progress::{self, ProgressList, Row};
use super::review::ReviewPanel;
use crate::core::time::UnixTime;
use crate::flows::SubscriptionChoice;
use crate::flows::certificate::{self, CertificateSource, GeneratedPfx};
use crate::flows::connection::{self, AuthMethod, ConnectionRecord, RecordDetails};
use crate::flows::edit_account::{self, EditChange, SecretFacts};
use crate::flows::review::{self, Review, SignedIn};
use crate::plan::step::SecretChannel;
use crate::plan::{Plan, Progress, Step};
use crate::ui::error::UiError;
use crate::ui::host::{Session, use_session};
use crate::ui::storage;
use crate::web::{clock, crypto_worker::CryptoWorker};

/// What an applied plan leaves behind, beside its progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
// One per apply, moved not copied: boxing the record would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Completion {
    /// A connection record to save under Service accounts (F1, F2, F5).
    Record(RecordDetails),
    /// Nothing to save; the sentence the result says (F4).
    Done(String),
    /// An edit of a saved service account (F3): the record as it was and
    /// what the plan changes in it.
    Edit {
        record: ConnectionRecord,
        change: EditChange,
    },
}

impl Completion {
    /// The service account (or plan) the completion is about.
    pub fn name(&self, plan: &Plan) -> String {
        match self {
            Completion::Record(d) => d.name.clone(),
            Completion::Edit { record, .. } => record.name.clone(),
            Completion::Done(_) => plan.title.clone(),
        }
    }

    /// The plan's certificate was replaced (its generated key was lost with
    /// a reload): what it saves names the new one.
    pub fn certificate_replaced(&mut self, auth: AuthMethod) {
        match self {
            Completion::Record(d) => d.auth = auth,
            Completion::Edit {
                change: EditChange::CertificateRegistered { auth: a },
                ..
            }
            | Completion::Edit {
                change: EditChange::Recreated { auth: Some(a) },
                ..
            } => *a = auth,
            Completion::Edit { .. } | Completion::Done(_) => {}
        }
    }

    /// What a finished `plan` leaves: the record saved (a new one, or the
    /// edited one in its place), or the sentence to show.
    pub fn finish(
        self,
        plan: &Plan,
        progress: &Progress,
        now: UnixTime,
    ) -> Result<Finished, UiError> {
        match self {
            Completion::Done(sentence) => Ok(Finished::Done(sentence)),
            Completion::Record(details) => {
                let record = ConnectionRecord::from_progress(details, progress, now)?;
                storage::keep_record(record.clone());
                Ok(Finished::Record(record))
            }
            Completion::Edit { record, change } => {
                // The new secret's value is in the applied plan's step (in
                // memory only): the result card takes it from there.
                let channel = plan.steps.iter().find_map(|s| match s {
                    Step::AddPassword(a) => Some(a.channel.clone()),
                    _ => None,
                });
                let facts = channel
                    .as_ref()
                    .and_then(SecretChannel::facts)
                    .map(|(hint, end)| SecretFacts { hint, end })
                    .unwrap_or_default();
                let edited = edit_account::complete(&record, plan, &change, progress, facts, now);
                let mut all = storage::records();
                connection::replace(&mut all, &record, edited.clone());
                storage::save_records(&all);
                Ok(Finished::Edited {
                    record: edited,
                    previous: record,
                    change,
                    channel,
                })
            }
        }
    }
}

/// A certificate whose key was generated in the page, as the saved apply
/// remembers it: the key itself is gone with a reload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedKey {
    pub file_name: String,
    pub thumbprint: String,
}

impl From<&GeneratedPfx> for GeneratedKey {
    fn from(g: &GeneratedPfx) -> Self {
        GeneratedKey {
            file_name: g.file_name.clone(),
            thumbprint: g.thumbprint.clone(),
        }
    }
}

/// The plan being applied, saved in sessionStorage after every event so a
/// reloaded page resumes. The same for every wizard: no secret, no key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedApply {
    pub plan: Plan,
    pub progress: Progress,
    pub completion: Completion,
    /// Set when the plan registers a key generated in the page.
    #[serde(default)]
    pub generated_key: Option<GeneratedKey>,
}

/// What a wizard's form hands to the frame.
pub struct Draft {
    pub plan: Plan,
    pub completion: Completion,
    /// The tenant the form named (F2), compared with the signed-in one.
    pub tenant: Option<String>,
    /// The certificate generated for this plan, for download.
    pub generated: Option<GeneratedPfx>,
    /// What the form's check found and the admin should still see.
    pub notices: Vec<String>,
}

/// A reviewed draft.
#[derive(Clone)]
pub struct Reviewed {
    pub review: Review,
    pub completion: Completion,
}

/// How an apply (or a local check) ended.
#[derive(Clone)]
// One per apply, like `Completion`.
#[allow(clippy::large_enum_variant)]
pub enum Finished {
    Record(ConnectionRecord),
    Done(String),
    /// A service account edited (F3): the record now and before, and where
    /// a new secret's value waits to be shown once.
    Edited {
        record: ConnectionRecord,
        previous: ConnectionRecord,
        change: EditChange,
        channel: Option<SecretChannel>,
    },
}

/// The frame's state, shared with the wizard's form as a context.
#[derive(Clone, Copy)]
pub struct Frame {
    session: Session,
    pub reviewed: RwSignal<Option<Reviewed>>,
    /// The PFX of a certificate generated for the plan under review.
    pub generated: StoredValue<Option<GeneratedPfx>>,
    pub has_pfx: RwSignal<bool>,
    /// Whether that PFX was downloaded (Apply waits for it).
    pub downloaded: RwSignal<bool>,
    pub rows: RwSignal<Vec<Row>>,
    pub applying: RwSignal<bool>,
    pub apply_error: RwSignal<Option<UiError>>,
    pub finished: RwSignal<Option<Finished>>,
    pub notices: RwSignal<Vec<String>>,
}

pub fn use_frame() -> Frame {
    expect_context::<Frame>()
}

impl Frame {
    pub fn new() -> Frame {
        let frame = Frame {
            session: use_session(),
            reviewed: RwSignal::new(None),
            generated: StoredValue::new(None),
            has_pfx: RwSignal::new(false),
            downloaded: RwSignal::new(false),
            rows: RwSignal::new(Vec::new()),
            applying: RwSignal::new(false),
            apply_error: RwSignal::new(None),
            finished: RwSignal::new(None),
            notices: RwSignal::new(Vec::new()),
        };
        on_cleanup(move || {
            frame.generated.try_update_value(|g| *g = None);
        });
        provide_context(frame);
        frame
    }

    /// An input changed: the review no longer matches the form.
    pub fn changed(&self) {
        self.reviewed.set(None);
    }

    /// Back to an empty form (another wizard was chosen, or the admin
    /// starts again after a result), unless an apply is running.
    pub fn reset(&self) {
        if self.applying.get_untracked() {
            return;
        }
        self.reviewed.set(None);
        self.rows.set(Vec::new());
        self.apply_error.set(None);
        self.finished.set(None);
        self.notices.set(Vec::new());
        self.has_pfx.set(false);
        self.downloaded.set(false);
        self.generated.set_value(None);
    }

    /// The record's details for the signed-in tenant and cloud.
    pub fn record(
        &self,
        name: String,
        auth: AuthMethod,
        profile: String,
        subscription: Option<SubscriptionChoice>,
        portal_address: Option<String>,
    ) -> Result<Completion, UiError> {
        let config = self.session.sign_in_config().ok_or(UiError::SignedOut)?;
        let account = self.session.account().ok_or(UiError::SignedOut)?;
        Ok(Completion::Record(RecordDetails {
            name,
            cloud: config.cloud,
            tenant_id: account.tenant_id,
            auth,
            profile,
            subscription,
            portal_address,
        }))
    }

    /// Reviews `draft` for the signed-in admin (`flows::review::prepare`)
    /// and shows it.
    pub async fn review(&self, draft: Draft) -> Result<(), UiError> {
        let session = self.session;
        let account = session.account().ok_or(UiError::SignedOut)?;
        let api = session.api().await?;
        let granted = move |a, needed: &[&str]| session.missing_scopes(a, needed);
        let review = review::prepare(
            &api,
            draft.plan,
            &SignedIn {
                tenant_id: &account.tenant_id,
                granted: &granted,
            },
            draft.tenant.as_deref(),
        )
        .await;
        self.has_pfx.set(draft.generated.is_some());
        self.downloaded.set(false);
        self.generated.set_value(draft.generated);
        self.notices.set(draft.notices);
        self.reviewed.set(Some(Reviewed {
            review,
            completion: draft.completion,
        }));
        Ok(())
    }

    /// Makes or opens the certificate `source` describes
    /// (`flows::certificate::decide`, in the page's crypto worker), builds the
    /// wizard's plan around it with `build(der, auth, now)`, and reviews it.
    pub async fn review_with_certificate(
        &self,
        source: CertificateSource,
        build: impl FnOnce(Vec<u8>, AuthMethod, UnixTime) -> Result<(Plan, Completion), UiError>,
    ) -> Result<(), UiError> {
        let now = clock::now();
        let chosen = certificate::decide(&source, &CryptoWorker, now, &mut OsRng).await?;
        drop(source);
        let (plan, completion) = build(chosen.der, chosen.auth, now)?;
        self.review(Draft {
            plan,
            completion,
            tenant: None,
            generated: chosen.generated,
            notices: Vec::new(),
        })
        .await
    }

    /// A wizard that finished in the page (F2 with its box off): save the
    /// record, show it with what the check found.
    pub fn finish_locally(&self, record: ConnectionRecord, notices: Vec<String>) {
        storage::keep_record(record.clone());
        self.notices.set(notices);
        self.has_pfx.set(false);
        self.generated.set_value(None);
        self.finished.set(Some(Finished::Record(record)));
    }

    /// Saves the PFX of the generated certificate as a download.
    pub fn download_pfx(&self) {
        self.generated.with_value(|g| {
            if let Some(g) = g {
                let _ = crate::web::download::save(&g.file_name, "application/x-pkcs12", &g.pfx);
                self.downloaded.set(true);
            }
        });
    }

    /// The saved form of the plan under review, ready to apply.
    pub fn saved(&self, r: &Reviewed) -> SavedApply {
        let generated_key = self
            .generated
            .with_value(|g| g.as_ref().map(GeneratedKey::from));
        SavedApply {
            progress: r.review.plan.start(),
            plan: r.review.plan.clone(),
            completion: r.completion.clone(),
            generated_key,
        }
    }

    /// Runs (or resumes) `saved`, showing its progress.
    pub fn run(&self, saved: SavedApply) {
        let frame = *self;
        frame.applying.set(true);
        frame.apply_error.set(None);
        frame.rows.set(progress::rows(&saved.plan, &saved.progress));
        storage::save_apply(&saved);
        spawn_local(async move {
            match progress::apply(frame.session, saved, frame.rows).await {
                Ok(done) => frame.finished.set(Some(done)),
                Err(e) => frame.apply_error.set(Some(e)),
            }
            frame.applying.set(false);
        });
    }
}

/// The form (the wizard's, as children) until apply starts, the review,
/// the progress and the result.
#[component]
pub fn WizardFrame(frame: Frame, children: ChildrenFn) -> impl IntoView {
    let show_form =
        Memo::new(move |_| frame.rows.with(Vec::is_empty) && frame.finished.with(Option::is_none));
    view! {
        {move || show_form.get().then(|| view! {
            {children()}
            {move || frame.reviewed.get().map(|r| view! { <ReviewPanel reviewed=r frame=frame /> })}
        })}
        <ProgressList frame=frame />
        <ResultCard frame=frame />
    }
}
