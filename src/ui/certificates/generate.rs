//! Certificates → Generate. Key (WebCrypto), certificate and PFX (`core`)
//! are made in the page's crypto worker; the time from the browser's clock.

use std::rc::Rc;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use zeroize::{Zeroize, Zeroizing};

use super::card::CertificateCard;
use crate::core::certificate::{Certificate, CertificateInfo, CertificateRequest};
use crate::core::generate::{DEFAULT_MONTHS, GenerateRequest, MAX_MONTHS, MIN_MONTHS, file_stem};
use crate::core::keygen::KeySize;
use crate::core::password;
use crate::core::pfx::ExportMode;
use crate::web::crypto_worker::{self, CryptoWorker};
use crate::web::{clock, download};

/// What the card keeps while it is open: the PFX is encrypted with the
/// admin's password; the plain key was zeroized when the PFX was built.
#[derive(Clone)]
struct Card {
    info: CertificateInfo,
    der: Vec<u8>,
    pfx: Zeroizing<Vec<u8>>,
    stem: String,
}

fn key_size_from(value: &str) -> KeySize {
    KeySize::ALL
        .into_iter()
        .find(|k| k.bits().to_string() == value)
        .unwrap_or_default()
}

#[component]
pub fn Generate() -> impl IntoView {
    let cn = RwSignal::new(String::new());
    let org = RwSignal::new(String::new());
    let months = RwSignal::new(DEFAULT_MONTHS.to_string());
    let key_size = RwSignal::new(KeySize::Rsa2048);
    let format = RwSignal::new(ExportMode::Compatible);
    let pw = RwSignal::new(String::new());
    let pw2 = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let progress = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<Card>);

    // Leaving the page drops the card and zeroizes what it held.
    on_cleanup(move || {
        result.try_set(None);
        pw.try_update(|p| p.zeroize());
        pw2.try_update(|p| p.zeroize());
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let request = GenerateRequest {
            subject: CertificateRequest {
                common_name: cn.get_untracked(),
                organization: Some(org.get_untracked()).filter(|o| !o.trim().is_empty()),
                organizational_unit: None,
            },
            validity_months: months.get_untracked().trim().parse().unwrap_or(0),
            key_size: key_size.get_untracked(),
            format: format.get_untracked(),
        };
        let password = pw.get_untracked();
        if let Err(e) = request.check(&password, &pw2.get_untracked()) {
            error.set(Some(e.to_string()));
            return;
        }
        error.set(None);
        result.set(None);
        busy.set(true);
        progress.set(String::new());
        spawn_local(async move {
            let mut password = password;
            let report = Rc::new(move |p: &str| progress.set(p.to_string()));
            let outcome = CryptoWorker
                .generate(&request, &password, clock::now(), Some(report))
                .await
                .map_err(|e| e.to_string())
                .and_then(|files| {
                    let certificate =
                        Certificate::from_der(&files.certificate_der).map_err(|e| e.to_string())?;
                    let info = certificate.info().map_err(|e| e.to_string())?;
                    Ok((info, files))
                });
            password.zeroize();
            match outcome {
                Ok((info, files)) => {
                    pw.update(|p| p.zeroize());
                    pw2.update(|p| p.zeroize());
                    result.set(Some(Card {
                        stem: file_stem(&request.subject.common_name),
                        info,
                        der: files.certificate_der,
                        pfx: files.pfx,
                    }));
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    let strength = move || {
        let p = pw.get();
        (!p.is_empty()).then(|| {
            let s = password::strength(&p);
            view! { <span class=format!("strength {}", s.label())>{password::hint(&p)}</span> }
        })
    };

    view! {
        <section class="panel" aria-labelledby="gen-title">
            <h2 id="gen-title">"Generate a self-signed certificate"</h2>
            <form on:submit=on_submit novalidate>
                <div class="grid">
                    <label for="gen-cn">"Common name (CN)"</label>
                    <input id="gen-cn" type="text" required autocomplete="off"
                        placeholder="Backup Azure SA"
                        prop:value=move || cn.get()
                        on:input=move |ev| cn.set(event_target_value(&ev)) />

                    <label for="gen-org">"Organization (optional)"</label>
                    <input id="gen-org" type="text" autocomplete="organization"
                        prop:value=move || org.get()
                        on:input=move |ev| org.set(event_target_value(&ev)) />

                    <label for="gen-months">"Validity (months)"</label>
                    <input id="gen-months" type="number" min=MIN_MONTHS max=MAX_MONTHS required
                        prop:value=move || months.get()
                        on:input=move |ev| months.set(event_target_value(&ev)) />

                    <label for="gen-size">"Key size"</label>
                    <select id="gen-size" on:change=move |ev| key_size.set(key_size_from(&event_target_value(&ev)))>
                        {KeySize::ALL
                            .into_iter()
                            .map(|k| {
                                let bits = k.bits();
                                view! {
                                    <option value=bits.to_string() selected=move || key_size.get() == k>
                                        {format!("RSA {bits}")}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>

                    <label for="gen-pw">"PFX password"</label>
                    <div>
                        <input id="gen-pw" type="password" required autocomplete="new-password"
                            aria-describedby="gen-pw-hint"
                            prop:value=move || pw.get()
                            on:input=move |ev| pw.set(event_target_value(&ev)) />
                        <div id="gen-pw-hint" class="hint" aria-live="polite">{strength}</div>
                    </div>

                    <label for="gen-pw2">"Confirm password"</label>
                    <input id="gen-pw2" type="password" required autocomplete="new-password"
                        prop:value=move || pw2.get()
                        on:input=move |ev| pw2.set(event_target_value(&ev)) />
                </div>

                <fieldset class="choice">
                    <legend>"PFX format"</legend>
                    <label>
                        <input type="radio" name="gen-format"
                            prop:checked=move || format.get() == ExportMode::Compatible
                            on:change=move |_| format.set(ExportMode::Compatible) />
                        " Compatible (3DES, SHA-1 MAC): Windows Server 2016, macOS, older Java, Azure services"
                    </label>
                    <label>
                        <input type="radio" name="gen-format"
                            prop:checked=move || format.get() == ExportMode::Modern
                            on:change=move |_| format.set(ExportMode::Modern) />
                        " Modern (AES-256, SHA-256): current Windows, OpenSSL 3, Java 11+"
                    </label>
                </fieldset>

                <button type="submit" class="primary" prop:disabled=move || busy.get()>"Generate"</button>
                <p class="status" role="status" aria-live="polite">
                    {move || busy.get().then(|| view! {
                        <progress aria-label="Generating"></progress>
                        {move || {
                            let p = progress.get();
                            if p.is_empty() {
                                format!(" Generating an RSA {}-bit key and certificate…", key_size.get_untracked().bits())
                            } else {
                                format!(" {p}")
                            }
                        }}
                        " "
                        <button type="button" on:click=move |_| crypto_worker::cancel()>"Cancel"</button>
                    })}
                </p>
                <p class="error" role="alert">{move || error.get()}</p>
            </form>

            <div id="gen-result">{move || result.get().map(|r| {
                let Card { info, der, pfx, stem } = r.clone();
                let pem = Certificate::from_der(&der)
                    .map(|c| c.to_pem())
                    .unwrap_or_default();
                let (der2, stem2, stem3) = (der.clone(), stem.clone(), stem.clone());
                view! {
                    <h3>"Your certificate"</h3>
                    <CertificateCard info=info der=der now=clock::now() />
                    <div class="actions">
                        <button type="button" class="primary"
                            on:click=move |_| { let _ = download::save(&format!("{stem}.pfx"), "application/x-pkcs12", &pfx); }>
                            "Download .pfx"
                        </button>
                        <button type="button"
                            on:click=move |_| { let _ = download::save(&format!("{stem2}.cer"), "application/pkix-cert", &der2); }>
                            "Download .cer"
                        </button>
                        <button type="button"
                            on:click=move |_| { let _ = download::save(&format!("{stem3}.pem"), "application/x-pem-file", pem.as_bytes()); }>
                            "Download .pem"
                        </button>
                    </div>
                    <p class="hint">
                        "The .pfx holds the private key, protected by your password: keep it safe. "
                        "The .cer and .pem hold only the public certificate — what you upload to the Entra application."
                    </p>
                }
            })}</div>
        </section>
    }
}
