//! The `change` handler of a file input: the chosen file's name and bytes,
//! read in the page (never uploaded).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::ui::error::UiError;
use crate::web::file;

/// A picked file: its name and bytes.
pub type Picked = Option<(String, Vec<u8>)>;

/// Reads the chosen file into `picked`, or says why it could not.
pub fn on_pick(
    picked: RwSignal<Picked>,
    error: RwSignal<Option<UiError>>,
) -> impl Fn(leptos::ev::Event) + Copy + 'static {
    move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(f) = file::chosen(&input) else {
            picked.set(None);
            return;
        };
        spawn_local(async move {
            let name = f.name();
            match file::read(f).await {
                Ok(bytes) => picked.set(Some((name, bytes))),
                Err(_) => error.set(Some(UiError::FileUnreadable)),
            }
        });
    }
}
