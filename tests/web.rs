//! Tests that need a real browser: run by `cargo xtask test` through
//! wasm-bindgen-test-runner in headless Chromium.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn shell_mounts_with_its_navigation() {
    let doc = web_sys::window().unwrap().document().unwrap();
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
