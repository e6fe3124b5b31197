//! Connect: the wizards (F1 new application, F2 existing application, F4
//! Azure roles, F5 Restore Portal), each a form in the one [`frame`]. The
//! route (`#/connect/{wizard}?app=…`) picks the wizard and fills it in.
//!
//! Adding a wizard: its plan in `flows`, a form module here that builds a
//! [`frame::Draft`], a `Wizard` variant in `flows::route` and its arm in
//! [`ConnectPage`].

mod card;
mod edit_account;
mod existing_app;
mod frame;
mod new_app;
mod portal;
mod progress;
mod renew;
mod resume;
mod review;
mod roles;

use leptos::prelude::*;

pub use edit_account::EditAccount;
pub use frame::SavedApply;
use frame::{Frame, WizardFrame};
pub use renew::RenewPage;
use resume::ResumePanel;

use super::router;
use crate::flows::route::{Prefill, Route, Wizard};

/// The wizard the route names, and what it fills in.
fn chosen(route: &Route) -> (Wizard, Prefill) {
    match route {
        Route::Connect(w, p) => (*w, p.clone()),
        _ => (Wizard::NewApp, Prefill::default()),
    }
}

/// Connect, for every `#/connect/…` route: choosing another wizard swaps
/// the form below the choice (a new history entry), not the page.
#[component]
pub fn ConnectPage() -> impl IntoView {
    let frame = Frame::new();
    let route = router::use_route();
    let chosen = Memo::new(move |_| chosen(&route.get()));
    // Another wizard (or the same one from a link) starts from its form.
    Effect::new(move |_| {
        chosen.track();
        frame.reset();
    });
    let form = move || {
        let (wizard, prefill) = chosen.get();
        match wizard {
            Wizard::NewApp => view! { <new_app::Form /> }.into_any(),
            Wizard::ExistingApp => view! { <existing_app::Form prefill=prefill /> }.into_any(),
            Wizard::Roles => view! { <roles::Form prefill=prefill /> }.into_any(),
            Wizard::Portal => view! { <portal::Form prefill=prefill /> }.into_any(),
        }
    };
    view! {
        <p class="lead">
            "Register a new Entra application for a service, or connect an existing one: certificate, \
             required permissions, Azure roles and a connection bundle. You review every change before it is made."
        </p>
        <ResumePanel frame=frame />
        <WizardFrame frame=frame>
            <fieldset class="choice" id="wizard-choice">
                <legend>"What do you want to do?"</legend>
                {Wizard::ALL.into_iter().map(|w| view! {
                    <label>
                        <input type="radio" name="wizard"
                            prop:checked=move || chosen.with(|c| c.0 == w)
                            on:change=move |_| router::go(&Route::Connect(w, Prefill::default())) />
                        {format!(" {}", w.label())}
                    </label>
                }).collect_view()}
            </fieldset>
            {form}
        </WizardFrame>
    }
}
