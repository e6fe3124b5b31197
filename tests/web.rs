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
