//! Bulk renewal on `#/dashboard` (issue 10 §3): the rows the admin
//! selected become one plan (`flows::bulk_renew`), reviewed here — its
//! summary, what the tenant's policy refuses, each application's steps
//! collapsed, the admin's choices — then applied with a progress bar,
//! pause, resume and cancel, and a result that shows each new secret once.
//! The old credentials go only after a second, explicit confirmation.
//!
//! The logic is in `flows::bulk_renew`; this is its thin edge. Certificates
//! are made in the crypto worker (`CryptoWorker::generate_set`: keys, PFX
//! files and their zip), never in the page's own wasm, and Apply waits until
//! the archive (or every PFX) was downloaded: the keys exist nowhere else.
//! New secret values live in the page's memory only — never in storage, the
//! console or a request — until the admin copies them or asks for the CSV.
//! The run's state (no value) is saved in sessionStorage after every batch,
//! so a reloaded tab resumes it.

use std::collections::HashSet;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::certificates::copy_to_clipboard;
use super::error::UiError;
use super::host::{AuthState, Session, use_session};
use super::storage;
use crate::core::password::{self, PasswordError};
use crate::core::time::{DAY, UnixTime};
use crate::core::tools::{CertificateSet, ToolError};
use crate::flows::bulk_renew::{
    self, BulkError, BulkPlan, CertificateNeed, Control, Finish, NewSecrets, Options, Policies,
    Progress, Purpose, RunState, Stage,
};
use crate::flows::dashboard::Table;
use crate::web::crypto_worker::CryptoWorker;
use crate::web::fetch::TimerSleeper;
use crate::web::lock::with_plan_lock;
use crate::web::{clock, download};

/// Lifetimes offered for the new secrets, in months (Microsoft recommends
/// less than 12).
const SECRET_MONTHS: [u32; 5] = [3, 6, 12, 18, 24];
const DEFAULT_SECRET_MONTHS: u32 = 6;
/// Lifetimes offered for the new certificates, in months.
const CERTIFICATE_MONTHS: [u32; 5] = [3, 6, 12, 18, 24];
const DEFAULT_CERTIFICATE_MONTHS: u32 = 12;

/// A run as this tab keeps it in sessionStorage after every batch: the
/// tenant, the plan and where each item stands. No secret value, no key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedBulk {
    pub tenant_id: String,
    pub plan: BulkPlan,
    pub state: RunState,
}

/// What can stop the page's part of a bulk renewal, typed until shown.
#[derive(Clone, Debug, thiserror::Error)]
enum BulkPageError {
    #[error(transparent)]
    Page(#[from] UiError),
    #[error(transparent)]
    Bulk(#[from] BulkError),
    #[error(transparent)]
    Tools(#[from] ToolError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("Give the new secrets a name (it is how you will recognise them in Entra).")]
    NoSecretName,
    #[error(
        "The browser did not start the download of {0}. Try again; if it keeps failing, allow \
         downloads for this page."
    )]
    Download(String),
    #[error(
        "This bulk renewal was started in tenant {saved}; you are signed in to {current}. Sign \
         in to that tenant to resume it."
    )]
    OtherTenant { saved: String, current: String },
}

impl From<crate::web::lock::HeldElsewhere> for BulkPageError {
    fn from(e: crate::web::lock::HeldElsewhere) -> Self {
        BulkPageError::Page(e.into())
    }
}

/// What the panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Screen {
    Closed,
    /// Reading the tenant's app management policies for the selection.
    Reading,
    /// The plan, the choices, the certificates; Apply.
    Review,
    /// A run (renewal or removal) going, paused, or ended.
    Run,
}

/// The certificates made for the plan under review, with the application
/// each PFX is for.
struct Made {
    set: CertificateSet,
    applications: Vec<String>,
}

/// The bulk renewal's state, shared by the selection bar and the panel.
#[derive(Clone, Copy)]
pub struct Bulk {
    session: Session,
    table: RwSignal<Option<Table>>,
    /// Selected rows, by the credential's keyId (row indices move as pages
    /// arrive).
    pub selected: RwSignal<HashSet<String>>,
    screen: RwSignal<Screen>,
    /// Which "Renew selected…" is reading its policies.
    reading: StoredValue<u32>,
    error: RwSignal<Option<BulkPageError>>,
    /// The table and rows the plan was made from, with their policies.
    basis: StoredValue<Option<(Table, Vec<u32>, Policies)>>,
    plan: RwSignal<Option<BulkPlan>>,
    secret_name: RwSignal<String>,
    secret_months: RwSignal<u32>,
    certificate_months: RwSignal<u32>,
    password: RwSignal<String>,
    confirmation: RwSignal<String>,
    generating: RwSignal<Option<String>>,
    made: StoredValue<Option<Made>, LocalStorage>,
    made_count: RwSignal<usize>,
    archive_saved: RwSignal<bool>,
    singles_saved: RwSignal<HashSet<usize>>,
    /// The plan running (renewal or removal) and its state.
    active: RwSignal<Option<BulkPlan>>,
    state: RwSignal<Option<RunState>>,
    running: RwSignal<bool>,
    control: StoredValue<Control>,
    finish: RwSignal<Option<Finish>>,
    /// The finished renewal, kept for the removal plan.
    renewal: StoredValue<Option<(BulkPlan, RunState)>>,
    /// New secret values, in memory only; `shown` counts changes.
    secrets: StoredValue<NewSecrets>,
    shown: RwSignal<u32>,
    /// A run saved by this tab before a reload.
    saved: RwSignal<Option<SavedBulk>>,
    removal_confirmed: RwSignal<bool>,
}

