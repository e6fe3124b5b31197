//! The result card: what a certificate is, whether Entra will accept it, and
//! buttons to copy what the Entra portal or a Graph keyCredential takes.

use base64ct::{Base64, Encoding};
use leptos::prelude::*;

use crate::core::certificate::{CertificateInfo, KeyKind, Warning, warnings};
use crate::core::time::UnixTime;

fn badges(info: &CertificateInfo, now: UnixTime) -> Vec<(&'static str, String)> {
    let found = warnings(info, now);
    let mut out = Vec::new();
    if !found.iter().any(|w| {
        matches!(
            w,
            Warning::Expired { .. } | Warning::ExpiresSoon { .. } | Warning::NotYetValid { .. }
        )
    }) {
        out.push((
            "ok",
            format!("valid, {} days left", now.days_until(info.not_after)),
        ));
    }
    for w in &found {
        out.push(match w {
            Warning::Expired { .. } => (
                "bad",
                format!("expired {} days ago", info.not_after.days_until(now)),
            ),
            Warning::ExpiresSoon { days, .. } => ("warn", format!("expires in {days} days")),
            Warning::NotYetValid { .. } => ("warn", "not yet valid".to_string()),
            Warning::WeakSignature { .. } => ("warn", "SHA-1 signed".to_string()),
            Warning::SmallKey { bits } => ("warn", format!("weak key ({bits} bits)")),
        });
    }
    if !matches!(info.key, KeyKind::Rsa { .. }) {
        out.push(("bad", "not RSA — Entra refuses it".to_string()));
    }
    out
}

pub fn copy_to_clipboard(text: String) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(&text);
    }
}

fn row(label: &'static str, value: String) -> impl IntoView {
    view! {
        <dt>{label}</dt>
        <dd>{value}</dd>
    }
}

/// `der` is the certificate itself, for the base64 copy.
#[component]
pub fn CertificateCard(
    info: CertificateInfo,
    der: Vec<u8>,
    now: UnixTime,
    #[prop(optional)] extra: Vec<(&'static str, String)>,
) -> impl IntoView {
    let sha1 = info.sha1.clone();
    let base64 = Base64::encode_string(&der);
    let key = match &info.key {
        KeyKind::Rsa { bits } => format!("RSA {bits} bits"),
        other => other.to_string(),
    };
    let warnings_text: Vec<String> = warnings(&info, now).iter().map(Warning::message).collect();
    view! {
        <section class="card" aria-label="Certificate">
            <ul class="badges" aria-label="Status">
                {badges(&info, now)
                    .into_iter()
                    .map(|(tone, text)| view! { <li class=format!("badge {tone}")>{text}</li> })
                    .collect_view()}
            </ul>
            <dl class="facts">
                {row("Subject", info.subject.clone())}
                {row("Issuer", info.issuer.clone())}
                {row("Valid from", info.not_before.to_rfc3339())}
                {row("Valid until", info.not_after.to_rfc3339())}
                {row("SHA-1 thumbprint", info.sha1.clone())}
                {row("SHA-256 thumbprint", info.sha256.clone())}
                {row("Serial number", info.serial_hex.clone())}
                {row("Key", key)}
                {row("Signature", info.signature_algorithm.clone())}
                {extra.into_iter().map(|(l, v)| row(l, v)).collect_view()}
            </dl>
            {(!warnings_text.is_empty())
                .then(|| {
                    view! {
                        <ul class="warnings">
                            {warnings_text.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
                        </ul>
                    }
                })}
            <div class="actions">
                <button type="button" on:click=move |_| copy_to_clipboard(sha1.clone())>
                    "Copy thumbprint"
                </button>
                <button type="button" on:click=move |_| copy_to_clipboard(base64.clone())>
                    "Copy base64 certificate"
                </button>
            </div>
        </section>
    }
}
