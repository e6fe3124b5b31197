//! PKCS#12 (PFX/P12) files: import (read any common PFX, with or without a
//! password) and export (write one that every platform imports).

mod ber;
mod error;
mod export;
mod import;
mod pbe;

pub use error::PfxError;
pub use export::{COMPATIBLE_ITERATIONS, ExportMode, MODERN_ITERATIONS, export};
pub use import::{Imported, ImportedKey, Opening, decode, import, import_with_budget};
pub use pbe::{DerivedKeys, IterationBudget, MAX_ITERATIONS, MAX_TOTAL_ITERATIONS, Pbkdf2Job, Prf};

use const_oid::ObjectIdentifier;

/// The object identifiers PKCS#12 files use.
pub(crate) mod oids {
    use const_oid::ObjectIdentifier as Oid;

    pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
    pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    pub const ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");
    pub const ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.6");

    pub const KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.1");
    pub const SHROUDED_KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.2");
    pub const CERT_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.3");
    pub const SAFE_CONTENTS_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.6");
    pub const X509_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.22.1");

    pub const FRIENDLY_NAME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.20");
    pub const LOCAL_KEY_ID: Oid = Oid::new_unwrap("1.2.840.113549.1.9.21");

    pub const PBE_SHA1_RC4_128: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.1");
    pub const PBE_SHA1_RC4_40: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.2");
    pub const PBE_SHA1_3DES: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.3");
    pub const PBE_SHA1_2DES: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.4");
    pub const PBE_SHA1_RC2_128: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.5");
    pub const PBE_SHA1_RC2_40: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.6");

    pub const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
    pub const PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
    pub const PBMAC1: Oid = Oid::new_unwrap("1.2.840.113549.1.5.14");
    pub const HMAC_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.2.7");
    pub const HMAC_SHA224: Oid = Oid::new_unwrap("1.2.840.113549.2.8");
    pub const HMAC_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.2.9");
    pub const HMAC_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.2.10");
    pub const HMAC_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.2.11");
    pub const AES_128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
    pub const AES_192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
    pub const AES_256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");

    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    pub const SHA224: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.4");
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
}

/// A readable name for an algorithm a PFX may name.
pub(crate) fn algorithm_name(oid: &ObjectIdentifier) -> String {
    let name = match *oid {
        oids::PBE_SHA1_RC4_128 => "pbeWithSHAAnd128BitRC4",
        oids::PBE_SHA1_RC4_40 => "pbeWithSHAAnd40BitRC4",
        oids::PBE_SHA1_3DES => "pbeWithSHAAnd3-KeyTripleDES-CBC",
        oids::PBE_SHA1_2DES => "pbeWithSHAAnd2-KeyTripleDES-CBC",
        oids::PBE_SHA1_RC2_128 => "pbeWithSHAAnd128BitRC2-CBC",
        oids::PBE_SHA1_RC2_40 => "pbewithSHAAnd40BitRC2-CBC",
        oids::PBMAC1 => "PBMAC1",
        oids::ENVELOPED_DATA => "envelopedData (certificate-based encryption)",
        oids::SIGNED_DATA => "signedData (public-key integrity mode)",
        oids::AES_128_CBC => "AES-128-CBC",
        oids::AES_192_CBC => "AES-192-CBC",
        oids::AES_256_CBC => "AES-256-CBC",
        oids::HMAC_SHA1 => "HMAC-SHA1",
        oids::HMAC_SHA224 => "HMAC-SHA224",
        oids::HMAC_SHA256 => "HMAC-SHA256",
        oids::HMAC_SHA384 => "HMAC-SHA384",
        oids::HMAC_SHA512 => "HMAC-SHA512",
        oids::SHA1 => "SHA-1",
        oids::SHA224 => "SHA-224",
        oids::SHA256 => "SHA-256",
        oids::SHA384 => "SHA-384",
        oids::SHA512 => "SHA-512",
        _ => return crate::core::certificate::algorithm_name(oid),
    };
    name.to_owned()
}