impl Bulk {
    pub fn new(table: RwSignal<Option<Table>>) -> Bulk {
        let bulk = Bulk {
            session: use_session(),
            table,
            selected: RwSignal::new(HashSet::new()),
            screen: RwSignal::new(Screen::Closed),
            reading: StoredValue::new(0),
            error: RwSignal::new(None),
            basis: StoredValue::new(None),
            plan: RwSignal::new(None),
            secret_name: RwSignal::new(String::new()),
            secret_months: RwSignal::new(DEFAULT_SECRET_MONTHS),
            certificate_months: RwSignal::new(DEFAULT_CERTIFICATE_MONTHS),
            password: RwSignal::new(String::new()),
            confirmation: RwSignal::new(String::new()),
            generating: RwSignal::new(None),
            made: StoredValue::new_local(None),
            made_count: RwSignal::new(0),
            archive_saved: RwSignal::new(false),
            singles_saved: RwSignal::new(HashSet::new()),
            active: RwSignal::new(None),
            state: RwSignal::new(None),
            running: RwSignal::new(false),
            control: StoredValue::new(Control::Continue),
            finish: RwSignal::new(None),
            renewal: StoredValue::new(None),
            secrets: StoredValue::new(NewSecrets::default()),
            shown: RwSignal::new(0),
            saved: RwSignal::new(storage::saved_bulk()),
            removal_confirmed: RwSignal::new(false),
        };
        on_cleanup(move || {
            // Leaving the dashboard drops the values and the PFX files.
            bulk.secrets.try_update_value(NewSecrets::clear);
            bulk.made.try_set_value(None);
            bulk.password.try_update(|p| p.zeroize());
            bulk.confirmation.try_update(|p| p.zeroize());
        });
        bulk
    }

