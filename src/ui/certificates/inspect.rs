//! Certificates → Inspect and convert. The file is read into the page and
//! opened in the page's crypto worker (its key stays there, for Convert); it
//! never leaves the page. A heavy file shows its progress and can be
//! cancelled, and the page stays responsive meanwhile.

use std::rc::Rc;

use leptos::ev::{DragEvent, SubmitEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use zeroize::{Zeroize, Zeroizing};

use super::card::CertificateCard;
use crate::core::certificate::Certificate;
use crate::core::generate::file_stem;
use crate::core::inspect::OpenError;
use crate::core::password;
use crate::core::pfx::ExportMode;
use crate::core::tools::{OpenedFile, ToolError};
use crate::web::crypto_worker::{self, CryptoWorker};
use crate::web::{clock, download};

/// The file as read, kept so a password can be tried without reading it again.
struct Loaded {
    name: String,
    bytes: Zeroizing<Vec<u8>>,
}

/// What the result shows; the opened key stays in the worker, not here.
#[derive(Clone)]
struct Shown {
    stem: String,
    leaf: Option<Certificate>,
    others: Vec<Certificate>,
    friendly_names: Vec<String>,
    key: Option<String>,
    problem: Option<String>,
    convertible: bool,
}

async fn read_file(file: web_sys::File) -> Result<Loaded, String> {
    let name = file.name();
    Ok(Loaded {
        name,
        bytes: Zeroizing::new(
            crate::web::file::read(file)
                .await
                .map_err(|e| e.to_string())?,
        ),
    })
}

fn describe(opened: &OpenedFile, name: &str) -> Result<Shown, String> {
    let stem = file_stem(name.rsplit_once('.').map_or(name, |(s, _)| s));
    let parse = |der: &Vec<u8>| Certificate::from_der(der).map_err(|e| e.to_string());
    let leaf = opened.leaf.as_ref().map(parse).transpose()?;
    let others = opened
        .others
        .iter()
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if opened.pfx {
        Shown {
            stem,
            leaf,
            others,
            friendly_names: opened.friendly_names.clone(),
            key: opened.key.as_ref().map(ToString::to_string),
            problem: opened.unusable.as_ref().map(ToString::to_string),
            convertible: opened.unusable.is_none(),
        }
    } else {
        Shown {
            stem,
            leaf,
            others,
            friendly_names: Vec::new(),
            key: None,
            problem: Some(
                "This is a public certificate without its private key: fine to upload to Entra, \
                 but a service that signs in with it needs the PFX."
                    .into(),
            ),
            convertible: false,
        }
    })
}

