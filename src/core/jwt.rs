//! The two JWTs the wizard signs with a certificate's private key:
//!
//! - the **client assertion** a service sends to the token endpoint instead
//!   of a secret (Microsoft identity platform "certificate credentials"):
//!   RS256 with header `x5t` (SHA-1 thumbprint) or PS256 with `x5t#S256`;
//!   claims `aud` (the token endpoint), `iss` = `sub` = the client ID, `jti`,
//!   `nbf`, `iat`, `exp` at most ten minutes later;
//! - the **proof of possession** for Graph `addKey` / `removeKey`: RS256,
//!   `aud` `00000002-0000-0000-c000-000000000000`, `iss` = the application's
//!   (or service principal's) **object ID**, `nbf` = now, `exp` = `nbf` + 10
//!   minutes.
//!
//! Header and payload are unpadded base64url JSON; padding makes Graph answer
//! `Authentication_MissingOrMalformed`.

use base64ct::{Base64UrlUnpadded, Encoding};
use rsa::RsaPrivateKey;
use serde::Serialize;
use sha2::Sha256;
use signature::{RandomizedSigner, SignatureEncoding, Signer};

use crate::core::thumbprint::{sha1_hex, x5t, x5t_s256};
use crate::core::time::UnixTime;
use crate::core::validate::is_guid;

/// Longest lifetime Entra is given for a signed assertion or proof: ten minutes.
pub const MAX_LIFETIME_SECS: u64 = 600;

/// The audience of the addKey/removeKey proof (the legacy Azure AD Graph
/// resource ID, as Microsoft's documentation requires).
pub const KEY_PROOF_AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";

/// How the client assertion is signed and which thumbprint its header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256; header `x5t` (SHA-1 thumbprint).
    Rs256,
    /// RSASSA-PSS with SHA-256 (salt 32 bytes); header `x5t#S256`.
    Ps256,
}

impl AssertionAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            AssertionAlg::Rs256 => "RS256",
            AssertionAlg::Ps256 => "PS256",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error(
        "A signed assertion may be valid for at most {max} seconds (10 minutes); \
         {requested} seconds were asked for."
    )]
    LifetimeTooLong { requested: u64, max: u64 },
    #[error("A signed assertion must be valid for at least one second.")]
    ZeroLifetime,
    #[error(
        "'{0}' is not an application (client) ID: use the Application (client) ID GUID \
         from the application's Overview page."
    )]
    BadClientId(String),
    #[error(
        "'{0}' is not an object ID: the addKey/removeKey proof is issued by the \
         application's Object ID (a GUID on its Overview page), not its client ID or name."
    )]
    BadObjectId(String),
    #[error(
        "The token endpoint (audience) is missing or not an https:// address: '{0}'. \
         It looks like https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token."
    )]
    BadAudience(String),
    #[error("The assertion needs a unique ID (jti); none was given.")]
    EmptyJti,
    #[error("The certificate is empty: load the certificate that belongs to this key.")]
    EmptyCertificate,
    #[error("Signing with the private key failed ({0}); check that it is a valid RSA key.")]
    Signing(String),
}

/// What the client assertion says, besides the key and certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionParams<'a> {
    pub alg: AssertionAlg,
    /// Application (client) ID: `iss` and `sub`.
    pub client_id: &'a str,
    /// The token endpoint the assertion is sent to: `aud`.
    pub token_endpoint: &'a str,
    /// `nbf` and `iat`.
    pub now: UnixTime,
    /// `exp` = `now` + this; 1 to [`MAX_LIFETIME_SECS`].
    pub lifetime_secs: u64,
    /// Unique token ID; make one with [`uuid_v4_from_bytes`].
    pub jti: String,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5t: Option<String>,
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    x5t_s256: Option<String>,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: &'a str,
    nbf: u64,
    iat: u64,
    exp: u64,
}

#[derive(Serialize)]
struct ProofClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    nbf: u64,
    iat: u64,
    exp: u64,
}

