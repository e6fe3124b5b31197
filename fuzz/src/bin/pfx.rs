//! A dropped .pfx/.p12: BER normalisation, the MAC, the bags, the key and
//! its certificate — as Inspect and the wizards open it (no password, then
//! the empty one).

use entra_wizard::core::certificate::warnings;
use entra_wizard::core::inspect;
use entra_wizard_fuzz::NOW;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok((imported, _)) = inspect::open_pfx(data, None) else {
            return;
        };
        let _ = imported.usable_for_entra();
        let _ = imported.key.as_ref().map(|k| k.kind());
        for cert in imported.leaf.iter().chain(&imported.others) {
            if let Ok(info) = cert.info() {
                let _ = warnings(&info, NOW);
            }
        }
    });
}
