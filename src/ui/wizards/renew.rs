//! F6 — renew a certificate after AADSTS700027, in the one wizard frame.
//! The admin pastes the error text (or a thumbprint, or picks a saved
//! service account); the page decodes it, finds the key in the tenant,
//! takes a new certificate (generated here or a PFX whose password is
//! optional), reviews and applies the registration; the result gives the
//! PFX, the new thumbprint and dates and what to do in the service. Removing
//! the expired key is a second plan, reviewed on its own, offered once the
//! admin confirms the service uses the new certificate. The decisions are
//! `flows::renew`'s.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use rand_core::OsRng;

use super::frame::{Completion, Draft, Finished, Frame, WizardFrame};
use super::resume::ResumePanel;
use crate::core::certificate::Certificate;
use crate::core::validate::is_guid;
use crate::flows::InputError;
use crate::flows::certificate::CertificateSource;
use crate::flows::connection::{AuthMethod, ConnectionRecord};
use crate::flows::policy::PolicyView;
use crate::flows::renew::{self, FoundKey, OwnerKind, Search, Target};
use crate::flows::route::Prefill;
use crate::ui::error::UiError;
use crate::ui::fields::certificate::{CertificateChoice, CertificateField};
use crate::ui::fields::form::{FormPanel, submit};
use crate::ui::host::use_session;
use crate::ui::storage;
use crate::web::clock;

/// A renewal under review, then applied: what the result shows.
#[derive(Clone, Debug)]
struct Renewal {
    found: FoundKey,
    /// The new certificate.
    auth: AuthMethod,
    /// The PFX generated here, if it was.
    file_name: Option<String>,
}

impl Renewal {
    fn new_thumbprint(&self) -> Option<&str> {
        match &self.auth {
            AuthMethod::Certificate { thumbprint, .. } => Some(thumbprint),
            AuthMethod::ClientSecret { .. } => None,
        }
    }

    fn old_thumbprint(&self) -> String {
        self.found.key.thumbprint().unwrap_or_default()
    }
}

/// Which of the two plans the frame is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Renew,
    Remove,
}