/// A random (version 4) UUID from 16 random bytes, lower-case
/// `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
pub fn uuid_v4_from_bytes(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::core::thumbprint::hex_upper(&b).to_ascii_lowercase();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Signs the client assertion a service uses instead of a client secret.
pub fn client_assertion(
    key: &RsaPrivateKey,
    cert_der: &[u8],
    params: &AssertionParams<'_>,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<String, JwtError> {
    if cert_der.is_empty() {
        return Err(JwtError::EmptyCertificate);
    }
    if !is_guid(params.client_id) {
        return Err(JwtError::BadClientId(params.client_id.to_string()));
    }
    let aud = params.token_endpoint.trim();
    if !aud.starts_with("https://") || aud.len() <= "https://".len() {
        return Err(JwtError::BadAudience(params.token_endpoint.to_string()));
    }
    if params.jti.trim().is_empty() {
        return Err(JwtError::EmptyJti);
    }
    match params.lifetime_secs {
        0 => return Err(JwtError::ZeroLifetime),
        n if n > MAX_LIFETIME_SECS => {
            return Err(JwtError::LifetimeTooLong {
                requested: n,
                max: MAX_LIFETIME_SECS,
            });
        }
        _ => {}
    }
    let header = match params.alg {
        AssertionAlg::Rs256 => Header {
            alg: "RS256",
            typ: "JWT",
            kid: None,
            x5t: Some(x5t(cert_der)),
            x5t_s256: None,
        },
        AssertionAlg::Ps256 => Header {
            alg: "PS256",
            typ: "JWT",
            kid: None,
            x5t: None,
            x5t_s256: Some(x5t_s256(cert_der)),
        },
    };
    let now = params.now.0;
    let claims = AssertionClaims {
        aud,
        iss: params.client_id,
        sub: params.client_id,
        jti: &params.jti,
        nbf: now,
        iat: now,
        exp: now + params.lifetime_secs,
    };
    let input = signing_input(&header, &claims)?;
    match params.alg {
        AssertionAlg::Rs256 => sign_rs256(key, input),
        AssertionAlg::Ps256 => sign_ps256(key, input, rng),
    }
}

/// Signs the proof of possession for Graph `addKey` / `removeKey`, with the
/// private key of one of the application's currently valid certificates.
///
/// `object_id` is the application's (or service principal's) object ID. The
/// header carries `x5t` and, like Microsoft's sample (`X509SigningCredentials`),
/// `kid` = the SHA-1 thumbprint in hex.
pub fn key_proof(
    key: &RsaPrivateKey,
    cert_der: &[u8],
    object_id: &str,
    now: UnixTime,
) -> Result<String, JwtError> {
    if cert_der.is_empty() {
        return Err(JwtError::EmptyCertificate);
    }
    if !is_guid(object_id) {
        return Err(JwtError::BadObjectId(object_id.to_string()));
    }
    let header = Header {
        alg: "RS256",
        typ: "JWT",
        kid: Some(sha1_hex(cert_der)),
        x5t: Some(x5t(cert_der)),
        x5t_s256: None,
    };
    let claims = ProofClaims {
        aud: KEY_PROOF_AUDIENCE,
        iss: object_id,
        nbf: now.0,
        iat: now.0,
        exp: now.0 + MAX_LIFETIME_SECS,
    };
    sign_rs256(key, signing_input(&header, &claims)?)
}

/// `base64url(header) . base64url(claims)`: the text that gets signed.
fn signing_input<C: Serialize>(header: &Header<'_>, claims: &C) -> Result<String, JwtError> {
    let json = |r: serde_json::Result<Vec<u8>>| r.map_err(|e| JwtError::Signing(e.to_string()));
    let h = json(serde_json::to_vec(header))?;
    let c = json(serde_json::to_vec(claims))?;
    Ok(format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(&h),
        Base64UrlUnpadded::encode_string(&c)
    ))
}

fn finish(mut input: String, signature: &[u8]) -> String {
    input.push('.');
    input.push_str(&Base64UrlUnpadded::encode_string(signature));
    input
}

fn sign_rs256(key: &RsaPrivateKey, input: String) -> Result<String, JwtError> {
    let sig = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone())
        .try_sign(input.as_bytes())
        .map_err(|e| JwtError::Signing(e.to_string()))?;
    Ok(finish(input, &sig.to_bytes()))
}

fn sign_ps256(
    key: &RsaPrivateKey,
    input: String,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<String, JwtError> {
    let sig = rsa::pss::BlindedSigningKey::<Sha256>::new(key.clone())
        .try_sign_with_rng(rng, input.as_bytes())
        .map_err(|e| JwtError::Signing(e.to_string()))?;
    Ok(finish(input, &sig.to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v4_sets_version_and_variant() {
        assert_eq!(
            uuid_v4_from_bytes([0xff; 16]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        assert_eq!(
            uuid_v4_from_bytes([0; 16]),
            "00000000-0000-4000-8000-000000000000"
        );
        let u = uuid_v4_from_bytes(*b"0123456789abcdef");
        assert!(is_guid(&u), "{u}");
        assert_eq!(u, "30313233-3435-4637-b839-616263646566");
    }

    #[test]
    fn alg_names() {
        assert_eq!(AssertionAlg::Rs256.as_str(), "RS256");
        assert_eq!(AssertionAlg::Ps256.as_str(), "PS256");
    }
}
