//! F2 — use an existing application. With the check box off the inputs are
//! validated in the page (`flows::existing_app::check_locally`: tenant and
//! application IDs, the secret, or the PFX: opens, RSA, dates) and the
//! record is saved — no sign-in, no network. With it on, the plan
//! (`flows::existing_app::plan`) is reviewed and applied in the frame.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use rand_core::OsRng;
use zeroize::{Zeroize, Zeroizing};

use super::frame::{Draft, use_frame};
use crate::cloud::Cloud;
use crate::flows::connection::{ConnectionRecord, RecordDetails};
use crate::flows::existing_app::{self, Credential, ExistingApplication};
use crate::flows::route::Prefill;
use crate::ui::error::UiError;
use crate::ui::fields::file::{Picked, on_pick};
use crate::ui::fields::form::{FormPanel, shown, submit};
use crate::ui::fields::profile::{ProfileChoice, ProfileField};
use crate::ui::fields::subscription::{SubscriptionField, Subscriptions};
use crate::ui::fields::{radio_pair, text_input};
use crate::ui::host::use_session;
use crate::web::clock;
use crate::web::crypto_worker::CryptoWorker;

#[component]
pub fn Form(prefill: Prefill) -> impl IntoView {
    let session = use_session();
    let frame = use_frame();
    let tenant = RwSignal::new(prefill.tenant.clone().unwrap_or_else(|| {
        session
            .account()
            .map(|a| a.tenant_id)
            .unwrap_or_else(|| session.settings_untracked().tenant)
    }));
    let app_id = RwSignal::new(prefill.app.clone().unwrap_or_default());
    let name = RwSignal::new(String::new());
    let use_secret = RwSignal::new(false);
    let secret = RwSignal::new(String::new());
    let pw = RwSignal::new(String::new());
    let file = RwSignal::new(None::<(String, Vec<u8>)>);
    let grant = RwSignal::new(false);
    let profile = ProfileChoice::new(|_| true);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let changed = move || frame.changed();

    on_cleanup(move || {
        secret.try_update(|s| s.zeroize());
        pw.try_update(|p| p.zeroize());
        file.try_set(None);
    });

    let needs_subscription =
        move || grant.get() && profile.selected().is_some_and(|p| p.needs_subscription());
    let subs = Subscriptions::new(needs_subscription);
    let on_file = on_pick(file, error);

    let credential = move || -> Result<Credential, UiError> {
        if use_secret.get_untracked() {
            return Ok(Credential::Secret(Zeroizing::new(secret.get_untracked())));
        }
        let picked: Picked = file.get_untracked();
        let (_, data) = picked.ok_or(crate::flows::certificate::CertificateError::NoFile)?;
        let p = pw.get_untracked();
        Ok(Credential::Pfx {
            data: Zeroizing::new(data),
            password: (!p.is_empty()).then(|| Zeroizing::new(p)),
        })
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        frame.changed();
        let grant_and_register = grant.get_untracked();
        let input = (|| {
            Ok::<_, UiError>(ExistingApplication {
                tenant: tenant.get_untracked(),
                app_id: app_id.get_untracked(),
                credential: credential()?,
                grant_and_register,
                profile: profile.selected_untracked()?,
                subscription: None,
            })
        })();
        let Some(input) = shown(error, input) else {
            return;
        };
        let name = name.get_untracked();
        // The PFX opens in the page's crypto worker, off the page's thread.
        submit(busy, error, async move {
            let check =
                existing_app::check_locally_with(&input, &CryptoWorker, clock::now()).await?;
            let ExistingApplication { profile, .. } = input;
            let label = Some(name.trim().to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("Application {}", check.app_id));
            if !grant_and_register {
                // Validated locally: that is the whole of F2 with the box off.
                let details = RecordDetails {
                    name: label,
                    cloud: session
                        .settings_untracked()
                        .cloud()
                        .unwrap_or(Cloud::Global),
                    tenant_id: check.tenant.clone(),
                    auth: check.auth_method(),
                    profile: profile.id.clone(),
                    subscription: None,
                    portal_address: None,
                };
                let record = ConnectionRecord::local(details, &check.app_id, clock::now());
                frame.finish_locally(record, check.warnings.clone());
                return Ok(());
            }
            session.account().ok_or(UiError::SignInToChange)?;
            let sub = ProfileChoice::subscription(&profile, &subs)?;
            let plan =
                existing_app::plan(&check, &profile, sub.as_ref(), clock::now(), &mut OsRng)?;
            let completion =
                frame.record(label, check.auth_method(), profile.id.clone(), sub, None)?;
            frame
                .review(Draft {
                    plan,
                    completion,
                    tenant: Some(check.tenant.clone()),
                    generated: None,
                    notices: check.warnings.clone(),
                })
                .await
        });
    };

    view! {
        <FormPanel prefix="f2" title="Use an existing application" on_submit=Callback::new(on_submit)
            label=Signal::derive(move || if grant.get() { "Review" } else { "Check and save" })
            busy=busy working="Preparing the plan and checking your rights…" error=error>
                <div class="grid">
                    {text_input("f2-tenant", "Tenant ID (or domain)", "", "text", tenant, changed)}
                    {text_input("f2-app", "Application (client) ID", "00000000-0000-0000-0000-000000000000", "text", app_id, changed)}
                    {text_input("f2-name", "Name for this service account (optional)", "", "text", name, changed)}
                </div>

                {radio_pair(
                    "Authentication type",
                    "f2-auth".into(),
                    use_secret,
                    false,
                    ["Certificate (PFX/P12 file and its password)".into(), "Client secret".into()],
                    changed,
                )}
                <div class="grid">
                    {move || if use_secret.get() {
                        view! {
                            <label for="f2-secret">"Client secret (value)"</label>
                            <input id="f2-secret" type="password" autocomplete="off"
                                prop:value=move || secret.get()
                                on:input=move |ev| { secret.set(event_target_value(&ev)); changed(); } />
                        }.into_any()
                    } else {
                        view! {
                            <label for="f2-file">"Certificate file (PFX or P12)"</label>
                            <input id="f2-file" type="file" accept=".pfx,.p12" on:change=on_file />
                            <label for="f2-pw">"Certificate password"</label>
                            <input id="f2-pw" type="password" autocomplete="off"
                                prop:value=move || pw.get()
                                on:input=move |ev| { pw.set(event_target_value(&ev)); changed(); } />
                        }.into_any()
                    }}
                </div>

                <label class="check">
                    <input type="checkbox" id="f2-grant"
                        prop:checked=move || grant.get()
                        on:change=move |ev| { grant.set(event_target_checked(&ev)); changed(); } />
                    " Grant the required permissions to this application and register its certificate"
                </label>
                <p class="hint">
                    "Off: the page checks what you entered (formats, the PFX opens, RSA, dates) and saves the \
                     service account — no sign-in, nothing is sent. On: you sign in and review the changes first."
                </p>
                {move || grant.get().then(|| view! {
                    <div class="grid">
                        <ProfileField choice=profile prefix="f2" on_change=Callback::new(move |_| changed()) />
                        {move || needs_subscription().then(|| view! {
                            <SubscriptionField subs=subs prefix="f2" on_change=Callback::new(move |_| changed()) />
                        })}
                    </div>
                })}
        </FormPanel>
    }
}
