//! The page's entry point: trunk builds this binary for wasm32.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(entra_wizard::ui::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "entra-wizard is a web page built for wasm32: run `cargo xtask serve` to build and open it."
    );
    std::process::exit(2);
}
