//! Connect → Register a new application (F1): the form, the review (plan
//! sentences with their redacted requests, and the pre-flight check), apply
//! with a progress list that survives a reload, and the connection card.
//! The logic is `crate::flows::new_app`, `crate::plan` and `crate::core`.

use std::ops::ControlFlow;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::certificates::copy_to_clipboard;
use super::existing::ExistingAppForm;
use super::portal::PortalForm;
use super::roles::RolesForm;
use super::session::{Session, api_client, use_session};
use super::subscriptions::{SubscriptionField, Subscriptions};
use crate::auth::tokens::Audience;
use crate::cloud::Cloud;
use crate::core::certificate::{Certificate, CertificateRequest};
use crate::core::generate::{DEFAULT_MONTHS, GenerateRequest, file_stem};
use crate::core::inspect::{self, Opened};
use crate::core::keygen::{KeyGenerator, KeySize};
use crate::core::pfx::ExportMode;
use crate::flows::SubscriptionChoice;
use crate::flows::connection::{AuthMethod, ConnectionRecord, RecordDetails};
use crate::flows::new_app::{self, NewApplication};
use crate::plan::execute::ApplyError;
use crate::plan::{self, Event, Finish, Outcome, Plan, Progress, Step};
use crate::profiles;
use crate::web::{clock, download, storage, webcrypto::WebCryptoKeyGenerator};

/// sessionStorage: the plan being applied and its progress (no secret).
const APPLY_KEY: &str = "entra-wizard.apply";
/// sessionStorage key of the custom permission profiles loaded in this tab
/// (the profile JSON itself; it holds no secret).
const CUSTOM_PROFILES_KEY: &str = "entra-wizard.custom-profiles";
/// localStorage: the finished wizards' connection records (IDs and dates only).
pub const ACCOUNTS_KEY: &str = "entra-wizard.service-accounts";

/// What is saved after every event so that a reloaded page resumes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SavedApply {
    pub plan: Plan,
    pub progress: Progress,
    pub name: String,
    pub profile: String,
    pub subscription: Option<SubscriptionChoice>,
    /// How the service authenticates (`None` for F4, which only assigns roles).
    #[serde(default)]
    pub auth: Option<AuthMethod>,
    pub cloud: Cloud,
    pub tenant_id: String,
    /// F5: the Restore Portal's web address.
    #[serde(default)]
    pub portal_address: Option<String>,
}

impl SavedApply {
    fn load() -> Option<SavedApply> {
        storage::session_get(APPLY_KEY).and_then(|s| serde_json::from_str(&s).ok())
    }
    fn save(&self) {
        storage::session_set(APPLY_KEY, &serde_json::to_string(self).unwrap_or_default());
    }
}

/// The saved connection records.
pub fn saved_records() -> Vec<ConnectionRecord> {
    storage::local_get(ACCOUNTS_KEY)
        .and_then(|s| crate::flows::connection::import(&s).ok())
        .unwrap_or_default()
}

