//! A wizard's form panel: its heading, its fields (the children), the
//! submit button, what is being done and the error (typed until here).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::ui::error::UiError;

#[component]
pub fn FormPanel(
    /// Element IDs start with this (`f1` → `f1-title`, `f1-error`).
    prefix: &'static str,
    title: &'static str,
    on_submit: Callback<SubmitEvent>,
    /// The submit button's label.
    #[prop(into)]
    label: Signal<&'static str>,
    busy: RwSignal<bool>,
    /// What the page says while busy.
    working: &'static str,
    error: RwSignal<Option<UiError>>,
    children: Children,
) -> impl IntoView {
    let title_id = format!("{prefix}-title");
    let labelled_by = title_id.clone();
    view! {
        <section class="panel" aria-labelledby=labelled_by>
            <h2 id=title_id>{title}</h2>
            <form on:submit=move |ev| on_submit.run(ev) novalidate>
                {children()}
                <button type="submit" class="primary" prop:disabled=move || busy.get()>{move || label.get()}</button>
                <p class="status" role="status" aria-live="polite">
                    {move || busy.get().then(|| view! {
                        <progress aria-label="Working"></progress>
                        " "
                        {working}
                    })}
                </p>
                <p class="error" role="alert" id=format!("{prefix}-error")>{move || error.get().map(|e| e.to_string())}</p>
            </form>
        </section>
    }
}

/// Runs a form's `work`: busy while it runs, its error shown when it fails.
pub fn submit(
    busy: RwSignal<bool>,
    error: RwSignal<Option<UiError>>,
    work: impl std::future::Future<Output = Result<(), UiError>> + 'static,
) {
    error.set(None);
    busy.set(true);
    leptos::task::spawn_local(async move {
        if let Err(e) = work.await {
            error.set(Some(e));
        }
        busy.set(false);
    });
}

/// The value, or `None` with the error shown in the form.
pub fn shown<T>(error: RwSignal<Option<UiError>>, result: Result<T, UiError>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            error.set(Some(e));
            None
        }
    }
}
