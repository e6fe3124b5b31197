//! Service accounts: the connection records finished wizards saved in this
//! browser (IDs, dates, thumbprints; never a key), listed, opened one by one
//! (`#/accounts/{id}`), exported and imported as JSON
//! (`crate::flows::connection::{export, import}`). Records are the same
//! service account by `flows::connection`'s one rule (tenant + application).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::certificates::copy_to_clipboard;
use super::error::UiError;
use super::storage;
use super::wizards::EditAccount;
use crate::flows::connection::{self, AuthMethod, ConnectionRecord};
use crate::flows::route::{Prefill, Route, Wizard};
use crate::web::{download, file};

#[component]
pub fn ServiceAccountsPage() -> impl IntoView {
    let records = RwSignal::new(storage::records());
    let status = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<UiError>);

    let on_import = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(chosen) = file::chosen(&input) else {
            return;
        };
        input.set_value("");
        spawn_local(async move {
            let outcome = match file::read(chosen).await {
                Ok(bytes) => {
                    connection::import(&String::from_utf8_lossy(&bytes)).map_err(UiError::from)
                }
                Err(_) => Err(UiError::FileUnreadable),
            };
            match outcome {
                Ok(imported) => {
                    let count = imported.len();
                    let mut all = records.get_untracked();
                    for r in imported {
                        connection::upsert(&mut all, r);
                    }
                    storage::save_records(&all);
                    records.set(all);
                    error.set(None);
                    status.set(Some(format!("Imported {count} service account(s).")));
                }
                Err(e) => {
                    status.set(None);
                    error.set(Some(e));
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
            <super::demo_accounts::DemoAccounts records=records />
            <p class="status" role="status" aria-live="polite">{move || status.get()}</p>
            <p class="error" role="alert">{move || error.get().map(|e| e.to_string())}</p>
        </section>
    }
}

/// `#/accounts/{id}`: one service account with its live state and the
/// edits that keep it working (`ui::wizards::EditAccount`), or why there is
/// none.
#[component]
pub fn AccountPage(id: String) -> impl IntoView {
    let records = RwSignal::new(storage::records());
    // The record is read once: an edit that changes its application (and so
    // its ID in the address) keeps showing it here.
    let found = connection::find(&records.get_untracked(), &id).cloned();
    view! {
        <p><a href=Route::Accounts.format()>"← All service accounts"</a></p>
        {match found {
            Some(r) => {
                let record = RwSignal::new(r);
                view! {
                    {move || view! { <ul class="accounts" id="account-detail"><AccountItem record=record.get() records=records /></ul> }}
                    {move || record.with(|r| r.pending.is_some() || !r.history.is_empty()).then(|| view! { <AccountHistory record=record.get() /> })}
                    <EditAccount record=record />
                }.into_any()
            }
            None => view! {
                <p class="error" role="alert" id="account-missing">
                    {format!("This browser has no saved service account '{id}': it was forgotten, or saved in another browser (import its JSON under Service accounts).")}
                </p>
            }.into_any(),
        }}
    }
}

/// The record's unconfirmed credential and the applications it used before.
#[component]
fn AccountHistory(record: ConnectionRecord) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="account-history-title">
            <h2 id="account-history-title">"Changes"</h2>
            {record.pending.map(|p| view! {
                <p id="account-pending-record">{format!(
                    "New credential waiting for confirmation since {}: {}{}.",
                    p.created,
                    auth_summary(&p.auth),
                    p.key_id.map(|k| format!(" (key ID {k})")).unwrap_or_default()
                )}</p>
            })}
            {(!record.history.is_empty()).then(|| view! {
                <ul id="account-history">
                    {record.history.into_iter().map(|h| view! {
                        <li>{format!("Application {} until {} — {}", h.app_id, h.until, h.why)}</li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

fn auth_summary(auth: &AuthMethod) -> String {
    match auth {
        AuthMethod::Certificate {
            thumbprint,
            not_after,
            ..
        } => format!("Certificate {thumbprint}, valid until {not_after}"),
        AuthMethod::ClientSecret { hint, end } => match end {
            Some(e) => format!("Client secret {hint}…, valid until {e}"),
            None => format!("Client secret {hint}…"),
        },
    }
}

#[component]
fn AccountItem(
    record: ConnectionRecord,
    records: RwSignal<Vec<ConnectionRecord>>,
) -> impl IntoView {
    let auth = auth_summary(&record.auth);
    let (tenant, app_id) = (record.tenant_id.clone(), record.app_id.clone());
    let copy = record.app_id.clone();
    let detail = Route::Account(record.route_id()).format();
    let prefill = Prefill {
        app: Some(record.app_id.clone()),
        tenant: Some(record.tenant_id.clone()),
        thumbprint: match &record.auth {
            AuthMethod::Certificate { thumbprint, .. } => Some(thumbprint.clone()),
            AuthMethod::ClientSecret { .. } => None,
        },
    };
    let renew = Route::Renew(prefill.clone()).format();
    let edit = Route::Account(record.route_id()).format();
    let roles = Route::Connect(Wizard::Roles, Prefill::app(record.app_id.clone())).format();
    view! {
        <li class="card">
            <h3><a href=detail>{record.name.clone()}</a></h3>
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
                <a class="button" href=edit>"Edit"</a>
                <a class="button" href=renew>"Renew"</a>
                <a class="button" href=roles>"Check Azure roles"</a>
                <button type="button" on:click=move |_| {
                    let mut all = records.get_untracked();
                    connection::forget(&mut all, &tenant, &app_id);
                    storage::save_records(&all);
                    records.set(all);
                }>"Forget"</button>
            </div>
        </li>
    }
}
