//! The review of a plan: every change as one sentence with its exact
//! request (secrets and key bytes redacted), and what stands between it and
//! Apply — the pre-flight, a tenant mismatch, missing consent, a generated
//! PFX not yet downloaded. The decision is `flows::review`'s.

use leptos::prelude::*;

use super::frame::{Frame, Reviewed};
use crate::ui::host::use_session;

#[component]
pub fn ReviewPanel(reviewed: Reviewed, frame: Frame) -> impl IntoView {
    let session = use_session();
    let review = reviewed.review.clone();
    let endpoints = session
        .sign_in_config()
        .map(|c| c.cloud.endpoints())
        .or_else(|| {
            session
                .settings_untracked()
                .cloud()
                .ok()
                .map(|c| c.endpoints())
        })
        .unwrap_or_else(|| crate::cloud::Cloud::Global.endpoints());
    let plan = review.plan.clone();
    let consent = review.consent.clone();
    let consent_request = consent.clone();
    let may_apply = review.may_apply();
    let Frame {
        has_pfx,
        downloaded,
        notices,
        ..
    } = frame;
    let blocked = move || !may_apply || (has_pfx.get() && !downloaded.get());
    view! {
        <section class="panel" aria-labelledby="review-title">
            <h2 id="review-title">"Review the changes"</h2>
            {move || {
                let n = notices.get();
                (!n.is_empty()).then(|| view! {
                    <ul class="warnings">{n.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                })
            }}
            <ol class="plan" id="plan-steps">
                {plan.sentences().into_iter().enumerate().map(|(i, sentence)| {
                    let previews = plan.preview(i, &endpoints, None);
                    view! {
                        <li>
                            <span class="sentence">{sentence}</span>
                            <details>
                                <summary>"Request"</summary>
                                {previews.into_iter().map(|p| {
                                    let body = p.body.as_ref()
                                        .map(|b| serde_json::to_string_pretty(b).unwrap_or_default());
                                    view! {
                                        <pre class="request">{format!("{} {}", p.method, p.url)}{p.headers.iter().map(|(n, v)| format!("\n{n}: {v}")).collect::<String>()}{body.map(|b| format!("\n{b}"))}</pre>
                                    }
                                }).collect_view()}
                            </details>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {(!consent.is_empty()).then(|| view! {
                <div role="alert" class="error" id="consent-needed">
                    <p>{format!(
                        "This page's sign-in was not granted these Microsoft Graph permissions, which the plan needs: {}. \
                         An administrator grants admin consent for them to the page's sign-in application \
                         (Microsoft Entra admin center → App registrations → the page's application → API permissions), \
                         or you consent to them now: the button signs you in again asking for exactly these \
                         permissions, Microsoft shows its consent screen, and you come back here to review again.",
                        consent.join(", ")
                    )}</p>
                    <button type="button" on:click=move |_| session.consent(&consent_request)>"Consent and sign in again"</button>
                </div>
            })}
            {review.tenant_mismatch.clone().map(|m| view! {
                <p role="alert" class="error" id="tenant-mismatch">{m.to_string()}</p>
            })}
            <div id="preflight">
                {match review.preflight.clone() {
                    Ok(m) if m.is_empty() => view! {
                        <p class="ok">"Pre-flight: you have the roles this plan needs."</p>
                    }.into_any(),
                    Ok(m) => view! {
                        <div role="alert" class="error">
                            <p>"Pre-flight: you cannot apply this plan."</p>
                            <ul>{m.into_iter().map(|s| view! { <li>{s.message}</li> }).collect_view()}</ul>
                        </div>
                    }.into_any(),
                    Err(e) => view! {
                        <p role="alert" class="error">{format!("Pre-flight: your rights could not be checked: {e}")}</p>
                    }.into_any(),
                }}
            </div>
            {move || has_pfx.get().then(|| view! {
                <p class="hint" id="pfx-first">
                    {move || if downloaded.get() {
                        "Keep the downloaded PFX safe: it holds the certificate's private key, protected by your \
                         password, and this page does not keep it."
                    } else {
                        "The certificate's private key exists only in this page: download its PFX now. Apply is \
                         offered once it is saved, so that a closed or reloaded page cannot leave a registered \
                         certificate whose key nobody holds."
                    }}
                </p>
                <button type="button" on:click=move |_| frame.download_pfx()>"Download the PFX now"</button>
            })}
            <div class="actions">
                <button type="button" class="primary" prop:disabled=blocked
                    on:click=move |_| frame.run(frame.saved(&reviewed))>"Apply"</button>
            </div>
        </section>
    }
}
