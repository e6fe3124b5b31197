//! An Entra error message pasted by the admin (AADSTS decoder).

use entra_wizard_fuzz::text;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let text = text(data);
        let text: &str = &text;
        if let Ok(error) = entra_wizard::core::aadsts::parse(text) {
            let _ = error.advice();
        }
    });
}
