//! The page's crypto worker: a second wasm, run as a Web Worker that the
//! page starts the first time it makes or opens a certificate
//! (`web::crypto_worker`). trunk builds it (`data-type="worker"` in
//! index.html) next to the page, outside the first load.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    entra_wizard::web::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "crypto-worker is the web page's Web Worker, built for wasm32: run `cargo xtask serve` to build the page."
    );
    std::process::exit(2);
}
