//! The permission profile field: the profiles that ship with the page and
//! the custom ones loaded in this tab ("Load a custom profile (JSON)": a
//! file or pasted JSON read by `profiles::add_custom`, listed until the
//! tab is closed), filtered for the wizard.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::subscription::Subscriptions;
use crate::flows::{InputError, SubscriptionChoice};
use crate::profiles::{self, Profile};
use crate::ui::error::UiError;
use crate::ui::storage;
use crate::web::file;

/// The profiles on offer and the one chosen.
#[derive(Clone, Copy)]
pub struct ProfileChoice {
    id: RwSignal<String>,
    custom: RwSignal<Vec<Profile>>,
    filter: fn(&Profile) -> bool,
}

impl ProfileChoice {
    /// The profiles `filter` keeps; the first is chosen.
    pub fn new(filter: fn(&Profile) -> bool) -> ProfileChoice {
        let custom = RwSignal::new(storage::custom_profiles());
        let first = profiles::built_in()
            .into_iter()
            .find(filter)
            .map(|p| p.id)
            .unwrap_or_default();
        ProfileChoice {
            id: RwSignal::new(first),
            custom,
            filter,
        }
    }

    /// Every profile: `(profile, is_custom)`, shipped ones first.
    fn offered(&self) -> Vec<(Profile, bool)> {
        let filter = self.filter;
        profiles::built_in()
            .into_iter()
            .map(|p| (p, false))
            .chain(self.custom.get().into_iter().map(|p| (p, true)))
            .filter(|(p, _)| filter(p))
            .collect()
    }

    /// The chosen profile (tracked): a custom one loaded in this tab, else
    /// a shipped one.
    pub fn selected(&self) -> Option<Profile> {
        let id = self.id.get();
        self.custom
            .with(|c| c.iter().find(|p| p.id == id).cloned())
            .or_else(|| profiles::by_id(&id).ok())
    }

    pub fn selected_untracked(&self) -> Result<Profile, UiError> {
        untrack(|| self.selected()).ok_or(UiError::NoProfile)
    }

    /// The subscription `profile` needs for its Azure roles, if it has any.
    pub fn subscription(
        profile: &Profile,
        subs: &Subscriptions,
    ) -> Result<Option<SubscriptionChoice>, UiError> {
        if !profile.needs_subscription() {
            return Ok(None);
        }
        subs.choice().map(Some).ok_or_else(|| {
            InputError::SubscriptionRequired {
                profile: profile.display_name.clone(),
            }
            .into()
        })
    }
}

/// The label and the select, and (with `custom`) the custom profile loader,
/// for a `.grid` form.
#[component]
pub fn ProfileField(
    choice: ProfileChoice,
    /// Element IDs start with this (`f1` → `f1-profile`).
    prefix: &'static str,
    /// Offer "Load a custom profile (JSON)".
    #[prop(optional)]
    custom: bool,
    on_change: Callback<()>,
) -> impl IntoView {
    let id = choice.id;
    view! {
        <label for=format!("{prefix}-profile")>"Permission profile"</label>
        <select id=format!("{prefix}-profile") on:change=move |ev| { id.set(event_target_value(&ev)); on_change.run(()); }>
            {move || choice.offered().into_iter().map(|(p, is_custom)| {
                let value = p.id.clone();
                let label = if is_custom {
                    format!("{} (custom)", p.display_name)
                } else {
                    p.display_name.clone()
                };
                view! {
                    <option value=value prop:selected=move || id.get() == p.id>{label}</option>
                }
            }).collect_view()}
        </select>
        {custom.then(|| view! {
            <span></span>
            <CustomProfileLoader choice=choice prefix=prefix on_change=on_change />
        })}
    }
}

/// "Load a custom profile (JSON)": a file or pasted JSON, read with
/// `profiles::add_custom`; what is wrong names the field. A loaded profile
/// joins the list for this tab and is selected.
#[component]
fn CustomProfileLoader(
    choice: ProfileChoice,
    prefix: &'static str,
    on_change: Callback<()>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<UiError>);
    let loaded = RwSignal::new(None::<String>);
    let load = move |json: String| {
        let mut list = choice.custom.get_untracked();
        match profiles::add_custom(&mut list, &json) {
            Ok(id) => {
                storage::save_custom_profiles(&list);
                let name = list
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.display_name.clone())
                    .unwrap_or_default();
                choice.custom.set(list);
                choice.id.set(id);
                error.set(None);
                loaded.set(Some(format!(
                    "Loaded '{name}': it is selected above and stays in the list until this tab is closed."
                )));
                on_change.run(());
            }
            Err(e) => {
                loaded.set(None);
                error.set(Some(e.into()));
            }
        }
    };
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(f) = file::chosen(&input) else {
            return;
        };
        spawn_local(async move {
            match file::read(f).await.map(String::from_utf8) {
                Ok(Ok(json)) => {
                    text.set(json.clone());
                    load(json);
                }
                Ok(Err(_)) => error.set(Some(UiError::NotText)),
                Err(_) => error.set(Some(UiError::FileUnreadable)),
            }
        });
    };
    let id = |s: &str| format!("{prefix}-custom-{s}");
    view! {
        <details class="custom-profile" id=id("profile")>
            <summary>"Load a custom profile (JSON)"</summary>
            <p class="hint">
                "A profile in the form of the page's profiles/permissions.json: one profile object, or a file \
                 {\"version\": 1, \"profiles\": [...]}. Permissions are named (User.Read, Application.Read.All), \
                 Azure roles by their built-in names."
            </p>
            <div class="grid">
                <label for=id("file")>"Custom profile file"</label>
                <input id=id("file") type="file" accept=".json,application/json" on:change=on_file />
                <label for=id("json")>"Custom profile JSON"</label>
                <textarea id=id("json") rows="8" spellcheck="false"
                    aria-describedby=id("error")
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </div>
            <p class="error" role="alert" id=id("error")>{move || error.get().map(|e| e.to_string())}</p>
            <p class="ok" role="status" id=id("loaded")>{move || loaded.get()}</p>
            <button type="button" on:click=move |_| load(text.get_untracked())>"Load profile"</button>
        </details>
    }
}
