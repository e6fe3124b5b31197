//! F3 — edit a service account, on its page (`#/accounts/{id}`): the
//! current state read live (`flows::edit_account::read`) with its status
//! line, and the edits that fix it, each reviewed and applied in the one
//! frame: renew the secret (its value shown once in the result, then
//! confirm to remove the old one), enter a secret made elsewhere, renew the
//! certificate, re-create a deleted application, use another application.
//! An unconfirmed new secret whose value the page no longer has is offered
//! for removal.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use zeroize::{Zeroize, Zeroizing};

use super::frame::{Completion, Draft, Frame, WizardFrame, use_frame};
use super::resume::ResumePanel;
use crate::flows::certificate;
use crate::flows::connection::{self, AuthMethod, ConnectionRecord};
use crate::flows::edit_account::{
    self, AccountState, Action, Edit, EditChange, EditError, NewCredential,
};
use crate::flows::existing_app::{self, Credential, ExistingApplication};
use crate::flows::policy::PolicyView;
use crate::flows::route::{Prefill, Route, Wizard};
use crate::plan::step::{NewSecret, SecretChannel};
use crate::profiles::{self, Profile};
use crate::ui::certificates::copy_to_clipboard;
use crate::ui::error::UiError;
use crate::ui::fields::certificate::{CertificateChoice, CertificateField};
use crate::ui::fields::file::{Picked, on_pick};
use crate::ui::fields::form::{FormPanel, shown, submit};
use crate::ui::fields::radio_pair;
use crate::ui::host::{Session, use_session};
use crate::ui::storage;
use crate::web::clock;
use crate::web::crypto_worker::CryptoWorker;

/// What the page is doing with the account, shared with the result card.
#[derive(Clone, Copy)]
struct EditContext {
    session: Session,
    record: RwSignal<ConnectionRecord>,
    state: RwSignal<Option<Result<AccountState, UiError>>>,
    reading: RwSignal<bool>,
    chosen: RwSignal<Option<Action>>,
}

impl EditContext {
    /// The application's app management policy, as the state read it.
    fn policy(self) -> PolicyView {
        match self.state.get_untracked() {
            Some(Ok(s)) => s.policy,
            _ => PolicyView::Unreadable {
                why: "the application's current state has not been read".into(),
            },
        }
    }

    /// Reads the account's state again (after an edit, or on request).
    fn refresh(self) {
        let session = self.session;
        if session.account().is_none() || self.reading.get_untracked() {
            return;
        }
        self.reading.set(true);
        let record = self.record.get_untracked();
        spawn_local(async move {
            let result = async {
                let api = session.api().await?;
                let profile = profile_of(&record).ok();
                Ok::<_, UiError>(
                    edit_account::read(&api, &record, profile.as_ref(), clock::now()).await?,
                )
            }
            .await;
            self.state.set(Some(result));
            self.reading.set(false);
        });
    }
}

/// The record's permission profile (built-in, or custom ones loaded in
/// this tab).
fn profile_of(record: &ConnectionRecord) -> Result<Profile, UiError> {
    profiles::by_id(&record.profile).or_else(|e| {
        storage::custom_profiles()
            .into_iter()
            .find(|p| p.id == record.profile)
            .ok_or(UiError::Profile(e))
    })
}

/// The record saved in its place (its application may have changed).
fn save(old: &ConnectionRecord, new: ConnectionRecord) {
    let mut all = storage::records();
    connection::replace(&mut all, old, new);
    storage::save_records(&all);
}

/// Reviews `edit` in the frame.
fn review(
    frame: Frame,
    record: &ConnectionRecord,
    edit: Edit,
) -> impl Future<Output = Result<(), UiError>> + 'static {
    let draft = Draft {
        plan: edit.plan,
        completion: Completion::Edit {
            record: record.clone(),
            change: edit.change,
        },
        tenant: Some(record.tenant_id.clone()),
        generated: None,
        notices: edit.notices,
    };
    async move { frame.review(draft).await }
}

