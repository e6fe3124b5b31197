//! Reading a file the admin picked or dropped into the page's memory; it is
//! never uploaded anywhere.

use wasm_bindgen_futures::JsFuture;

pub async fn read(file: web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| "The file could not be read: choose it again.".to_string())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
