//! Service accounts: the connection records finished wizards saved in this
//! browser (IDs, dates, thumbprints; never a key), listed, exported and
//! imported as JSON (`crate::flows::connection::{export, import}`).

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

use super::certificates::copy_to_clipboard;
use super::connect::{save_records, saved_records};
use crate::flows::connection::{self, AuthMethod, ConnectionRecord};
use crate::web::download;

#[component]
pub fn ServiceAccountsPage() -> impl IntoView {
    let records = RwSignal::new(saved_records());
    let status = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);

    let on_import = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|l| l.get(0)) else {
            return;
        };
        input.set_value("");
        spawn_local(async move {
            let text = match JsFuture::from(file.text()).await {
                Ok(t) => t.as_string().unwrap_or_default(),
                Err(_) => {
                    error.set(Some("The file could not be read.".into()));
                    return;
                }
            };
            match connection::import(&text) {
                Ok(imported) => {
                    let count = imported.len();
                    let mut all = records.get_untracked();
                    for r in imported {
                        all.retain(|o| !(o.app_id == r.app_id && o.tenant_id == r.tenant_id));
                        all.push(r);
                    }
                    save_records(&all);
                    records.set(all);
                    error.set(None);
                    status.set(Some(format!("Imported {count} service account(s).")));
                }
                Err(e) => {
                    status.set(None);
                    error.set(Some(e.to_string()));
                }
            }
        });
    };

    let on_export = move |_| {
        let json = connection::export(&records.get_untracked());
        let _ = download::save("service-accounts.json", "application/json", json.as_bytes());
    };

    view! {
        <p class="lead">
            "The service accounts this browser has set up. Each record holds the tenant, the \
             application and its object IDs, the authentication method (thumbprint or secret hint) \
             and its expiry — never a secret or a key."
        </p>
        <section class="panel" aria-labelledby="accounts-title">
            <h2 id="accounts-title">"Saved service accounts"</h2>
            {move || {
                let list = records.get();
                if list.is_empty() {
                    view! {
                        <p class="hint" id="accounts-empty">
                            "None yet: finish a wizard under Connect, or import a file exported from another browser."
                        </p>
                    }
                    .into_any()
                } else {
                    view! {
                        <ul class="accounts" id="accounts-list">
                            {list.into_iter().map(|r| view! { <AccountItem record=r records=records /> }).collect_view()}
                        </ul>
                    }
                    .into_any()
                }
            }}
            <div class="actions">
                <button type="button" class="primary" on:click=on_export
                    prop:disabled=move || records.get().is_empty()>
                    "Export as JSON"
                </button>
                <label class="button" for="accounts-import">"Import JSON…"</label>
                <input id="accounts-import" class="visually-hidden" type="file" accept=".json,application/json"
                    on:change=on_import />
            </div>
            <p class="status" role="status" aria-live="polite">{move || status.get()}</p>
            <p class="error" role="alert">{move || error.get()}</p>
        </section>
    }
}

#[component]
fn AccountItem(
    record: ConnectionRecord,
    records: RwSignal<Vec<ConnectionRecord>>,
) -> impl IntoView {
    let auth = match &record.auth {
        AuthMethod::Certificate {
            thumbprint,
            not_after,
            ..
        } => format!("Certificate {thumbprint}, valid until {not_after}"),
        AuthMethod::ClientSecret { hint, end } => match end {
            Some(e) => format!("Client secret {hint}…, valid until {e}"),
            None => format!("Client secret {hint}…"),
        },
    };
    let app_id = record.app_id.clone();
    let tenant = record.tenant_id.clone();
    let copy = record.app_id.clone();
    view! {
        <li class="card">
            <h3>{record.name.clone()}</h3>
            <dl class="facts">
                <dt>"Application (client) ID"</dt>
                <dd>{record.app_id.clone()}</dd>
                <dt>"Tenant ID"</dt>
                <dd>{record.tenant_id.clone()}</dd>
                <dt>"Cloud"</dt>
                <dd>{record.cloud.label()}</dd>
                <dt>"Authentication"</dt>
                <dd>{auth}</dd>
                <dt>"Permission profile"</dt>
                <dd>{record.profile.clone()}</dd>
                {record.subscription.clone().map(|s| view! {
                    <dt>"Subscription"</dt>
                    <dd>{format!("{} ({})", s.display_name, s.subscription_id)}</dd>
                })}
                <dt>"Saved"</dt>
                <dd>{record.saved.to_string()}</dd>
            </dl>
            <div class="actions">
                <button type="button" on:click=move |_| copy_to_clipboard(copy.clone())>"Copy application ID"</button>
                <button type="button" on:click=move |_| {
                    let mut all = records.get_untracked();
                    all.retain(|o| !(o.app_id == app_id && o.tenant_id == tenant));
                    save_records(&all);
                    records.set(all);
                }>"Forget"</button>
            </div>
        </li>
    }
}
