//! Helpers shared by the fuzz targets in `src/bin/` (one per parser that
//! takes untrusted input). Each target calls the crate's public API the way
//! the page does and must never panic; the errors themselves are fine.

use std::borrow::Cow;

use entra_wizard::auth::pkce::{PendingSignIn, SignInConfig};
use entra_wizard::cloud::Cloud;
use entra_wizard::core::time::UnixTime;
use entra_wizard::http::HttpResponse;

/// A fixed "now" (2025-01-31T12:00:00Z) so that runs are reproducible.
pub const NOW: UnixTime = UnixTime(1_738_324_800);

/// The input as text, as a browser hands it over: `FileReader.readAsText`
/// and `TextDecoder` replace invalid UTF-8 with U+FFFD, so any byte the
/// fuzzer flips above 0x7F becomes a three-byte character — what finds
/// slicing inside a character.
pub fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// An HTTP response read from the input: `status\n` then `Name: value`
/// header lines, an empty line, then the body. Whatever does not fit this
/// shape becomes a 400 with the whole input as its body.
pub fn response(data: &[u8]) -> HttpResponse {
    let fallback = || HttpResponse {
        status: 400,
        headers: Vec::new(),
        body: data.to_vec(),
    };
    let Some(split) = data.windows(2).position(|w| w == b"\n\n") else {
        return fallback();
    };
    let Ok(head) = core::str::from_utf8(&data[..split]) else {
        return fallback();
    };
    let mut lines = head.lines();
    let Some(status) = lines.next().and_then(|s| s.trim().parse().ok()) else {
        return fallback();
    };
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: data[split + 2..].to_vec(),
    }
}

/// The sign-in the page would have started before the redirect back.
pub fn pending_sign_in() -> PendingSignIn {
    PendingSignIn {
        state: "c3RhdGUtc3RhdGUtc3RhdGUtc3RhdGUtc3RhdGU".into(),
        nonce: "bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2U".into(),
        code_verifier: "dmVyaWZpZXItdmVyaWZpZXItdmVyaWZpZXItdmVy".into(),
        scopes: vec![
            "openid".into(),
            "https://graph.microsoft.com/.default".into(),
        ],
        config: SignInConfig {
            cloud: Cloud::Global,
            tenant: "organizations".into(),
            client_id: "3c9f1e2a-7d4b-4a8e-b6c5-1f0e9d8c7b6a".into(),
            redirect_uri: "https://wizard.contoso.com/".into(),
        },
    }
}
