//! F1 — register a new application: name, description, permission profile
//! (with custom profiles), subscription for profiles with Azure roles,
//! redirect URI, certificate. The plan is `flows::new_app::plan`.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use rand_core::OsRng;

use super::frame::use_frame;
use crate::flows::new_app::{self, NewApplication};
use crate::flows::{InputError, certificate, policy};
use crate::ui::error::UiError;
use crate::ui::fields::certificate::{CertificateChoice, CertificateField};
use crate::ui::fields::form::{FormPanel, shown, submit};
use crate::ui::fields::profile::{ProfileChoice, ProfileField};
use crate::ui::fields::subscription::{SubscriptionField, Subscriptions};
use crate::ui::fields::text_input;
use crate::ui::host::use_session;
use crate::web::clock;

#[component]
pub fn Form() -> impl IntoView {
    let session = use_session();
    let frame = use_frame();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let redirect = RwSignal::new(String::new());
    let profile = ProfileChoice::new(|_| true);
    let cert = CertificateChoice::new();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let changed = move || frame.changed();
    let needs_subscription = move || profile.selected().is_some_and(|p| p.needs_subscription());
    let subs = Subscriptions::new(needs_subscription);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        frame.changed();
        let inputs = (|| {
            session.account().ok_or(UiError::SignedOut)?;
            let p = profile.selected_untracked()?;
            let sub = ProfileChoice::subscription(&p, &subs)?;
            let display_name = crate::flows::check_name(&name.get_untracked())?;
            Ok::<_, UiError>((p, sub, display_name))
        })();
        let Some((profile, sub, display_name)) = shown(error, inputs) else {
            return;
        };
        let optional = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_string()).filter(|d| !d.is_empty())
        };
        let (description, redirect_uri) = (optional(description), optional(redirect));
        let mut source = cert.source(&display_name);
        submit(busy, error, async move {
            // Only the tenant's default app management policy restricts a
            // new application: read before a certificate is made, so that it
            // is made for as long as the policy allows (F3's and F6's rule).
            let policy = policy::read_for_application(&session.api().await?, None).await;
            let mut notes = Vec::new();
            match certificate::generated_months(&policy, None, clock::now()) {
                Ok((months, note)) => {
                    source.limit_months(months);
                    notes.extend(note);
                }
                Err(e) if source.is_generated() => return Err(InputError::Policy(e).into()),
                // An imported PFX is checked by the plan, with its own dates.
                Err(_) => {}
            }
            frame
                .review_with_certificate(source, |der, auth, now| {
                    let input = NewApplication {
                        display_name: display_name.clone(),
                        description,
                        profile: profile.clone(),
                        certificate_der: der,
                        redirect_uri,
                        subscription: sub.clone(),
                    };
                    let plan = new_app::plan_under_policy(&input, &policy, now, &mut OsRng)?;
                    Ok((
                        plan,
                        frame.record(display_name, auth, profile.id, sub, None)?,
                    ))
                })
                .await?;
            frame.notices.set(notes);
            Ok(())
        });
    };

    view! {
        <FormPanel prefix="f1" title="Register a new application" on_submit=Callback::new(on_submit)
            label="Review" busy=busy working="Preparing the plan and checking your rights…" error=error>
                <div class="grid">
                    {text_input("f1-name", "Application name", "Backup Azure SA", "text", name, changed)}
                    {text_input("f1-desc", "Description (optional)", "", "text", description, changed)}
                    <ProfileField choice=profile prefix="f1" custom=true on_change=Callback::new(move |_| changed()) />
                    {move || needs_subscription().then(|| view! {
                        <SubscriptionField subs=subs prefix="f1" on_change=Callback::new(move |_| changed()) />
                    })}
                    {text_input("f1-redirect", "Redirect URI (optional)", "https://backup.contoso.com/auth", "url", redirect, changed)}
                </div>
                <CertificateField choice=cert prefix="f1" error=error on_change=Callback::new(move |_| changed()) />
        </FormPanel>
    }
}
