//! Certificates → Inspect and convert. The file is read into the page and
//! opened by `core`; it never leaves the page.

use leptos::ev::{DragEvent, SubmitEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use wasm_bindgen::JsCast;
use zeroize::{Zeroize, Zeroizing};

use super::card::CertificateCard;
use crate::core::certificate::Certificate;
use crate::core::generate::file_stem;
use crate::core::inspect::{self, OpenError, Opened};
use crate::core::password;
use crate::core::pfx::{self, ExportMode, Imported};
use crate::web::{clock, download};

/// The file as read, kept so a password can be tried without reading it again.
struct Loaded {
    name: String,
    bytes: Zeroizing<Vec<u8>>,
}

/// What the result shows; the imported key stays in a StoredValue, not here.
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

fn describe(opened: &Opened, name: &str) -> Shown {
    let stem = file_stem(name.rsplit_once('.').map_or(name, |(s, _)| s));
    match opened {
        Opened::Certificates(certs) => Shown {
            stem,
            leaf: certs.first().cloned(),
            others: certs.iter().skip(1).cloned().collect(),
            friendly_names: Vec::new(),
            key: None,
            problem: Some(
                "This is a public certificate without its private key: fine to upload to Entra, \
                 but a service that signs in with it needs the PFX."
                    .into(),
            ),
            convertible: false,
        },
        Opened::Pfx { imported, .. } => {
            let usable = imported.usable_for_entra();
            Shown {
                stem,
                leaf: imported.leaf.clone(),
                others: imported.others.clone(),
                friendly_names: imported.friendly_names.clone(),
                key: imported.key.as_ref().map(|k| k.kind().to_string()),
                problem: usable.as_ref().err().map(ToString::to_string),
                convertible: usable.is_ok(),
            }
        }
    }
}

#[component]
pub fn Inspect() -> impl IntoView {
    let loaded = StoredValue::new(None::<Loaded>);
    let imported = StoredValue::new(None::<Imported>);
    let needs_password = RwSignal::new(false);
    let pw = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let shown = RwSignal::new(None::<Shown>);
    let over = RwSignal::new(false);

    on_cleanup(move || {
        loaded.try_set_value(None);
        imported.try_set_value(None);
        pw.try_update(|p| p.zeroize());
    });

    // Tries to open what is loaded, with the typed password if one is asked for.
    let attempt = move |password: Option<String>| {
        let outcome = loaded.with_value(|l| {
            l.as_ref().map(|l| {
                (
                    inspect::open(&l.bytes, &l.name, password.as_deref()),
                    l.name.clone(),
                )
            })
        });
        let Some((outcome, name)) = outcome else {
            return;
        };
        match outcome {
            Ok(opened) => {
                needs_password.set(false);
                error.set(None);
                shown.set(Some(describe(&opened, &name)));
                imported.set_value(match opened {
                    Opened::Pfx { imported, .. } => Some(*imported),
                    Opened::Certificates(_) => None,
                });
                pw.update(|p| p.zeroize());
            }
            Err(OpenError::NeedsPassword) => {
                needs_password.set(true);
                error.set(None);
            }
            Err(e) => {
                error.set(Some(e.to_string()));
            }
        }
    };

    let take_file = move |file: Option<web_sys::File>| {
        let Some(file) = file else { return };
        shown.set(None);
        imported.set_value(None);
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
            <p id="inspect-error" class="error" role="alert">{move || error.get()}</p>
            <Show when=move || needs_password.get()>
                <form class="inline" on:submit=on_password>
                    <label for="inspect-password">"Password for this file"</label>
                    <input id="inspect-password" type="password" autocomplete="off"
                        prop:value=move || pw.get()
                        on:input=move |ev| pw.set(event_target_value(&ev)) />
                    <button type="submit" class="primary">"Open"</button>
                </form>
            </Show>
            <div id="inspect-result">
                {move || shown.get().map(|s| view! { <InspectResult shown=s imported=imported /> })}
            </div>
        </section>
    }
}

#[component]
fn InspectResult(shown: Shown, imported: StoredValue<Option<Imported>>) -> impl IntoView {
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
        {convertible.then(|| view! { <Convert imported=imported stem=stem /> })}
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

/// Re-export the PFX in the other format, under a new password.
#[component]
fn Convert(imported: StoredValue<Option<Imported>>, stem: String) -> impl IntoView {
    let format = RwSignal::new(ExportMode::Modern);
    let pw = RwSignal::new(String::new());
    let pw2 = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    on_cleanup(move || {
        pw.try_update(|p| p.zeroize());
        pw2.try_update(|p| p.zeroize());
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        let (mut p, mut p2) = (pw.get_untracked(), pw2.get_untracked());
        let result = password::confirm(&p, &p2)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                imported.with_value(|i| {
                    let i = i.as_ref().ok_or("Open the file again: it was closed.")?;
                    let (key, leaf) = i.usable_for_entra().map_err(|e| e.to_string())?;
                    let name = i
                        .leaf_friendly_name
                        .clone()
                        .or_else(|| leaf.info().ok().and_then(|x| x.subject_cn));
                    pfx::export(
                        key,
                        leaf,
                        &i.others,
                        name.as_deref(),
                        &p,
                        format.get_untracked(),
                        &mut OsRng,
                    )
                    .map_err(|e| e.to_string())
                })
            });
        p.zeroize();
        p2.zeroize();
        match result {
            Ok(bytes) => {
                let mode = format.get_untracked();
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
            Err(e) => error.set(Some(e)),
        }
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
