//! Independent verification of the JWTs `core::jwt` signs: decoded and checked
//! with the `jsonwebtoken` crate and thumbprints recomputed with `sha1`/`sha2`
//! here, so a bug shared by our encoder and our own reader cannot hide.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64ct::{Base64UrlUnpadded, Encoding};
use der::Encode;
use entra_wizard::core::jwt::{
    AssertionAlg, AssertionParams, JwtError, KEY_PROOF_AUDIENCE, MAX_LIFETIME_SECS,
    client_assertion, key_proof, uuid_v4_from_bytes,
};
use entra_wizard::core::time::UnixTime;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use rand_core::{OsRng, RngCore};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPublicKey;
use serde::Deserialize;
use sha1::{Digest, Sha1};
use sha2::Sha256;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;

const CLIENT_ID: &str = "3f1c2a9e-6b7d-4e8f-9a0b-1c2d3e4f5a6b";
const OBJECT_ID: &str = "bb77f42f-dacb-4ece-b3e6-285e63c24d52";
const TOKEN_ENDPOINT: &str =
    "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token";

struct Fixture {
    key: RsaPrivateKey,
    cert_der: Vec<u8>,
}

/// One RSA key and a self-signed certificate for it, made with x509-cert's
/// builder (not with the code under test).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = RsaPrivateKey::new(&mut OsRng, 2048).expect("RSA key");
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
        let spki = SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).expect("spki");
        let cert = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(0x5eed_u32),
            Validity::from_now(Duration::from_secs(365 * 86_400)).expect("validity"),
            Name::from_str("CN=entra-wizard jwt test").expect("name"),
            spki,
            &signer,
        )
        .expect("builder")
        .build::<rsa::pkcs1v15::Signature>()
        .expect("certificate");
        Fixture {
            key,
            cert_der: cert.to_der().expect("DER"),
        }
    })
}

fn decoding_key(key: &RsaPrivateKey) -> DecodingKey {
    DecodingKey::from_rsa_der(key.to_public_key().to_pkcs1_der().unwrap().as_bytes())
}

fn now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

fn random_jti() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    uuid_v4_from_bytes(b)
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    aud: String,
    iss: String,
    sub: String,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

#[derive(Debug, Deserialize)]
struct ProofClaims {
    aud: String,
    iss: String,
    nbf: u64,
    exp: u64,
}

fn strict(alg: Algorithm, aud: &str, iss: &str) -> Validation {
    let mut v = Validation::new(alg);
    v.set_audience(&[aud]);
    v.set_issuer(&[iss]);
    v.validate_nbf = true;
    v.leeway = 0;
    v.required_spec_claims = ["exp", "nbf", "aud", "iss"]
        .into_iter()
        .map(String::from)
        .collect::<HashSet<_>>();
    v
}

fn params(alg: AssertionAlg, now: UnixTime, jti: String) -> AssertionParams<'static> {
    AssertionParams {
        alg,
        client_id: CLIENT_ID,
        token_endpoint: TOKEN_ENDPOINT,
        now,
        lifetime_secs: MAX_LIFETIME_SECS,
        jti,
    }
}

/// Every segment is unpadded base64url.
fn assert_unpadded_base64url(token: &str) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    for p in parts {
        assert!(!p.is_empty());
        assert!(
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "not unpadded base64url: {p}"
        );
    }
}

#[test]
fn rs256_client_assertion_verifies_with_jsonwebtoken() {
    let f = fixture();
    let (t, jti) = (now(), random_jti());
    let token = client_assertion(
        &f.key,
        &f.cert_der,
        &params(AssertionAlg::Rs256, t, jti.clone()),
        &mut OsRng,
    )
    .unwrap();
    assert_unpadded_base64url(&token);

    let header = decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let sha1 = Base64UrlUnpadded::encode_string(&Sha1::digest(&f.cert_der));
    assert_eq!(header.x5t.as_deref(), Some(sha1.as_str()));
    assert_eq!(header.x5t_s256, None);

    let data = decode::<AssertionClaims>(
        &token,
        &decoding_key(&f.key),
        &strict(Algorithm::RS256, TOKEN_ENDPOINT, CLIENT_ID),
    )
    .unwrap();
    let c = data.claims;
    assert_eq!(c.aud, TOKEN_ENDPOINT);
    assert_eq!(c.iss, CLIENT_ID);
    assert_eq!(c.sub, CLIENT_ID);
    assert_eq!(c.jti, jti);
    assert_eq!(c.nbf, t.0);
    assert_eq!(c.iat, t.0);
    assert_eq!(c.exp, t.0 + 600);
}

#[test]
fn ps256_client_assertion_verifies_with_jsonwebtoken() {
    let f = fixture();
    let (t, jti) = (now(), random_jti());
    let p = AssertionParams {
        lifetime_secs: 300,
        ..params(AssertionAlg::Ps256, t, jti.clone())
    };
    let token = client_assertion(&f.key, &f.cert_der, &p, &mut OsRng).unwrap();
    assert_unpadded_base64url(&token);

    let header = decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::PS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let sha256 = Base64UrlUnpadded::encode_string(&Sha256::digest(&f.cert_der));
    assert_eq!(header.x5t_s256.as_deref(), Some(sha256.as_str()));
    assert_eq!(header.x5t, None);

    let c = decode::<AssertionClaims>(
        &token,
        &decoding_key(&f.key),
        &strict(Algorithm::PS256, TOKEN_ENDPOINT, CLIENT_ID),
    )
    .unwrap()
    .claims;
    assert_eq!(
        (c.aud.as_str(), c.iss.as_str(), c.sub.as_str()),
        (TOKEN_ENDPOINT, CLIENT_ID, CLIENT_ID)
    );
    assert_eq!(c.jti, jti);
    assert_eq!((c.nbf, c.iat, c.exp), (t.0, t.0, t.0 + 300));

    // PSS is randomised: the same claims sign differently each time, and
    // both verify.
    let again = client_assertion(&f.key, &f.cert_der, &p, &mut OsRng).unwrap();
    assert_ne!(token, again);
    assert!(
        decode::<AssertionClaims>(
            &again,
            &decoding_key(&f.key),
            &strict(Algorithm::PS256, TOKEN_ENDPOINT, CLIENT_ID)
        )
        .is_ok()
    );
}

