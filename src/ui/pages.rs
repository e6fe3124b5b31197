//! The pages module's root (`src/bin/pages.rs`): the pages that call
//! Microsoft's APIs, mounted once by the shell in the slot under its
//! heading (`ui::bridge::load`). It follows the address itself and shows
//! nothing on the shell's own routes.

use std::cell::Cell;

use leptos::prelude::*;

use super::accounts::{AccountPage, ServiceAccountsPage};
use super::bridge::{Host, Shared};
use super::dashboard::DashboardPage;
use super::host::Session;
use super::router;
use super::wizards::{ConnectPage, RenewPage};
use crate::flows::route::Route;

thread_local! {
    static SESSION: Cell<Option<Session>> = const { Cell::new(None) };
}

/// Mounts the pages in `slot` with the shell's `host` functions and its
/// session as it is now (`shared`, JSON). Once per page load.
pub fn mount(slot: web_sys::HtmlElement, host: js_sys::Object, shared: &str) -> Result<(), String> {
    let shared: Shared = serde_json::from_str(shared).map_err(|e| e.to_string())?;
    leptos::mount::mount_to(slot, move || {
        let session = Session::new(Host::new(host), shared);
        provide_context(session);
        SESSION.set(Some(session));
        view! { <Pages /> }
    })
    .forget();
    Ok(())
}

/// The shell's new session snapshot (JSON).
pub fn share(shared: &str) {
    if let (Some(session), Ok(shared)) = (SESSION.get(), serde_json::from_str(shared)) {
        session.update(shared);
    }
}

#[component]
fn Pages() -> impl IntoView {
    let route = router::provide();
    let page = Memo::new(move |_| route.get().page());
    move || match page.get() {
        Route::Connect(..) => view! { <ConnectPage /> }.into_any(),
        Route::Accounts => view! { <ServiceAccountsPage /> }.into_any(),
        Route::Account(id) => view! { <AccountPage id=id /> }.into_any(),
        Route::Renew(prefill) => view! { <RenewPage prefill=prefill /> }.into_any(),
        Route::Dashboard => view! { <DashboardPage /> }.into_any(),
        // The shell's own pages.
        Route::Certificates | Route::Settings | Route::NotFound(_) => ().into_any(),
    }
}