#[component]
pub fn RenewPage(prefill: Prefill) -> impl IntoView {
    let session = use_session();
    let frame = Frame::new();
    let text = RwSignal::new(prefill.thumbprint.clone().unwrap_or_default());
    let target = RwSignal::new(None::<Target>);
    let search = RwSignal::new(None::<Search>);
    let chosen = RwSignal::new(None::<usize>);
    // The app management policy of each key's application, read with it.
    let policies = RwSignal::new(Vec::<Option<PolicyView>>::new());
    let finding = RwSignal::new(false);
    let find_error = RwSignal::new(None::<UiError>);
    let stage = RwSignal::new(Stage::Renew);
    let pending = StoredValue::new(None::<Renewal>);
    let renewed = RwSignal::new(None::<Renewal>);
    let updated = RwSignal::new(Vec::<String>::new());
    // The removal's own: they outlive the result panel that starts it.
    let removing = RwSignal::new(false);
    let remove_error = RwSignal::new(None::<UiError>);
    let records: Vec<ConnectionRecord> = storage::records()
        .into_iter()
        .filter(|r| matches!(r.auth, AuthMethod::Certificate { .. }))
        .collect();
    let records = StoredValue::new(records);
    let (link_app, link_tenant) = (prefill.app.clone(), prefill.tenant.clone());
    let link = StoredValue::new((link_app, link_tenant));

    // Searches the signed-in tenant for the target's key.
    let run_search = move |t: Target| {
        frame.reset();
        stage.set(Stage::Renew);
        renewed.set(None);
        search.set(None);
        chosen.set(None);
        policies.set(Vec::new());
        target.set(Some(t.clone()));
        submit(finding, find_error, async move {
            let account = session.account().ok_or(UiError::SignedOut)?;
            let api = session.api().await?;
            let all = storage::records();
            let result = renew::find(&api, &t, &account.tenant_id, &all).await?;
            if let Search::Found(list) = &result {
                let mut read = Vec::new();
                for f in list {
                    read.push(match f.renewable() {
                        true => Some(renew::read_policy(&api, f).await),
                        false => None,
                    });
                }
                policies.set(read);
                chosen.set(list.iter().position(FoundKey::renewable));
            }
            search.set(Some(result));
            Ok(())
        });
    };
    let on_find = move |ev: SubmitEvent| {
        ev.prevent_default();
        if finding.get_untracked() {
            return;
        }
        match renew::read(&text.get_untracked()) {
            Ok(mut t) => {
                let (app, tenant) = link.get_value();
                t.app_id = t.app_id.or(app);
                t.tenant = t.tenant.or(tenant);
                run_search(t);
            }
            Err(e) => {
                target.set(None);
                search.set(None);
                find_error.set(Some(e.into()));
            }
        }
    };
    let on_record = move |ev: leptos::ev::Event| {
        let id = event_target_value(&ev);
        let Some(r) = records.with_value(|all| all.iter().find(|r| r.route_id() == id).cloned())
        else {
            return;
        };
        match Target::from_record(&r) {
            Ok(t) => {
                text.set(t.thumbprint.clone());
                run_search(t);
            }
            Err(e) => find_error.set(Some(e.into())),
        }
    };
    // A link with a thumbprint (a service account's "Renew") searches as
    // soon as the admin is signed in.
    let searched_from_link = StoredValue::new(prefill.thumbprint.is_none());
    Effect::new(move |_| {
        if session.account().is_none() || searched_from_link.get_value() {
            return;
        }
        searched_from_link.set_value(true);
        if let Ok(mut t) = renew::read(&text.get_untracked()) {
            let (app, tenant) = link.get_value();
            t.app_id = t.app_id.or(app);
            t.tenant = t.tenant.or(tenant);
            run_search(t);
        }
    });
    // The renewal applied: the service accounts that used the old
    // certificate now name the new one, and the result is shown.
    Effect::new(move |_| {
        let done = frame
            .finished
            .with(|f| matches!(f, Some(Finished::Done(_))));
        if !done || stage.get_untracked() != Stage::Renew || renewed.get_untracked().is_some() {
            return;
        }
        if let Some(r) = pending.get_value() {
            let names = renew::renewed_records(&r.found, &r.auth, clock::now())
                .into_iter()
                .map(|record| {
                    let name = record.name.clone();
                    storage::keep_record(record);
                    name
                })
                .collect();
            updated.set(names);
            renewed.set(Some(r));
        }
    });

    let selected = move || {
        let i = chosen.get()?;
        let found = search.with(|s| match s {
            Some(Search::Found(list)) => list.get(i).cloned(),
            _ => None,
        })?;
        let policy = policies.with(|p| p.get(i).cloned().flatten())?;
        Some((found, policy))
    };

    let form = move || match stage.get() {
        Stage::Renew => view! {
            <FindForm text=text finding=finding error=find_error records=records
                on_find=Callback::new(on_find) on_record=Callback::new(on_record) />
            {move || target.get().map(|t| view! { <Decoded target=t /> })}
            {move || search.get().map(|s| view! { <Found search=s chosen=chosen frame=frame /> })}
            {move || selected().filter(|(f, _)| f.renewable()).map(|(found, policy)| view! {
                <CertificateForm found=found policy=policy frame=frame pending=pending />
            })}
        }
        .into_any(),
        Stage::Remove => view! {
            <RemovalIntro renewed=renewed busy=removing error=remove_error />
        }
        .into_any(),
    };
    view! {
        <p class="lead">
            "A service whose certificate has expired fails with AADSTS700027 (\"The key used is expired\"). \
             Paste its error, or the certificate's thumbprint: this page finds the application that holds \
             the key, registers a new certificate next to it — with the whole-collection update, because \
             addKey needs a proof signed by a certificate that is still valid — and, once the service uses \
             the new one, removes the expired key. You review each change before it is made."
        </p>
        <ResumePanel frame=frame />
        <WizardFrame frame=frame>{form}</WizardFrame>
        {move || (stage.get() == Stage::Renew).then(|| renewed.get()).flatten().map(|r| view! {
            <Renewed renewal=r updated=updated frame=frame stage=stage busy=removing error=remove_error />
        })}
    }
}