pub fn save_records(records: &[ConnectionRecord]) {
    storage::local_set(ACCOUNTS_KEY, &crate::flows::connection::export(records));
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum StepState {
    Pending,
    Running,
    Retrying(String),
    Done(String),
    Failed { message: String, what_to_do: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    sentence: String,
    state: StepState,
}

fn rows(plan: &Plan, progress: &Progress) -> Vec<Row> {
    plan.sentences()
        .into_iter()
        .zip(&progress.steps)
        .map(|(sentence, r)| Row {
            sentence,
            state: if r.is_done() {
                done_state(r)
            } else {
                StepState::Pending
            },
        })
        .collect()
}

fn done_state(r: &plan::StepRecord) -> StepState {
    let what = match r.outcome {
        Some(Outcome::AlreadyDone) => "Already done",
        _ => "Done",
    };
    StepState::Done(match &r.note {
        Some(n) => format!("{what} — {n}"),
        None => what.to_string(),
    })
}

/// The review of a plan: what it will do and whether the admin may.
#[derive(Clone)]
pub(crate) struct Review {
    pub saved: SavedApply,
    /// Pre-flight: what the admin lacks (empty: may apply), or why it
    /// could not be checked.
    pub missing: Result<Vec<String>, String>,
}

/// A certificate generated here: its PFX (password-protected) for download.
#[derive(Clone)]
pub(crate) struct GeneratedPfx {
    stem: String,
    pfx: Zeroizing<Vec<u8>>,
}

pub(crate) fn needs_arm(plan: &Plan) -> bool {
    plan.steps
        .iter()
        .any(|s| matches!(s, Step::AssignRole { .. } | Step::EnsureCustomRole { .. }))
}

pub(crate) async fn signed_in_api(
    session: Session,
    arm: bool,
) -> Result<
    crate::client::ApiClient<
        'static,
        crate::web::fetch::FetchClient,
        crate::web::fetch::TimerSleeper,
    >,
    String,
> {
    let config = session
        .sign_in_config()
        .ok_or_else(|| "Sign in first.".to_string())?;
    let graph = session.token(Audience::Graph).await?;
    let mut api = api_client(config.cloud.endpoints()).with_graph_token(graph);
    if arm {
        api = api.with_arm_token(session.token(Audience::Arm).await?);
    }
    Ok(api)
}

/// The `change` handler of a wizard's PFX field: reads the chosen file into
/// `file` (name and bytes), or says why it could not.
pub(crate) fn pick_file(
    file: RwSignal<Option<(String, Vec<u8>)>>,
    error: RwSignal<Option<String>>,
) -> impl Fn(leptos::ev::Event) + Copy + 'static {
    move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(f) = input.files().and_then(|l| l.get(0)) else {
            file.set(None);
            return;
        };
        spawn_local(async move {
            let name = f.name();
            match crate::web::file::read(f).await {
                Ok(bytes) => file.set(Some((name, bytes))),
                Err(e) => error.set(Some(e)),
            }
        });
    }
}

/// Builds the certificate: generated here (and its PFX kept for download),
/// or the leaf of the imported PFX.
pub(crate) async fn certificate(
    name: &str,
    generate: bool,
    password: &str,
    confirmation: &str,
    file: Option<(String, Vec<u8>)>,
) -> Result<(Vec<u8>, Option<GeneratedPfx>), String> {
    if generate {
        let request = GenerateRequest {
            subject: CertificateRequest::new(name.trim()),
            validity_months: DEFAULT_MONTHS,
            key_size: KeySize::Rsa2048,
            format: ExportMode::Compatible,
        };
        request
            .check(password, confirmation)
            .map_err(|e| e.to_string())?;
        let key = WebCryptoKeyGenerator
            .generate(request.key_size)
            .await
            .map_err(|e| e.to_string())?;
        let g = request
            .build(key, password, clock::now(), &mut OsRng)
            .map_err(|e| e.to_string())?;
        Ok((
            g.certificate.into_der(),
            Some(GeneratedPfx {
                stem: file_stem(name),
                pfx: Zeroizing::new(g.pfx),
            }),
        ))
    } else {
        let (file_name, bytes) =
            file.ok_or_else(|| "Choose the PFX or P12 file of the certificate.".to_string())?;
        let opened =
            inspect::open(&bytes, &file_name, Some(password)).map_err(|e| e.to_string())?;
        match opened {
            Opened::Pfx { imported, .. } => {
                if imported.key.is_none() {
                    return Err(
                        "This PFX holds no private key: the service could not sign in \
                                with it. Choose the PFX exported with its private key."
                            .into(),
                    );
                }
                let leaf = imported.leaf.as_ref().ok_or_else(|| {
                    "This PFX holds no certificate for its private key.".to_string()
                })?;
                Ok((leaf.der().to_vec(), None))
            }
            Opened::Certificates(_) => Err(
                "This file holds only a public certificate: choose the PFX/P12 with its \
                 private key, which the service needs."
                    .into(),
            ),
        }
    }
}

