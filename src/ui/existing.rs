//! Connect → Use an existing application (F2). With the check box off the
//! inputs are validated in the page (tenant and application IDs, the secret,
//! or the PFX: opens, RSA, dates) and the record is saved — no sign-in, no
//! network. With it on: sign in, then the plan (find the application,
//! register the certificate keeping its other keys, grant what is missing,
//! assign the Azure roles) is reviewed and applied like F1's.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use zeroize::{Zeroize, Zeroizing};

use super::connect::{
    GeneratedPfx, Review, ReviewPanel, SavedApply, needs_arm, pick_file, save_records,
    saved_records, signed_in_api,
};
use super::session::use_session;
use super::subscriptions::{SubscriptionField, Subscriptions};
use crate::cloud::Cloud;
use crate::flows::connection::{ConnectionRecord, RecordDetails};
use crate::flows::existing_app::{self, Credential, ExistingApplication};
use crate::plan;
use crate::profiles;
use crate::web::clock;

#[component]
pub fn ExistingAppForm(
    review: RwSignal<Option<Review>>,
    record: RwSignal<Option<ConnectionRecord>>,
    generated: StoredValue<Option<GeneratedPfx>>,
    has_pfx: RwSignal<bool>,
    run: Callback<SavedApply>,
    /// Warnings that must stay in view next to the card once the form is gone.
    notices: RwSignal<Vec<String>>,
) -> impl IntoView {
    let session = use_session();
    let profiles = profiles::built_in();
    let tenant = RwSignal::new(
        session
            .account()
            .map(|a| a.tenant_id)
            .unwrap_or_else(|| session.settings_untracked().tenant),
    );
    let app_id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let use_secret = RwSignal::new(false);
    let secret = RwSignal::new(String::new());
    let pw = RwSignal::new(String::new());
    let file = RwSignal::new(None::<(String, Vec<u8>)>);
    let grant = RwSignal::new(false);
    let profile_id = RwSignal::new(profiles.first().map(|p| p.id.clone()).unwrap_or_default());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let warnings = RwSignal::new(Vec::<String>::new());

    on_cleanup(move || {
        secret.try_update(|s| s.zeroize());
        pw.try_update(|p| p.zeroize());
        file.try_set(None);
    });

    let needs_subscription = move || {
        grant.get() && profiles::by_id(&profile_id.get()).is_ok_and(|p| p.needs_subscription())
    };
    let subs = Subscriptions::new(needs_subscription);
    let changed = move || review.set(None);

    let on_file = pick_file(file, error);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        warnings.set(Vec::new());
        review.set(None);
        let Ok(profile) = profiles::by_id(&profile_id.get_untracked()) else {
            error.set(Some("Choose the permission profile.".into()));
            return;
        };
        let credential = if use_secret.get_untracked() {
            Credential::Secret(Zeroizing::new(secret.get_untracked()))
        } else {
            let Some((_, data)) = file.get_untracked() else {
                error.set(Some(
                    "Choose the PFX or P12 file of the certificate.".into(),
                ));
                return;
            };
            let p = pw.get_untracked();
            Credential::Pfx {
                data: Zeroizing::new(data),
                password: (!p.is_empty()).then(|| Zeroizing::new(p)),
            }
        };
        let grant_and_register = grant.get_untracked();
        let input = ExistingApplication {
            tenant: tenant.get_untracked(),
            app_id: app_id.get_untracked(),
            credential,
            grant_and_register,
            profile: profile.clone(),
            subscription: None,
        };
        let now = clock::now();
        let check = match existing_app::check_locally(&input, now) {
            Ok(c) => c,
            Err(e) => {
                error.set(Some(e.to_string()));
                return;
            }
        };
        drop(input);
        let label = Some(name.get_untracked().trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("Application {}", check.app_id));
        let cloud = session
            .settings_untracked()
            .cloud()
            .unwrap_or(Cloud::Global);
        if !grant_and_register {
            // Validated locally: that is the whole of F2 with the box off.
            let details = RecordDetails {
                name: label,
                cloud,
                tenant_id: check.tenant.clone(),
                auth: check.auth_method(),
                profile: profile.id.clone(),
                subscription: None,
                portal_address: None,
            };
            let r = ConnectionRecord::local(details, &check.app_id, now);
            let mut all = saved_records();
            all.retain(|o| !(o.app_id == r.app_id && o.tenant_id == r.tenant_id));
            all.push(r.clone());
            save_records(&all);
            notices.set(check.warnings.clone());
            has_pfx.set(false);
            generated.set_value(None);
            record.set(Some(r));
            return;
        }
        let Some(account) = session.account() else {
            error.set(Some(
                "Sign in first (the button at the top of the page): granting permissions and \
                 registering the certificate change the tenant."
                    .into(),
            ));
            return;
        };
        let sub = if profile.needs_subscription() {
            match subs.choice() {
                Some(s) => Some(s),
                None => {
                    error.set(Some(format!(
                        "The '{}' permissions include Azure roles: choose the subscription to assign them on.",
                        profile.display_name
                    )));
                    return;
                }
            }
        } else {
            None
        };
        let plan = match existing_app::plan(&check, &profile, sub.as_ref(), now, &mut OsRng) {
            Ok(p) => p,
            Err(e) => {
                error.set(Some(e.to_string()));
                return;
            }
        };
        warnings.set(check.warnings.clone());
        busy.set(true);
        let config_cloud = session.sign_in_config().map(|c| c.cloud).unwrap_or(cloud);
        spawn_local(async move {
            let mut missing = match signed_in_api(session, needs_arm(&plan)).await {
                Ok(api) => plan::preflight::run(&api, &plan)
                    .await
                    .map(|m| m.into_iter().map(|m| m.message).collect::<Vec<_>>())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            if crate::core::validate::is_guid(&check.tenant)
                && !check.tenant.eq_ignore_ascii_case(&account.tenant_id)
                && let Ok(m) = &mut missing
            {
                m.insert(
                    0,
                    format!(
                        "You are signed in to tenant {}, not {}: sign out and sign in to the \
                         application's tenant.",
                        account.tenant_id, check.tenant
                    ),
                );
            }
            let saved = SavedApply {
                progress: plan.start(),
                plan,
                name: label,
                profile: profile.id.clone(),
                subscription: sub,
                auth: Some(check.auth_method()),
                cloud: config_cloud,
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
        <section class="panel" aria-labelledby="f2-title">
            <h2 id="f2-title">"Use an existing application"</h2>
            <form on:submit=on_submit novalidate>
                <div class="grid">
                    <label for="f2-tenant">"Tenant ID (or domain)"</label>
                    <input id="f2-tenant" type="text" autocomplete="off" spellcheck="false"
                        prop:value=move || tenant.get()
                        on:input=move |ev| { tenant.set(event_target_value(&ev)); changed(); } />

                    <label for="f2-app">"Application (client) ID"</label>
                    <input id="f2-app" type="text" autocomplete="off" spellcheck="false"
                        placeholder="00000000-0000-0000-0000-000000000000"
                        prop:value=move || app_id.get()
                        on:input=move |ev| { app_id.set(event_target_value(&ev)); changed(); } />

                    <label for="f2-name">"Name for this service account (optional)"</label>
                    <input id="f2-name" type="text" autocomplete="off"
                        prop:value=move || name.get()
                        on:input=move |ev| { name.set(event_target_value(&ev)); changed(); } />
                </div>

                <fieldset class="choice">
                    <legend>"Authentication type"</legend>
                    <label>
                        <input type="radio" name="f2-auth"
                            prop:checked=move || !use_secret.get()
                            on:change=move |_| { use_secret.set(false); changed(); } />
                        " Certificate (PFX/P12 file and its password)"
                    </label>
                    <label>
                        <input type="radio" name="f2-auth"
                            prop:checked=move || use_secret.get()
                            on:change=move |_| { use_secret.set(true); changed(); } />
                        " Client secret"
                    </label>
                </fieldset>
                <div class="grid">
                    {move || if use_secret.get() {
                        view! {
                            <label for="f2-secret">"Client secret (value)"</label>
                            <input id="f2-secret" type="password" autocomplete="off"
                                prop:value=move || secret.get()
                                on:input=move |ev| { secret.set(event_target_value(&ev)); changed(); } />
                        }.into_any()
                    } else {
                        view! {
                            <label for="f2-file">"Certificate file (PFX or P12)"</label>
                            <input id="f2-file" type="file" accept=".pfx,.p12" on:change=on_file />
                            <label for="f2-pw">"Certificate password"</label>
                            <input id="f2-pw" type="password" autocomplete="off"
                                prop:value=move || pw.get()
                                on:input=move |ev| { pw.set(event_target_value(&ev)); changed(); } />
                        }.into_any()
                    }}
                </div>

                <label class="check">
                    <input type="checkbox" id="f2-grant"
                        prop:checked=move || grant.get()
                        on:change=move |ev| { grant.set(event_target_checked(&ev)); changed(); } />
                    " Grant the required permissions to this application and register its certificate"
                </label>
                <p class="hint">
                    "Off: the page checks what you entered (formats, the PFX opens, RSA, dates) and saves the \
                     service account — no sign-in, nothing is sent. On: you sign in and review the changes first."
                </p>
                {move || grant.get().then(|| view! {
                    <div class="grid">
                        <label for="f2-profile">"Permission profile"</label>
                        <select id="f2-profile" on:change=move |ev| { profile_id.set(event_target_value(&ev)); changed(); }>
                            {profiles::built_in().into_iter().map(|p| {
                                let id = p.id.clone();
                                let id2 = p.id.clone();
                                view! {
                                    <option value=id prop:selected=move || profile_id.get() == id2>{p.display_name}</option>
                                }
                            }).collect_view()}
                        </select>
                        {move || needs_subscription().then(|| view! {
                            <SubscriptionField subs=subs prefix="f2" on_change=Callback::new(move |_| review.set(None)) />
                        })}
                    </div>
                })}

                <button type="submit" class="primary" prop:disabled=move || busy.get()>
                    {move || if grant.get() { "Review" } else { "Check and save" }}
                </button>
                <p class="status" role="status" aria-live="polite">
                    {move || busy.get().then_some("Preparing the plan and checking your rights…")}
                </p>
                <p class="error" role="alert" id="f2-error">{move || error.get()}</p>
                {move || {
                    let w = warnings.get();
                    (!w.is_empty()).then(|| view! {
                        <ul class="warnings">{w.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                    })
                }}
            </form>
        </section>
        {move || review.get().map(|r| view! { <ReviewPanel review=r run=run generated=generated has_pfx=has_pfx /> })}
    }
}
