//! Tests that need a real browser: run by `cargo xtask test` through
//! wasm-bindgen-test-runner in headless Chromium.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn shell_mounts_with_its_navigation() {
    let window = web_sys::window().unwrap();
    let doc = window.document().unwrap();
    // The route comes from the address: the test runner's own page may carry
    // a fragment of its own, so name the page this test expects.
    window.location().set_hash("#/certificates").unwrap();
    leptos::mount::mount_to_body(entra_wizard::ui::App);
    let links = doc.query_selector_all("nav[aria-label=Main] a").unwrap();
    let titles: Vec<String> = (0..links.length())
        .filter_map(|i| links.item(i))
        .filter_map(|n| n.text_content())
        .collect();
    assert_eq!(
        titles,
        [
            "Connect",
            "Service accounts",
            "Dashboard",
            "Certificates",
            "Settings"
        ]
    );
    let heading = doc.query_selector("main h1").unwrap().unwrap();
    assert_eq!(heading.text_content().unwrap(), "Certificates");
}

#[wasm_bindgen_test]
fn clock_comes_from_the_browser() {
    // SystemTime::now() would panic here; the edge reads Date.now() instead.
    let now = entra_wizard::web::clock::now();
    let js = (js_sys::Date::now() / 1000.0) as u64;
    assert!(now.0.abs_diff(js) <= 1);
    assert!(now.to_rfc3339().starts_with("20"));
}

#[wasm_bindgen_test]
async fn webcrypto_key_makes_a_certificate_and_pfx_that_round_trip() {
    use entra_wizard::core::certificate::CertificateRequest;
    use entra_wizard::core::generate::GenerateRequest;
    use entra_wizard::core::keygen::{KeyGenerator, KeySize};
    use entra_wizard::core::pfx::{self, ExportMode};
    use entra_wizard::web::webcrypto::WebCryptoKeyGenerator;

    let key = WebCryptoKeyGenerator
        .generate(KeySize::Rsa2048)
        .await
        .unwrap();
    assert_eq!(key.bits(), 2048);
    let public = key.public_key_der();
    for format in [ExportMode::Compatible, ExportMode::Modern] {
        let request = GenerateRequest {
            subject: CertificateRequest::new("in the browser"),
            format,
            ..GenerateRequest::default()
        };
        let generated = request
            .build(
                key.clone(),
                "Browser-Pässword-1",
                entra_wizard::web::clock::now(),
                &mut rand_core::OsRng,
            )
            .unwrap();
        let opened = pfx::import(&generated.pfx, Some("Browser-Pässword-1")).unwrap();
        let (opened_key, leaf) = opened.usable_for_entra().unwrap();
        assert_eq!(opened_key.public_key_der(), public);
        assert_eq!(leaf.sha1_hex(), generated.info.sha1);
        assert_eq!(
            leaf.info().unwrap().subject_cn.as_deref(),
            Some("in the browser")
        );
    }
}

#[wasm_bindgen_test]
async fn a_plan_is_applied_by_one_tab_at_a_time() {
    use entra_wizard::web::lock::with_plan_lock;
    // Web Locks are per origin: a second request while the apply holds the
    // lock stands for another tab.
    let second = with_plan_lock("plan-1", || async {
        with_plan_lock("plan-1", || async { "applied twice" }).await
    })
    .await
    .unwrap();
    let refused = second.unwrap_err();
    assert_eq!(refused.plan_id, "plan-1");
    let holder = refused.holder.clone().unwrap();
    assert!(
        holder.starts_with("started at ") && holder.contains(" UTC"),
        "{holder}"
    );
    assert!(
        refused
            .to_string()
            .starts_with("This plan is being applied in another tab or window of this browser (the tab that started at "),
        "{refused}"
    );
    // Another plan is not held; once the apply ended, the plan is free.
    assert_eq!(with_plan_lock("plan-2", || async { 2 }).await, Ok(2));
    assert_eq!(with_plan_lock("plan-1", || async { 1 }).await, Ok(1));
}

#[wasm_bindgen_test]
async fn webcrypto_pbkdf2_keys_open_a_modern_pfx_and_a_wrong_password_is_refused() {
    use entra_wizard::core::certificate::CertificateRequest;
    use entra_wizard::core::generate::GenerateRequest;
    use entra_wizard::core::inspect::{self, Opened, Pbkdf2Deriver, Stage};
    use entra_wizard::core::keygen::{KeyGenerator, KeySize};
    use entra_wizard::core::pfx::{self, ExportMode};
    use entra_wizard::web::webcrypto::{WebCryptoKeyGenerator, WebCryptoPbkdf2};

    let key = WebCryptoKeyGenerator
        .generate(KeySize::Rsa2048)
        .await
        .unwrap();
    let request = GenerateRequest {
        subject: CertificateRequest::new("pbkdf2"),
        format: ExportMode::Modern,
        ..GenerateRequest::default()
    };
    let generated = request
        .build(
            key,
            "Pässword-2",
            entra_wizard::web::clock::now(),
            &mut rand_core::OsRng,
        )
        .unwrap();

    // The jobs of a modern PFX (key bag and certificates), derived by
    // WebCrypto, equal the pbkdf2 crate's keys.
    let opening = pfx::decode(&generated.pfx, Some("Pässword-2")).unwrap();
    let jobs = opening.pbkdf2_jobs();
    assert_eq!(jobs.len(), 2);
    let started = WebCryptoPbkdf2
        .start(opening.pbkdf2_password(), &jobs)
        .await;
    assert_eq!(started.len(), 2, "WebCrypto took both derivations");
    let derived = WebCryptoPbkdf2.finish(started).await;
    assert_eq!(derived.len(), 2);
    // Keys given are used as they are (a wrong one fails after the MAC
    // check: see core::inspect's tests): WebCrypto's open the bags.
    let mut budget = pfx::IterationBudget::new();
    let imported = opening.import(&mut budget, &derived).unwrap();
    assert_eq!(imported.leaf.unwrap().sha1_hex(), generated.info.sha1);

    // open_with: WebCrypto's keys open the file to the same certificate.
    let mut stages = Vec::new();
    let opened = inspect::open_with(
        &generated.pfx,
        Some("modern.pfx"),
        Some("Pässword-2"),
        &WebCryptoPbkdf2,
        &mut |s| stages.push(s),
    )
    .await
    .unwrap();
    match opened {
        Opened::Pfx { imported, .. } => {
            assert_eq!(imported.leaf.unwrap().sha1_hex(), generated.info.sha1)
        }
        Opened::Certificates(_) => panic!("a PFX opened as certificates"),
    }
    assert!(
        stages
            .iter()
            .any(|s| matches!(s, Stage::Deriving { keys: 2, .. }))
    );
    // A wrong password is refused as such.
    let wrong = inspect::open_with(
        &generated.pfx,
        Some("modern.pfx"),
        Some("not-it"),
        &WebCryptoPbkdf2,
        &mut |_| {},
    )
    .await;
    assert_eq!(wrong.err().unwrap().kind(), "wrong_password");
}
