//! A dropped .cer/.crt/.pem (DER or PEM, one or several certificates), and
//! what Inspect shows of each.

use entra_wizard::core::certificate::warnings;
use entra_wizard::core::inspect::{self, Opened};
use entra_wizard::core::key_credential::KeyCredential;
use entra_wizard_fuzz::NOW;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(Opened::Certificates(certs)) = inspect::open(data, "dropped.pem", None) else {
            return;
        };
        for cert in certs {
            let _ = cert.sha1_hex();
            let _ = cert.public_key_der();
            let _ = cert.to_pem();
            if let Ok(info) = cert.info() {
                let _ = warnings(&info, NOW);
            }
            if let Ok(credential) = KeyCredential::for_certificate(&cert) {
                let _ = credential.thumbprint();
                let _ = credential.status(NOW);
            }
        }
    });
}