#[component]
pub fn Inspect() -> impl IntoView {
    let loaded = StoredValue::new(None::<Loaded>);
    let needs_password = RwSignal::new(false);
    let pw = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let shown = RwSignal::new(None::<Shown>);
    let over = RwSignal::new(false);
    // Some(what the worker is doing) while a file opens.
    let opening = RwSignal::new(None::<String>);

    on_cleanup(move || {
        loaded.try_set_value(None);
        pw.try_update(|p| p.zeroize());
        // The worker forgets the key it kept for Convert.
        spawn_local(CryptoWorker.close());
    });

    // Opens what is loaded in the worker, with the typed password if one
    // is asked for.
    let attempt = move |password: Option<String>| {
        let Some((name, bytes)) =
            loaded.with_value(|l| l.as_ref().map(|l| (l.name.clone(), l.bytes.clone())))
        else {
            return;
        };
        opening.set(Some("Opening the file…".into()));
        error.set(None);
        spawn_local(async move {
            let report = Rc::new(move |p: &str| {
                opening.try_set(Some(p.to_string()));
            });
            let outcome = CryptoWorker
                .open(Some(&name), &bytes, password.as_deref(), true, Some(report))
                .await;
            drop(bytes);
            drop(password);
            opening.try_set(None);
            match outcome {
                Ok(opened) => match describe(&opened, &name) {
                    Ok(s) => {
                        needs_password.set(false);
                        shown.set(Some(s));
                        pw.update(|p| p.zeroize());
                    }
                    Err(e) => error.set(Some(e)),
                },
                Err(ToolError::Open(OpenError::NeedsPassword)) => {
                    needs_password.set(true);
                }
                Err(e) => {
                    error.set(Some(e.to_string()));
                }
            }
        });
    };

    let take_file = move |file: Option<web_sys::File>| {
        let Some(file) = file else { return };
        // A file still opening is abandoned for the new one.
        if opening.get_untracked().is_some() {
            crypto_worker::cancel();
        }
        shown.set(None);
        needs_password.set(false);
        error.set(None);
        spawn_local(async move {
            match read_file(file).await {
                Ok(l) => {
                    loaded.set_value(Some(l));
                    attempt(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = ev.target().unwrap().unchecked_into();
        take_file(input.files().and_then(|f| f.get(0)));
        // Choosing the same file again must fire `change` again.
        input.set_value("");
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        over.set(false);
        take_file(
            ev.data_transfer()
                .and_then(|d| d.files())
                .and_then(|f| f.get(0)),
        );
    };
    let on_password = move |ev: SubmitEvent| {
        ev.prevent_default();
        attempt(Some(pw.get_untracked()));
    };

    view! {
        <section class="panel" aria-labelledby="inspect-title">
            <h2 id="inspect-title">"Inspect and convert"</h2>
            <div
                class="drop"
                class:over=move || over.get()
                on:dragover=move |ev: DragEvent| { ev.prevent_default(); over.set(true); }
                on:dragleave=move |_| over.set(false)
                on:drop=on_drop
            >
                <p>"Drop a .pfx, .p12, .cer, .crt or .pem file here, or"</p>
                <label for="inspect-file" class="visually-hidden">"Choose a certificate file"</label>
                <input id="inspect-file" type="file" accept=".pfx,.p12,.cer,.crt,.pem,.der"
                    aria-describedby="inspect-error" on:change=on_pick />
            </div>
            <p id="inspect-progress" class="status" role="status" aria-live="polite">
                {move || opening.get().map(|stage| view! {
                    <progress aria-label="Opening"></progress>
                    {format!(" {stage}")}
                    " "
                    <button type="button" on:click=move |_| crypto_worker::cancel()>"Cancel"</button>
                })}
            </p>
            <p id="inspect-error" class="error" role="alert">{move || error.get()}</p>
            <Show when=move || needs_password.get()>
                <form class="inline" on:submit=on_password>
                    <label for="inspect-password">"Password for this file"</label>
                    <input id="inspect-password" type="password" autocomplete="off"
                        prop:value=move || pw.get()
                        on:input=move |ev| pw.set(event_target_value(&ev)) />
                    <button type="submit" class="primary" prop:disabled=move || opening.get().is_some()>"Open"</button>
                </form>
            </Show>
            <div id="inspect-result">
                {move || shown.get().map(|s| view! { <InspectResult shown=s /> })}
            </div>
        </section>
    }
}

#[component]
fn InspectResult(shown: Shown) -> impl IntoView {
    let now = clock::now();
    let Shown {
        stem,
        leaf,
        others,
        friendly_names,
        key,
        problem,
        convertible,
    } = shown;
    let mut extra = Vec::new();
    if let Some(k) = key {
        extra.push(("Private key", k));
    } else {
        extra.push(("Private key", "none in this file".to_string()));
    }
    if !friendly_names.is_empty() {
        extra.push(("Friendly names", friendly_names.join(", ")));
    }
    let chain = others
        .iter()
        .filter_map(|c| c.info().ok())
        .map(|i| format!("{} — {}", i.subject_cn.unwrap_or(i.subject), i.sha1))
        .collect::<Vec<_>>();
    let card = leaf
        .clone()
        .and_then(|c| c.info().ok().map(|info| (info, c.der().to_vec())));
    view! {
        {problem.map(|p| view! { <p class="warnings">{p}</p> })}
        {match card {
            Some((info, der)) => view! { <CertificateCard info=info der=der now=now extra=extra /> }.into_any(),
            None => view! { <p class="hint">"This file holds no certificate for a key."</p> }.into_any(),
        }}
        {(!chain.is_empty()).then(|| view! {
            <h3>"Other certificates in the file"</h3>
            <ul class="chain">{chain.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
        })}
        {leaf.map(|c| view! { <PublicExport cert=c stem=stem.clone() /> })}
        {convertible.then(|| view! { <Convert stem=stem /> })}
    }
}

#[component]
fn PublicExport(cert: Certificate, stem: String) -> impl IntoView {
    let (der, pem) = (cert.der().to_vec(), cert.to_pem());
    let stem2 = stem.clone();
    view! {
        <div class="actions">
            <button type="button" on:click=move |_| { let _ = download::save(&format!("{stem}.cer"), "application/pkix-cert", &der); }>
                "Export public certificate (.cer)"
            </button>
            <button type="button" on:click=move |_| { let _ = download::save(&format!("{stem2}.pem"), "application/x-pem-file", pem.as_bytes()); }>
                "Export public certificate (.pem)"
            </button>
        </div>
    }
}

/// Re-export the PFX in the other format, under a new password (the worker
/// writes it from the key it kept).
#[component]
fn Convert(stem: String) -> impl IntoView {
    let format = RwSignal::new(ExportMode::Modern);
    let pw = RwSignal::new(String::new());
    let pw2 = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    on_cleanup(move || {
        pw.try_update(|p| p.zeroize());
        pw2.try_update(|p| p.zeroize());
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        done.set(None);
        let (mut p, mut p2) = (pw.get_untracked(), pw2.get_untracked());
        let confirmed = password::confirm(&p, &p2);
        p2.zeroize();
        if let Err(e) = confirmed {
            p.zeroize();
            error.set(Some(e.to_string()));
            return;
        }
        let mode = format.get_untracked();
        let stem = stem.clone();
        busy.set(true);
        spawn_local(async move {
            let result = CryptoWorker.export(mode, &p).await;
            p.zeroize();
            busy.set(false);
            match result {
                Ok(bytes) => {
                    let file = format!(
                        "{stem}-{}.pfx",
                        if mode == ExportMode::Modern {
                            "modern"
                        } else {
                            "compatible"
                        }
                    );
                    match download::save(&file, "application/x-pkcs12", &bytes) {
                        Ok(()) => {
                            error.set(None);
                            done.set(Some(format!("Saved {file}.")));
                            pw.update(|p| p.zeroize());
                            pw2.update(|p| p.zeroize());
                        }
                        Err(_) => error.set(Some("The browser refused the download: allow downloads for this page and try again.".into())),
                    }
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form class="convert" on:submit=on_submit>
            <h3>"Convert"</h3>
            <fieldset class="choice">
                <legend>"New PFX format"</legend>
                <label>
                    <input type="radio" name="conv-format"
                        prop:checked=move || format.get() == ExportMode::Compatible
                        on:change=move |_| format.set(ExportMode::Compatible) />
                    " Compatible (3DES, SHA-1 MAC)"
                </label>
                <label>
                    <input type="radio" name="conv-format"
                        prop:checked=move || format.get() == ExportMode::Modern
                        on:change=move |_| format.set(ExportMode::Modern) />
                    " Modern (AES-256, SHA-256)"
                </label>
            </fieldset>
            <div class="grid">
                <label for="conv-pw">"New password"</label>
                <input id="conv-pw" type="password" autocomplete="new-password"
                    prop:value=move || pw.get() on:input=move |ev| pw.set(event_target_value(&ev)) />
                <label for="conv-pw2">"Confirm new password"</label>
                <input id="conv-pw2" type="password" autocomplete="new-password"
                    prop:value=move || pw2.get() on:input=move |ev| pw2.set(event_target_value(&ev)) />
            </div>
            <button type="submit" class="primary">"Download converted .pfx"</button>
            <p class="error" role="alert">{move || error.get()}</p>
            <p class="status" role="status">{move || done.get()}</p>
        </form>
    }
}
