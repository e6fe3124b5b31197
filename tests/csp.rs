//! The Content-Security-Policy that `index.html` carries is the one
//! `cloud::content_security_policy` defines from the national clouds'
//! endpoints, and the page is started without inline script.

use entra_wizard::cloud::{Cloud, content_security_policy};

const INDEX: &str = include_str!("../index.html");

fn meta_policy() -> &'static str {
    let marker = r#"http-equiv="Content-Security-Policy" content=""#;
    let start = INDEX
        .find(marker)
        .expect("index.html has a CSP meta element")
        + marker.len();
    let len = INDEX[start..]
        .find('"')
        .expect("the content attribute ends");
    &INDEX[start..start + len]
}

#[test]
fn index_html_carries_the_policy_built_from_the_clouds() {
    assert_eq!(meta_policy(), content_security_policy(None));
}

#[test]
fn every_national_cloud_host_is_allowed_and_nothing_inline() {
    let policy = content_security_policy(None);
    for cloud in Cloud::PUBLIC {
        for origin in cloud.connect_src() {
            assert!(policy.contains(&format!(" {origin}")), "{origin} missing");
        }
    }
    assert!(!policy.contains("unsafe-inline"));
    assert!(
        !policy.contains(" 'unsafe-eval'"),
        "only 'wasm-unsafe-eval'"
    );
    assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval';"));
    assert!(policy.contains("object-src 'none'"));
    assert!(policy.contains("base-uri 'none'"));
    // The emulator is allowed only when asked for.
    assert!(!policy.contains("127.0.0.1"));
    let local = content_security_policy(Some("http://127.0.0.1:8400/"));
    assert!(local.contains("connect-src 'self' https://login.microsoftonline.com"));
    assert!(local.contains(" http://127.0.0.1:8400;"));
}

#[test]
fn the_page_starts_from_an_external_script() {
    // The source page has no <script> of its own: trunk writes the one that
    // starts the wasm from Trunk.toml's pattern_script, which must load
    // boot.js from the page's origin rather than carry code inline.
    assert!(!INDEX.contains("<script"), "index.html carries a script");
    let trunk = include_str!("../Trunk.toml");
    let pattern = trunk
        .lines()
        .find_map(|l| l.strip_prefix("pattern_script = "))
        .expect("Trunk.toml sets pattern_script");
    assert!(pattern.contains(r#"src=\"{base}boot.js\""#), "{pattern}");
    assert!(pattern.contains("></script>"), "nothing inline: {pattern}");
}

#[test]
fn the_crypto_worker_is_allowed_and_kept_for_offline_use() {
    use entra_wizard::core::tools::{WORKER_BIN, WORKER_LOADER};
    // The page starts its crypto worker from its own origin.
    assert!(content_security_policy(None).contains("worker-src 'self';"));
    // trunk builds it as a worker with a loader of that name...
    let link = INDEX
        .lines()
        .find(|l| l.contains(&format!(r#"data-bin="{WORKER_BIN}""#)))
        .expect("index.html builds the crypto worker");
    assert!(link.contains(r#"data-type="worker""#), "{link}");
    assert!(link.contains("data-loader-shim"), "{link}");
    assert_eq!(WORKER_LOADER, format!("{WORKER_BIN}_loader.js"));
    // ...which the page's script tag names, for sw.js to keep.
    let trunk = include_str!("../Trunk.toml");
    assert!(
        trunk.contains(&format!(r#"data-worker=\"{{base}}{WORKER_LOADER}\""#)),
        "Trunk.toml's pattern_script names the worker's loader"
    );
    assert!(include_str!("../public/sw.js").contains("data-worker"));
}