/// What the admin has: the error text or a thumbprint, or a saved account.
#[component]
fn FindForm(
    text: RwSignal<String>,
    finding: RwSignal<bool>,
    error: RwSignal<Option<UiError>>,
    records: StoredValue<Vec<ConnectionRecord>>,
    on_find: Callback<SubmitEvent>,
    on_record: Callback<leptos::ev::Event>,
) -> impl IntoView {
    let options = records.with_value(|all| {
        all.iter()
            .map(|r| (r.route_id(), format!("{} ({})", r.name, r.app_id)))
            .collect::<Vec<_>>()
    });
    view! {
        <FormPanel prefix="renew-find" title="Find the expired certificate" on_submit=on_find
            label="Find the key" busy=finding working="Reading the tenant's applications and their keys…" error=error>
            <div class="grid">
                <label for="renew-input">"Error text or thumbprint"</label>
                <textarea id="renew-input" rows="5" spellcheck="false" autocomplete="off"
                    placeholder="AADSTS700027: Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '…', …]"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                {(!options.is_empty()).then(|| view! {
                    <label for="renew-record">"Or a saved service account"</label>
                    <select id="renew-record" on:change=move |ev| on_record.run(ev)>
                        <option value="" selected>"—"</option>
                        {options.into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                    </select>
                })}
            </div>
            <p class="hint">
                "Paste the message as the service printed it (its log or its error page), or the SHA-1 thumbprint \
                 the Entra admin center shows under Certificates & secrets. Searching needs you signed in."
            </p>
        </FormPanel>
    }
}

/// The pasted error, taken apart.
#[component]
fn Decoded(target: Target) -> impl IntoView {
    let session = use_session();
    let other_tenant = target.tenant.clone().filter(|t| {
        is_guid(t)
            && session
                .account()
                .is_some_and(|a| !a.tenant_id.eq_ignore_ascii_case(t))
    });
    let thumbprint = target.thumbprint.clone();
    view! {
        {target.error.map(|e| {
            let advice = e.advice();
            let mut facts = vec![("Error", format!("AADSTS{}: {}", e.code, e.message))];
            facts.extend(e.reason.clone().map(|r| ("Reason", r)));
            facts.push(("Thumbprint of the key the service used", thumbprint.clone()));
            if let Some(k) = &e.found_key {
                facts.extend(k.start.map(|s| ("Key valid from", s.to_string())));
                facts.extend(k.end.map(|s| ("Key valid until", s.to_string())));
            }
            facts.extend(e.app_id.clone().map(|a| ("Application (client) ID", a)));
            facts.extend(e.timestamp.map(|t| ("When", t.to_string())));
            view! {
                <section class="panel" aria-labelledby="renew-decoded-title">
                    <h2 id="renew-decoded-title">"What the error says"</h2>
                    <p id="renew-decoded">{advice.summary}</p>
                    <dl class="facts" id="renew-decoded-facts">
                        {facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                    </dl>
                    <p class="hint">{advice.next_step}</p>
                </section>
            }
        })}
        {other_tenant.map(|t| view! {
            <p class="warnings" role="alert" id="renew-other-tenant">{format!(
                "The link names tenant {t}, but you are signed in to another tenant: the search looks only in \
                 the tenant you are signed in to. Sign out and sign in to {t} if the service is there."
            )}</p>
        })}
    }
}

/// Where the key was found, or why it was not.
#[component]
fn Found(search: Search, chosen: RwSignal<Option<usize>>, frame: Frame) -> impl IntoView {
    let now = clock::now();
    match search {
        Search::NotFound(n) => view! {
            <section class="panel" aria-labelledby="renew-not-found-title">
                <h2 id="renew-not-found-title">"No key has this thumbprint"</h2>
                <div role="alert" id="renew-not-found">
                    <p>{n.to_string()}</p>
                    <p>"This happens when:"</p>
                    <ul>{n.reasons().into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                </div>
            </section>
        }
        .into_any(),
        Search::Found(list) => {
            let several = list.len() > 1;
            view! {
                <section class="panel" aria-labelledby="renew-found-title">
                    <h2 id="renew-found-title">"Where the key is registered"</h2>
                    <ul class="cards" id="renew-found">
                        {list.into_iter().enumerate().map(|(i, f)| {
                            let renewable = f.renewable();
                            let refused = renew::check_renewable(&f).err().map(|e| e.to_string());
                            let kind = match f.owner.kind {
                                OwnerKind::Application => "Application",
                                OwnerKind::ServicePrincipal => "Service principal (enterprise application)",
                            };
                            let mut facts = vec![
                                (kind, format!("{} ({})", f.owner.display_name, f.owner.app_id)),
                                ("Certificate", f.key.display_name.clone().unwrap_or_default()),
                                ("Key ID", f.key.key_id.clone().unwrap_or_default()),
                            ];
                            facts.extend(f.key.start_date_time.map(|s| ("Valid from", s.to_string())));
                            if let (Some(end), Some(status)) = (f.key.end_date_time, f.status(now)) {
                                facts.push(("Valid until", format!("{end} — {status}")));
                            }
                            facts.push(("Other keys (kept)", f.other_keys.to_string()));
                            for r in &f.records {
                                facts.push(("Saved service account", format!("'{}' signs in with this key", r.name)));
                            }
                            view! {
                                <li class="card">
                                    {(several && renewable).then(|| view! {
                                        <label>
                                            <input type="radio" name="renew-key"
                                                prop:checked=move || chosen.get() == Some(i)
                                                on:change=move |_| { chosen.set(Some(i)); frame.changed(); } />
                                            " Renew this one"
                                        </label>
                                    })}
                                    <dl class="facts">
                                        {facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                                    </dl>
                                    {refused.map(|r| view! { <p class="hint">{r}</p> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            }
            .into_any()
        }
    }
}

/// The new certificate, then the review.
#[component]
fn CertificateForm(
    found: FoundKey,
    policy: PolicyView,
    frame: Frame,
    pending: StoredValue<Option<Renewal>>,
) -> impl IntoView {
    let cert = CertificateChoice::new();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    // What the policy allows a certificate made here: its months, or why
    // none can be made.
    let validity = renew::generated_validity(&policy, &found, clock::now());
    let months = validity.as_ref().ok().map(|(m, _)| *m);
    let policy_note = match &validity {
        Ok((_, note)) => note.clone(),
        Err(e) => Some(e.to_string()),
    };
    let found = StoredValue::new(found);
    let policy = StoredValue::new(policy);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        frame.changed();
        let found = found.get_value();
        let policy = policy.get_value();
        let mut source = cert.source(&found.owner.display_name);
        if let (
            CertificateSource::Generate {
                validity_months, ..
            },
            Some(m),
        ) = (&mut source, months)
        {
            *validity_months = m;
        }
        submit(busy, error, async move {
            frame
                .review_with_certificate(source, |der, auth, now| {
                    let c = Certificate::from_der(&der)
                        .map_err(|e| InputError::Certificate(e.to_string()))?;
                    let plan = renew::renew_plan(&found, &c, &policy, now, &mut OsRng)?;
                    let thumbprint = match &auth {
                        AuthMethod::Certificate { thumbprint, .. } => thumbprint.clone(),
                        AuthMethod::ClientSecret { .. } => String::new(),
                    };
                    let sentence = format!(
                        "The new certificate (thumbprint {thumbprint}) is registered on '{}', next to its other keys.",
                        found.owner.display_name
                    );
                    pending.set_value(Some(Renewal {
                        found: found.clone(),
                        auth,
                        file_name: None,
                    }));
                    Ok((plan, Completion::Done(sentence)))
                })
                .await?;
            let file_name = frame
                .generated
                .with_value(|g| g.as_ref().map(|g| g.file_name.clone()));
            pending.update_value(|p| {
                if let Some(p) = p {
                    p.file_name = file_name;
                }
            });
            Ok(())
        });
    };
    view! {
        <FormPanel prefix="renew" title="The new certificate" on_submit=Callback::new(on_submit)
            label="Review" busy=busy working="Preparing the certificate and the plan…" error=error>
            <CertificateField choice=cert prefix="renew" error=error on_change=Callback::new(move |_| frame.changed()) />
            {policy_note.map(|n| view! { <p class="warnings" id="renew-policy">{n}</p> })}
            <p class="hint">
                "A PFX you have may have no password: leave the password empty and the page tries none and the \
                 empty one. The expired key stays registered until you remove it, after the service uses the new one."
            </p>
        </FormPanel>
    }
}

/// The renewal applied: the PFX, the new certificate, what to do in the
/// service, and the removal of the expired key.
#[component]
fn Renewed(
    renewal: Renewal,
    updated: RwSignal<Vec<String>>,
    frame: Frame,
    stage: RwSignal<Stage>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<UiError>>,
) -> impl IntoView {
    let confirmed = RwSignal::new(false);
    let mut facts = vec![(
        "Application",
        format!(
            "{} ({})",
            renewal.found.owner.display_name, renewal.found.owner.app_id
        ),
    )];
    if let AuthMethod::Certificate {
        thumbprint,
        subject,
        not_before,
        not_after,
    } = &renewal.auth
    {
        facts.push(("New certificate thumbprint (SHA-1)", thumbprint.clone()));
        facts.push(("Subject", subject.clone()));
        facts.push(("Valid from", not_before.to_string()));
        facts.push(("Valid until", not_after.to_string()));
    }
    facts.push((
        "Expired certificate (still registered)",
        renewal.old_thumbprint(),
    ));
    let instructions = renew::service_instructions(renewal.file_name.as_deref());
    let file_name = renewal.file_name.clone();
    let r = StoredValue::new(renewal);
    let remove = move |_| {
        let renewal = r.get_value();
        let plan = match renew::removal_plan(&renewal.found, renewal.new_thumbprint(), &mut OsRng) {
            Ok(p) => p,
            Err(e) => {
                error.set(Some(e.into()));
                return;
            }
        };
        let sentence = format!(
            "The expired certificate (thumbprint {}) was removed from '{}'; its other keys are kept.",
            renewal.old_thumbprint(),
            renewal.found.owner.display_name
        );
        frame.reset();
        stage.set(Stage::Remove);
        submit(busy, error, async move {
            frame
                .review(Draft {
                    plan,
                    completion: Completion::Done(sentence),
                    tenant: None,
                    generated: None,
                    notices: Vec::new(),
                })
                .await
        });
    };
    view! {
        <section class="panel" aria-labelledby="renew-result-title">
            <h2 id="renew-result-title">"The new certificate is registered"</h2>
            <dl class="facts" id="renew-result">
                {facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
            {file_name.map(|f| view! {
                <div class="actions">
                    <button type="button" on:click=move |_| frame.download_pfx()>{format!("Download {f}")}</button>
                </div>
            })}
            <p id="renew-instructions">{instructions}</p>
            {move || {
                let names = updated.get();
                (!names.is_empty()).then(|| view! {
                    <p class="ok" id="renew-records">{format!(
                        "Saved service account{} {} now use{} the new certificate.",
                        if names.len() == 1 { "" } else { "s" },
                        names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", "),
                        if names.len() == 1 { "s" } else { "" },
                    )}</p>
                })
            }}
            <h3>"Remove the expired key"</h3>
            <label>
                <input type="checkbox" id="renew-confirm"
                    prop:checked=move || confirmed.get()
                    on:change=move |ev| confirmed.set(event_target_checked(&ev)) />
                " The service now signs in with the new certificate"
            </label>
            <div class="actions">
                <button type="button" class="primary" prop:disabled=move || !confirmed.get() || busy.get()
                    on:click=remove>"Remove the expired key"</button>
            </div>
            <p class="error" role="alert">{move || error.get().map(|e| e.to_string())}</p>
        </section>
    }
}

/// The second plan's heading, above its review.
#[component]
fn RemovalIntro(
    renewed: RwSignal<Option<Renewal>>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<UiError>>,
) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="renew-remove-title">
            <h2 id="renew-remove-title">"Remove the expired key"</h2>
            <p id="renew-remove-what">{move || renewed.get().map(|r| format!(
                "The expired certificate (thumbprint {}) is removed from '{}' with the same whole-collection \
                 update, keeping every other key; it is removed only if the new certificate ({}) is still \
                 registered.",
                r.old_thumbprint(),
                r.found.owner.display_name,
                r.new_thumbprint().unwrap_or_default(),
            ))}</p>
            <p class="status" role="status">{move || busy.get().then_some("Preparing the plan and checking your rights…")}</p>
            <p class="error" role="alert" id="renew-remove-error">{move || error.get().map(|e| e.to_string())}</p>
        </section>
    }
}
