//! Connect → Check and assign Azure roles (F4): for an application and a
//! subscription, which of the profile's roles its service principal has,
//! whether the signed-in admin may assign the missing ones (and which role
//! they lack if not), then a plan to review and apply like the others.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;

use super::connect::{GeneratedPfx, Review, ReviewPanel, SavedApply, needs_arm, signed_in_api};
use super::session::use_session;
use super::subscriptions::{SubscriptionField, Subscriptions};
use crate::flows::roles::{self, RolesReport};
use crate::plan;
use crate::profiles;

#[component]
pub fn RolesForm(
    review: RwSignal<Option<Review>>,
    generated: StoredValue<Option<GeneratedPfx>>,
    has_pfx: RwSignal<bool>,
    run: Callback<SavedApply>,
) -> impl IntoView {
    let session = use_session();
    let choices: Vec<_> = profiles::built_in()
        .into_iter()
        .filter(|p| p.needs_subscription())
        .collect();
    let app_id = RwSignal::new(String::new());
    let profile_id = RwSignal::new(choices.first().map(|p| p.id.clone()).unwrap_or_default());
    let subs = Subscriptions::new(|| true);
    let report = RwSignal::new(None::<RolesReport>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let changed = move || {
        report.set(None);
        review.set(None);
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        changed();
        error.set(None);
        if session.account().is_none() {
            error.set(Some(
                "Sign in first (the button at the top of the page).".into(),
            ));
            return;
        }
        let Ok(profile) = profiles::by_id(&profile_id.get_untracked()) else {
            error.set(Some("Choose the permission profile.".into()));
            return;
        };
        let app = match crate::core::validate::application_id(&app_id.get_untracked()) {
            Ok(a) => a,
            Err(e) => {
                error.set(Some(e.to_string()));
                return;
            }
        };
        let Some(sub) = subs.choice() else {
            error.set(Some("Choose the subscription.".into()));
            return;
        };
        busy.set(true);
        spawn_local(async move {
            let outcome = match signed_in_api(session, true).await {
                Ok(api) => roles::check(&api, &app, &profile, &sub)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(r) => report.set(Some(r)),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    let on_review = move |_| {
        let Some(r) = report.get_untracked() else {
            return;
        };
        let Ok(profile) = profiles::by_id(&profile_id.get_untracked()) else {
            return;
        };
        let (Some(config), Some(account)) = (session.sign_in_config(), session.account()) else {
            error.set(Some("Sign in first.".into()));
            return;
        };
        let plan = match roles::plan(&r.app_id, &profile, &r.subscription, &mut OsRng) {
            Ok(p) => p,
            Err(e) => {
                error.set(Some(e.to_string()));
                return;
            }
        };
        busy.set(true);
        spawn_local(async move {
            let missing = match signed_in_api(session, needs_arm(&plan)).await {
                Ok(api) => plan::preflight::run(&api, &plan)
                    .await
                    .map(|m| m.into_iter().map(|m| m.message).collect())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            let saved = SavedApply {
                progress: plan.start(),
                plan,
                name: format!("Application {}", r.app_id),
                profile: profile.id.clone(),
                subscription: Some(r.subscription.clone()),
                auth: None,
                cloud: config.cloud,
                tenant_id: account.tenant_id,
                portal_address: None,
            };
            has_pfx.set(false);
            generated.set_value(None);
            review.set(Some(Review { saved, missing }));
            busy.set(false);
        });
    };

    view! {
        <section class="panel" aria-labelledby="f4-title">
            <h2 id="f4-title">"Check and assign Azure roles"</h2>
            <form on:submit=on_submit novalidate>
                <div class="grid">
                    <label for="f4-app">"Application (client) ID"</label>
                    <input id="f4-app" type="text" autocomplete="off" spellcheck="false"
                        placeholder="00000000-0000-0000-0000-000000000000"
                        prop:value=move || app_id.get()
                        on:input=move |ev| { app_id.set(event_target_value(&ev)); changed(); } />

                    <label for="f4-profile">"Permission profile"</label>
                    <select id="f4-profile" on:change=move |ev| { profile_id.set(event_target_value(&ev)); changed(); }>
                        {choices.iter().map(|p| {
                            let id = p.id.clone();
                            let id2 = p.id.clone();
                            view! {
                                <option value=id prop:selected=move || profile_id.get() == id2>{p.display_name.clone()}</option>
                            }
                        }).collect_view()}
                    </select>

                    <SubscriptionField subs=subs prefix="f4" on_change=Callback::new(move |_| changed()) />
                </div>
                <button type="submit" class="primary" prop:disabled=move || busy.get()>"Check roles"</button>
                <p class="status" role="status" aria-live="polite">
                    {move || busy.get().then_some("Checking…")}
                </p>
                <p class="error" role="alert" id="f4-error">{move || error.get()}</p>
            </form>
            {move || report.get().map(|r| {
                let complete = r.complete();
                let may_assign = r.admin_missing.is_empty();
                view! {
                    <h3>{format!("Roles on subscription {}", r.subscription.display_name)}</h3>
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
                }
            })}
        </section>
        {move || review.get().map(|r| view! { <ReviewPanel review=r run=run generated=generated has_pfx=has_pfx /> })}
    }
}
