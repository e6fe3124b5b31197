//! Certificate thumbprints in the three spellings Entra uses.

use base64ct::{Base64UrlUnpadded, Encoding};
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// SHA-1 of the certificate's DER, upper-case hex: what the Entra portal shows
/// and what `customKeyIdentifier` holds.
pub fn sha1_hex(cert_der: &[u8]) -> String {
    hex_upper(&Sha1::digest(cert_der))
}

/// SHA-256 of the certificate's DER, upper-case hex.
pub fn sha256_hex(cert_der: &[u8]) -> String {
    hex_upper(&Sha256::digest(cert_der))
}

/// The JOSE `x5t` header: unpadded base64url of the SHA-1 thumbprint.
pub fn x5t(cert_der: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(&Sha1::digest(cert_der))
}

/// The JOSE `x5t#S256` header: unpadded base64url of the SHA-256 thumbprint.
pub fn x5t_s256(cert_der: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(cert_der))
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    use core::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // SHA-1("abc") and SHA-256("abc") from FIPS 180-2.
        assert_eq!(sha1_hex(b"abc"), "A9993E364706816ABA3E25717850C26C9CD0D89D");
        assert_eq!(
            sha256_hex(b"abc"),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        );
        assert_eq!(x5t(b"abc"), "qZk-NkcGgWq6PiVxeFDCbJzQ2J0");
        assert_eq!(
            x5t_s256(b"abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}
