//! F5 — the Restore Portal application: a new application (name) or an
//! existing one (application ID), the certificate and the portal's web
//! address (a `spa` redirect URI). The plan is `flows::restore_portal::plan`.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use rand_core::OsRng;

use super::frame::use_frame;
use crate::flows::restore_portal::{
    self, ADDRESS_HELP, MANUAL_SETTINGS_NOTE, PortalApplication, RestorePortal,
};
use crate::flows::route::Prefill;
use crate::ui::error::UiError;
use crate::ui::fields::certificate::{CertificateChoice, CertificateField};
use crate::ui::fields::form::{FormPanel, shown, submit};
use crate::ui::fields::{radio_pair, text_input};
use crate::ui::host::use_session;

#[component]
pub fn Form(prefill: Prefill) -> impl IntoView {
    let session = use_session();
    let frame = use_frame();
    let existing = RwSignal::new(prefill.app.is_some());
    let name = RwSignal::new(String::new());
    let app_id = RwSignal::new(prefill.app.unwrap_or_default());
    let address = RwSignal::new(String::new());
    let cert = CertificateChoice::new();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let changed = move || frame.changed();

    let region = move || {
        session
            .sign_in_config()
            .map(|c| c.cloud.label())
            .or_else(|| session.settings_untracked().cloud().ok().map(|c| c.label()))
            .unwrap_or("Global (Azure public cloud)")
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        frame.changed();
        if shown(error, session.account().ok_or(UiError::SignedOut)).is_none() {
            return;
        }
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
        let source = cert.source(if label.is_empty() {
            "Restore Portal"
        } else {
            &label
        });
        let portal_address = address.get_untracked();
        submit(busy, error, async move {
            frame
                .review_with_certificate(source, |der, auth, now| {
                    let input = RestorePortal {
                        application,
                        certificate_der: der,
                        portal_address,
                    };
                    let (plan, redirect) = restore_portal::plan(&input, now, &mut OsRng)?;
                    let profile = restore_portal::profile().id;
                    Ok((
                        plan,
                        frame.record(label, auth, profile, None, Some(redirect))?,
                    ))
                })
                .await
        });
    };

    view! {
        <FormPanel prefix="f5" title="Restore Portal application" on_submit=Callback::new(on_submit)
            label="Review" busy=busy working="Preparing the plan and checking your rights…" error=error>
                <p>
                    "Region: " <strong id="f5-region">{region}</strong>
                    " — the cloud you sign in to; change it under " <a href="#/settings">"Settings"</a> "."
                </p>
                {radio_pair(
                    "Application",
                    "f5-app".into(),
                    existing,
                    false,
                    ["Create a new application".into(), "Use an existing application".into()],
                    changed,
                )}
                <div class="grid">
                    {move || if existing.get() {
                        text_input("f5-appid", "Application (client) ID", "", "text", app_id, changed).into_any()
                    } else {
                        text_input("f5-name", "Application name", "Restore Portal", "text", name, changed).into_any()
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
                <CertificateField choice=cert prefix="f5" error=error on_change=Callback::new(move |_| changed()) />
                <p class="hint" id="f5-note">{MANUAL_SETTINGS_NOTE}</p>
        </FormPanel>
    }
}
