//! The token endpoint's answer (JSON with the access, refresh and ID
//! tokens) and the account read from the ID token.

use entra_wizard::auth::tokens;
use entra_wizard::http::HttpResponse;
use entra_wizard_fuzz::{NOW, pending_sign_in, text};

fn main() {
    let pending = pending_sign_in();
    afl::fuzz!(|data: &[u8]| {
        let response = HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: data.to_vec(),
        };
        if let Ok(set) = tokens::parse_response(&response, NOW) {
            let _ = tokens::account(&set, &pending);
        }
        let _ = tokens::jwt_claims(&text(data));
    });
}
