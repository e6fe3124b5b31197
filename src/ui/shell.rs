//! The application shell: header, navigation and the page area. The page
//! follows the route in the URL fragment (`flows::route`, `ui::router`),
//! so that it survives a reload, links can open a wizard with data, and
//! the browser's back and forward buttons work.
//!
//! The shell is the first load: it shows Certificates, Settings and unknown
//! addresses itself; the pages that call Microsoft come from the pages
//! module (`ui::bridge`), loaded on the first visit to one of them and
//! mounted once in the slot under the heading.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::bridge::{self, BridgeError};
use super::certificates::CertificatesPage;
use super::router;
use super::session::{AuthState, Session};
use super::settings::SettingsPage;
use crate::flows::route::{Route, Section};

/// The pages module (`ui::bridge`), loaded on the first visit to one of
/// its pages.
#[derive(Clone, Debug, PartialEq)]
enum Pages {
    NotLoaded,
    Loading,
    Ready,
    Failed(BridgeError),
}

#[component]
pub fn App() -> impl IntoView {
    // Before the page follows the address: a sign-in answer in the fragment
    // is taken out of it here.
    let session = Session::start();
    let route = router::provide();
    // The page to show: every Connect route is the one Connect page (it
    // follows the wizard and its prefill itself), so that choosing another
    // wizard does not rebuild the page.
    let page = Memo::new(move |_| route.get().page());
    let slot = NodeRef::<leptos::html::Div>::new();
    let pages = RwSignal::new(Pages::NotLoaded);
    // The shell's owner, for the effect that keeps the pages module told of
    // the session (it is always there under `mount_to_body`).
    let owner = Owner::current().unwrap_or_default();
    // Loads the pages module on the first visit to one of its pages (and
    // again after "Try again").
    Effect::new(move |_| {
        if page.get().in_first_load() || pages.get() != Pages::NotLoaded {
            return;
        }
        let Some(slot) = slot.get() else {
            return;
        };
        pages.set(Pages::Loading);
        let owner = owner.clone();
        spawn_local(async move {
            let slot: web_sys::HtmlElement = slot.into();
            pages.set(match bridge::load(session, slot, owner).await {
                Ok(()) => Pages::Ready,
                Err(e) => Pages::Failed(e),
            });
        });
    });

    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <span class="brand" aria-label="entra-wizard">
                <span class="logo" aria-hidden="true"></span>
                "entra-wizard"
            </span>
            <nav aria-label="Main">
                <ul>
                    {Section::ALL
                        .into_iter()
                        .map(|s| {
                            view! {
                                <li>
                                    <a
                                        href=s.home().format()
                                        aria-current=move || (route.get().section() == Some(s)).then_some("page")
                                    >
                                        {s.title()}
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
                let r = page.get();
                let title = r.title();
                let body = match r {
                    Route::Certificates => view! { <CertificatesPage /> }.into_any(),
                    Route::Settings => view! { <SettingsPage /> }.into_any(),
                    Route::NotFound(path) => view! { <NotFound path=path /> }.into_any(),
                    // Shown by the pages module, in the slot below.
                    _ => view! { <PagesStatus pages=pages /> }.into_any(),
                };
                view! {
                    <h1>{title}</h1>
                    {body}
                }
            }}
            <div class="pages" node_ref=slot></div>
        </main>
        <footer class="foot">
            "Private keys are generated and opened in this page and never leave it."
        </footer>
    }
}

/// The sections, as links (for pages that send the admin elsewhere).
fn section_links() -> impl IntoView {
    view! {
        <ul class="links">
            {Section::ALL.into_iter().map(|s| view! {
                <li><a href=s.home().format()>{s.title()}</a></li>
            }).collect_view()}
        </ul>
    }
}

/// While the pages module loads, or why it did not.
#[component]
fn PagesStatus(pages: RwSignal<Pages>) -> impl IntoView {
    move || {
        match pages.get() {
        Pages::NotLoaded | Pages::Loading => {
            view! { <p class="status" role="status" id="pages-loading">"Loading…"</p> }.into_any()
        }
        Pages::Ready => ().into_any(),
        Pages::Failed(e) => view! {
            <div class="banner error" role="alert">
                <p id="pages-error">{e.to_string()}</p>
                <button type="button" on:click=move |_| pages.set(Pages::NotLoaded)>"Try again"</button>
            </div>
        }
        .into_any(),
    }
    }
}

#[component]
fn NotFound(path: String) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="not-found-title">
            <h2 id="not-found-title">{format!("There is no page at #{path}")}</h2>
            <p>"The address may be mistyped, or it comes from another version of this page. Go to:"</p>
            {section_links()}
        </section>
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
                        <button type="button" id="sign-out" on:click=move |_| session.sign_out_of_entra()>
                            "Sign out"
                        </button>
                    }
                    .into_any()
                }
            }}
        </div>
    }
}
