//! The local signing core: pure Rust with no browser dependency. The clock and
//! randomness come in as arguments, since `SystemTime::now()` panics in wasm.

pub mod thumbprint;
pub mod time;
pub mod certificate;
pub mod validate;
pub mod aadsts;
pub mod jwt;
pub mod credential_expiry;
pub mod key;
pub mod keygen;
pub mod password;
pub mod key_credential;
pub mod pfx;
pub mod generate;
pub mod inspect;
