//! Building the page with trunk, and serving `dist/` the way any static web
//! server would (plus an SPA fallback to index.html).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::process::run;
use crate::tools::Toolchain;

pub fn dist(root: &Path) -> PathBuf {
    root.join("dist")
}

/// `trunk build`, release (size profile + wasm-opt -Oz) unless `dev`; then
/// checks that the built page starts without inline script under its
/// Content-Security-Policy.
pub fn build(tc: &Toolchain, dev: bool) -> Result<(), String> {
    let mut c = tc.command("trunk");
    c.arg("build");
    if !dev {
        c.arg("--release");
    }
    run(c)?;
    let index = dist(&tc.root).join("index.html");
    let html = std::fs::read_to_string(&index).map_err(|e| format!("{}: {e}", index.display()))?;
    check_built_page(&html)?;
    // The page starts its crypto worker by these names (core::tools::WORKER_LOADER).
    for file in [
        "crypto-worker_loader.js",
        "crypto-worker.js",
        "crypto-worker_bg.wasm",
    ] {
        if !dist(&tc.root).join(file).is_file() {
            return Err(format!(
                "dist/{file} is missing: the page's crypto worker was not built"
            ));
        }
    }
    Ok(())
}

const CONNECT_SRC: &str = "connect-src 'self'";

fn check_built_page(html: &str) -> Result<(), String> {
    if !html.contains("http-equiv=\"Content-Security-Policy\"") || !html.contains(CONNECT_SRC) {
        return Err("dist/index.html has lost its Content-Security-Policy meta element".into());
    }
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap_or(html.len() - i)];
        if !tag.contains(" src=") {
            return Err(format!(
                "dist/index.html has an inline script, which its Content-Security-Policy refuses: {tag}"
            ));
        }
    }
    Ok(())
}

/// Lets the built page reach a local emulator at `url`: adds its origin to
/// `connect-src` in dist/index.html, as a deployment whose config.json names
/// the emulator must (README). Idempotent.
pub fn allow_emulator(dist: &Path, url: &str) -> Result<(), String> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index).map_err(|e| format!("{}: {e}", index.display()))?;
    std::fs::write(&index, with_connect_origin(&html, url))
        .map_err(|e| format!("{}: {e}", index.display()))
}

fn with_connect_origin(html: &str, url: &str) -> String {
    let origin = url.trim_end_matches('/');
    if html.contains(&format!(" {origin};")) || html.contains(&format!(" {origin} ")) {
        return html.to_string();
    }
    html.replacen(CONNECT_SRC, &format!("{CONNECT_SRC} {origin}"), 1)
}

/// Serves `dir` on `addr` from a background thread; returns the bound address.
/// The server lives as long as the process.
pub fn serve_static(dir: PathBuf, addr: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| format!("bad address {addr}: {e}"))?;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async move {
            let index = dir.join("index.html");
            let app = Router::new()
                .fallback_service(ServeDir::new(&dir).fallback(ServeFile::new(index)))
                // Always revalidate, so a rebuilt page is never served stale.
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                ))
                // frame-ancestors works only as a header (the page's meta
                // element carries the rest of the policy); X-Frame-Options
                // for browsers that predate it.
                .layer(SetResponseHeaderLayer::overriding(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("frame-ancestors 'none'"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ));
            match tokio::net::TcpListener::bind(addr).await {
                Ok(listener) => {
                    let _ = tx.send(listener.local_addr().map_err(|e| e.to_string()));
                    let _ = axum::serve(listener, app).await;
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("cannot listen on {addr}: {e}")));
                }
            }
        });
    });
    rx.recv().map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; connect-src 'self' https://graph.microsoft.com; object-src 'none'" /><script type="module" src="/boot.js"></script>"#;

    #[test]
    fn the_emulator_is_added_to_connect_src_once() {
        let once = with_connect_origin(PAGE, "http://127.0.0.1:8400/");
        assert!(
            once.contains("connect-src 'self' http://127.0.0.1:8400 https://graph.microsoft.com;")
        );
        assert_eq!(with_connect_origin(&once, "http://127.0.0.1:8400"), once);
        assert!(check_built_page(&once).is_ok());
    }

    #[test]
    fn an_inline_script_or_a_lost_policy_stops_the_build() {
        let inline = format!("{PAGE}<script type=\"module\">import init from '/x.js';</script>");
        assert!(
            check_built_page(&inline)
                .unwrap_err()
                .contains("inline script")
        );
        assert!(check_built_page("<html><script src=/a.js></script></html>").is_err());
    }
}
