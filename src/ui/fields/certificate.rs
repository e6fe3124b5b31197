//! The certificate field of F1 and F5: generate one in the page, or use a
//! PFX/P12 the admin has. What it collects becomes a
//! `flows::certificate::CertificateSource`; the decision (key size,
//! lifetime, the checks on an imported PFX) is `flows::certificate`'s.

use leptos::prelude::*;
use zeroize::Zeroize;

use super::file::{Picked, on_pick};
use super::radio_pair;
use crate::flows::certificate::{CertificateSource, GENERATED_SUMMARY};
use crate::ui::error::UiError;

/// The field's state; passwords and the file are wiped when the form goes.
#[derive(Clone, Copy)]
pub struct CertificateChoice {
    pub generate: RwSignal<bool>,
    password: RwSignal<String>,
    confirmation: RwSignal<String>,
    file: RwSignal<Picked>,
}

impl CertificateChoice {
    pub fn new() -> CertificateChoice {
        let c = CertificateChoice {
            generate: RwSignal::new(true),
            password: RwSignal::new(String::new()),
            confirmation: RwSignal::new(String::new()),
            file: RwSignal::new(None),
        };
        on_cleanup(move || c.wipe());
        c
    }

    /// The source for a certificate named `common_name` (when generated).
    pub fn source(&self, common_name: &str) -> CertificateSource {
        if self.generate.get_untracked() {
            CertificateSource::generate(
                common_name,
                self.password.get_untracked(),
                self.confirmation.get_untracked(),
            )
        } else {
            CertificateSource::import(self.file.get_untracked(), self.password.get_untracked())
        }
    }

    fn wipe(&self) {
        self.password.try_update(|p| p.zeroize());
        self.confirmation.try_update(|p| p.zeroize());
        self.file.try_update(|f| {
            if let Some((_, bytes)) = f {
                bytes.zeroize();
            }
            *f = None;
        });
    }
}

/// The radio choice, the file input and the password fields, for a form.
#[component]
pub fn CertificateField(
    choice: CertificateChoice,
    /// Element IDs and the radio group's name start with this (`f1`).
    prefix: &'static str,
    error: RwSignal<Option<UiError>>,
    on_change: Callback<()>,
) -> impl IntoView {
    let CertificateChoice {
        generate,
        password,
        confirmation,
        file,
    } = choice;
    let on_file = on_pick(file, error);
    let (file_id, pw_id, pw2_id) = (
        format!("{prefix}-file"),
        format!("{prefix}-pw"),
        format!("{prefix}-pw2"),
    );
    view! {
        {radio_pair(
            "Certificate",
            format!("{prefix}-cert"),
            generate,
            true,
            [
                format!("Generate a new certificate in this page ({GENERATED_SUMMARY}; you download its PFX before it is registered)"),
                "Use a PFX/P12 file I have".into(),
            ],
            move || on_change.run(()),
        )}
        <div class="grid">
            {move || (!generate.get()).then(|| view! {
                <label for=file_id.clone()>"PFX or P12 file"</label>
                <input id=file_id.clone() type="file" accept=".pfx,.p12" on:change=on_file />
            })}
            <label for=pw_id.clone()>{move || if generate.get() { "PFX password" } else { "Password of the PFX" }}</label>
            <input id=pw_id.clone() type="password" autocomplete="new-password"
                prop:value=move || password.get()
                on:input=move |ev| { password.set(event_target_value(&ev)); on_change.run(()); } />
            {move || generate.get().then(|| view! {
                <label for=pw2_id.clone()>"Confirm password"</label>
                <input id=pw2_id.clone() type="password" autocomplete="new-password"
                    prop:value=move || confirmation.get()
                    on:input=move |ev| { confirmation.set(event_target_value(&ev)); on_change.run(()); } />
            })}
        </div>
    }
}
