//! An RSA private key, the only kind Entra accepts for application
//! credentials. The key material is zeroized when dropped (the `rsa` crate
//! does that for `RsaPrivateKey`).

use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use zeroize::Zeroizing;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("The private key could not be read ({0}). It must be an unencrypted PKCS#8 RSA key.")]
    Malformed(String),
    #[error("The private key is not an RSA key. Entra accepts only RSA keys for certificates.")]
    NotRsa,
    #[error("The private key could not be encoded: {0}")]
    Encode(String),
}

impl KeyError {
    pub fn kind(&self) -> &'static str {
        match self {
            KeyError::Malformed(_) => "malformed_key",
            KeyError::NotRsa => "not_rsa",
            KeyError::Encode(_) => "key_encoding",
        }
    }
}

/// An RSA private key.
#[derive(Clone)]
pub struct RsaKey {
    inner: rsa::RsaPrivateKey,
}

impl core::fmt::Debug for RsaKey {
    /// Never prints key material.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RsaKey(RSA-{})", self.bits())
    }
}

impl PartialEq for RsaKey {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl Eq for RsaKey {}

impl From<rsa::RsaPrivateKey> for RsaKey {
    fn from(inner: rsa::RsaPrivateKey) -> Self {
        Self { inner }
    }
}

impl RsaKey {
    /// Reads an unencrypted PKCS#8 `PrivateKeyInfo` holding an RSA key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info =
            pkcs8::PrivateKeyInfo::try_from(der).map_err(|e| KeyError::Malformed(e.to_string()))?;
        if info.algorithm.oid != crate::core::certificate::RSA_ENCRYPTION {
            return Err(KeyError::NotRsa);
        }
        let inner = rsa::RsaPrivateKey::from_pkcs8_der(der)
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        inner
            .validate()
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        Ok(Self { inner })
    }

    /// The key as an unencrypted PKCS#8 `PrivateKeyInfo`, wiped on drop.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        let doc = self
            .inner
            .to_pkcs8_der()
            .expect("encoding an in-memory RSA key cannot fail");
        Zeroizing::new(doc.as_bytes().to_vec())
    }

    /// The modulus size in bits (2048, 3072, 4096, ...).
    pub fn bits(&self) -> usize {
        use rsa::traits::PublicKeyParts;
        self.inner.n().bits()
    }

    /// The public key as a DER `SubjectPublicKeyInfo`.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.inner
            .to_public_key()
            .to_public_key_der()
            .expect("encoding an in-memory RSA public key cannot fail")
            .into_vec()
    }

    pub fn rsa(&self) -> &rsa::RsaPrivateKey {
        &self.inner
    }

    /// Does this key belong to the certificate?
    pub fn matches(&self, cert: &crate::core::certificate::Certificate) -> bool {
        cert.public_key_der() == self.public_key_der()
    }
}
