//! The authorize request (PKCE S256 challenge, state, nonce) and the
//! redirect back (state checked, Entra's `error=` decoded).
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#error-response

use base64ct::{Base64UrlUnpadded, Encoding};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::cloud::Cloud;
use crate::core::aadsts;

/// Where and as whom the page signs in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInConfig {
    pub cloud: Cloud,
    /// Tenant ID or domain; `organizations` for any work account.
    pub tenant: String,
    /// The page's own (SPA) application ID.
    pub client_id: String,
    /// The page's address, registered as a `spa` redirect URI.
    pub redirect_uri: String,
}

/// What the page keeps in sessionStorage across the redirect, and removes
/// after use. The verifier is a one-time secret bound to this sign-in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
#[zeroize(drop)]
#[serde(rename_all = "camelCase")]
pub struct PendingSignIn {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
    pub scopes: Vec<String>,
    #[zeroize(skip)]
    pub config: SignInConfig,
}

impl core::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("state", &self.state)
            .field("code_verifier", &"(redacted)")
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error(
        "The sign-in answer does not belong to the sign-in this page started (state mismatch). \
         Sign in again from this page; if it happens again, close other tabs of this page."
    )]
    StateMismatch,
    #[error("The sign-in answer carries no authorization code. Sign in again.")]
    NoCode,
    #[error("No sign-in was in progress (it may have been started in another tab). Sign in again.")]
    NotPending,
    #[error("Sign-in failed ({error}): {description}{advice}")]
    Entra {
        error: String,
        description: String,
        /// What to do, from the AADSTS code (empty when unknown).
        advice: String,
    },
    #[error("The ID token's nonce does not match this sign-in. Sign in again.")]
    NonceMismatch,
    #[error("The sign-in settings are not valid: {0}")]
    Config(String),
}

/// The randomness one sign-in needs: 32 bytes each for state, nonce and
/// PKCE verifier (the browser's `crypto.getRandomValues`).
pub const RANDOM_BYTES: usize = 96;

