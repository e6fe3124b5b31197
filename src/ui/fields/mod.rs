//! Form fields the wizards share: the file picker, the certificate source
//! (generate or import), the permission profile (with custom profiles),
//! the subscription, and the form panel (heading, submit, progress, error).

pub mod certificate;
pub mod file;
pub mod form;
pub mod profile;
pub mod subscription;

use leptos::prelude::*;

/// A labelled text input of a `.grid` form; `changed` runs on every edit.
pub fn text_input(
    id: &'static str,
    label: &'static str,
    placeholder: &'static str,
    kind: &'static str,
    value: RwSignal<String>,
    changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input id=id type=kind autocomplete="off" spellcheck="false" placeholder=placeholder
            prop:value=move || value.get()
            on:input=move |ev| { value.set(event_target_value(&ev)); changed(); } />
    }
}

/// Two radio buttons for a yes/no choice of a form: the first sets `flag`
/// to `first_is`, the second to its opposite.
pub fn radio_pair(
    legend: &'static str,
    name: String,
    flag: RwSignal<bool>,
    first_is: bool,
    labels: [String; 2],
    changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let [first, second] = labels;
    let radio = move |value: bool, label: String| {
        view! {
            <label>
                <input type="radio" name=name.clone()
                    prop:checked=move || flag.get() == value
                    on:change=move |_| { flag.set(value); changed(); } />
                {format!(" {label}")}
            </label>
        }
    };
    view! {
        <fieldset class="choice">
            <legend>{legend}</legend>
            {radio(first_is, first)}
            {radio(!first_is, second)}
        </fieldset>
    }
}
