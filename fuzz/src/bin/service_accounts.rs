//! A "Service accounts" file being imported. What imports must export and
//! import again unchanged.

use entra_wizard::flows::connection;
use entra_wizard_fuzz::text;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let json = text(data);
        let json: &str = &json;
        if let Ok(records) = connection::import(json) {
            let again = connection::import(&connection::export(&records));
            assert_eq!(again.as_ref(), Ok(&records));
        }
    });
}