#[component]
pub fn ConnectPage() -> impl IntoView {
    let session = use_session();
    let review = RwSignal::new(None::<Review>);
    let steps = RwSignal::new(Vec::<Row>::new());
    let applying = RwSignal::new(false);
    let apply_error = RwSignal::new(None::<String>);
    let record = RwSignal::new(None::<ConnectionRecord>);
    // What a wizard's check found and the admin should still see with the card.
    let notices = RwSignal::new(Vec::<String>::new());
    let generated = StoredValue::new(None::<GeneratedPfx>);
    let has_pfx = RwSignal::new(false);
    // 0: register a new application, 1: use an existing one, 2: Azure roles.
    let wizard = RwSignal::new(0u8);
    let finished = RwSignal::new(false);
    let interrupted = RwSignal::new(SavedApply::load().filter(|s| !s.progress.is_finished()));

    on_cleanup(move || {
        generated.try_update_value(|g| *g = None);
    });

    let run = Callback::new(move |saved: SavedApply| {
        applying.set(true);
        apply_error.set(None);
        interrupted.set(None);
        steps.set(rows(&saved.plan, &saved.progress));
        saved.save();
        spawn_local(async move {
            let outcome = apply(session, saved, steps).await;
            match outcome {
                Ok(r) => {
                    finished.set(true);
                    record.set(r);
                }
                Err(e) => apply_error.set(Some(e)),
            }
            applying.set(false);
        });
    });

    let resume = move |_| {
        if let Some(saved) = interrupted.get_untracked() {
            run.run(saved);
        }
    };

    view! {
        <p class="lead">
            "Register a new Entra application for a service: certificate, required permissions, \
             Azure roles and a connection bundle. You review every change before it is made."
        </p>
        {move || interrupted.get().map(|s| {
            let done = s.progress.done_count();
            let total = s.progress.steps.len();
            view! {
                <section class="panel" aria-labelledby="resume-title">
                    <h2 id="resume-title">"Unfinished: " {s.plan.title.clone()}</h2>
                    <p>{format!("{done} of {total} steps were done before the page was closed or reloaded. \
                        Resuming finds what was already created instead of creating it again.")}</p>
                    <button type="button" class="primary"
                        prop:disabled=move || session.account().is_none() || applying.get()
                        on:click=resume>"Resume"</button>
                    {move || session.account().is_none().then(|| view! { <p class="hint">"Sign in to resume."</p> })}
                </section>
            }
        })}
        {move || {
            if record.get().is_some() || !steps.get().is_empty() {
                None
            } else {
                Some(view! {
                    <fieldset class="choice" id="wizard-choice">
                        <legend>"What do you want to do?"</legend>
                        {[(0u8, "Register a new application"), (1, "Use an existing application"), (2, "Check and assign Azure roles"), (3, "Restore Portal application")]
                            .into_iter()
                            .map(|(w, label)| view! {
                                <label>
                                    <input type="radio" name="wizard"
                                        prop:checked=move || wizard.get() == w
                                        on:change=move |_| { wizard.set(w); review.set(None); } />
                                    {format!(" {label}")}
                                </label>
                            })
                            .collect_view()}
                    </fieldset>
                    {move || match wizard.get() {
                        1 => view! { <ExistingAppForm review=review record=record generated=generated has_pfx=has_pfx run=run notices=notices /> }.into_any(),
                        2 => view! { <RolesForm review=review generated=generated has_pfx=has_pfx run=run /> }.into_any(),
                        3 => view! { <PortalForm review=review generated=generated has_pfx=has_pfx run=run /> }.into_any(),
                        _ => view! { <NewAppForm review=review generated=generated has_pfx=has_pfx run=run /> }.into_any(),
                    }}
                })
            }
        }}
        {move || (!steps.get().is_empty()).then(|| view! {
            <section class="panel" aria-labelledby="progress-title">
                <h2 id="progress-title">"Progress"</h2>
                <ol class="progress" id="apply-progress">
                    {move || steps.get().into_iter().map(|row| {
                        let (class, label, detail) = match &row.state {
                            StepState::Pending => ("pending", "Pending".to_string(), None),
                            StepState::Running => ("running", "Running…".to_string(), None),
                            StepState::Retrying(why) => ("retrying", "Retrying".to_string(), Some(why.clone())),
                            StepState::Done(note) => ("done", note.clone(), None),
                            StepState::Failed { message, what_to_do } => (
                                "failed",
                                "Failed".to_string(),
                                Some(format!("{message} What to do: {what_to_do}")),
                            ),
                        };
                        view! {
                            <li class=format!("step {class}")>
                                <span class="sentence">{row.sentence.clone()}</span>
                                " "
                                <span class="state">{label}</span>
                                {detail.map(|d| view! { <p class="detail">{d}</p> })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
                <p class="status" role="status">{move || applying.get().then_some("Applying…")}</p>
                <p class="error" role="alert" id="apply-error">{move || apply_error.get()}</p>
                {move || (apply_error.get().is_some() && !applying.get()).then(|| view! {
                    <button type="button" class="primary"
                        on:click=move |_| if let Some(s) = SavedApply::load() { run.run(s) }>
                        "Try again from the failed step"
                    </button>
                })}
            </section>
        })}
        {move || {
            let n = notices.get();
            (record.get().is_some() && !n.is_empty()).then(|| view! {
                <ul class="warnings" id="connect-notices">{n.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            })
        }}
        {move || record.get().map(|r| view! { <ConnectionCard record=r generated=generated has_pfx=has_pfx /> })}
        {move || (finished.get() && record.get().is_none()).then(|| view! {
            <section class="panel" aria-labelledby="finished-title">
                <h2 id="finished-title">"Done"</h2>
                <p id="apply-done">"Every step is done: the roles are assigned."</p>
            </section>
        })}
    }
}

/// Runs (or resumes) the saved plan, saving the progress after every event.
async fn apply(
    session: Session,
    mut saved: SavedApply,
    steps: RwSignal<Vec<Row>>,
) -> Result<Option<ConnectionRecord>, String> {
    let api = signed_in_api(session, needs_arm(&saved.plan)).await?;
    let plan = saved.plan.clone();
    let mut progress = saved.progress.clone();
    let set = move |index: usize, state: StepState| {
        steps.update(|rows| {
            if let Some(r) = rows.get_mut(index) {
                r.state = state;
            }
        })
    };
    let result = plan::apply(&api, &plan, &mut progress, &mut |event, p| {
        match event {
            Event::Started { index, .. } => set(*index, StepState::Running),
            Event::Retrying { index, notice } => set(
                *index,
                StepState::Retrying(format!(
                    "{} (HTTP {}): attempt {} in {} s.",
                    notice.reason,
                    notice.status,
                    notice.attempt + 1,
                    notice.wait_ms.div_ceil(1000)
                )),
            ),
            Event::Sent { .. } => {}
            Event::Done { index, record } => set(*index, done_state(record)),
        }
        saved.progress = p.clone();
        saved.save();
        ControlFlow::Continue(())
    })
    .await;
    saved.progress = progress.clone();
    saved.save();
    match result {
        Ok(Finish::Completed) => {
            let Some(auth) = saved.auth.clone() else {
                storage::session_remove(APPLY_KEY);
                return Ok(None);
            };
            let details = RecordDetails {
                name: saved.name.clone(),
                cloud: saved.cloud.clone(),
                tenant_id: saved.tenant_id.clone(),
                auth,
                profile: saved.profile.clone(),
                subscription: saved.subscription.clone(),
                portal_address: saved.portal_address.clone(),
            };
            let record = ConnectionRecord::from_progress(details, &progress, clock::now())
                .map_err(|e| e.to_string())?;
            let mut records = saved_records();
            records.retain(|r| r.app_id != record.app_id);
            records.push(record.clone());
            save_records(&records);
            storage::session_remove(APPLY_KEY);
            Ok(Some(record))
        }
        Ok(Finish::Stopped { next_step }) => Err(format!(
            "Stopped before step {}: resume to finish.",
            next_step + 1
        )),
        Err(ApplyError::Step(f)) => {
            set(
                f.index,
                StepState::Failed {
                    message: f.error.to_string(),
                    what_to_do: f.what_to_do.clone(),
                },
            );
            Err(f.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The custom profiles loaded in this tab.
fn session_profiles() -> Vec<profiles::Profile> {
    storage::session_get(CUSTOM_PROFILES_KEY)
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// A profile by ID: a custom one loaded in this tab, else a shipped one.
fn find_profile(custom: &[profiles::Profile], id: &str) -> Option<profiles::Profile> {
    custom
        .iter()
        .find(|p| p.id == id)
        .cloned()
        .or_else(|| profiles::by_id(id).ok())
}

/// "Load a custom profile (JSON)": a file or pasted JSON, read with
/// `profiles::load_custom`; what is wrong names the field. A loaded profile
/// joins the profile list for this tab and is selected.
#[component]
fn CustomProfileLoader(
    custom: RwSignal<Vec<profiles::Profile>>,
    profile_id: RwSignal<String>,
    on_change: Callback<()>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let loaded = RwSignal::new(None::<String>);
    let load = move |json: String| {
        let mut list = custom.get_untracked();
        match profiles::add_custom(&mut list, &json) {
            Ok(id) => {
                storage::session_set(
                    CUSTOM_PROFILES_KEY,
                    &serde_json::to_string(&list).unwrap_or_default(),
                );
                let name = list
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.display_name.clone())
                    .unwrap_or_default();
                custom.set(list);
                profile_id.set(id);
                error.set(None);
                loaded.set(Some(format!(
                    "Loaded '{name}': it is selected above and stays in the list until this tab is closed."
                )));
                on_change.run(());
            }
            Err(e) => {
                loaded.set(None);
                error.set(Some(e.to_string()));
            }
        }
    };
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(f) = input.files().and_then(|l| l.get(0)) else {
            return;
        };
        spawn_local(async move {
            match crate::web::file::read(f).await {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(json) => {
                        text.set(json.clone());
                        load(json);
                    }
                    Err(_) => error.set(Some(
                        "The file is not text: choose the profile's JSON file.".into(),
                    )),
                },
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <details class="custom-profile" id="f1-custom-profile">
            <summary>"Load a custom profile (JSON)"</summary>
            <p class="hint">
                "A profile in the form of the page's profiles/permissions.json: one profile object, or a file \
                 {\"version\": 1, \"profiles\": [...]}. Permissions are named (User.Read, Application.Read.All), \
                 Azure roles by their built-in names."
            </p>
            <div class="grid">
                <label for="f1-custom-file">"Custom profile file"</label>
                <input id="f1-custom-file" type="file" accept=".json,application/json" on:change=on_file />
                <label for="f1-custom-json">"Custom profile JSON"</label>
                <textarea id="f1-custom-json" rows="8" spellcheck="false"
                    aria-describedby="f1-custom-error"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </div>
            <p class="error" role="alert" id="f1-custom-error">{move || error.get()}</p>
            <p class="ok" role="status" id="f1-custom-loaded">{move || loaded.get()}</p>
            <button type="button" on:click=move |_| load(text.get_untracked())>"Load profile"</button>
        </details>
    }
}

#[component]
fn NewAppForm(
    review: RwSignal<Option<Review>>,
    generated: StoredValue<Option<GeneratedPfx>>,
    has_pfx: RwSignal<bool>,
    run: Callback<SavedApply>,
) -> impl IntoView {
    let session = use_session();
    let built_in = profiles::built_in();
    let custom = RwSignal::new(session_profiles());
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let profile_id = RwSignal::new(built_in.first().map(|p| p.id.clone()).unwrap_or_default());
    let generate = RwSignal::new(true);
    let pw = RwSignal::new(String::new());
    let pw2 = RwSignal::new(String::new());
    let file = RwSignal::new(None::<(String, Vec<u8>)>);
    let redirect = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    on_cleanup(move || {
        pw.try_update(|p| p.zeroize());
        pw2.try_update(|p| p.zeroize());
        file.try_set(None);
    });

    let profile = move || custom.with(|c| find_profile(c, &profile_id.get()));
    let needs_subscription = move || profile().is_some_and(|p| p.needs_subscription());

    let subs = Subscriptions::new(needs_subscription);

    let on_file = pick_file(file, error);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if session.account().is_none() {
            error.set(Some(
                "Sign in first (the button at the top of the page).".into(),
            ));
            return;
        }
        let Some(profile) = profile() else {
            error.set(Some("Choose the permission profile.".into()));
            return;
        };
        let sub = if profile.needs_subscription() {
            match subs.choice() {
                Some(s) => Some(s),
                None => {
                    error.set(Some(format!(
                        "The '{}' permissions include Azure roles: choose the subscription to assign them on.",
                        profile.display_name
                    )));
                    return;
                }
            }
        } else {
            None
        };
        error.set(None);
        busy.set(true);
        review.set(None);
        let display_name = name.get_untracked();
        let desc = Some(description.get_untracked().trim().to_string()).filter(|d| !d.is_empty());
        let redirect_uri =
            Some(redirect.get_untracked().trim().to_string()).filter(|d| !d.is_empty());
        let is_generate = generate.get_untracked();
        let (password, confirmation) = (pw.get_untracked(), pw2.get_untracked());
        let chosen = file.get_untracked();
        spawn_local(async move {
            let outcome = async {
                if display_name.trim().is_empty() {
                    return Err(crate::flows::InputError::NameEmpty.to_string());
                }
                let (der, pfx) =
                    certificate(&display_name, is_generate, &password, &confirmation, chosen)
                        .await?;
                let cert = Certificate::from_der(&der).map_err(|e| e.to_string())?;
                let auth = AuthMethod::certificate(&cert).map_err(|e| e.to_string())?;
                let input = NewApplication {
                    display_name: display_name.clone(),
                    description: desc,
                    profile: profile.clone(),
                    certificate_der: der,
                    redirect_uri,
                    subscription: sub.clone(),
                };
                let plan =
                    new_app::plan(&input, clock::now(), &mut OsRng).map_err(|e| e.to_string())?;
                let config = session.sign_in_config().ok_or("Sign in first.")?;
                let account = session.account().ok_or("Sign in first.")?;
                let missing = match signed_in_api(session, needs_arm(&plan)).await {
                    Ok(api) => plan::preflight::run(&api, &plan)
                        .await
                        .map(|m| m.into_iter().map(|m| m.message).collect())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                let saved = SavedApply {
                    progress: plan.start(),
                    plan,
                    name: display_name.trim().to_string(),
                    profile: profile.id.clone(),
                    subscription: sub,
                    auth: Some(auth),
                    cloud: config.cloud,
                    tenant_id: account.tenant_id,
                    portal_address: None,
                };
                Ok::<_, String>((Review { saved, missing }, pfx))
            }
            .await;
            let mut password = password;
            let mut confirmation = confirmation;
            password.zeroize();
            confirmation.zeroize();
            match outcome {
                Ok((r, pfx)) => {
                    has_pfx.set(pfx.is_some());
                    generated.set_value(pfx);
                    review.set(Some(r));
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="panel" aria-labelledby="f1-title">
            <h2 id="f1-title">"Register a new application"</h2>
            <form on:submit=on_submit novalidate>
                <div class="grid">
                    <label for="f1-name">"Application name"</label>
                    <input id="f1-name" type="text" required autocomplete="off"
                        placeholder="Backup Azure SA"
                        prop:value=move || name.get()
                        on:input=move |ev| { name.set(event_target_value(&ev)); review.set(None); } />

                    <label for="f1-desc">"Description (optional)"</label>
                    <input id="f1-desc" type="text" autocomplete="off"
                        prop:value=move || description.get()
                        on:input=move |ev| { description.set(event_target_value(&ev)); review.set(None); } />

                    <label for="f1-profile">"Permission profile"</label>
                    <select id="f1-profile" on:change=move |ev| { profile_id.set(event_target_value(&ev)); review.set(None); }>
                        {move || built_in.iter().cloned().map(|p| (p, false))
                            .chain(custom.get().into_iter().map(|p| (p, true)))
                            .map(|(p, is_custom)| {
                                let id = p.id.clone();
                                let id2 = p.id.clone();
                                let label = if is_custom {
                                    format!("{} (custom)", p.display_name)
                                } else {
                                    p.display_name.clone()
                                };
                                view! {
                                    <option value=id prop:selected=move || profile_id.get() == id2>{label}</option>
                                }
                            }).collect_view()}
                    </select>
                    <span></span>
                    <CustomProfileLoader custom=custom profile_id=profile_id
                        on_change=Callback::new(move |_| review.set(None)) />

                    {move || needs_subscription().then(|| view! {
                        <SubscriptionField subs=subs prefix="f1" on_change=Callback::new(move |_| review.set(None)) />
                    })}

                    <label for="f1-redirect">"Redirect URI (optional)"</label>
                    <input id="f1-redirect" type="url" autocomplete="off"
                        placeholder="https://backup.contoso.com/auth"
                        prop:value=move || redirect.get()
                        on:input=move |ev| { redirect.set(event_target_value(&ev)); review.set(None); } />
                </div>

                <fieldset class="choice">
                    <legend>"Certificate"</legend>
                    <label>
                        <input type="radio" name="f1-cert"
                            prop:checked=move || generate.get()
                            on:change=move |_| { generate.set(true); review.set(None); } />
                        " Generate a new certificate in this page (RSA 2048, 12 months; you download its PFX at the end)"
                    </label>
                    <label>
                        <input type="radio" name="f1-cert"
                            prop:checked=move || !generate.get()
                            on:change=move |_| { generate.set(false); review.set(None); } />
                        " Use a PFX/P12 file I have"
                    </label>
                </fieldset>
                <div class="grid">
                    {move || (!generate.get()).then(|| view! {
                        <label for="f1-file">"PFX or P12 file"</label>
                        <input id="f1-file" type="file" accept=".pfx,.p12" on:change=on_file />
                    })}
                    <label for="f1-pw">{move || if generate.get() { "PFX password" } else { "Password of the PFX" }}</label>
                    <input id="f1-pw" type="password" autocomplete="new-password"
                        prop:value=move || pw.get()
                        on:input=move |ev| { pw.set(event_target_value(&ev)); review.set(None); } />
                    {move || generate.get().then(|| view! {
                        <label for="f1-pw2">"Confirm password"</label>
                        <input id="f1-pw2" type="password" autocomplete="new-password"
                            prop:value=move || pw2.get()
                            on:input=move |ev| { pw2.set(event_target_value(&ev)); review.set(None); } />
                    })}
                </div>

                <button type="submit" class="primary" prop:disabled=move || busy.get()>"Review"</button>
                <p class="status" role="status" aria-live="polite">
                    {move || busy.get().then(|| view! {
                        <progress aria-label="Preparing"></progress>
                        " Preparing the plan and checking your rights…"
                    })}
                </p>
                <p class="error" role="alert" id="f1-error">{move || error.get()}</p>
            </form>
        </section>
        {move || review.get().map(|r| view! { <ReviewPanel review=r run=run generated=generated has_pfx=has_pfx /> })}
    }
}

#[component]
pub(crate) fn ReviewPanel(
    review: Review,
    run: Callback<SavedApply>,
    generated: StoredValue<Option<GeneratedPfx>>,
    has_pfx: RwSignal<bool>,
) -> impl IntoView {
    let session = use_session();
    let endpoints = session
        .sign_in_config()
        .map(|c| c.cloud.endpoints())
        .unwrap_or_else(|| review.saved.cloud.endpoints());
    let plan = review.saved.plan.clone();
    // Incremental consent: the Graph permissions the plan needs that the
    // page's sign-in was not granted.
    let consent: Vec<String> = plan::preflight::delegated_scopes(&plan)
        .get(&Audience::Graph)
        .map(|needed| session.missing_scopes(Audience::Graph, needed))
        .unwrap_or_default();
    let consent_request = consent.clone();
    let blocked = !consent.is_empty() || !matches!(&review.missing, Ok(m) if m.is_empty());
    let saved = review.saved.clone();
    view! {
        <section class="panel" aria-labelledby="review-title">
            <h2 id="review-title">"Review the changes"</h2>
            <ol class="plan" id="plan-steps">
                {plan.sentences().into_iter().enumerate().map(|(i, sentence)| {
                    let previews = plan.preview(i, &endpoints, None);
                    view! {
                        <li>
                            <span class="sentence">{sentence}</span>
                            <details>
                                <summary>"Request"</summary>
                                {previews.into_iter().map(|p| {
                                    let body = p.body.as_ref()
                                        .map(|b| serde_json::to_string_pretty(b).unwrap_or_default());
                                    view! {
                                        <pre class="request">{format!("{} {}", p.method, p.url)}{body.map(|b| format!("\n{b}"))}</pre>
                                    }
                                }).collect_view()}
                            </details>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {(!consent.is_empty()).then(|| view! {
                <div role="alert" class="error" id="consent-needed">
                    <p>{format!(
                        "This page's sign-in was not granted these Microsoft Graph permissions, which the plan needs: {}. \
                         An administrator grants admin consent for them to the page's sign-in application \
                         (Microsoft Entra admin center → App registrations → the page's application → API permissions), \
                         or you consent to them now: the button signs you in again asking for exactly these \
                         permissions, Microsoft shows its consent screen, and you come back here to review again.",
                        consent.join(", ")
                    )}</p>
                    <button type="button" on:click=move |_| session.consent(&consent_request)>"Consent and sign in again"</button>
                </div>
            })}
            <div id="preflight">
                {match review.missing.clone() {
                    Ok(m) if m.is_empty() => view! {
                        <p class="ok">"Pre-flight: you have the roles this plan needs."</p>
                    }.into_any(),
                    Ok(m) => view! {
                        <div role="alert" class="error">
                            <p>"Pre-flight: you cannot apply this plan."</p>
                            <ul>{m.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ul>
                        </div>
                    }.into_any(),
                    Err(e) => view! {
                        <p role="alert" class="error">{format!("Pre-flight: your rights could not be checked: {e}")}</p>
                    }.into_any(),
                }}
            </div>
            {move || has_pfx.get().then(|| view! {
                <p class="hint">
                    "The certificate's private key exists only in this page until you download its PFX: \
                     download it now, so that a closed or reloaded page cannot lose it."
                </p>
                <button type="button"
                    on:click=move |_| generated.with_value(|g| if let Some(g) = g {
                        let _ = download::save(&format!("{}.pfx", g.stem), "application/x-pkcs12", &g.pfx);
                    })>
                    "Download the PFX now"
                </button>
            })}
            <div class="actions">
                <button type="button" class="primary" prop:disabled=blocked
                    on:click=move |_| run.run(saved.clone())>"Apply"</button>
            </div>
        </section>
    }
}

#[component]
fn ConnectionCard(
    record: ConnectionRecord,
    generated: StoredValue<Option<GeneratedPfx>>,
    has_pfx: RwSignal<bool>,
) -> impl IntoView {
    let json = serde_json::to_string_pretty(&record).unwrap_or_default();
    let stem = file_stem(&record.name);
    let mut facts: Vec<(&'static str, String)> = vec![
        ("Name", record.name.clone()),
        ("Tenant ID", record.tenant_id.clone()),
        ("Application (client) ID", record.app_id.clone()),
    ];
    if let Some(id) = &record.application_object_id {
        facts.push(("Application object ID", id.clone()));
    }
    if let Some(id) = &record.service_principal_id {
        facts.push(("Service principal object ID", id.clone()));
    }
    if let AuthMethod::Certificate {
        thumbprint,
        not_before,
        not_after,
        ..
    } = &record.auth
    {
        facts.push(("Certificate thumbprint (SHA-1)", thumbprint.clone()));
        facts.push(("Valid from", not_before.to_string()));
        facts.push(("Valid until", not_after.to_string()));
    }
    if let Some(a) = &record.portal_address {
        facts.push(("Restore Portal address", a.clone()));
    }
    if let Some(s) = &record.subscription {
        facts.push((
            "Subscription",
            format!("{} ({})", s.display_name, s.subscription_id),
        ));
    }
    let (json2, stem2) = (json.clone(), stem.clone());
    let title = if record.application_object_id.is_some() {
        "Connected"
    } else {
        "Checked and saved"
    };
    view! {
        <section class="panel" aria-labelledby="card-title">
            <h2 id="card-title">{title}</h2>
            <dl class="facts" id="connection-card">
                {facts.into_iter().map(|(k, v)| {
                    let copy = v.clone();
                    view! {
                        <dt>{k}</dt>
                        <dd>
                            {v}
                            " "
                            <button type="button" class="copy" aria-label=format!("Copy {k}")
                                on:click=move |_| copy_to_clipboard(copy.clone())>"Copy"</button>
                        </dd>
                    }
                }).collect_view()}
            </dl>
            <div class="actions">
                <button type="button" class="primary"
                    on:click=move |_| { let _ = download::save(&format!("{stem}.connection.json"), "application/json", json.as_bytes()); }>
                    "Download connection (.json)"
                </button>
                <button type="button" on:click=move |_| copy_to_clipboard(json2.clone())>"Copy as JSON"</button>
                {move || has_pfx.get().then(|| {
                    let stem = stem2.clone();
                    view! {
                        <button type="button"
                            on:click=move |_| generated.with_value(|g| if let Some(g) = g {
                                let _ = download::save(&format!("{}.pfx", g.stem), "application/x-pkcs12", &g.pfx);
                            })>
                            {format!("Download {stem}.pfx")}
                        </button>
                    }
                })}
            </div>
            <p class="hint">
                "The record is saved under Service accounts (no secret, no key). "
                {move || has_pfx.get().then_some("The .pfx holds the private key, protected by your password: give it to the service and keep it safe; this page does not keep it.")}
            </p>
        </section>
    }
}
