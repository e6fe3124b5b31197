//! The redirect back from Entra (the page's URL with the code or an error
//! in its fragment or query).

use entra_wizard::auth::pkce;
use entra_wizard_fuzz::{pending_sign_in, text};

fn main() {
    let pending = pending_sign_in();
    afl::fuzz!(|data: &[u8]| {
        let url = text(data);
        let url: &str = &url;
        let _ = pkce::complete(&pending, url);
    });
}
