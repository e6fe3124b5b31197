//! An apply the page was closed or reloaded in the middle of: what was done,
//! and Resume (after signing in again), which finds what was already
//! created instead of creating it twice. When the plan registers a key that
//! was generated in the page and the registration has not run yet, the key
//! is gone with the page: the panel says so and offers a new certificate in
//! its place (`flows::certificate::replace_pending`).

use leptos::prelude::*;
use rand_core::OsRng;

use super::frame::{Frame, GeneratedKey, SavedApply};
use crate::flows::certificate::{self, pending_registration};
use crate::ui::error::UiError;
use crate::ui::fields::certificate::{CertificateChoice, CertificateField};
use crate::ui::fields::form::submit;
use crate::ui::host::use_session;
use crate::ui::storage;
use crate::web::{clock, crypto_worker::CryptoWorker};

#[component]
pub fn ResumePanel(frame: Frame) -> impl IntoView {
    let session = use_session();
    let interrupted = RwSignal::new(storage::saved_apply().filter(|s| !s.progress.is_finished()));
    let resume = move |_| {
        if let Some(saved) = interrupted.get_untracked() {
            interrupted.set(None);
            frame.run(saved);
        }
    };
    let blocked = move || {
        session.account().is_none()
            || frame.applying.get()
            || (frame.has_pfx.get() && !frame.downloaded.get())
    };
    view! {
        {move || interrupted.get().map(|s| {
            let done = s.progress.done_count();
            let total = s.progress.steps.len();
            // A key generated in this page's life is still here (a
            // replacement): only one from before the reload is lost.
            let lost_key = s.generated_key.clone().filter(|_| {
                pending_registration(&s.plan, &s.progress).is_some()
                    && frame.generated.with_value(Option::is_none)
            });
            view! {
                <section class="panel" aria-labelledby="resume-title">
                    <h2 id="resume-title">"Unfinished: " {s.plan.title.clone()}</h2>
                    <p>{format!("{done} of {total} steps were done before the page was closed or reloaded. \
                        Resuming finds what was already created instead of creating it again.")}</p>
                    {lost_key.map(|k| view! { <LostKey lost=k saved=interrupted frame=frame /> })}
                    {move || frame.has_pfx.get().then(|| view! {
                        <p class="hint">"The new certificate's key exists only in this page: download its PFX, then resume."</p>
                        <button type="button" on:click=move |_| frame.download_pfx()>"Download the PFX now"</button>
                    })}
                    <button type="button" class="primary" prop:disabled=blocked on:click=resume>"Resume"</button>
                    {move || session.account().is_none().then(|| view! { <p class="hint">"Sign in to resume."</p> })}
                </section>
            }
        })}
    }
}

/// The generated key is gone: say so, and offer a new certificate.
#[component]
fn LostKey(lost: GeneratedKey, saved: RwSignal<Option<SavedApply>>, frame: Frame) -> impl IntoView {
    let choice = CertificateChoice::new();
    let error = RwSignal::new(None::<UiError>);
    let busy = RwSignal::new(false);
    let replace = move |_| {
        let Some(mut s) = saved.get_untracked() else {
            return;
        };
        let name = s.completion.name(&s.plan);
        let source = choice.source(&name);
        submit(busy, error, async move {
            let now = clock::now();
            let chosen = certificate::decide(&source, &CryptoWorker, now, &mut OsRng).await?;
            certificate::replace_pending(&mut s.plan, &s.progress, &chosen.der, now)?;
            s.completion.certificate_replaced(chosen.auth);
            s.generated_key = chosen.generated.as_ref().map(GeneratedKey::from);
            storage::save_apply(&s);
            frame.has_pfx.set(chosen.generated.is_some());
            frame.downloaded.set(false);
            frame.generated.set_value(chosen.generated);
            saved.set(Some(s));
            Ok(())
        });
    };
    view! {
        <div class="warnings" id="resume-lost-key">
            <p>{format!(
                "This plan registers a certificate whose private key was generated in this page, and the key \
                 is gone with the page. It exists only in {}, which you downloaded before applying \
                 (thumbprint {}). Resume registers that certificate: do so only if you still have that file. \
                 If you do not, use a new certificate instead: this page has no record of the old one being registered.",
                lost.file_name, lost.thumbprint
            )}</p>
            <details>
                <summary>"Use a new certificate instead"</summary>
                <CertificateField choice=choice prefix="resume" error=error on_change=Callback::new(|_| ()) />
                <button type="button" prop:disabled=move || busy.get() on:click=replace>"Use this certificate"</button>
            </details>
            <p class="error" role="alert" id="resume-error">{move || error.get().map(|e| e.to_string())}</p>
        </div>
    }
}
