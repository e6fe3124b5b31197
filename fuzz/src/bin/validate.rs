//! What the admin types into the wizards: tenant, application ID, portal
//! address, client secret, PFX password.

use entra_wizard::core::{password, validate};
use entra_wizard_fuzz::text;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let s = text(data);
        let s: &str = &s;
        let _ = validate::is_guid(s);
        if let Ok(t) = validate::tenant_id(s) {
            let _ = t.as_str();
        }
        let _ = validate::application_id(s);
        if let Ok(address) = validate::portal_address(s) {
            let _ = address.redirect_uri();
        }
        let _ = validate::client_secret(s);
        let _ = password::strength(s);
        let _ = password::hint(s);
        let _ = password::confirm(s, s);
    });
}
