//! The result of a wizard: the connection card (tenant ID, application ID,
//! object IDs, thumbprint and dates with copy buttons, the record as JSON,
//! the PFX if the key was made here), or what a wizard without a record did.

use leptos::prelude::*;

use super::frame::{Finished, Frame};
use crate::core::generate::file_stem;
use crate::flows::connection::{AuthMethod, ConnectionRecord};
use crate::ui::certificates::copy_to_clipboard;
use crate::web::download;

#[component]
pub fn ResultCard(frame: Frame) -> impl IntoView {
    let Frame {
        finished, notices, ..
    } = frame;
    view! {
        {move || {
            let n = notices.get();
            (finished.with(Option::is_some) && !n.is_empty()).then(|| view! {
                <ul class="warnings" id="connect-notices">{n.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            })
        }}
        {move || finished.get().map(|f| match f {
            Finished::Record(r) => view! { <ConnectionCard record=r frame=frame /> }.into_any(),
            Finished::Edited { record, previous, change, channel } => view! {
                <super::edit_account::EditResult record=record previous=previous change=change channel=channel frame=frame />
            }.into_any(),
            Finished::Done(sentence) => view! {
                <section class="panel" aria-labelledby="finished-title">
                    <h2 id="finished-title">"Done"</h2>
                    <p id="apply-done">{sentence}</p>
                </section>
            }.into_any(),
        })}
    }
}

fn facts(record: &ConnectionRecord) -> Vec<(&'static str, String)> {
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
    facts
}

#[component]
fn ConnectionCard(record: ConnectionRecord, frame: Frame) -> impl IntoView {
    let json = serde_json::to_string_pretty(&record).unwrap_or_default();
    let stem = file_stem(&record.name);
    let json2 = json.clone();
    let has_pfx = frame.has_pfx;
    let pfx_name = frame
        .generated
        .with_value(|g| g.as_ref().map(|g| g.file_name.clone()))
        .unwrap_or_default();
    let title = if record.application_object_id.is_some() {
        "Connected"
    } else {
        "Checked and saved"
    };
    view! {
        <section class="panel" aria-labelledby="card-title">
            <h2 id="card-title">{title}</h2>
            <dl class="facts" id="connection-card">
                {facts(&record).into_iter().map(|(k, v)| {
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
                    let label = format!("Download {pfx_name}");
                    view! {
                        <button type="button" on:click=move |_| frame.download_pfx()>{label}</button>
                    }
                })}
            </div>
            <p class="hint">
                "The record is saved under Service accounts (no secret, no key). "
                {move || has_pfx.get().then_some("The .pfx holds the private key, protected by your password: give it to the service and keep it safe; this page does not keep it.")}
            </p>
            <div class="actions">
                <button type="button" on:click=move |_| frame.reset()>"Connect another service"</button>
            </div>
        </section>
    }
}