#[component]
pub fn EditAccount(record: RwSignal<ConnectionRecord>) -> impl IntoView {
    let session = use_session();
    let frame = Frame::new();
    let ctx = EditContext {
        session,
        record,
        state: RwSignal::new(None),
        reading: RwSignal::new(false),
        chosen: RwSignal::new(None),
    };
    provide_context(ctx);
    // Read once signed in.
    Effect::new(move |_| {
        if session.account().is_some() && ctx.state.with_untracked(Option::is_none) {
            ctx.refresh();
        }
    });
    let choose = move |a: Action| {
        frame.reset();
        ctx.chosen.set(Some(a));
    };
    let error = RwSignal::new(None::<UiError>);
    let busy = RwSignal::new(false);
    let confirm = move |_| {
        let r = record.get_untracked();
        let Some(Ok(state)) = ctx.state.get_untracked() else {
            return;
        };
        frame.reset();
        ctx.chosen.set(None);
        let edit = edit_account::confirm(&r, &state, &mut OsRng).map_err(UiError::from);
        if let Some(edit) = shown(error, edit) {
            submit(busy, error, review(frame, &r, edit));
        }
    };
    let remove_orphan = move |_| {
        let r = record.get_untracked();
        frame.reset();
        ctx.chosen.set(None);
        let edit = edit_account::remove_orphan(&r, &mut OsRng).map_err(UiError::from);
        if let Some(edit) = shown(error, edit) {
            submit(busy, error, review(frame, &r, edit));
        }
    };
    let state_view = move || {
        let r = record.get();
        if session.account().is_none() {
            return view! {
                <p class="hint" id="account-status">"Sign in to read the application's current state and to edit it."</p>
            }
            .into_any();
        }
        match ctx.state.get() {
            None => view! { <p class="status" id="account-reading">"Reading the application…"</p> }
                .into_any(),
            Some(Err(e)) => {
                view! { <p class="error" role="alert" id="account-status">{e.to_string()}</p> }
                    .into_any()
            }
            Some(Ok(s)) => {
                let healthy = s.status.is_healthy();
                let actions = s.actions(&r.auth, clock::now());
                let pending = r.pending.clone();
                let secret_pending = pending
                    .as_ref()
                    .is_some_and(|p| matches!(p.auth, AuthMethod::ClientSecret { .. }));
                view! {
                    <p id="account-status" class=if healthy { "status ok" } else { "warnings" }>
                        {s.status.line(&r.auth)}
                    </p>
                    {s.secrets_forbidden(clock::now()).filter(|_| matches!(r.auth, AuthMethod::ClientSecret { .. })).map(|e| view! {
                        <p class="warnings" id="account-policy">{e.to_string()}</p>
                    })}
                    {s.application_object_id.is_some().then(|| view! { <CredentialTable state=s.clone() /> })}
                    {pending.filter(|_| s.pending_registered).map(|p| view! {
                        <div class="warnings" id="account-pending">
                            <p>{format!(
                                "A new {} was made on {} and the old one is still registered. Once the service \
                                 uses the new one, remove the old one.{}",
                                if secret_pending { "client secret" } else { "certificate" },
                                p.created,
                                if secret_pending { " If nobody copied the new secret's value (the page was closed before), \
                                    remove the new one instead: its value cannot be shown again." } else { "" },
                            )}</p>
                            <div class="actions">
                                <button type="button" id="account-confirm" class="primary" on:click=confirm>
                                    "The service uses the new one: remove the old one"
                                </button>
                                {secret_pending.then(|| view! {
                                    <button type="button" id="account-remove-orphan" on:click=remove_orphan>
                                        "Remove the unused new secret"
                                    </button>
                                })}
                            </div>
                        </div>
                    })}
                    <div class="actions" id="account-actions">
                        {actions.into_iter().map(|a| {
                            // F4 and F2 (its grant box) already do these.
                            let link = match a {
                                Action::AssignRoles => Some(Route::Connect(Wizard::Roles, Prefill::app(r.app_id.clone()))),
                                Action::GrantPermissions => Some(Route::Connect(Wizard::ExistingApp, Prefill {
                                    app: Some(r.app_id.clone()),
                                    tenant: Some(r.tenant_id.clone()),
                                    thumbprint: None,
                                })),
                                _ => None,
                            };
                            if let Some(route) = link {
                                view! { <a class="button" href=route.format()>{a.label()}</a> }.into_any()
                            } else {
                                view! { <button type="button" on:click=move |_| choose(a)>{a.label()}</button> }.into_any()
                            }
                        }).collect_view()}
                        {(!s.status.actions(&r.auth).contains(&Action::ProvideAnother)).then(|| view! {
                            <button type="button" on:click=move |_| choose(Action::ProvideAnother)>{Action::ProvideAnother.label()}</button>
                        })}
                        <button type="button" on:click=move |_| ctx.refresh() prop:disabled=move || ctx.reading.get()>"Read again"</button>
                    </div>
                }
                .into_any()
            }
        }
    };
    let form = move || {
        ctx.chosen.get().map(|a| match a {
            Action::RenewSecret => view! { <RenewSecretForm /> }.into_any(),
            Action::PasteSecret => view! { <PasteSecretForm /> }.into_any(),
            Action::RenewCertificate | Action::SwitchToCertificate => {
                view! { <RenewCertificateForm /> }.into_any()
            }
            Action::Recreate => view! { <RecreateForm /> }.into_any(),
            Action::ProvideAnother => view! { <AnotherApplicationForm /> }.into_any(),
            Action::AssignRoles | Action::GrantPermissions => ().into_any(),
        })
    };
    view! {
        <ResumePanel frame=frame />
        <section class="panel" aria-labelledby="account-state-title">
            <h2 id="account-state-title">"Current state"</h2>
            {state_view}
            <p class="status" role="status">{move || busy.get().then_some("Preparing the plan…")}</p>
            <p class="error" role="alert" id="account-error">{move || error.get().map(|e| e.to_string())}</p>
        </section>
        <WizardFrame frame=frame>
            {form}
        </WizardFrame>
    }
}

