//! RSA key generation behind a trait: natively (and as a fallback in the
//! browser) with the `rsa` crate; the page may use WebCrypto instead.

use serde::{Deserialize, Serialize};

use crate::core::key::RsaKey;

/// The RSA key sizes the wizards offer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeySize {
    #[default]
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl KeySize {
    pub const ALL: [KeySize; 3] = [KeySize::Rsa2048, KeySize::Rsa3072, KeySize::Rsa4096];

    pub fn bits(self) -> usize {
        match self {
            KeySize::Rsa2048 => 2048,
            KeySize::Rsa3072 => 3072,
            KeySize::Rsa4096 => 4096,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum KeygenError {
    #[error("The key could not be generated: {0}")]
    Failed(String),
}

/// Generates RSA keys. `async` because the browser's WebCrypto is.
#[allow(async_fn_in_trait)] // implementations need not be Send (WebCrypto is not)
pub trait KeyGenerator {
    async fn generate(&self, size: KeySize) -> Result<RsaKey, KeygenError>;
}

/// Pure-Rust key generation with the operating system's randomness.
#[derive(Clone, Copy, Debug, Default)]
pub struct RsaKeyGenerator;

impl RsaKeyGenerator {
    /// The synchronous form, for callers that are not async.
    pub fn generate_blocking(&self, size: KeySize) -> Result<RsaKey, KeygenError> {
        generate_with(&mut rand_core::OsRng, size)
    }
}

impl KeyGenerator for RsaKeyGenerator {
    async fn generate(&self, size: KeySize) -> Result<RsaKey, KeygenError> {
        self.generate_blocking(size)
    }
}

/// Generates a key from the given randomness (e = 65537).
pub fn generate_with(
    rng: &mut impl rand_core::CryptoRngCore,
    size: KeySize,
) -> Result<RsaKey, KeygenError> {
    rsa::RsaPrivateKey::new(rng, size.bits())
        .map(RsaKey::from)
        .map_err(|e| KeygenError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_have_their_bits() {
        let bits: Vec<_> = KeySize::ALL.iter().map(|s| s.bits()).collect();
        assert_eq!(bits, [2048, 3072, 4096]);
        assert_eq!(KeySize::default(), KeySize::Rsa2048);
    }

    #[test]
    fn native_generator_makes_a_2048_bit_key() {
        // The native future is ready at once: poll it a single time.
        let fut = RsaKeyGenerator.generate(KeySize::Rsa2048);
        let mut fut = core::pin::pin!(fut);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        let core::task::Poll::Ready(key) = fut.as_mut().poll(&mut cx) else {
            panic!("the native generator should finish in one poll");
        };
        let key = key.unwrap();
        assert_eq!(key.bits(), 2048);
        assert!(key.rsa().validate().is_ok());
    }
}
