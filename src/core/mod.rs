//! The local signing core: pure Rust with no browser dependency. The clock and
//! randomness come in as arguments, since `SystemTime::now()` panics in wasm.

pub mod aadsts;
pub mod certificate;
pub mod credential_expiry;
pub mod generate;
pub mod inspect;
pub mod jwt;
pub mod key;
pub mod key_credential;
pub mod keygen;
pub mod password;
pub mod pfx;
pub mod thumbprint;
pub mod time;
pub mod tools;
pub mod validate;
