//! Reading a file the admin picked or dropped into the page's memory
//! (gloo-file); it is never uploaded anywhere.

/// The file could not be read (moved, removed, or the browser refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("The file could not be read: choose it again.")]
pub struct ReadError;

pub async fn read(file: web_sys::File) -> Result<Vec<u8>, ReadError> {
    gloo_file::futures::read_as_bytes(&gloo_file::File::from(file))
        .await
        .map_err(|_| ReadError)
}

/// The first file an `<input type="file">` holds, and its name.
pub fn chosen(input: &web_sys::HtmlInputElement) -> Option<web_sys::File> {
    input.files().and_then(|l| l.get(0))
}
