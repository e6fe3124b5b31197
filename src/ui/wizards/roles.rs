//! F4 — check and assign Azure roles: for an application and a
//! subscription, which of the profile's roles its service principal has
//! (`flows::roles::check`), whether the admin may assign the missing ones
//! (naming the role they lack), then the plan (`flows::roles::plan`) in the
//! frame.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use rand_core::OsRng;

use super::frame::{Completion, Draft, use_frame};
use crate::flows::roles::{self, RolesReport};
use crate::flows::route::Prefill;
use crate::ui::error::UiError;
use crate::ui::fields::form::{FormPanel, shown, submit};
use crate::ui::fields::profile::{ProfileChoice, ProfileField};
use crate::ui::fields::subscription::{SubscriptionField, Subscriptions};
use crate::ui::fields::text_input;
use crate::ui::host::use_session;

#[component]
pub fn Form(prefill: Prefill) -> impl IntoView {
    let session = use_session();
    let frame = use_frame();
    let app_id = RwSignal::new(prefill.app.unwrap_or_default());
    let profile = ProfileChoice::new(|p| p.needs_subscription());
    let subs = Subscriptions::new(|| true);
    let report = RwSignal::new(None::<RolesReport>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<UiError>);
    let changed = move || {
        report.set(None);
        frame.changed();
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        changed();
        let inputs = (|| {
            session.account().ok_or(UiError::SignedOut)?;
            let p = profile.selected_untracked()?;
            let app = crate::core::validate::application_id(&app_id.get_untracked())
                .map_err(|e| crate::flows::InputError::ApplicationId(e.to_string()))?;
            let sub = subs.choice().ok_or(UiError::NoSubscription)?;
            Ok::<_, UiError>((p, app, sub))
        })();
        let Some((p, app, sub)) = shown(error, inputs) else {
            return;
        };
        submit(busy, error, async move {
            let api = session.api().await?;
            report.set(Some(roles::check(&api, &app, &p, &sub).await?));
            Ok(())
        });
    };

    let on_review = move |_| {
        let Some(r) = report.get_untracked() else {
            return;
        };
        let draft = (|| {
            let p = profile.selected_untracked()?;
            Ok::<_, UiError>(Draft {
                plan: roles::plan(&r.app_id, &p, &r.subscription, &mut OsRng)?,
                completion: Completion::Done("Every step is done: the roles are assigned.".into()),
                tenant: None,
                generated: None,
                notices: Vec::new(),
            })
        })();
        if let Some(draft) = shown(error, draft) {
            submit(busy, error, async move { frame.review(draft).await });
        }
    };

    view! {
        <FormPanel prefix="f4" title="Check and assign Azure roles" on_submit=Callback::new(on_submit)
            label="Check roles" busy=busy working="Checking…" error=error>
                <div class="grid">
                    {text_input("f4-app", "Application (client) ID", "00000000-0000-0000-0000-000000000000", "text", app_id, changed)}
                    <ProfileField choice=profile prefix="f4" on_change=Callback::new(move |_| changed()) />
                    <SubscriptionField subs=subs prefix="f4" on_change=Callback::new(move |_| changed()) />
                </div>
        </FormPanel>
        {move || report.get().map(|r| {
            let complete = r.complete();
            let may_assign = r.admin_missing.is_empty();
            view! {
                <section class="panel" aria-labelledby="f4-report-title">
                    <h2 id="f4-report-title">{format!("Roles on subscription {}", r.subscription.display_name)}</h2>
                    {r.service_principal_id.is_none().then(|| view! {
                        <p class="hint">"The application has no service principal in this tenant yet: the plan creates it."</p>
                    })}
                    <ul class="roles" id="f4-roles">
                        {r.roles.iter().map(|s| view! {
                            <li class=if s.assigned { "assigned" } else { "missing" }>
                                <span class="role">{s.role.name().to_string()}</span>
                                ": "
                                <span class="state">{if s.assigned { "assigned" } else { "missing" }}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                    {if complete {
                        view! { <p class="ok" id="f4-complete">"Every role this profile needs is assigned."</p> }.into_any()
                    } else if !may_assign {
                        view! {
                            <div role="alert" class="error" id="f4-admin-missing">
                                <p>"You cannot assign the missing roles:"</p>
                                <ul>{r.admin_missing.iter().map(|m| view! { <li>{m.message.clone()}</li> }).collect_view()}</ul>
                            </div>
                        }.into_any()
                    } else {
                        view! {
                            <button type="button" class="primary" on:click=on_review
                                prop:disabled=move || busy.get()>"Review the assignments"</button>
                        }.into_any()
                    }}
                </section>
            }
        })}
    }
}
