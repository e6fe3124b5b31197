//! "Load the demo tenant's service accounts": on the local emulator only
//! (Settings' cloud is `local`), one click fetches the records that match
//! the demo tenant's scenarios (`GET {emulator}/_emulator/demo/service-accounts`,
//! the page's own import format: IDs, thumbprints, secret hints — never a
//! secret or a key) and adds them to Service accounts, so a new user can try
//! every repair at once.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::host::use_session;
use super::storage;
use crate::cloud::Cloud;
use crate::flows::connection::{self, ConnectionRecord};
use crate::http::{HttpClient, HttpRequest, Method};
use crate::web::fetch::FetchClient;

/// The emulator's control API address of the demo records.
fn demo_url(base_url: &str) -> String {
    format!(
        "{}/_emulator/demo/service-accounts",
        base_url.trim_end_matches('/')
    )
}

/// Fetches the demo records and adds them to `records` (saved), returning
/// what to tell the admin.
async fn load(
    base_url: String,
    records: RwSignal<Vec<ConnectionRecord>>,
) -> Result<String, String> {
    let url = demo_url(&base_url);
    let response = FetchClient
        .send(HttpRequest::new(Method::Get, url.clone()))
        .await
        .map_err(|e| {
            format!(
                "Could not reach the emulator at {base_url} ({}). Start it with `cargo xtask serve`.",
                e.detail
            )
        })?;
    if !response.is_success() {
        return Err(format!(
            "The emulator at {base_url} answered HTTP {} for {url}: is it the entra-wizard emulator with the demo seed?",
            response.status
        ));
    }
    let imported = connection::import(&response.text()).map_err(|e| e.to_string())?;
    let count = imported.len();
    let mut all = records.get_untracked();
    for r in imported {
        connection::upsert(&mut all, r);
    }
    storage::save_records(&all);
    records.set(all);
    Ok(format!(
        "Added the demo tenant's {count} service accounts: an expired certificate, a secret \
         expiring in 10 days, missing Azure roles, a deleted application, and an application \
         whose policy forbids client secrets."
    ))
}

#[component]
pub fn DemoAccounts(records: RwSignal<Vec<ConnectionRecord>>) -> impl IntoView {
    let session = use_session();
    let status = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    // The emulator's address when the configured cloud is the local emulator.
    let local = move || {
        let settings = session.settings.get()?;
        match settings.cloud() {
            Ok(Cloud::Local { base_url }) => Some(base_url),
            _ => None,
        }
    };
    let on_load = move |_| {
        let Some(base) = local() else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            status.set(Some(load(base, records).await));
            busy.set(false);
        });
    };
    view! {
        <Show when=move || local().is_some()>
            <div class="demo-accounts">
                <button type="button" id="accounts-demo" on:click=on_load prop:disabled=move || busy.get()>
                    "Load the demo tenant's service accounts"
                </button>
                {move || match status.get() {
                    Some(Ok(done)) => view! { <p class="status" role="status">{done}</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
        </Show>
    }
}
