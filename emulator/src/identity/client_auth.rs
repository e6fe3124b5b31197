//! Confidential client authentication at the token endpoint: client secrets
//! and `client_assertion` JWTs checked against the application's registered
//! passwordCredentials and keyCredentials, with Entra's error codes and texts.
// https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials
// https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes

use std::collections::HashMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::TokenError;
use crate::certs::{self, CertInfo};
use crate::clock;
use crate::state::{Application, str_field};

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// True when the request carries a confidential credential.
pub fn has_credential(form: &HashMap<String, String>) -> bool {
    form.contains_key("client_secret") || form.contains_key("client_assertion")
}

/// Entra refuses confidential credentials on cross-origin (browser) requests.
pub fn refuse_cross_origin(origin: Option<&str>) -> Result<(), TokenError> {
    match origin {
        Some(o) => Err(TokenError::new(
            400,
            "invalid_request",
            9002326,
            format!(
                "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '{o}'."
            ),
        )),
        None => Ok(()),
    }
}

fn see_keys(app_id: &str) -> String {
    format!(
        "Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{app_id}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/{app_id}'"
    )
}

fn invalid_signature(
    reason: &str,
    thumbprint: &str,
    found: Option<(i64, i64)>,
    app_id: &str,
) -> TokenError {
    let found = found
        .map(|(s, e)| {
            format!(
                ", Found key 'Start={}, End={}'",
                clock::entra_key_date(s),
                clock::entra_key_date(e)
            )
        })
        .unwrap_or_default();
    TokenError::new(
        401,
        "invalid_client",
        700027,
        format!(
            "Client assertion contains an invalid signature. [Reason - {reason}, Thumbprint of key used by client: '{thumbprint}'{found}, {}]",
            see_keys(app_id)
        ),
    )
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A registered certificate credential with its dates.
pub struct RegisteredKey {
    pub info: CertInfo,
    pub start: i64,
    pub end: i64,
}

/// The application's certificate keyCredentials (those whose key parses).
pub fn registered_keys(app: &Application) -> Vec<RegisteredKey> {
    app.body
        .get("keyCredentials")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter(|k| k.get("type").and_then(Value::as_str) == Some("AsymmetricX509Cert"))
                .filter_map(|k| {
                    let info = certs::parse_certificate_b64(k.get("key")?.as_str()?).ok()?;
                    let start = k
                        .get("startDateTime")
                        .and_then(Value::as_str)
                        .and_then(clock::parse_iso)
                        .unwrap_or(info.not_before);
                    let end = k
                        .get("endDateTime")
                        .and_then(Value::as_str)
                        .and_then(clock::parse_iso)
                        .unwrap_or(info.not_after);
                    Some(RegisteredKey { info, start, end })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Checks `client_secret` or `client_assertion` for `app`.
pub fn authenticate(
    app: &Application,
    form: &HashMap<String, String>,
    now: i64,
    accepted_audiences: &[String],
) -> Result<(), TokenError> {
    let app_id = str_field(&app.body, "appId").to_string();
    if let Some(secret) = form.get("client_secret") {
        let Some(found) = app.secrets.iter().find(|s| s.text == *secret) else {
            return Err(TokenError::new(
                401,
                "invalid_client",
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{app_id}'."
                ),
            ));
        };
        let end = app
            .body
            .get("passwordCredentials")
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .find(|p| p.get("keyId").and_then(Value::as_str) == Some(found.key_id.as_str()))
            })
            .and_then(|p| {
                p.get("endDateTime")
                    .and_then(Value::as_str)
                    .and_then(clock::parse_iso)
            });
        if end.is_none_or(|end| end <= now) {
            return Err(TokenError::new(
                401,
                "invalid_client",
                7000222,
                format!(
                    "The provided client secret keys for app '{app_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."
                ),
            ));
        }
        return Ok(());
    }
    let Some(assertion) = form.get("client_assertion") else {
        return Err(TokenError::new(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    };
    if form.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
        return Err(TokenError::new(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_assertion_type'.",
        ));
    }
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| {
        TokenError::new(
            401,
            "invalid_client",
            50027,
            "JWT token is invalid or malformed.",
        )
    })?;
    // RFC 7515 §2 says base64url without padding, but Entra also takes a
    // padded thumbprint: MSAL Python sends `x5t` with its trailing `=`
    // (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials#header).
    let thumb = |t: &str| Base64UrlUnpadded::decode_vec(t.trim_end_matches('=')).ok();
    let (thumb_bytes, by_sha256) = match header.alg {
        Algorithm::RS256 => (header.x5t.as_deref().and_then(thumb), false),
        Algorithm::PS256 => (header.x5t_s256.as_deref().and_then(thumb), true),
        other => {
            return Err(TokenError::new(
                401,
                "invalid_client",
                5002738,
                format!(
                    "Invalid JWT token. '{other:?}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, PS256'"
                ),
            ));
        }
    };
    let thumb_bytes = thumb_bytes.unwrap_or_default();
    let keys = registered_keys(app);
    let key = keys.iter().find(|k| {
        if by_sha256 {
            k.info.sha256.as_slice() == thumb_bytes.as_slice()
        } else {
            k.info.sha1.as_slice() == thumb_bytes.as_slice()
        }
    });
    let thumbprint = match key {
        Some(k) => k.info.thumbprint_hex(),
        None => hex_upper(&thumb_bytes),
    };
    let Some(key) = key else {
        return Err(invalid_signature(
            "The key was not found.",
            &thumbprint,
            None,
            &app_id,
        ));
    };
    if key.end <= now || key.start > now {
        return Err(invalid_signature(
            "The key used is expired.",
            &thumbprint,
            Some((key.start, key.end)),
            &app_id,
        ));
    }
    let (n, e) = certs::rsa_components(&key.info.public_key);
    let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|_| {
        invalid_signature(
            "Key was found, but use of the key to verify the signature failed.",
            &thumbprint,
            Some((key.start, key.end)),
            &app_id,
        )
    })?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(assertion, &decoding, &validation)
        .map_err(|_| {
            invalid_signature(
                "Key was found, but use of the key to verify the signature failed.",
                &thumbprint,
                Some((key.start, key.end)),
                &app_id,
            )
        })?
        .claims;
    let claim = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    if !claim("iss").eq_ignore_ascii_case(&app_id) || !claim("sub").eq_ignore_ascii_case(&app_id) {
        return Err(TokenError::new(
            401,
            "invalid_client",
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
        ));
    }
    let aud = claim("aud");
    if !accepted_audiences
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&aud))
    {
        return Err(TokenError::new(
            401,
            "invalid_client",
            700023,
            "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
        ));
    }
    // NumericDate may be fractional (RFC 7519 §2); MSAL Python sends `exp`
    // and `iat` with microseconds.
    let seconds = |k: &str| claims.get(k).and_then(Value::as_f64).unwrap_or(0.0) as i64;
    let (exp, nbf) = (seconds("exp"), seconds("nbf"));
    if exp <= now || nbf > now + 300 {
        return Err(TokenError::new(
            401,
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
                clock::iso(now),
                clock::iso(nbf),
                clock::iso(exp)
            ),
        ));
    }
    Ok(())
}
