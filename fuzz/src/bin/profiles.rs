//! A custom permission profile (a file or pasted JSON).

use entra_wizard::profiles;
use entra_wizard_fuzz::text;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let json = text(data);
        let json: &str = &json;
        let mut custom = Vec::new();
        if profiles::add_custom(&mut custom, json).is_ok() {
            for p in &custom {
                let _ = p.needs_subscription();
                let _ = p.grants_app_roles();
                let _ = p.built_in_roles();
            }
        }
    });
}
