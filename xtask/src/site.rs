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

/// `trunk build`, release (size profile + wasm-opt -Oz) unless `dev`.
pub fn build(tc: &Toolchain, dev: bool) -> Result<(), String> {
    let mut c = tc.command("trunk");
    c.arg("build");
    if !dev {
        c.arg("--release");
    }
    run(c)
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
