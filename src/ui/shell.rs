//! The application shell: header, navigation and the page area. The current
//! page follows the URL fragment (`#/certificates`) so it survives a reload
//! and the browser's back button works.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use super::certificates::CertificatesPage;

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
        </header>
        <main id="main" tabindex="-1">
            {move || {
                let p = page.get();
                let body = match p {
                    Page::Certificates => view! { <CertificatesPage /> }.into_any(),
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
