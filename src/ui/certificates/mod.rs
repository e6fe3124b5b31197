//! Certificates: generate a self-signed certificate, or inspect and convert a
//! PFX — all offline, in the page.

pub(crate) mod card;
mod generate;
mod inspect;

use leptos::prelude::*;

#[component]
pub fn CertificatesPage() -> impl IntoView {
    view! {
        <p class="lead">
            "Generate a self-signed certificate for an Entra application, or open a PFX to check it \
             before you use it. Nothing here is sent anywhere: keys are made and opened in this page."
        </p>
        <generate::Generate />
        <inspect::Inspect />
    }
}
pub(crate) use card::copy_to_clipboard;