#[component]
fn CredentialTable(state: AccountState) -> impl IntoView {
    view! {
        <table class="credentials" id="account-credentials">
            <thead><tr><th>"Kind"</th><th>"Secret hint or thumbprint"</th><th>"Name"</th><th>"Valid until"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>
                {state.credentials.into_iter().map(|c| {
                    let kind = match c.kind {
                        edit_account::CredentialKind::Secret => "Client secret",
                        edit_account::CredentialKind::Certificate => "Certificate",
                    };
                    let mark = if c.in_use { "in use" } else if c.pending { "new, not confirmed" } else { "" };
                    view! {
                        <tr class=if c.in_use { "in-use" } else { "" }>
                            <td>{kind}</td>
                            <td><code>{c.label}</code></td>
                            <td>{c.display_name.unwrap_or_default()}</td>
                            <td>{c.end.map(|e| e.to_string()).unwrap_or_default()}</td>
                            <td>{c.expiry.map(|e| e.to_string()).unwrap_or_default()}</td>
                            <td>{mark}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {state.service_principal_id.map(|id| view! { <p class="hint">"Service principal: " <code>{id}</code></p> })}
    }
}

fn use_edit() -> EditContext {
    expect_context::<EditContext>()
}

/// The secret lifetimes offered (days).
const LIFETIMES: [(u32, &str); 5] = [
    (90, "3 months"),
    (180, "6 months (recommended)"),
    (365, "12 months"),
    (545, "18 months"),
    (730, "24 months"),
];

/// The name and lifetime of a new secret.
fn secret_fields(
    prefix: &'static str,
    name: RwSignal<String>,
    days: RwSignal<u32>,
) -> impl IntoView {
    let frame = use_frame();
    let (name_id, days_id) = (
        format!("{prefix}-secret-name"),
        format!("{prefix}-lifetime"),
    );
    view! {
        <div class="grid">
            <label for=name_id.clone()>"Name of the new secret"</label>
            <input id=name_id type="text" autocomplete="off"
                prop:value=move || name.get()
                on:input=move |ev| { name.set(event_target_value(&ev)); frame.changed(); } />
            <label for=days_id.clone()>"Expires after"</label>
            <select id=days_id on:change=move |ev| {
                days.set(event_target_value(&ev).parse().unwrap_or(180));
                frame.changed();
            }>
                {LIFETIMES.into_iter().map(|(d, label)| view! {
                    <option value=d.to_string() selected=move || days.get() == d>{label}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn RenewSecretForm() -> impl IntoView {
    let ctx = use_edit();
    let frame = use_frame();
    let name = RwSignal::new(format!("{} (renewed)", ctx.record.get_untracked().name));
    let days = RwSignal::new(180u32);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let r = ctx.record.get_untracked();
        let edit = edit_account::renew_secret(
            &r,
            &name.get_untracked(),
            days.get_untracked(),
            &ctx.policy(),
            clock::now(),
            &mut OsRng,
        )
        .map_err(UiError::from);
        if let Some(edit) = shown(error, edit) {
            submit(busy, error, review(frame, &r, edit));
        }
    };
    view! {
        <FormPanel prefix="f3-renew" title="Renew the client secret" on_submit=Callback::new(on_submit)
            label="Review" busy=busy working="Preparing the plan and checking your rights…" error=error>
            <p class="hint">"Entra makes the new secret and shows its value once, after Apply: copy it into the service then. \
                The old secret stays until you confirm the service uses the new one."</p>
            {secret_fields("f3", name, days)}
        </FormPanel>
    }
}

#[component]
fn PasteSecretForm() -> impl IntoView {
    let ctx = use_edit();
    let secret = RwSignal::new(String::new());
    let end = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let done = RwSignal::new(None::<Vec<String>>);
    on_cleanup(move || secret.try_update(|s| s.zeroize()).unwrap_or(()));
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let r = ctx.record.get_untracked();
        let end_date = end.get_untracked();
        let end_date = end_date.trim();
        let parsed = if end_date.is_empty() {
            Ok(None)
        } else {
            crate::core::time::UnixTime::parse_rfc3339(&format!("{end_date}T00:00:00Z"))
                .map(Some)
                .map_err(|_| UiError::Edit(EditError::EndDate(end_date.to_string())))
        };
        let value = Zeroizing::new(secret.get_untracked());
        let outcome = parsed.and_then(|end| {
            let state = ctx.state.get_untracked().and_then(Result::ok);
            edit_account::paste_secret(&r, &value, end, state.as_ref(), clock::now())
                .map_err(UiError::from)
        });
        if let Some((new, warnings)) = shown(error, outcome) {
            secret.update(|s| s.zeroize());
            save(&r, new.clone());
            ctx.record.set(new);
            ctx.state.set(None);
            ctx.refresh();
            done.set(Some(warnings));
        }
    };
    view! {
        <FormPanel prefix="f3-paste" title="Enter a secret made elsewhere" on_submit=Callback::new(on_submit)
            label="Check and save" busy=busy working="Checking…" error=error>
            <p class="hint">"Made in the Entra admin center (App registrations → Certificates & secrets): paste its Value, \
                not its Secret ID. The page keeps only its first three characters, as Entra shows them."</p>
            <div class="grid">
                <label for="f3-paste-secret">"Client secret (value)"</label>
                <input id="f3-paste-secret" type="password" autocomplete="off"
                    prop:value=move || secret.get()
                    on:input=move |ev| secret.set(event_target_value(&ev)) />
                <label for="f3-paste-end">"Expires (optional)"</label>
                <input id="f3-paste-end" type="date"
                    prop:value=move || end.get()
                    on:input=move |ev| end.set(event_target_value(&ev)) />
            </div>
            {move || done.get().map(|w| view! {
                <p class="status ok" id="f3-paste-saved">"Saved: the service account now uses this secret."</p>
                <ul class="warnings">{w.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            })}
        </FormPanel>
    }
}

#[component]
fn RenewCertificateForm() -> impl IntoView {
    let ctx = use_edit();
    let frame = use_frame();
    let choice = CertificateChoice::new();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let r = ctx.record.get_untracked();
        let mut source = choice.source(&r.name);
        let policy = ctx.policy();
        // A generated certificate lasts what the policy allows (F6's rule).
        let months = certificate::generated_months(&policy, None, clock::now());
        let mut notes_now = Vec::new();
        match months {
            Ok((m, note)) => {
                source.limit_months(m);
                notes_now.extend(note);
            }
            Err(e) if source.is_generated() => {
                error.set(Some(UiError::Edit(EditError::Policy(e))));
                return;
            }
            Err(_) => {}
        }
        // What the plan's check says (a policy note), shown with the review.
        let notes = RwSignal::new(notes_now);
        submit(busy, error, async move {
            frame
                .review_with_certificate(source, move |der, _auth, now| {
                    let edit = edit_account::renew_certificate(&r, &der, &policy, now, &mut OsRng)?;
                    notes.update(|n| n.extend(edit.notices));
                    Ok((
                        edit.plan,
                        Completion::Edit {
                            record: r.clone(),
                            change: edit.change,
                        },
                    ))
                })
                .await?;
            frame.notices.set(notes.get_untracked());
            Ok(())
        });
    };
    // A secret's service moves to a certificate; the secret goes on confirm.
    let from_secret = matches!(
        ctx.record.get_untracked().auth,
        AuthMethod::ClientSecret { .. }
    );
    let (title, hint) = if from_secret {
        (
            Action::SwitchToCertificate.label(),
            "The certificate is registered next to the client secret; the secret is removed only \
             when you confirm the service signs in with the certificate.",
        )
    } else {
        (
            "Renew the certificate",
            "The new certificate is registered next to the current one; the current one is removed only \
             when you confirm the service uses the new one.",
        )
    };
    view! {
        <FormPanel prefix="f3-cert" title=title on_submit=Callback::new(on_submit)
            label="Review" busy=busy working="Preparing the certificate and the plan…" error=error>
            <p class="hint">{hint}</p>
            <CertificateField choice=choice prefix="f3-cert" error=error on_change=Callback::new(move |_| frame.changed()) />
        </FormPanel>
    }
}

#[component]
fn RecreateForm() -> impl IntoView {
    let ctx = use_edit();
    let frame = use_frame();
    let record = ctx.record.get_untracked();
    let secret = matches!(record.auth, AuthMethod::ClientSecret { .. });
    let choice = CertificateChoice::new();
    let name = RwSignal::new(format!("{} secret", record.name));
    let days = RwSignal::new(180u32);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let r = ctx.record.get_untracked();
        let profile = match shown(error, profile_of(&r)) {
            Some(p) => p,
            None => return,
        };
        if secret {
            let edit = edit_account::recreate(
                &r,
                &profile,
                NewCredential::Secret {
                    name: name.get_untracked(),
                    days: days.get_untracked(),
                },
                &ctx.policy(),
                clock::now(),
                &mut OsRng,
            )
            .map_err(UiError::from);
            if let Some(edit) = shown(error, edit) {
                submit(busy, error, review(frame, &r, edit));
            }
            return;
        }
        let source = choice.source(&r.name);
        let policy = ctx.policy();
        // What the plan's check says (a policy note), shown with the review.
        let notes = RwSignal::new(Vec::new());
        submit(busy, error, async move {
            frame
                .review_with_certificate(source, move |der, _auth, now| {
                    let edit = edit_account::recreate(
                        &r,
                        &profile,
                        NewCredential::Certificate(der),
                        &policy,
                        now,
                        &mut OsRng,
                    )?;
                    notes.set(edit.notices);
                    Ok((
                        edit.plan,
                        Completion::Edit {
                            record: r.clone(),
                            change: edit.change,
                        },
                    ))
                })
                .await?;
            frame.notices.set(notes.get_untracked());
            Ok(())
        });
    };
    view! {
        <FormPanel prefix="f3-recreate" title="Re-create the application" on_submit=Callback::new(on_submit)
            label="Review" busy=busy working="Preparing the plan and checking your rights…" error=error>
            <p class="hint">{format!(
                "A new application '{}' with the '{}' permissions{}, a new {} and its grants. It gets a new application \
                 (client) ID: the service must be given it.",
                record.name,
                record.profile,
                record.subscription.as_ref().map(|s| format!(" and Azure roles on {}", s.display_name)).unwrap_or_default(),
                if secret { "client secret" } else { "certificate" },
            )}</p>
            {if secret {
                secret_fields("f3-recreate", name, days).into_any()
            } else {
                view! { <CertificateField choice=choice prefix="f3-recreate" error=error on_change=Callback::new(move |_| frame.changed()) /> }.into_any()
            }}
        </FormPanel>
    }
}

#[component]
fn AnotherApplicationForm() -> impl IntoView {
    let ctx = use_edit();
    let record = ctx.record.get_untracked();
    let app_id = RwSignal::new(String::new());
    let use_secret = RwSignal::new(matches!(record.auth, AuthMethod::ClientSecret { .. }));
    let secret = RwSignal::new(String::new());
    let pw = RwSignal::new(String::new());
    let file = RwSignal::new(None::<(String, Vec<u8>)>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let done = RwSignal::new(None::<(ConnectionRecord, Vec<String>)>);
    on_cleanup(move || {
        secret.try_update(|s| s.zeroize());
        pw.try_update(|p| p.zeroize());
        file.try_set(None);
    });
    let on_file = on_pick(file, error);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let r = ctx.record.get_untracked();
        let input = (|| {
            let credential = if use_secret.get_untracked() {
                Credential::Secret(Zeroizing::new(secret.get_untracked()))
            } else {
                let picked: Picked = file.get_untracked();
                let (_, data) =
                    picked.ok_or(crate::flows::certificate::CertificateError::NoFile)?;
                let p = pw.get_untracked();
                Credential::Pfx {
                    data: Zeroizing::new(data),
                    password: (!p.is_empty()).then(|| Zeroizing::new(p)),
                }
            };
            Ok::<_, UiError>(ExistingApplication {
                tenant: r.tenant_id.clone(),
                app_id: app_id.get_untracked(),
                credential,
                grant_and_register: false,
                profile: profile_of(&r)?,
                subscription: None,
            })
        })();
        let Some(input) = shown(error, input) else {
            return;
        };
        // The PFX opens in the page's crypto worker, off the page's thread
        // (and its import code stays out of the first load).
        submit(busy, error, async move {
            let check =
                existing_app::check_locally_with(&input, &CryptoWorker, clock::now()).await?;
            let new = edit_account::switch_application(&r, &check, clock::now())?;
            secret.update(|s| s.zeroize());
            pw.update(|p| p.zeroize());
            save(&r, new.clone());
            ctx.record.set(new.clone());
            ctx.state.set(None);
            ctx.refresh();
            done.set(Some((new, check.warnings)));
            Ok(())
        });
    };
    view! {
        <FormPanel prefix="f3-other" title="Use another application" on_submit=Callback::new(on_submit)
            label="Check and switch" busy=busy working="Checking…" error=error>
            <p class="hint">{format!(
                "In tenant {}. The page checks the ID and the credential here (nothing is sent) and switches this \
                 service account to that application; the current one is kept in its history.",
                record.tenant_id
            )}</p>
            <div class="grid">
                <label for="f3-other-app">"Application (client) ID"</label>
                <input id="f3-other-app" type="text" autocomplete="off" spellcheck="false"
                    placeholder="00000000-0000-0000-0000-000000000000"
                    prop:value=move || app_id.get()
                    on:input=move |ev| app_id.set(event_target_value(&ev)) />
            </div>
            {radio_pair(
                "Authentication type",
                "f3-other-auth".into(),
                use_secret,
                false,
                ["Certificate (PFX/P12 file and its password)".into(), "Client secret".into()],
                || (),
            )}
            <div class="grid">
                {move || if use_secret.get() {
                    view! {
                        <label for="f3-other-secret">"Client secret (value)"</label>
                        <input id="f3-other-secret" type="password" autocomplete="off"
                            prop:value=move || secret.get()
                            on:input=move |ev| secret.set(event_target_value(&ev)) />
                    }.into_any()
                } else {
                    view! {
                        <label for="f3-other-file">"Certificate file (PFX or P12)"</label>
                        <input id="f3-other-file" type="file" accept=".pfx,.p12" on:change=on_file />
                        <label for="f3-other-pw">"Certificate password"</label>
                        <input id="f3-other-pw" type="password" autocomplete="off"
                            prop:value=move || pw.get()
                            on:input=move |ev| pw.set(event_target_value(&ev)) />
                    }.into_any()
                }}
            </div>
            {move || done.get().map(|(r, w)| view! {
                <p class="status ok" id="f3-other-saved">{format!("Switched: this service account now uses application {}.", r.app_id)}</p>
                <ul class="warnings">{w.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            })}
        </FormPanel>
    }
}

/// The result of an applied edit: what changed, and the new secret's value
/// — shown here once, taken from the applied plan's channel; it is gone
/// when the page leaves this result.
#[component]
pub fn EditResult(
    record: ConnectionRecord,
    previous: ConnectionRecord,
    change: EditChange,
    channel: Option<SecretChannel>,
    frame: Frame,
) -> impl IntoView {
    let ctx = use_context::<EditContext>();
    if let Some(ctx) = ctx {
        ctx.record.set(record.clone());
        ctx.chosen.set(None);
        ctx.state.set(None);
        ctx.refresh();
    }
    let secret: StoredValue<Option<NewSecret>> =
        StoredValue::new(channel.as_ref().and_then(SecretChannel::take));
    on_cleanup(move || secret.try_update_value(|s| *s = None).unwrap_or(()));
    let has_secret = secret.with_value(Option::is_some);
    let (title, sentence) = match &change {
        EditChange::SecretCreated { .. } => (
            "New client secret created",
            "Put the new secret in the service now. The old secret still works: once the service uses the new one, \
             confirm below and the old one is removed (its own reviewed plan)."
                .to_string(),
        ),
        EditChange::CertificateRegistered { .. } => (
            "New certificate registered",
            "Give the service the new certificate (the PFX you downloaded or chose). The old certificate still works: once \
             the service uses the new one, confirm below and the old one is removed."
                .to_string(),
        ),
        EditChange::Confirmed => (
            "Old credential removed",
            "The service account now uses the new credential only.".to_string(),
        ),
        EditChange::OrphanRemoved => (
            "Unused secret removed",
            "The new secret whose value nobody had is gone. Renew the secret again to make one you can copy."
                .to_string(),
        ),
        EditChange::Recreated { .. } => (
            "Application re-created",
            format!(
                "The service must be given the new application (client) ID {} — the old one, {}, no longer exists and is \
                 kept in this service account's history.",
                record.app_id, previous.app_id
            ),
        ),
    };
    let confirmable = matches!(
        change,
        EditChange::SecretCreated { .. } | EditChange::CertificateRegistered { .. }
    );
    let copy_app = record.app_id.clone();
    let after = record.clone();
    let confirm = move |_| {
        let Some(ctx) = ctx else { return };
        // Leaving the result drops the secret's value.
        secret.update_value(|s| *s = None);
        frame.reset();
        let r = after.clone();
        let session = ctx.session;
        spawn_local(async move {
            let result = async {
                let api = session.api().await?;
                let state =
                    edit_account::read(&api, &r, profile_of(&r).ok().as_ref(), clock::now())
                        .await?;
                let edit = edit_account::confirm(&r, &state, &mut OsRng)?;
                review(frame, &r, edit).await
            }
            .await;
            if let Err(e) = result {
                ctx.state.set(Some(Err(e)));
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="edit-result-title">
            <h2 id="edit-result-title">{title}</h2>
            <p id="edit-result">{sentence}</p>
            {matches!(change, EditChange::Recreated { .. }).then(|| view! {
                <dl class="facts" id="edit-new-ids">
                    <dt>"Application (client) ID"</dt>
                    <dd id="edit-new-app-id">{record.app_id.clone()} " "
                        <button type="button" class="copy" on:click=move |_| copy_to_clipboard(copy_app.clone())>"Copy"</button></dd>
                    <dt>"Application object ID"</dt>
                    <dd>{record.application_object_id.clone().unwrap_or_default()}</dd>
                    <dt>"Service principal object ID"</dt>
                    <dd>{record.service_principal_id.clone().unwrap_or_default()}</dd>
                </dl>
            })}
            {has_secret.then(|| view! { <ShownSecret secret=secret /> })}
            {(matches!(change, EditChange::SecretCreated { .. }) && !has_secret).then(|| view! {
                <p class="warnings" id="edit-secret-lost">
                    "The page was reloaded while the secret was made, so its value cannot be shown. Remove that secret \
                     (Current state above) and renew again."
                </p>
            })}
            <div class="actions">
                {move || frame.has_pfx.get().then(|| view! {
                    <button type="button" on:click=move |_| frame.download_pfx()>"Download the PFX again"</button>
                })}
                {confirmable.then(|| view! {
                    <button type="button" class="primary" id="edit-confirm" on:click=confirm>
                        "The service uses the new one: remove the old one"
                    </button>
                })}
            </div>
        </section>
    }
}

/// The secret's value, once, with Copy. Never written anywhere else.
#[component]
fn ShownSecret(secret: StoredValue<Option<NewSecret>>) -> impl IntoView {
    let value =
        move || secret.with_value(|s| s.as_ref().map(|s| s.value.to_string()).unwrap_or_default());
    let hint = secret.with_value(|s| {
        s.as_ref()
            .map(|s| {
                format!(
                    "Key ID {}{}",
                    s.key_id,
                    s.end
                        .map(|e| format!(", valid until {e}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default()
    });
    view! {
        <div class="secret" id="edit-new-secret">
            <label for="edit-new-secret-value">"Client secret value — shown only now"</label>
            <input id="edit-new-secret-value" type="text" readonly autocomplete="off" spellcheck="false"
                prop:value=value />
            <button type="button" class="copy" id="edit-copy-secret"
                on:click=move |_| copy_to_clipboard(value())>"Copy"</button>
            <p class="hint">{hint}". Entra never shows this value again and this page does not keep it: if it is lost, \
                renew the secret again."</p>
        </div>
    }
}
