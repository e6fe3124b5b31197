//! A PKCS#8 private key (as found in a PFX key bag).

use entra_wizard::core::key::RsaKey;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Ok(key) = RsaKey::from_pkcs8_der(data) {
            let _ = key.bits();
            let _ = key.public_key_der();
            let _ = key.to_pkcs8_der();
        }
    });
}