#[test]
fn tampered_or_foreign_signatures_are_rejected() {
    let f = fixture();
    let token = client_assertion(
        &f.key,
        &f.cert_der,
        &params(AssertionAlg::Rs256, now(), random_jti()),
        &mut OsRng,
    )
    .unwrap();
    let v = strict(Algorithm::RS256, TOKEN_ENDPOINT, CLIENT_ID);

    // Claims swapped for another client's: the signature no longer matches.
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let forged = serde_json::json!({
        "aud": TOKEN_ENDPOINT, "iss": OBJECT_ID, "sub": OBJECT_ID,
        "jti": "x", "nbf": now().0, "iat": now().0, "exp": now().0 + 600
    });
    parts[1] = Base64UrlUnpadded::encode_string(forged.to_string().as_bytes());
    assert!(decode::<AssertionClaims>(parts.join("."), &decoding_key(&f.key), &v).is_err());

    // Another key's public half does not verify it.
    let other = RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
    assert!(decode::<AssertionClaims>(&token, &decoding_key(&other), &v).is_err());
}

#[test]
fn an_assertion_from_the_past_has_expired() {
    let f = fixture();
    let t = UnixTime(now().0 - 3_600);
    let token = client_assertion(
        &f.key,
        &f.cert_der,
        &params(AssertionAlg::Rs256, t, random_jti()),
        &mut OsRng,
    )
    .unwrap();
    let err = decode::<AssertionClaims>(
        &token,
        &decoding_key(&f.key),
        &strict(Algorithm::RS256, TOKEN_ENDPOINT, CLIENT_ID),
    )
    .unwrap_err();
    assert_eq!(
        err.kind(),
        &jsonwebtoken::errors::ErrorKind::ExpiredSignature
    );
}

#[test]
fn assertion_inputs_are_checked() {
    let f = fixture();
    let t = now();
    let sign = |p: &AssertionParams<'_>| client_assertion(&f.key, &f.cert_der, p, &mut OsRng);
    let base = params(AssertionAlg::Rs256, t, random_jti());

    let too_long = AssertionParams {
        lifetime_secs: 601,
        ..base.clone()
    };
    assert_eq!(
        sign(&too_long),
        Err(JwtError::LifetimeTooLong {
            requested: 601,
            max: 600
        })
    );
    let zero = AssertionParams {
        lifetime_secs: 0,
        ..base.clone()
    };
    assert_eq!(sign(&zero), Err(JwtError::ZeroLifetime));
    let name = AssertionParams {
        client_id: "Backup app",
        ..base.clone()
    };
    assert_eq!(sign(&name), Err(JwtError::BadClientId("Backup app".into())));
    let http = AssertionParams {
        token_endpoint: "http://login.microsoftonline.com/x/oauth2/v2.0/token",
        ..base.clone()
    };
    assert!(matches!(sign(&http), Err(JwtError::BadAudience(_))));
    let no_jti = AssertionParams {
        jti: " ".into(),
        ..base.clone()
    };
    assert_eq!(sign(&no_jti), Err(JwtError::EmptyJti));
    assert_eq!(
        client_assertion(&f.key, &[], &base, &mut OsRng),
        Err(JwtError::EmptyCertificate)
    );
}

#[test]
fn key_proof_verifies_with_jsonwebtoken() {
    let f = fixture();
    let t = now();
    let token = key_proof(&f.key, &f.cert_der, OBJECT_ID, t).unwrap();
    assert_unpadded_base64url(&token);

    let header = decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let sha1 = Sha1::digest(&f.cert_der);
    assert_eq!(
        header.x5t.as_deref(),
        Some(Base64UrlUnpadded::encode_string(&sha1).as_str())
    );
    let hex: String = sha1.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(header.kid.as_deref(), Some(hex.as_str()));

    let c = decode::<ProofClaims>(
        &token,
        &decoding_key(&f.key),
        &strict(Algorithm::RS256, KEY_PROOF_AUDIENCE, OBJECT_ID),
    )
    .unwrap()
    .claims;
    assert_eq!(c.aud, "00000002-0000-0000-c000-000000000000");
    assert_eq!(c.iss, OBJECT_ID);
    assert_eq!(c.nbf, t.0);
    assert_eq!(c.exp, c.nbf + 10 * 60);

    // Deterministic (PKCS#1 v1.5): same inputs, same proof.
    assert_eq!(key_proof(&f.key, &f.cert_der, OBJECT_ID, t).unwrap(), token);
}

#[test]
fn key_proof_needs_the_object_id_guid() {
    let f = fixture();
    assert_eq!(
        key_proof(&f.key, &f.cert_der, "My backup app", now()),
        Err(JwtError::BadObjectId("My backup app".into()))
    );
    assert_eq!(
        key_proof(&f.key, &[], OBJECT_ID, now()),
        Err(JwtError::EmptyCertificate)
    );
}

#[test]
fn uuid_helper_makes_distinct_v4_ids() {
    let a = random_jti();
    let b = random_jti();
    assert_ne!(a, b);
    for u in [&a, &b] {
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
    }
}
