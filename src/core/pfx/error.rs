//! Why a PFX could not be read, written or used — each with a sentence that
//! tells the admin what to do next and a stable machine-readable kind.

use crate::core::certificate::KeyKind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum PfxError {
    #[error("The password is wrong. Type the password that was set when the PFX was exported.")]
    WrongPassword,
    #[error(
        "This is a PEM certificate — a public certificate without its private key. Export the PFX (.pfx/.p12) with its private key."
    )]
    PemCertificate,
    #[error(
        "This is a PEM private key, not a PFX. Export the PFX (.pfx/.p12), which holds the certificate and its private key together — for example `openssl pkcs12 -export -inkey key.pem -in cert.pem -out cert.pfx`."
    )]
    PemPrivateKey,
    #[error(
        "This is a DER private key without its certificate. Export the PFX (.pfx/.p12), which holds the certificate and its private key together."
    )]
    DerPrivateKey,
    #[error(
        "This is a public certificate (.cer/.crt) without its private key. Export the PFX (.pfx/.p12) with its private key."
    )]
    DerCertificate,
    #[error(
        "This file is not a PFX/PKCS#12 file. Choose the .pfx or .p12 file that was exported with the private key."
    )]
    NotPkcs12,
    #[error(
        "The PFX file is truncated (it ends early). Copy or download it again, as a binary file."
    )]
    Truncated,
    #[error("The PFX file is damaged ({0}). Export it again.")]
    Corrupt(String),
    #[error(
        "The PFX uses {name} ({oid}), which this page does not support. Export it again with AES-256 or 3DES encryption."
    )]
    UnsupportedAlgorithm { name: String, oid: String },
    #[error(
        "The PFX asks for {iterations} password iterations, far more than any real PFX uses; it was refused so that it cannot freeze the page."
    )]
    TooManyIterations { iterations: u64 },
    #[error(
        "The PFX holds no private key. Export it again with the private key (\"Yes, export the private key\" in Windows)."
    )]
    NoPrivateKey,
    #[error(
        "The PFX holds a private key but no certificate. Export it again with its certificate."
    )]
    NoCertificate,
    #[error(
        "The private key in the PFX does not belong to its certificate. Export the certificate together with its own private key."
    )]
    KeyMismatch,
    #[error(
        "Entra accepts only RSA certificates, and this one has an {kind} key. Create or export an RSA certificate (2048 bits or more)."
    )]
    NotRsa { kind: KeyKind },
    #[error("Choose a password for the PFX: an empty password leaves the private key unprotected.")]
    EmptyPassword,
    #[error("The PFX could not be written: {0}")]
    Export(String),
}

impl PfxError {
    /// A stable machine-readable name for the error.
    pub fn kind(&self) -> &'static str {
        match self {
            PfxError::WrongPassword => "wrong_password",
            PfxError::PemCertificate => "pem_certificate",
            PfxError::PemPrivateKey => "pem_private_key",
            PfxError::DerPrivateKey => "der_private_key",
            PfxError::DerCertificate => "der_certificate",
            PfxError::NotPkcs12 => "not_pkcs12",
            PfxError::Truncated => "truncated",
            PfxError::Corrupt(_) => "corrupt",
            PfxError::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            PfxError::TooManyIterations { .. } => "too_many_iterations",
            PfxError::NoPrivateKey => "no_private_key",
            PfxError::NoCertificate => "no_certificate",
            PfxError::KeyMismatch => "key_mismatch",
            PfxError::NotRsa { .. } => "not_rsa",
            PfxError::EmptyPassword => "empty_password",
            PfxError::Export(_) => "export_failed",
        }
    }

    pub(crate) fn corrupt(what: impl core::fmt::Display) -> Self {
        PfxError::Corrupt(what.to_string())
    }

    pub(crate) fn unsupported(oid: &const_oid::ObjectIdentifier) -> Self {
        PfxError::UnsupportedAlgorithm {
            name: super::algorithm_name(oid),
            oid: oid.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_distinct_and_messages_say_what_to_do() {
        let all = [
            PfxError::WrongPassword,
            PfxError::PemCertificate,
            PfxError::PemPrivateKey,
            PfxError::DerPrivateKey,
            PfxError::DerCertificate,
            PfxError::NotPkcs12,
            PfxError::Truncated,
            PfxError::Corrupt("x".into()),
            PfxError::UnsupportedAlgorithm {
                name: "RC4".into(),
                oid: "1.2".into(),
            },
            PfxError::TooManyIterations { iterations: 1 },
            PfxError::NoPrivateKey,
            PfxError::NoCertificate,
            PfxError::KeyMismatch,
            PfxError::NotRsa {
                kind: KeyKind::Ec {
                    curve: "P-256".into(),
                },
            },
            PfxError::EmptyPassword,
            PfxError::Export("x".into()),
        ];
        let kinds: std::collections::BTreeSet<_> = all.iter().map(PfxError::kind).collect();
        assert_eq!(kinds.len(), all.len());
        assert!(
            PfxError::PemCertificate
                .to_string()
                .starts_with("This is a PEM certificate — a public certificate without its private key. Export the PFX (.pfx/.p12) with its private key.")
        );
        let not_rsa = all[13].to_string();
        assert!(
            not_rsa.starts_with("Entra accepts only RSA certificates"),
            "{not_rsa}"
        );
        assert!(not_rsa.contains("EC-P-256"), "{not_rsa}");
    }
}
