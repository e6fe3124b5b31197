//! `Retry-After` (delta-seconds or an HTTP date against `Date`) and the
//! retry decision on a response.

use entra_wizard::http::{HttpResponse, classify, retry_after_ms};
use entra_wizard_fuzz::{NOW, response, text};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let r = response(data);
        let _ = retry_after_ms(&r, NOW);
        let _ = classify(&r, true, NOW);
        let _ = classify(&r, false, NOW);
        // The whole input as the header's value.
        let r = HttpResponse {
            status: 429,
            headers: vec![("Retry-After".into(), text(data).into_owned())],
            body: Vec::new(),
        };
        let _ = retry_after_ms(&r, NOW);
    });
}
