//! The application shell: header, navigation and the page area. The current
//! page follows the URL fragment (`#/certificates`) so it survives a reload
//! and the browser's back button works.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use super::accounts::ServiceAccountsPage;
use super::certificates::CertificatesPage;
use super::connect::ConnectPage;
use super::session::{AuthState, Session};
use super::settings::SettingsPage;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Connect,
    ServiceAccounts,
    Dashboard,
    Certificates,
    Settings,
}

impl Page {
    pub const ALL: [Page; 5] = [
        Page::Connect,
        Page::ServiceAccounts,
        Page::Dashboard,
        Page::Certificates,
        Page::Settings,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Page::Connect => "Connect",
            Page::ServiceAccounts => "Service accounts",
            Page::Dashboard => "Dashboard",
            Page::Certificates => "Certificates",
            Page::Settings => "Settings",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Page::Connect => "connect",
            Page::ServiceAccounts => "service-accounts",
            Page::Dashboard => "dashboard",
            Page::Certificates => "certificates",
            Page::Settings => "settings",
        }
    }

    fn from_hash(hash: &str) -> Page {
        let slug = hash.trim_start_matches('#').trim_start_matches('/');
        let slug = slug.split('/').next().unwrap_or_default();
        Page::ALL
            .into_iter()
            .find(|p| p.slug() == slug)
            .unwrap_or(Page::Certificates)
    }

    /// What a page that is not built yet will do, in the admin's terms.
    fn coming(self) -> &'static str {
        match self {
            Page::Connect => {
                "Register a new Entra application for a service, or connect an existing one: \
                 certificate or secret, required permissions, Azure roles and a connection bundle."
            }
            Page::ServiceAccounts => {
                "The service accounts this browser has set up: review the authentication method, \
                 renew a secret or certificate, re-create a deleted application."
            }
            Page::Dashboard => {
                "Every application in the tenant with its secrets and certificates, sorted by \
                 expiry; paste an AADSTS error to find the key and the fix."
            }
            Page::Certificates => "",
            Page::Settings => {
                "The cloud (Global, US Government, China or the local emulator) and the sign-in \
                 application this page uses."
            }
        }
    }
}

fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

#[component]
pub fn App() -> impl IntoView {
    // Before the page follows the address: a sign-in answer in the fragment
    // is taken out of it here.
    let session = Session::start();
    let (page, set_page) = signal(Page::from_hash(&current_hash()));

    // Follow back/forward and typed fragments.
    let on_hash =
        Closure::<dyn FnMut()>::new(move || set_page.set(Page::from_hash(&current_hash())));
    if let Some(w) = web_sys::window() {
        w.set_onhashchange(Some(on_hash.as_ref().unchecked_ref()));
    }
    on_hash.forget();

    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <span class="brand" aria-label="entra-wizard">
                <span class="logo" aria-hidden="true"></span>
                "entra-wizard"
            </span>
            <nav aria-label="Main">
                <ul>
                    {Page::ALL
                        .into_iter()
                        .map(|p| {
                            view! {
                                <li>
                                    <a
                                        href=format!("#/{}", p.slug())
                                        aria-current=move || (page.get() == p).then_some("page")
                                    >
                                        {p.title()}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <AccountBox session=session />
        </header>
        {move || session.error.get().map(|e| view! {
            <div class="banner error" role="alert">
                <p id="sign-in-error">{e}</p>
                <button type="button" on:click=move |_| session.error.set(None)>"Dismiss"</button>
            </div>
        })}
        {move || session.notice.get().map(|n| view! {
            <div class="banner" role="status">
                <p id="sign-in-notice">{n}</p>
                <button type="button" on:click=move |_| session.notice.set(None)>"Dismiss"</button>
            </div>
        })}
        <main id="main" tabindex="-1">
            {move || {
                let p = page.get();
                let body = match p {
                    Page::Certificates => view! { <CertificatesPage /> }.into_any(),
                    Page::Settings => view! { <SettingsPage /> }.into_any(),
                    Page::Connect => view! { <ConnectPage /> }.into_any(),
                    Page::ServiceAccounts => view! { <ServiceAccountsPage /> }.into_any(),
                    _ => view! { <p class="lead">{p.coming()}</p> }.into_any(),
                };
                view! {
                    <h1>{p.title()}</h1>
                    {body}
                }
            }}
        </main>
        <footer class="foot">
            "Private keys are generated and opened in this page and never leave it."
        </footer>
    }
}

/// The header's account area: "Sign in", or who is signed in to which
/// tenant, with "Sign out".
#[component]
fn AccountBox(session: Session) -> impl IntoView {
    view! {
        <div class="account" aria-live="polite">
            {move || match session.auth.get() {
                AuthState::SignedOut => view! {
                    <button type="button" class="primary" id="sign-in"
                        prop:disabled=move || !session.loaded.get()
                        on:click=move |_| session.sign_in()>
                        "Sign in"
                    </button>
                }
                .into_any(),
                AuthState::Working => view! { <span class="who">"Signing in…"</span> }.into_any(),
                AuthState::SignedIn(a) => {
                    let name = if a.name.is_empty() { a.username.clone() } else { a.name.clone() };
                    view! {
                        <span class="who" id="signed-in-account">
                            <span class="name">{name}</span>
                            " "
                            <span class="upn">{a.username.clone()}</span>
                            <span class="tenant">{format!("Tenant {}", a.tenant_id)}</span>
                        </span>
                        <button type="button" id="sign-out" on:click=move |_| session.sign_out()>
                            "Sign out"
                        </button>
                    }
                    .into_any()
                }
            }}
        </div>
    }
}
