//! The subscription field of the wizards whose profile has Azure roles: the
//! subscriptions the signed-in admin can see (`flows::roles::subscriptions`
//! with the ARM token), loaded once signed in and needed.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::arm::Subscription;
use crate::flows::SubscriptionChoice;
use crate::ui::error::UiError;
use crate::ui::host::{AuthState, use_session};

#[derive(Clone, Copy)]
pub struct Subscriptions {
    list: RwSignal<Option<Result<Vec<Subscription>, UiError>>>,
    chosen: RwSignal<String>,
    loading: RwSignal<bool>,
}

impl Subscriptions {
    /// Loads the list when the admin is signed in and `needed()` is true.
    pub fn new(needed: impl Fn() -> bool + Send + Sync + 'static) -> Subscriptions {
        let session = use_session();
        let subs = Subscriptions {
            list: RwSignal::new(None),
            chosen: RwSignal::new(String::new()),
            loading: RwSignal::new(false),
        };
        Effect::new(move || {
            if !matches!(session.auth.get(), AuthState::SignedIn(_)) {
                subs.list.set(None);
                return;
            }
            if needed() && subs.list.get_untracked().is_none() && !subs.loading.get_untracked() {
                subs.loading.set(true);
                spawn_local(async move {
                    let list = match session.api().await {
                        Ok(api) => crate::flows::roles::subscriptions(&api)
                            .await
                            .map_err(UiError::from),
                        Err(e) => Err(e),
                    };
                    if let Ok(l) = &list
                        && subs.chosen.get_untracked().is_empty()
                        && let Some(first) = l.first()
                    {
                        subs.chosen.set(first.subscription_id.clone());
                    }
                    subs.list.set(Some(list));
                    subs.loading.set(false);
                });
            }
        });
        subs
    }

    /// The chosen subscription, if the list is loaded and has it.
    pub fn choice(&self) -> Option<SubscriptionChoice> {
        let id = self.chosen.get_untracked();
        self.list
            .get_untracked()
            .and_then(|r| r.ok())
            .and_then(|l| l.into_iter().find(|s| s.subscription_id == id))
            .map(|s| SubscriptionChoice {
                subscription_id: s.subscription_id,
                display_name: s.display_name,
            })
    }
}

/// The label and the select (or why there is none), for a `.grid` form.
#[component]
pub fn SubscriptionField(
    subs: Subscriptions,
    /// Element IDs start with this (`f1` → `f1-sub`).
    prefix: &'static str,
    on_change: Callback<()>,
) -> impl IntoView {
    let select_id = format!("{prefix}-sub");
    let none_id = format!("{prefix}-no-subscription");
    view! {
        <label for=select_id.clone()>"Subscription for the Azure roles"</label>
        <div>
            {move || match subs.list.get() {
                None if subs.loading.get() => view! { <p class="hint">"Loading subscriptions…"</p> }.into_any(),
                None => view! { <p class="hint">"Sign in to list your subscriptions."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="error" id=none_id.clone()>
                        "Your account can see no Azure subscription: ask for the Owner or User Access \
                         Administrator role on the subscription, or choose a profile without Azure roles."
                    </p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <select id=select_id.clone()
                        on:change=move |ev| { subs.chosen.set(event_target_value(&ev)); on_change.run(()); }>
                        {list.into_iter().map(|s| {
                            let id = s.subscription_id.clone();
                            let id2 = s.subscription_id.clone();
                            view! {
                                <option value=id prop:selected=move || subs.chosen.get() == id2>
                                    {format!("{} ({})", s.display_name, s.subscription_id)}
                                </option>
                            }
                        }).collect_view()}
                    </select>
                }.into_any(),
            }}
        </div>
    }
}
