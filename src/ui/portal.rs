//! Connect → Restore Portal application (F5): a new application (name,
//! certificate, web address) or an existing one (application ID,
//! certificate, web address); the address becomes a `spa` redirect URI, the
//! application exposes `access_as_user` under `api://{appId}`, and User.Read
//! and that scope get admin consent. Reviewed and applied like F1.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use zeroize::Zeroize;

use super::connect::{
    GeneratedPfx, Review, ReviewPanel, SavedApply, certificate, needs_arm, pick_file, signed_in_api,
};
use super::session::use_session;
use crate::core::certificate::Certificate;
use crate::flows::connection::AuthMethod;
use crate::flows::restore_portal::{
    self, ADDRESS_HELP, MANUAL_SETTINGS_NOTE, PortalApplication, RestorePortal,
};
use crate::plan;
use crate::web::clock;

#[component]
pub fn PortalForm(
    review: RwSignal<Option<Review>>,
    generated: StoredValue<Option<GeneratedPfx>>,
    has_pfx: RwSignal<bool>,
    run: Callback<SavedApply>,
) -> impl IntoView {
    let session = use_session();
    let existing = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let app_id = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let generate = RwSignal::new(true);
    let pw = RwSignal::new(String::new());
    let pw2 = RwSignal::new(String::new());
    let file = RwSignal::new(None::<(String, Vec<u8>)>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let changed = move || review.set(None);

    on_cleanup(move || {
        pw.try_update(|p| p.zeroize());
        pw2.try_update(|p| p.zeroize());
        file.try_set(None);
    });

    let region = move || {
        session
            .sign_in_config()
            .map(|c| c.cloud.label())
            .or_else(|| session.settings_untracked().cloud().ok().map(|c| c.label()))
            .unwrap_or("Global (Azure public cloud)")
    };

    let on_file = pick_file(file, error);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        review.set(None);
        let (Some(config), Some(account)) = (session.sign_in_config(), session.account()) else {
            error.set(Some(
                "Sign in first (the button at the top of the page).".into(),
            ));
            return;
        };
        let application = if existing.get_untracked() {
            PortalApplication::Existing {
                app_id: app_id.get_untracked(),
            }
        } else {
            PortalApplication::New {
                display_name: name.get_untracked(),
            }
        };
        let label = match &application {
            PortalApplication::New { display_name } => display_name.trim().to_string(),
            PortalApplication::Existing { app_id } => format!("Restore Portal {}", app_id.trim()),
        };
        let portal_address = address.get_untracked();
        let is_generate = generate.get_untracked();
        let (password, confirmation) = (pw.get_untracked(), pw2.get_untracked());
        let chosen = file.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let outcome = async {
                let cert_name = if label.is_empty() {
                    "Restore Portal"
                } else {
                    label.as_str()
                };
                let (der, pfx) =
                    certificate(cert_name, is_generate, &password, &confirmation, chosen).await?;
                let cert = Certificate::from_der(&der).map_err(|e| e.to_string())?;
                let auth = AuthMethod::certificate(&cert).map_err(|e| e.to_string())?;
                let input = RestorePortal {
                    application,
                    certificate_der: der,
                    portal_address,
                };
                let (plan, redirect) = restore_portal::plan(&input, clock::now(), &mut OsRng)
                    .map_err(|e| e.to_string())?;
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
                    name: label,
                    profile: restore_portal::profile().id,
                    subscription: None,
                    auth: Some(auth),
                    cloud: config.cloud,
                    tenant_id: account.tenant_id,
                    portal_address: Some(redirect),
                };
                Ok::<_, String>((Review { saved, missing }, pfx))
            }
            .await;
            let (mut password, mut confirmation) = (password, confirmation);
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
        <section class="panel" aria-labelledby="f5-title">
            <h2 id="f5-title">"Restore Portal application"</h2>
            <p>
                "Region: " <strong id="f5-region">{region}</strong>
                " — the cloud you sign in to; change it under " <a href="#/settings">"Settings"</a> "."
            </p>
            <form on:submit=on_submit novalidate>
                <fieldset class="choice">
                    <legend>"Application"</legend>
                    <label>
                        <input type="radio" name="f5-app"
                            prop:checked=move || !existing.get()
                            on:change=move |_| { existing.set(false); changed(); } />
                        " Create a new application"
                    </label>
                    <label>
                        <input type="radio" name="f5-app"
                            prop:checked=move || existing.get()
                            on:change=move |_| { existing.set(true); changed(); } />
                        " Use an existing application"
                    </label>
                </fieldset>
                <div class="grid">
                    {move || if existing.get() {
                        view! {
                            <label for="f5-appid">"Application (client) ID"</label>
                            <input id="f5-appid" type="text" autocomplete="off" spellcheck="false"
                                prop:value=move || app_id.get()
                                on:input=move |ev| { app_id.set(event_target_value(&ev)); changed(); } />
                        }.into_any()
                    } else {
                        view! {
                            <label for="f5-name">"Application name"</label>
                            <input id="f5-name" type="text" autocomplete="off"
                                placeholder="Restore Portal"
                                prop:value=move || name.get()
                                on:input=move |ev| { name.set(event_target_value(&ev)); changed(); } />
                        }.into_any()
                    }}
                    <label for="f5-address">"Restore Portal web address"</label>
                    <div>
                        <input id="f5-address" type="url" autocomplete="off" spellcheck="false"
                            placeholder="https://portal.abc.com:4443" aria-describedby="f5-address-help"
                            prop:value=move || address.get()
                            on:input=move |ev| { address.set(event_target_value(&ev)); changed(); } />
                        <div id="f5-address-help" class="hint">{ADDRESS_HELP}</div>
                    </div>
                </div>
                <fieldset class="choice">
                    <legend>"Certificate"</legend>
                    <label>
                        <input type="radio" name="f5-cert"
                            prop:checked=move || generate.get()
                            on:change=move |_| { generate.set(true); changed(); } />
                        " Generate a new certificate in this page"
                    </label>
                    <label>
                        <input type="radio" name="f5-cert"
                            prop:checked=move || !generate.get()
                            on:change=move |_| { generate.set(false); changed(); } />
                        " Use a PFX/P12 file I have"
                    </label>
                </fieldset>
                <div class="grid">
                    {move || (!generate.get()).then(|| view! {
                        <label for="f5-file">"PFX or P12 file"</label>
                        <input id="f5-file" type="file" accept=".pfx,.p12" on:change=on_file />
                    })}
                    <label for="f5-pw">{move || if generate.get() { "PFX password" } else { "Password of the PFX" }}</label>
                    <input id="f5-pw" type="password" autocomplete="new-password"
                        prop:value=move || pw.get()
                        on:input=move |ev| { pw.set(event_target_value(&ev)); changed(); } />
                    {move || generate.get().then(|| view! {
                        <label for="f5-pw2">"Confirm password"</label>
                        <input id="f5-pw2" type="password" autocomplete="new-password"
                            prop:value=move || pw2.get()
                            on:input=move |ev| { pw2.set(event_target_value(&ev)); changed(); } />
                    })}
                </div>
                <p class="hint" id="f5-note">{MANUAL_SETTINGS_NOTE}</p>
                <button type="submit" class="primary" prop:disabled=move || busy.get()>"Review"</button>
                <p class="status" role="status" aria-live="polite">
                    {move || busy.get().then_some("Preparing the plan and checking your rights…")}
                </p>
                <p class="error" role="alert" id="f5-error">{move || error.get()}</p>
            </form>
        </section>
        {move || review.get().map(|r| view! { <ReviewPanel review=r run=run generated=generated has_pfx=has_pfx /> })}
    }
}