/// Starts a sign-in: the URL to send the browser to, and what to keep.
pub fn begin(
    config: &SignInConfig,
    scopes: &[String],
    random: &[u8; RANDOM_BYTES],
) -> Result<(String, PendingSignIn), SignInError> {
    let state = Base64UrlUnpadded::encode_string(&random[0..32]);
    let nonce = Base64UrlUnpadded::encode_string(&random[32..64]);
    let code_verifier = Base64UrlUnpadded::encode_string(&random[64..96]);
    let endpoints = config.cloud.endpoints();
    let client = BasicClient::new(ClientId::new(config.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(endpoints.authorize_url(&config.tenant))
                .map_err(|e| SignInError::Config(format!("authority: {e}")))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(config.redirect_uri.clone())
                .map_err(|e| SignInError::Config(format!("redirect URI: {e}")))?,
        );
    let verifier = PkceCodeVerifier::new(code_verifier.clone());
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    let (url, _) = client
        .authorize_url(|| CsrfToken::new(state.clone()))
        .add_scopes(scopes.iter().map(|s| Scope::new(s.clone())))
        .set_pkce_challenge(challenge)
        .add_extra_param("nonce", nonce.clone())
        .add_extra_param("response_mode", "fragment")
        .url();
    Ok((
        url.to_string(),
        PendingSignIn {
            state,
            nonce,
            code_verifier,
            scopes: scopes.to_vec(),
            config: config.clone(),
        },
    ))
}

/// The parameters of the redirect back: the URL's fragment (or query).
fn params(redirect_url: &str) -> Vec<(String, String)> {
    let part = match redirect_url.split_once('#') {
        Some((_, fragment)) => fragment,
        None => redirect_url.split_once('?').map(|(_, q)| q).unwrap_or(""),
    };
    url::form_urlencoded::parse(part.as_bytes())
        .into_owned()
        .collect()
}

/// Reads the redirect back to the page: the authorization code, after the
/// state is checked. Entra's `error=` is decoded with its AADSTS advice.
pub fn complete(pending: &PendingSignIn, redirect_url: &str) -> Result<String, SignInError> {
    let p = params(redirect_url);
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let Some(error) = get("error") {
        let description = get("error_description").unwrap_or_default();
        let advice = aadsts::parse(&description)
            .map(|e| {
                let a = e.advice();
                format!(" — {} {}", a.summary, a.next_step)
            })
            .unwrap_or_default();
        return Err(SignInError::Entra {
            error,
            description,
            advice,
        });
    }
    if get("state").as_deref() != Some(pending.state.as_str()) {
        return Err(SignInError::StateMismatch);
    }
    get("code")
        .filter(|c| !c.is_empty())
        .ok_or(SignInError::NoCode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn config() -> SignInConfig {
        SignInConfig {
            cloud: Cloud::Global,
            tenant: "organizations".into(),
            client_id: "3c9f1e2a-7d4b-4a8e-b6c5-1f0e9d8c7b6a".into(),
            redirect_uri: "https://wizard.contoso.com/".into(),
        }
    }

    fn random() -> [u8; RANDOM_BYTES] {
        core::array::from_fn(|i| i as u8)
    }

    #[test]
    fn authorize_url_carries_pkce_state_and_nonce() {
        let scopes = vec![
            "openid".to_string(),
            "https://graph.microsoft.com/.default".to_string(),
        ];
        let (url, pending) = begin(&config(), &scopes, &random()).unwrap();
        assert!(
            url.starts_with(
                "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?"
            )
        );
        let q: Vec<(String, String)> = url::Url::parse(&url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).unwrap().1.clone();
        assert_eq!(get("response_type"), "code");
        assert_eq!(get("client_id"), config().client_id);
        assert_eq!(get("redirect_uri"), "https://wizard.contoso.com/");
        assert_eq!(get("scope"), "openid https://graph.microsoft.com/.default");
        assert_eq!(get("state"), pending.state);
        assert_eq!(get("nonce"), pending.nonce);
        assert_eq!(get("response_mode"), "fragment");
        assert_eq!(get("code_challenge_method"), "S256");
        let expected =
            Base64UrlUnpadded::encode_string(&Sha256::digest(pending.code_verifier.as_bytes()));
        assert_eq!(get("code_challenge"), expected);
        assert_eq!(pending.code_verifier.len(), 43);
        assert_ne!(pending.state, pending.nonce);
        assert!(!format!("{pending:?}").contains(&pending.code_verifier));
    }

    #[test]
    fn the_redirect_back_is_checked() {
        let (_, pending) = begin(&config(), &["openid".into()], &random()).unwrap();
        let ok = format!(
            "https://wizard.contoso.com/#code=1.abc&state={}&session_state=x",
            pending.state
        );
        assert_eq!(complete(&pending, &ok).unwrap(), "1.abc");
        let query = format!(
            "https://wizard.contoso.com/?code=1.q&state={}",
            pending.state
        );
        assert_eq!(complete(&pending, &query).unwrap(), "1.q");
        assert_eq!(
            complete(
                &pending,
                "https://wizard.contoso.com/#code=1.abc&state=other"
            ),
            Err(SignInError::StateMismatch)
        );
        assert_eq!(
            complete(&pending, &format!("https://w/#state={}", pending.state)),
            Err(SignInError::NoCode)
        );
        let denied = format!(
            "https://w/#error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent+to+access+the+app.&state={}",
            pending.state
        );
        match complete(&pending, &denied) {
            Err(SignInError::Entra {
                error, description, ..
            }) => {
                assert_eq!(error, "access_denied");
                assert!(description.starts_with("AADSTS65004"));
            }
            other => panic!("{other:?}"),
        }
        let unknown_app = "https://w/#error=unauthorized_client&error_description=AADSTS700016%3A+Application+with+identifier+%27abc%27+was+not+found+in+the+directory+%27Contoso%27.";
        let err = complete(&pending, unknown_app).unwrap_err().to_string();
        assert!(err.contains("AADSTS700016"), "{err}");
        assert!(err.contains(" — "), "advice appended: {err}");
    }

    #[test]
    fn pending_sign_in_round_trips_through_session_storage() {
        let (_, pending) = begin(&config(), &["openid".into()], &random()).unwrap();
        let json = serde_json::to_string(&pending).unwrap();
        let back: PendingSignIn = serde_json::from_str(&json).unwrap();
        assert_eq!(back, pending);
    }
}
