//! The page's second wasm module: the pages that call Microsoft's APIs
//! (`ui::pages`), loaded by the shell on the first visit to one of them
//! (`ui::bridge`), so that they are not in the first load. trunk builds it
//! next to the page (`data-type="worker"` in index.html only keeps it out of
//! the page's script tag; it runs in the page).

#[cfg(target_arch = "wasm32")]
mod exports {
    use wasm_bindgen::prelude::*;

    /// The wire version the shell compares with its own.
    #[wasm_bindgen]
    pub fn protocol() -> u32 {
        entra_wizard::ui::bridge::PROTOCOL
    }

    #[wasm_bindgen]
    pub fn mount(
        slot: web_sys::HtmlElement,
        host: js_sys::Object,
        shared: &str,
    ) -> Result<(), JsValue> {
        entra_wizard::ui::pages::mount(slot, host, shared).map_err(|e| JsValue::from_str(&e))
    }

    #[wasm_bindgen]
    pub fn share(shared: &str) {
        entra_wizard::ui::pages::share(shared);
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "pages is part of the web page, built for wasm32: run `cargo xtask serve` to build the page."
    );
    std::process::exit(2);
}