    /// The selected rows' indices in the table.
    fn rows(&self) -> Vec<u32> {
        let selected = self.selected.get_untracked();
        self.table.with_untracked(|t| {
            t.as_ref()
                .map(|t| {
                    t.rows
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| selected.contains(&r.key_id))
                        .map(|(i, _)| i as u32)
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    fn busy(&self) -> bool {
        self.running.get_untracked() || self.generating.get_untracked().is_some()
    }

    /// A run (or its result, with secret values the admin may not have
    /// saved yet) is on screen: a new plan waits until the admin is done.
    fn in_run(&self) -> bool {
        self.screen.get() == Screen::Run
    }

    /// "Renew selected…": reads the policies that decide for the selected
    /// applications, then shows the plan.
    fn open(self) {
        if self.busy() || self.screen.get_untracked() == Screen::Run {
            return;
        }
        let rows = self.rows();
        let Some(table) = self.table.get_untracked() else {
            return;
        };
        if rows.is_empty() {
            return;
        }
        if self.secret_name.with_untracked(String::is_empty) {
            self.secret_name
                .set(Options::default_at(clock::now()).secret_name);
        }
        self.error.set(None);
        self.forget_made();
        self.plan.set(None);
        self.screen.set(Screen::Reading);
        // Only the latest "Renew selected…" shows its plan.
        let reading = self.reading.get_value().wrapping_add(1);
        self.reading.set_value(reading);
        let session = self.session;
        spawn_local(async move {
            let api = match session.api().await {
                Ok(api) => api,
                Err(e) => {
                    self.error.set(Some(e.into()));
                    self.screen.set(Screen::Closed);
                    return;
                }
            };
            let policies = bulk_renew::read_policies(&api, &table, &rows).await;
            // Another "Renew selected…", Close, or leaving the page
            // meanwhile wins.
            if self.screen.try_get_untracked() != Some(Screen::Reading)
                || self.reading.try_get_value() != Some(reading)
            {
                return;
            }
            self.basis.set_value(Some((table, rows, policies)));
            self.replan();
            self.screen.set(Screen::Review);
            scroll_to("bulk");
        });
    }

    /// The admin's choices as the flow takes them.
    fn options(&self, now: UnixTime) -> Options {
        let months = self.secret_months.get_untracked();
        Options {
            secret_name: self.secret_name.get_untracked().trim().to_string(),
            secret_days: (now.plus_months(months).0 - now.0) / DAY,
            certificate_months: self.certificate_months.get_untracked(),
        }
    }

    /// The plan for the selection and the current choices. Certificates
    /// made for an earlier plan are dropped: they belong to that plan.
    fn replan(&self) {
        let now = clock::now();
        let options = self.options(now);
        let plan = self.basis.with_value(|b| {
            b.as_ref().map(|(table, rows, policies)| {
                bulk_renew::plan(table, rows, &options, policies, now, &mut OsRng)
            })
        });
        self.forget_made();
        self.plan.set(plan);
    }

    fn forget_made(&self) {
        self.made.set_value(None);
        self.made_count.set(0);
        self.archive_saved.set(false);
        self.singles_saved.set(HashSet::new());
    }

    fn close(&self) {
        if self.busy() {
            return;
        }
        self.screen.set(Screen::Closed);
        self.plan.set(None);
        self.basis.set_value(None);
        self.forget_made();
        self.error.set(None);
    }

    /// Makes every certificate the plan needs in the crypto worker, under
    /// the admin's password, and attaches their public parts to the plan.
    fn generate(self) {
        if self.busy() {
            return;
        }
        let Some(plan) = self.plan.get_untracked() else {
            return;
        };
        let needs: Vec<CertificateNeed> = plan.certificates_needed();
        let pw = Zeroizing::new(self.password.get_untracked());
        let confirmation = Zeroizing::new(self.confirmation.get_untracked());
        if let Err(e) = password::confirm(&pw, &confirmation) {
            self.error.set(Some(e.into()));
            return;
        }
        self.error.set(None);
        self.generating
            .set(Some("Starting the certificate tools…".into()));
        let requests = needs
            .iter()
            .map(CertificateNeed::generate_request)
            .collect();
        spawn_local(async move {
            let generating = self.generating;
            let report: Rc<dyn Fn(&str)> = Rc::new(move |s: &str| {
                generating.try_set(Some(s.to_string()));
            });
            let outcome = CryptoWorker
                .generate_set(requests, &pw, clock::now(), Some(report))
                .await
                .map_err(BulkPageError::from)
                .and_then(|set| {
                    let mut plan = plan;
                    for (need, member) in needs.iter().zip(&set.members) {
                        plan.attach_certificate(need.item, &member.files.certificate_der)?;
                    }
                    Ok((plan, set))
                });
            match outcome {
                Ok((plan, set)) => {
                    let count = set.members.len();
                    self.made.set_value(Some(Made {
                        set,
                        applications: needs.into_iter().map(|n| n.application).collect(),
                    }));
                    self.made_count.set(count);
                    self.plan.set(Some(plan));
                    self.password.update(|p| p.zeroize());
                    self.confirmation.update(|p| p.zeroize());
                }
                Err(e) => self.error.set(Some(e)),
            }
            self.generating.set(None);
        });
    }

    fn save_archive(&self) {
        let name = format!(
            "renewed-certificates-{}.zip",
            &clock::now().to_rfc3339()[..10]
        );
        let saved = self.made.with_value(|m| {
            m.as_ref()
                .map(|m| download::save(&name, "application/zip", &m.set.archive).is_ok())
        });
        match saved {
            Some(true) => self.archive_saved.set(true),
            Some(false) => self.error.set(Some(BulkPageError::Download(name))),
            None => {}
        }
    }

    fn save_single(&self, n: usize) {
        let saved = self.made.with_value(|m| {
            m.as_ref().and_then(|m| m.set.members.get(n)).map(|member| {
                (
                    member.file_name.clone(),
                    download::save(&member.file_name, "application/x-pkcs12", &member.files.pfx)
                        .is_ok(),
                )
            })
        });
        match saved {
            Some((_, true)) => self.singles_saved.update(|s| {
                s.insert(n);
            }),
            Some((name, false)) => self.error.set(Some(BulkPageError::Download(name))),
            None => {}
        }
    }

    /// Apply is offered once every certificate is attached and the admin
    /// holds every key: the archive, or each PFX, downloaded.
    fn can_apply(&self) -> bool {
        let ready = self.plan.with(|p| {
            p.as_ref().is_some_and(|p| {
                let summary = p.summary();
                p.is_ready()
                    && summary.applications > 0
                    && (summary.secrets == 0 || !p.secret_name.trim().is_empty())
            })
        });
        let made = self.made_count.get();
        let keys_saved = made == 0
            || self.archive_saved.get()
            || self
                .singles_saved
                .with(|s| (0..made).all(|n| s.contains(&n)));
        ready && keys_saved && self.generating.with(Option::is_none)
    }

    /// Apply the plan under review.
    fn apply(self) {
        if self.busy() || !self.can_apply() {
            return;
        }
        let Some(plan) = self.plan.get_untracked() else {
            return;
        };
        if plan.secret_name.trim().is_empty() && plan.summary().secrets > 0 {
            self.error.set(Some(BulkPageError::NoSecretName));
            return;
        }
        let Some(account) = self.session.account() else {
            self.error.set(Some(UiError::SignedOut.into()));
            return;
        };
        self.selected.set(HashSet::new());
        let state = plan.start();
        self.run(SavedBulk {
            tenant_id: account.tenant_id,
            plan,
            state,
        });
    }

    /// Runs (or resumes) `saved`, saving its state after every event.
    fn run(self, saved: SavedBulk) {
        if self.running.get_untracked() {
            return;
        }
        if let Some(account) = self.session.account()
            && account.tenant_id != saved.tenant_id
        {
            self.error.set(Some(BulkPageError::OtherTenant {
                saved: saved.tenant_id,
                current: account.tenant_id,
            }));
            return;
        }
        self.error.set(None);
        self.finish.set(None);
        self.control.set_value(Control::Continue);
        self.running.set(true);
        self.screen.set(Screen::Run);
        self.saved.set(None);
        self.active.set(Some(saved.plan.clone()));
        self.state.set(Some(saved.state.clone()));
        storage::save_bulk(&saved);
        let session = self.session;
        spawn_local(async move {
            let SavedBulk {
                tenant_id,
                plan,
                mut state,
            } = saved;
            let mut secrets = self
                .secrets
                .try_update_value(std::mem::take)
                .unwrap_or_default();
            let outcome = async {
                let api = session.api().await?;
                let now_ms = || js_sys::Date::now() as u64;
                let (plan, state, secrets) = (&plan, &mut state, &mut secrets);
                // The plan was saved as the run started (above): only
                // the state changes from batch to batch.
                let mut on_event = move |_: &bulk_renew::Event, s: &RunState| {
                    storage::save_bulk_state(s);
                    self.state.try_set(Some(s.clone()));
                    self.control.try_get_value().unwrap_or(Control::Pause)
                };
                let finish = with_plan_lock(&plan.id, || async move {
                    bulk_renew::apply(
                        &api,
                        &TimerSleeper,
                        &now_ms,
                        plan,
                        state,
                        secrets,
                        &mut on_event,
                    )
                    .await
                })
                .await??;
                Ok::<_, BulkPageError>(finish)
            }
            .await;
            storage::save_bulk(&SavedBulk {
                tenant_id,
                plan: plan.clone(),
                state: state.clone(),
            });
            // What the removal plan is made from: a renewal with nothing left to send.
            if plan.purpose == Purpose::Renewal && state.is_finished() {
                self.renewal
                    .try_set_value(Some((plan.clone(), state.clone())));
            }
            self.secrets.try_set_value(secrets);
            self.shown.try_update(|n| *n += 1);
            self.state.try_set(Some(state));
            match outcome {
                Ok(f) => {
                    self.finish.try_set(Some(f));
                }
                Err(e) => {
                    self.error.try_set(Some(e));
                }
            }
            self.running.try_set(false);
        });
    }

    /// Resume the run saved before a reload: the secrets it made whose
    /// values were never shown are replaced (removed, one new made).
    fn resume(self) {
        let Some(mut saved) = self.saved.get_untracked() else {
            return;
        };
        let unseen: Vec<usize> = saved
            .state
            .unseen_secrets(&saved.plan, &NewSecrets::default())
            .into_iter()
            .map(|u| u.item)
            .collect();
        saved.state.replace_unseen(&unseen);
        if saved.plan.purpose == Purpose::Renewal && saved.state.is_finished() {
            self.renewal
                .set_value(Some((saved.plan.clone(), saved.state.clone())));
        }
        self.run(saved);
    }

    fn forget_saved(&self) {
        storage::forget_bulk();
        self.saved.set(None);
    }

    fn pause(&self) {
        self.control.set_value(Control::Pause);
    }

    fn cancel(&self) {
        self.control.set_value(Control::Cancel);
    }

    /// Cancel while paused: what was never sent is cancelled here; items
    /// half-way (a look-up pending) are finished by one more run, which
    /// creates nothing new.
    fn cancel_paused(self) {
        if self.running.get_untracked() {
            return self.cancel();
        }
        let (Some(plan), Some(mut state), Some(account)) = (
            self.active.get_untracked(),
            self.state.get_untracked(),
            self.session.account(),
        ) else {
            return;
        };
        state.cancel();
        let saved = SavedBulk {
            tenant_id: account.tenant_id,
            plan,
            state,
        };
        if saved.state.is_finished() {
            storage::save_bulk(&saved);
            if saved.plan.purpose == Purpose::Renewal {
                self.renewal
                    .set_value(Some((saved.plan.clone(), saved.state.clone())));
            }
            self.state.set(Some(saved.state));
            self.finish.set(Some(Finish::Cancelled));
        } else {
            self.run(saved);
        }
    }

    /// Resume after a pause: the same plan from its state.
    fn go_on(self) {
        let (Some(plan), Some(state), Some(account)) = (
            self.active.get_untracked(),
            self.state.get_untracked(),
            self.session.account(),
        ) else {
            return;
        };
        self.run(SavedBulk {
            tenant_id: account.tenant_id,
            plan,
            state,
        });
    }

    /// The new secrets as CSV, on the admin's request; counted as exported.
    fn save_csv(&self) {
        let name = format!("new-secrets-{}.csv", &clock::now().to_rfc3339()[..10]);
        let ok = self
            .secrets
            .with_value(|s| download::save(&name, "text/csv", s.csv().as_bytes()).is_ok());
        if !ok {
            self.error.set(Some(BulkPageError::Download(name)));
            return;
        }
        self.exported(|state, secrets| state.mark_exported(secrets));
    }

    /// Records in the saved state which values the admin has.
    fn exported(&self, mark: impl Fn(&mut RunState, &NewSecrets)) {
        let Some(plan) = self.active.get_untracked() else {
            return;
        };
        let Some(mut state) = self.state.get_untracked() else {
            return;
        };
        self.secrets.with_value(|s| mark(&mut state, s));
        if let Some(account) = self.session.account() {
            storage::save_bulk(&SavedBulk {
                tenant_id: account.tenant_id,
                plan,
                state: state.clone(),
            });
        }
        self.state.set(Some(state));
    }

    /// The second plan: the old credentials of what was renewed, removed
    /// by the same runner once the admin confirmed.
    fn remove_old(self) {
        if self.busy() || !self.removal_confirmed.get_untracked() {
            return;
        }
        let Some((plan, state)) = self.renewal.get_value() else {
            return;
        };
        let Some(account) = self.session.account() else {
            self.error.set(Some(UiError::SignedOut.into()));
            return;
        };
        match bulk_renew::removal_plan(&plan, &state) {
            Ok(removal) => {
                self.removal_confirmed.set(false);
                let state = removal.start();
                self.run(SavedBulk {
                    tenant_id: account.tenant_id,
                    plan: removal,
                    state,
                });
            }
            Err(e) => self.error.set(Some(e.into())),
        }
    }

    /// Done with the run: the saved state and the values go.
    fn dismiss(&self) {
        if self.busy() {
            return;
        }
        storage::forget_bulk();
        self.secrets.update_value(NewSecrets::clear);
        self.shown.update(|n| *n += 1);
        self.renewal.set_value(None);
        self.active.set(None);
        self.state.set(None);
        self.finish.set(None);
        self.close();
    }
}

fn scroll_to(id: &'static str) {
    request_animation_frame(move || {
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
        {
            el.scroll_into_view();
        }
    });
}

/// "About 2 min left".
fn time_left(ms: u64) -> String {
    let s = ms.div_ceil(1000);
    match s {
        0 => "finishing".into(),
        1..=59 => format!("about {s} s left"),
        _ => format!("about {} min left", s.div_ceil(60)),
    }
}

fn counts_line(p: &Progress) -> String {
    let mut parts = vec![format!("{} of {} done", p.done, p.total - p.refused)];
    if p.retrying > 0 {
        parts.push(format!("{} retrying", p.retrying));
    }
    if p.waiting > 0 {
        parts.push(format!("{} waiting for Graph's Retry-After", p.waiting));
    }
    parts.push(format!("{} failed", p.failed));
    if p.cancelled > 0 {
        parts.push(format!("{} cancelled", p.cancelled));
    }
    parts.join(", ")
}

/// The bar under the dashboard's filters: how many rows are selected, and
/// the way to the plan.
#[component]
pub fn SelectionBar(bulk: Bulk) -> impl IntoView {
    let count = Memo::new(move |_| bulk.selected.with(HashSet::len));
    view! {
        {move || (count.get() > 0).then(|| view! {
            <div class="bulk-bar" id="bulk-bar" role="region" aria-label="Selected credentials">
                <span id="bulk-count">{move || format!("{} selected", count.get())}</span>
                " — "
                <button type="button" class="primary" id="bulk-open"
                    prop:disabled=move || bulk.in_run() || bulk.generating.with(Option::is_some)
                    on:click=move |_| bulk.open()>"Renew selected…"</button>
                <button type="button" id="bulk-clear"
                    on:click=move |_| bulk.selected.set(HashSet::new())>"Clear selection"</button>
                {move || bulk.in_run().then(|| view! {
                    <span class="hint">"Finish the bulk renewal above (Done) before planning another."</span>
                })}
            </div>
        })}
    }
}

/// The panel: the offer to resume, the plan, the run and its result.
#[component]
pub fn BulkPanel(bulk: Bulk) -> impl IntoView {
    let visible = move || bulk.screen.get() != Screen::Closed || bulk.saved.with(Option::is_some);
    view! {
        {move || visible().then(|| view! {
            <section class="panel bulk" id="bulk" aria-labelledby="bulk-title">
                <h2 id="bulk-title">"Bulk renewal"</h2>
                {move || match bulk.screen.get() {
                    Screen::Closed => view! { <ResumeOffer bulk=bulk /> }.into_any(),
                    Screen::Reading => view! {
                        <p class="status" role="status" id="bulk-reading">
                            <progress></progress>
                            " Reading the app management policies of the selected applications…"
                        </p>
                    }.into_any(),
                    Screen::Review => view! { <Review bulk=bulk /> }.into_any(),
                    Screen::Run => view! { <RunView bulk=bulk /> }.into_any(),
                }}
                <p class="error" role="alert" id="bulk-error">{move || bulk.error.get().map(|e| e.to_string())}</p>
            </section>
        })}
    }
}

/// After a reload: the run this tab saved, and what resuming does.
#[component]
fn ResumeOffer(bulk: Bulk) -> impl IntoView {
    move || {
        bulk.saved.get().map(|saved| {
            let signed_in = matches!(bulk.session.auth.get(), AuthState::SignedIn(_));
            let progress = saved.state.progress(js_sys::Date::now() as u64);
            let unseen = saved.state.unseen_secrets(&saved.plan, &NewSecrets::default());
            let finished = saved.state.is_finished();
            let what = match saved.plan.purpose {
                Purpose::Renewal => "bulk renewal",
                Purpose::Removal => "removal of the old credentials",
            };
            let status = match finished {
                true => format!("The {what} of this tab has ended: {}.", counts_line(&progress)),
                false => format!(
                    "A {what} of this tab was interrupted: {}, {} not sent yet.",
                    counts_line(&progress),
                    progress.pending + progress.retrying + progress.waiting
                ),
            };
            let label = match (finished && unseen.is_empty(), saved.plan.purpose) {
                (false, Purpose::Renewal) => "Resume the bulk renewal",
                (false, Purpose::Removal) => "Resume the removal",
                (true, _) => "Show its result",
            };
            view! {
                <div class="card" id="bulk-resume-offer">
                    <p id="bulk-resume-status">{status}</p>
                    {(!unseen.is_empty()).then(|| view! {
                        <div class="warnings" id="bulk-unseen">
                            <p>{format!(
                                "{} new secret{} made before the reload {} never shown, so nobody has {}. \
                                 Resuming replaces {}: each is removed and a new one made, shown once.",
                                unseen.len(),
                                if unseen.len() == 1 { "" } else { "s" },
                                if unseen.len() == 1 { "was" } else { "were" },
                                if unseen.len() == 1 { "its value" } else { "their values" },
                                if unseen.len() == 1 { "it" } else { "them" },
                            )}</p>
                            <ul>{unseen.into_iter().map(|u| view! {
                                <li>{format!("{} ({}) — secret key ID {}", u.application, u.app_id, u.key_id)}</li>
                            }).collect_view()}</ul>
                        </div>
                    })}
                    {(!signed_in).then(|| view! { <p class="hint">"Sign in (top right) to resume."</p> })}
                    <div class="actions">
                        <button type="button" class="primary" id="bulk-resume" prop:disabled=!signed_in
                            on:click=move |_| bulk.resume()>{label}</button>
                        <button type="button" id="bulk-forget" on:click=move |_| bulk.forget_saved()>
                            "Forget it"
                        </button>
                    </div>
                    <p class="hint">"Forgetting it changes nothing in the tenant."</p>
                </div>
            }
        })
    }
}

/// The plan under review: summary, refusals, choices, certificates, steps.
#[component]
fn Review(bulk: Bulk) -> impl IntoView {
    let locked = move || bulk.generating.with(Option::is_some);
    view! {
        {move || bulk.plan.with(|p| p.as_ref().map(|p| {
            let summary = p.summary();
            let apps = p.applications();
            let refused: Vec<(String, String)> = apps
                .iter()
                .flat_map(|a| a.refused.iter().map(|r| (a.name.clone(), r.clone())))
                .collect();
            let skipped = p.skipped.clone();
            view! {
                <p class="summary" id="bulk-summary">{summary.to_string()}</p>
                {(!refused.is_empty()).then(|| view! {
                    <div class="warnings" id="bulk-refused">
                        <p>"Refused by the tenant's app management policy (nothing is sent for these):"</p>
                        <ul>{refused.into_iter().map(|(app, why)| view! {
                            <li><strong>{app}</strong>": " {why}</li>
                        }).collect_view()}</ul>
                    </div>
                })}
                {(!skipped.is_empty()).then(|| view! {
                    <div class="warnings" id="bulk-skipped">
                        <ul>{skipped.into_iter().map(|s| view! {
                            <li><strong>{s.name}</strong>{format!(" ({}): ", s.app_id)}{s.why}</li>
                        }).collect_view()}</ul>
                    </div>
                })}
                <div class="bulk-apps" id="bulk-apps">
                    {apps.into_iter().map(|a| view! {
                        <details class="bulk-app" data-app-id=a.app_id.clone()>
                            <summary>{format!("{} ({})", a.name, a.app_id)}</summary>
                            <ul>
                                {a.steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
                                {a.refused.into_iter().map(|s| view! { <li class="refused">{s}</li> }).collect_view()}
                            </ul>
                            {(!a.notes.is_empty()).then(|| view! {
                                <ul class="hint">{a.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                            })}
                        </details>
                    }).collect_view()}
                </div>
            }
        }))}
        <fieldset class="choice" id="bulk-choices" prop:disabled=locked>
            <legend>"The new credentials"</legend>
            <div class="grid">
            <label for="bulk-secret-name">"Secret name"</label>
            <input id="bulk-secret-name" type="text" autocomplete="off"
                prop:value=move || bulk.secret_name.get()
                on:change=move |ev| { bulk.secret_name.set(event_target_value(&ev)); bulk.replan(); } />
            <label for="bulk-secret-months">"Secret lifetime (months)"</label>
            <select id="bulk-secret-months"
                prop:value=move || bulk.secret_months.get().to_string()
                on:change=move |ev| {
                    if let Ok(m) = event_target_value(&ev).parse() { bulk.secret_months.set(m); bulk.replan(); }
                }>
                {SECRET_MONTHS.map(|m| view! { <option value=m.to_string()>{m.to_string()}</option> }).collect_view()}
            </select>
            {move || bulk.plan.with(|p| p.as_ref().is_some_and(|p| p.items.iter().any(|i| matches!(i.action, bulk_renew::Action::AddCertificate { .. })))).then(|| view! {
                <label for="bulk-certificate-months">"Certificate lifetime (months)"</label>
                <select id="bulk-certificate-months"
                    prop:value=move || bulk.certificate_months.get().to_string()
                    on:change=move |ev| {
                        if let Ok(m) = event_target_value(&ev).parse() { bulk.certificate_months.set(m); bulk.replan(); }
                    }>
                    {CERTIFICATE_MONTHS.map(|m| view! { <option value=m.to_string()>{m.to_string()}</option> }).collect_view()}
                </select>
            })}
            </div>
        </fieldset>
        <p class="hint">"The tenant's policy may shorten a lifetime; each application's steps say so."</p>
        <Certificates bulk=bulk />
        <div class="actions">
            <button type="button" class="primary" id="bulk-apply" prop:disabled=move || !bulk.can_apply()
                on:click=move |_| bulk.apply()>"Apply"</button>
            <button type="button" id="bulk-close" prop:disabled=locked on:click=move |_| bulk.close()>"Close"</button>
        </div>
        {move || (bulk.made_count.get() > 0 && !bulk.can_apply() && bulk.generating.with(Option::is_none)).then(|| view! {
            <p class="hint" id="bulk-apply-hint">
                "Download the archive (or every PFX) first: the private keys exist nowhere else."
            </p>
        })}
    }
}

/// The certificates the plan registers: made in the crypto worker under
/// one password, downloaded as one archive or one by one.
#[component]
fn Certificates(bulk: Bulk) -> impl IntoView {
    let needed = Memo::new(move |_| {
        bulk.plan
            .with(|p| p.as_ref().map_or(0, |p| p.certificates_needed().len()))
    });
    view! {
        {move || (needed.get() > 0 || bulk.made_count.get() > 0).then(|| view! {
            <div class="bulk-certificates" id="bulk-certificates">
                <h3>"New certificates"</h3>
                {move || (needed.get() > 0).then(|| view! {
                    <p class="hint">{move || format!(
                        "{} certificate{} (RSA 2048, one per application) will be made in this page. Their PFX \
                         files are protected by the password you choose here and offered as one .zip archive.",
                        needed.get(), if needed.get() == 1 { "" } else { "s" }
                    )}</p>
                    <div class="grid">
                        <label for="bulk-pfx-password">"PFX password"</label>
                        <input id="bulk-pfx-password" type="password" autocomplete="new-password"
                            prop:value=move || bulk.password.get()
                            on:input=move |ev| bulk.password.set(event_target_value(&ev)) />
                        <label for="bulk-pfx-confirm">"Confirm password"</label>
                        <input id="bulk-pfx-confirm" type="password" autocomplete="new-password"
                            prop:value=move || bulk.confirmation.get()
                            on:input=move |ev| bulk.confirmation.set(event_target_value(&ev)) />
                    </div>
                    <div class="actions">
                        <button type="button" class="primary" id="bulk-generate"
                            prop:disabled=move || bulk.generating.with(Option::is_some)
                            on:click=move |_| bulk.generate()>"Generate the certificates"</button>
                        <button type="button" id="bulk-generate-cancel"
                            prop:hidden=move || bulk.generating.with(Option::is_none)
                            on:click=move |_| crate::web::crypto_worker::cancel()>"Cancel"</button>
                    </div>
                })}
                <p class="status" role="status" id="bulk-generating">{move || bulk.generating.get()}</p>
                {move || (bulk.made_count.get() > 0).then(|| {
                    let files = bulk.made.with_value(|m| m.as_ref().map(|m| {
                        m.set.members.iter().zip(&m.applications)
                            .map(|(s, a)| (s.file_name.clone(), a.clone()))
                            .collect::<Vec<_>>()
                    })).unwrap_or_default();
                    view! {
                        <p class="status ok" id="bulk-made">{format!(
                            "{} certificate{} made and attached to the plan.",
                            files.len(), if files.len() == 1 { "" } else { "s" }
                        )}</p>
                        <div class="actions">
                            <button type="button" class="primary" id="bulk-download-zip"
                                on:click=move |_| bulk.save_archive()>"Download the archive (.zip)"</button>
                            {move || bulk.archive_saved.get().then(|| view! { <span class="hint">"Downloaded."</span> })}
                        </div>
                        <details id="bulk-singles">
                            <summary>"Or download the PFX files one by one"</summary>
                            <ul>
                                {files.into_iter().enumerate().map(|(n, (file, app))| view! {
                                    <li>
                                        {format!("{app}: ")}
                                        <button type="button" on:click=move |_| bulk.save_single(n)>{file}</button>
                                        {move || bulk.singles_saved.with(|s| s.contains(&n)).then_some(" — downloaded")}
                                    </li>
                                }).collect_view()}
                            </ul>
                        </details>
                    }
                })}
            </div>
        })}
    }
}

/// A run: its progress and controls, then its result.
#[component]
fn RunView(bulk: Bulk) -> impl IntoView {
    let progress = Memo::new(move |_| {
        bulk.state
            .with(|s| s.as_ref().map(|s| s.progress(js_sys::Date::now() as u64)))
    });
    let purpose = move || bulk.active.with(|p| p.as_ref().map(|p| p.purpose));
    let title = move || match purpose() {
        Some(Purpose::Removal) => "Removing the old credentials",
        _ => "Renewing",
    };
    view! {
        <h3 id="bulk-run-title">{title}</h3>
        {move || bulk.active.with(|p| p.as_ref().map(|p| view! {
            <p class="summary" id="bulk-run-summary">{p.summary().to_string()}</p>
        }))}
        {move || progress.get().map(|p| {
            let settled = p.done + p.failed + p.refused + p.cancelled;
            let left = match (bulk.running.get(), p.eta_ms) {
                (true, Some(ms)) => format!(" — {}", time_left(ms)),
                _ => String::new(),
            };
            view! {
                <progress id="bulk-progress" max=p.total value=settled></progress>
                <p class="status" role="status" aria-live="polite" id="bulk-counts">
                    {format!("{}{left}", counts_line(&p))}
                </p>
            }
        })}
        <div class="actions">
            {move || match (bulk.running.get(), bulk.finish.get()) {
                (true, _) => view! {
                    <button type="button" id="bulk-pause" on:click=move |_| bulk.pause()>"Pause"</button>
                    <button type="button" id="bulk-cancel" on:click=move |_| bulk.cancel()>"Cancel"</button>
                }.into_any(),
                (false, Some(Finish::Paused)) => view! {
                    <span class="status" id="bulk-paused">"Paused. "</span>
                    <button type="button" class="primary" id="bulk-resume-run" on:click=move |_| bulk.go_on()>"Resume"</button>
                    <button type="button" id="bulk-cancel" on:click=move |_| bulk.cancel_paused()>"Cancel"</button>
                }.into_any(),
                // Stopped by an error (Graph refused a batch, a sign-in): go on from the saved state.
                (false, None) if bulk.error.with(Option::is_some) => view! {
                    <button type="button" class="primary" id="bulk-resume-run" on:click=move |_| bulk.go_on()>"Try again"</button>
                }.into_any(),
                _ => ().into_any(),
            }}
        </div>
        {move || (!bulk.running.get() && bulk.finish.get().is_some_and(|f| f != Finish::Paused)).then(|| view! { <RunResult bulk=bulk /> })}
    }
}

/// What a run leaves: the new secrets once, the failures, and the way to
/// remove the old credentials.
#[component]
fn RunResult(bulk: Bulk) -> impl IntoView {
    let failed = move || {
        bulk.active.with(|p| {
            bulk.state.with(|s| match (p, s) {
                (Some(p), Some(s)) => p
                    .items
                    .iter()
                    .zip(&s.items)
                    .filter_map(|(item, run)| match &run.stage {
                        Stage::Failed { message } => Some((
                            item.owner.name.clone(),
                            item.owner.app_id.clone(),
                            message.clone(),
                        )),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            })
        })
    };
    let removal = move || {
        bulk.active
            .with(|p| p.as_ref().is_some_and(|p| p.purpose == Purpose::Removal))
    };
    let removal_plan = move || {
        bulk.shown.track();
        bulk.renewal
            .with_value(|r| r.as_ref().map(|(p, s)| bulk_renew::removal_plan(p, s)))
    };
    view! {
        <SecretsTable bulk=bulk />
        {move || {
            let f = failed();
            (!f.is_empty()).then(|| view! {
                <div class="warnings" id="bulk-failed">
                    <p>{format!("{} item{} failed:", f.len(), if f.len() == 1 { "" } else { "s" })}</p>
                    <ul>{f.into_iter().map(|(app, id, message)| view! {
                        <li><strong>{app}</strong>{format!(" ({id}): ")}{message}</li>
                    }).collect_view()}</ul>
                </div>
            })
        }}
        {move || (!removal()).then(|| match removal_plan() {
            Some(Ok(p)) => view! {
                <div class="card" id="bulk-removal">
                    <h3>"Remove the old credentials"</h3>
                    <p id="bulk-removal-summary">{p.summary().to_string()}</p>
                    {(!p.skipped.is_empty()).then(|| view! {
                        <ul class="hint" id="bulk-removal-kept">
                            {p.skipped.iter().map(|k| view! {
                                <li><strong>{k.name.clone()}</strong>{format!(" ({}): ", k.app_id)}{k.why.clone()}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    <p class="hint">
                        "Put the new secrets and certificates in the services first. The old ones keep working \
                         until you remove them here; after that, a service still using one stops signing in."
                    </p>
                    <label>
                        <input type="checkbox" id="bulk-removal-confirm"
                            prop:checked=move || bulk.removal_confirmed.get()
                            on:change=move |ev| bulk.removal_confirmed.set(event_target_checked(&ev)) />
                        " The services use the new credentials"
                    </label>
                    <div class="actions">
                        <button type="button" class="primary" id="bulk-remove"
                            prop:disabled=move || !bulk.removal_confirmed.get()
                            on:click=move |_| bulk.remove_old()>"Remove the old credentials"</button>
                    </div>
                </div>
            }.into_any(),
            Some(Err(e)) => view! { <p class="hint" id="bulk-removal-none">{e.to_string()}</p> }.into_any(),
            None => ().into_any(),
        })}
        {move || removal().then(|| view! {
            <p class="status ok" id="bulk-removed">
                "The old credentials of the renewed applications are removed (those that failed are listed above)."
            </p>
        })}
        <div class="actions">
            <button type="button" id="bulk-done" on:click=move |_| bulk.dismiss()>"Done"</button>
        </div>
    }
}

/// The new secrets, each value shown once here with Copy, and one CSV on
/// request. Gone when the admin leaves the result.
#[component]
fn SecretsTable(bulk: Bulk) -> impl IntoView {
    let rows = move || {
        bulk.shown.track();
        bulk.secrets.with_value(|s| {
            s.list()
                .iter()
                .map(|c| {
                    (
                        c.application.clone(),
                        c.app_id.clone(),
                        c.name.clone(),
                        c.secret.key_id.clone(),
                        c.secret
                            .end
                            .map(|e| e.to_rfc3339()[..10].to_string())
                            .unwrap_or_default(),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        {move || {
            let rows = rows();
            (!rows.is_empty()).then(|| view! {
                <div class="bulk-secrets">
                    <h3>"New client secrets — shown only now"</h3>
                    <p class="hint">
                        "Copy each value into its service, or download them all as CSV. Entra never shows a \
                         value again and this page does not keep them: they are gone when you leave this result."
                    </p>
                    <table id="bulk-secrets">
                        <thead><tr>
                            <th>"Application"</th><th>"Application ID"</th><th>"Secret"</th>
                            <th>"Expires"</th><th>"Value"</th><th></th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|(app, app_id, name, key_id, end)| {
                                let key = key_id.clone();
                                let value = move || bulk.secrets.with_value(|s| s.list().iter()
                                    .find(|c| c.secret.key_id == key)
                                    .map(|c| c.secret.value.to_string())
                                    .unwrap_or_default());
                                let copy_value = value.clone();
                                let copied_key = key_id.clone();
                                let (key_attr, app_attr) = (key_id.clone(), app_id.clone());
                                view! {
                                    <tr data-key=key_attr data-app-id=app_attr>
                                        <td>{app}</td>
                                        <td>{app_id}</td>
                                        <td title=key_id>{name}</td>
                                        <td>{end}</td>
                                        <td><input type="text" class="secret-value" readonly autocomplete="off"
                                            spellcheck="false" aria-label="Secret value" prop:value=value /></td>
                                        <td><button type="button" class="copy" on:click=move |_| {
                                            copy_to_clipboard(copy_value());
                                            let k = copied_key.clone();
                                            bulk.exported(move |state, _| state.mark_exported_key(&k));
                                        }>"Copy"</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <div class="actions">
                        <button type="button" class="primary" id="bulk-download-csv"
                            on:click=move |_| bulk.save_csv()>"Download CSV"</button>
                    </div>
                </div>
            })
        }}
    }
}
