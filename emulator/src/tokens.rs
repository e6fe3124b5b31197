//! The emulator's security token service keys: signs access, ID and refresh
//! tokens (RS256, `kid` = `x5t` like Entra) and verifies them for Graph and ARM.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::certs::{self, CertInfo};

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub cert_der: Vec<u8>,
    pub info: CertInfo,
}

impl TokenKeys {
    pub fn new() -> Self {
        let key: RsaPrivateKey = certs::private_key(certs::SIGNING_KEY_PEM);
        // 2020-01-01 .. 2040-01-01: the emulator's signing certificate.
        let cert_der = certs::self_signed(
            &key,
            "accounts.emulator.local",
            1_577_836_800,
            2_208_988_800,
            1,
        );
        let info = certs::parse_certificate(&cert_der).expect("own certificate parses");
        let der = key.to_pkcs1_der().expect("key encodes");
        let (n, e) = certs::rsa_components(&info.public_key);
        TokenKeys {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding: DecodingKey::from_rsa_components(&n, &e).expect("valid components"),
            cert_der,
            info,
        }
    }

    pub fn kid(&self) -> String {
        self.info.x5t()
    }

    pub fn sign<T: Serialize>(&self, claims: &T) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".into());
        header.kid = Some(self.kid());
        header.x5t = Some(self.kid());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("RS256 signing works")
    }

    /// Verifies the signature only; the caller checks expiry (against the
    /// emulated clock) and audience.
    pub fn verify<T: DeserializeOwned>(&self, token: &str) -> Option<T> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<T>(token, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

impl Default for TokenKeys {
    fn default() -> Self {
        Self::new()
    }
}

/// Claims of an access token (v1.0 shape, as Graph and ARM receive them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub tid: String,
    pub oid: String,
    pub sub: String,
    pub appid: String,
    pub idtyp: String,
    pub ver: String,
    pub uti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wids: Vec<String>,
}

impl AccessClaims {
    pub fn is_app(&self) -> bool {
        self.idtyp == "app"
    }
    pub fn has_scope(&self, any_of: &[&str]) -> bool {
        self.scp
            .as_deref()
            .map(|s| {
                s.split(' ')
                    .any(|have| any_of.iter().any(|want| want.eq_ignore_ascii_case(have)))
            })
            .unwrap_or(false)
    }
    pub fn has_role(&self, any_of: &[&str]) -> bool {
        self.roles
            .iter()
            .any(|have| any_of.iter().any(|want| want.eq_ignore_ascii_case(have)))
    }
}

/// Claims of the emulator's refresh tokens (opaque to clients).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub typ: String,
    pub tid: String,
    pub oid: String,
    pub client_id: String,
    /// Issued to a SPA redirect: may only be redeemed cross-origin.
    pub spa: bool,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let keys = TokenKeys::new();
        let claims = RefreshClaims {
            typ: "refresh".into(),
            tid: "t".into(),
            oid: "o".into(),
            client_id: "c".into(),
            spa: true,
            iat: 1,
            exp: 2,
            jti: "j".into(),
        };
        let token = keys.sign(&claims);
        let back: RefreshClaims = keys.verify(&token).unwrap();
        assert_eq!(back.oid, "o");
        let mut tampered = token.clone();
        tampered.push('x');
        assert!(keys.verify::<RefreshClaims>(&tampered).is_none());
    }
}
