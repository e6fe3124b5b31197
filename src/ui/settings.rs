//! Settings: the cloud and the sign-in application this page uses. Saved in
//! localStorage (plain settings, nothing confidential), overriding the deployment's `config.json`.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::session::{CLOUDS, Settings, use_session};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let session = use_session();
    view! {
        <p class="lead">
            "The cloud (Global, US Government, China or the local emulator) and the sign-in \
             application this page uses. The deployment's defaults come from its config.json; \
             what you save here is kept in this browser and overrides them."
        </p>
        {move || session.loaded.get().then(|| view! { <SettingsForm /> })}
    }
}

#[component]
fn SettingsForm() -> impl IntoView {
    let session = use_session();
    let current = session.settings_untracked();
    let cloud = RwSignal::new(current.cloud.clone());
    let base_url = RwSignal::new(
        current
            .local_base_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:8400".into()),
    );
    let client_id = RwSignal::new(current.client_id.clone());
    let tenant = RwSignal::new(current.tenant.clone());
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        status.set(None);
        let c = cloud.get_untracked();
        let s = Settings {
            local_base_url: (c == "local").then(|| base_url.get_untracked().trim().to_string()),
            cloud: c,
            client_id: client_id.get_untracked().trim().to_string(),
            tenant: tenant.get_untracked().trim().to_string(),
        };
        if let Err(e) = s.sign_in_config(String::new()) {
            error.set(Some(e));
            return;
        }
        error.set(None);
        let changed = s != session.settings_untracked();
        session.save_settings(Some(s));
        if changed && session.account().is_some() {
            session.sign_out();
            status.set(Some(
                "Saved. You were signed out: sign in again with the new settings.".into(),
            ));
        } else {
            status.set(Some("Saved.".into()));
        }
    };

    let on_reset = move |_| {
        session.save_settings(None);
        let d = session.settings_untracked();
        cloud.set(d.cloud.clone());
        if let Some(b) = d.local_base_url.clone() {
            base_url.set(b);
        }
        client_id.set(d.client_id.clone());
        tenant.set(d.tenant.clone());
        error.set(None);
        status.set(Some("Back to this deployment's defaults.".into()));
    };

    view! {
        <section class="panel" aria-labelledby="settings-title">
            <h2 id="settings-title">"Cloud and sign-in application"</h2>
            <form on:submit=on_submit novalidate>
                <div class="grid">
                    <label for="set-cloud">"Cloud"</label>
                    <select id="set-cloud" on:change=move |ev| cloud.set(event_target_value(&ev))>
                        {CLOUDS
                            .into_iter()
                            .map(|(id, label)| view! {
                                <option value=id prop:selected=move || cloud.get() == id>{label}</option>
                            })
                            .collect_view()}
                    </select>

                    {move || (cloud.get() == "local").then(|| view! {
                        <label for="set-base">"Emulator address"</label>
                        <input id="set-base" type="url" autocomplete="off"
                            placeholder="http://127.0.0.1:8400"
                            prop:value=move || base_url.get()
                            on:input=move |ev| base_url.set(event_target_value(&ev)) />
                    })}

                    <label for="set-client">"Client ID of the sign-in application"</label>
                    <input id="set-client" type="text" autocomplete="off" spellcheck="false"
                        placeholder="00000000-0000-0000-0000-000000000000"
                        prop:value=move || client_id.get()
                        on:input=move |ev| client_id.set(event_target_value(&ev)) />

                    <label for="set-tenant">"Tenant (ID, domain or 'organizations')"</label>
                    <input id="set-tenant" type="text" autocomplete="off" spellcheck="false"
                        placeholder="contoso.onmicrosoft.com"
                        prop:value=move || tenant.get()
                        on:input=move |ev| tenant.set(event_target_value(&ev)) />
                </div>
                <div class="actions">
                    <button type="submit" class="primary">"Save"</button>
                    <button type="button" on:click=on_reset>"Use the deployment's defaults"</button>
                </div>
                <p class="status" role="status" aria-live="polite">{move || status.get()}</p>
                <p class="error" role="alert">{move || error.get()}</p>
            </form>
            <p class="hint">
                "The sign-in application is one single-page application registered in your tenant \
                 with this page's address as a redirect URI of type Single-page application; see the README."
            </p>
        </section>
    }
}
