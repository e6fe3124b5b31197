//! Tokens: the code and refresh-token requests (with the `Origin` header a
//! browser adds, which Entra requires for `spa` redirect URIs), the token
//! endpoint's answer, and an in-memory cache per audience (Graph, ARM) with
//! expiry and "needs more scope" detection for incremental consent.
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token

use std::collections::BTreeMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::api_error::{ApiError, ServiceError};
use crate::client::ApiClient;
use crate::cloud::Endpoints;
use crate::core::time::UnixTime;
use crate::http::{HttpClient, HttpRequest, HttpResponse, Method, Sleeper};

use super::pkce::{PendingSignIn, SignInConfig, SignInError, complete};

/// Tokens are renewed this long before they expire.
pub const EXPIRY_MARGIN_SECONDS: u64 = 300;

/// An API the page holds a token for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Audience {
    Graph,
    Arm,
}

impl Audience {
    pub fn resource(self, e: &Endpoints) -> &str {
        match self {
            Audience::Graph => &e.graph_resource,
            Audience::Arm => &e.arm_resource,
        }
    }

    /// The scope to sign in with for this API: Graph's consented
    /// permissions (`.default`), ARM's `user_impersonation`.
    pub fn sign_in_scope(self, e: &Endpoints) -> String {
        match self {
            Audience::Graph => e.graph_default_scope(),
            Audience::Arm => e.arm_user_impersonation(),
        }
    }
}

/// The signed-in user, from the ID token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub object_id: String,
    pub tenant_id: String,
    pub username: String,
    pub name: String,
}

/// One answer of the token endpoint.
pub struct TokenSet {
    pub access_token: Zeroizing<String>,
    pub refresh_token: Option<Zeroizing<String>>,
    pub expires_at: UnixTime,
    /// Granted scopes, as the endpoint lists them.
    pub scopes: Vec<String>,
    /// The ID token's claims (payload), when one came back.
    pub id_claims: Option<Value>,
}

impl core::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    SignIn(#[from] SignInError),
    #[error("{0} {advice}", advice = .0.advice())]
    Refused(ServiceError),
    #[error(transparent)]
    Api(ApiError),
    #[error(
        "These permissions need your consent first: {}. Sign in again to consent (an \
         administrator must consent to permissions for the whole organisation).",
        .0.join(", ")
    )]
    ConsentRequired(Vec<String>),
    #[error("The sign-in has ended. Sign in again.")]
    NotSignedIn,
    #[error("The token endpoint's answer is not what Microsoft documents: {0}")]
    Malformed(String),
    /// The request that was renewing the token was abandoned before it
    /// finished (callers waiting on it get this instead of waiting forever).
    #[error("Renewing the sign-in was interrupted. Try again.")]
    Interrupted,
}

impl From<ApiError> for TokenError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Service(s) if s.message.contains("AADSTS65001") => {
                TokenError::ConsentRequired(Vec::new())
            }
            ApiError::Service(s) => TokenError::Refused(s),
            other => TokenError::Api(other),
        }
    }
}

/// Redeems the authorization code (PKCE verifier, the `Origin` header).
pub fn code_request(pending: &PendingSignIn, code: &str, origin: &str) -> HttpRequest {
    let c = &pending.config;
    HttpRequest::new(Method::Post, c.cloud.endpoints().token_url(&c.tenant))
        .header("Origin", origin)
        .form(vec![
            ("client_id".into(), c.client_id.clone()),
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.into()),
            ("redirect_uri".into(), c.redirect_uri.clone()),
            ("code_verifier".into(), pending.code_verifier.clone()),
            ("scope".into(), pending.scopes.join(" ")),
        ])
}

/// A token for `scopes` (possibly another resource) from the refresh token.
pub fn refresh_request(
    config: &SignInConfig,
    refresh_token: &str,
    scopes: &[String],
    origin: &str,
) -> HttpRequest {
    HttpRequest::new(
        Method::Post,
        config.cloud.endpoints().token_url(&config.tenant),
    )
    .header("Origin", origin)
    .form(vec![
        ("client_id".into(), config.client_id.clone()),
        ("grant_type".into(), "refresh_token".into()),
        ("refresh_token".into(), refresh_token.into()),
        ("scope".into(), scopes.join(" ")),
    ])
}

/// The payload of a JWT, not verified: the ID token comes straight from the
/// token endpoint over TLS, which OpenID Connect allows to trust.
pub fn jwt_claims(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = Base64UrlUnpadded::decode_vec(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Reads a successful token response.
pub fn parse_response(response: &HttpResponse, now: UnixTime) -> Result<TokenSet, TokenError> {
    #[derive(Deserialize)]
    struct Raw {
        access_token: String,
        #[serde(default)]
        refresh_token: Option<String>,
        #[serde(default)]
        expires_in: Option<Value>,
        #[serde(default)]
        scope: String,
        #[serde(default)]
        id_token: Option<String>,
    }
    let raw: Raw =
        serde_json::from_slice(&response.body).map_err(|e| TokenError::Malformed(e.to_string()))?;
    let expires_in = match raw.expires_in {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(3600),
        Some(Value::String(s)) => s.parse().unwrap_or(3600),
        _ => 3600,
    };
    Ok(TokenSet {
        access_token: Zeroizing::new(raw.access_token),
        refresh_token: raw.refresh_token.map(Zeroizing::new),
        expires_at: UnixTime(now.0.saturating_add(expires_in)),
        scopes: raw.scope.split_whitespace().map(str::to_string).collect(),
        id_claims: raw.id_token.as_deref().and_then(jwt_claims),
    })
}

/// Checks the ID token's nonce and reads the account from it.
pub fn account(tokens: &TokenSet, pending: &PendingSignIn) -> Result<Account, SignInError> {
    let claims = tokens
        .id_claims
        .as_ref()
        .ok_or(SignInError::NonceMismatch)?;
    if claims["nonce"].as_str() != Some(pending.nonce.as_str()) {
        return Err(SignInError::NonceMismatch);
    }
    let s = |k: &str| claims[k].as_str().unwrap_or("").to_string();
    Ok(Account {
        object_id: s("oid"),
        tenant_id: s("tid"),
        username: s("preferred_username"),
        name: s("name"),
    })
}

/// A scope without its resource prefix (`https://graph.microsoft.com/User.Read` → `User.Read`).
fn bare(scope: &str) -> &str {
    scope.rsplit('/').next().unwrap_or(scope)
}

struct Cached {
    access_token: Zeroizing<String>,
    expires_at: UnixTime,
    scopes: Vec<String>,
}

/// Access tokens per audience and the refresh token, in memory only.
#[derive(Default)]
pub struct TokenCache {
    tokens: BTreeMap<Audience, Cached>,
    refresh_token: Option<Zeroizing<String>>,
    account: Option<Account>,
}

impl TokenCache {
    pub fn store(&mut self, audience: Audience, set: TokenSet) {
        if let Some(rt) = set.refresh_token {
            self.refresh_token = Some(rt);
        }
        self.tokens.insert(
            audience,
            Cached {
                access_token: set.access_token,
                expires_at: set.expires_at,
                scopes: set.scopes,
            },
        );
    }

    pub fn set_account(&mut self, account: Account) {
        self.account = Some(account);
    }

    pub fn account(&self) -> Option<&Account> {
        self.account.as_ref()
    }

    /// The refresh token, for [`refresh`] (never shown, never stored).
    pub(crate) fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref().map(String::as_str)
    }

    pub fn is_signed_in(&self) -> bool {
        self.account.is_some() && self.refresh_token.is_some()
    }

    /// A token still valid for at least [`EXPIRY_MARGIN_SECONDS`].
    pub fn access_token(&self, audience: Audience, now: UnixTime) -> Option<&str> {
        self.tokens
            .get(&audience)
            .filter(|c| c.expires_at.0 > now.0 + EXPIRY_MARGIN_SECONDS)
            .map(|c| c.access_token.as_str())
    }

    /// The `needed` permissions (bare names such as `Application.ReadWrite.All`)
    /// the current token for `audience` was not granted: ask for them with
    /// an incremental-consent sign-in.
    pub fn missing_scopes(&self, audience: Audience, needed: &[&str]) -> Vec<String> {
        let granted: Vec<&str> = self
            .tokens
            .get(&audience)
            .map(|c| c.scopes.iter().map(|s| bare(s)).collect())
            .unwrap_or_default();
        needed
            .iter()
            .filter(|n| !granted.iter().any(|g| g.eq_ignore_ascii_case(bare(n))))
            .map(|n| n.to_string())
            .collect()
    }

    /// Forgets every token (sign-out).
    pub fn clear(&mut self) {
        *self = TokenCache::default();
    }
}

/// Completes a sign-in: checks the redirect (state), redeems the code
/// (PKCE, `Origin`), checks the nonce, and fills the cache for the
/// audience of the sign-in scopes.
pub async fn redeem<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    cache: &mut TokenCache,
    pending: &PendingSignIn,
    redirect_url: &str,
    audience: Audience,
    origin: &str,
    now: UnixTime,
) -> Result<Account, TokenError> {
    let code = complete(pending, redirect_url)?;
    let response = api.identity(code_request(pending, &code, origin)).await?;
    let set = parse_response(&response, now)?;
    let account = account(&set, pending)?;
    cache.store(audience, set);
    cache.set_account(account.clone());
    Ok(account)
}

/// A valid token for `audience`: from the cache, else through the refresh
/// token (which also gets a token for another resource: Graph → ARM).
pub async fn acquire<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    cache: &mut TokenCache,
    config: &SignInConfig,
    audience: Audience,
    origin: &str,
    now: UnixTime,
) -> Result<String, TokenError> {
    if let Some(t) = cache.access_token(audience, now) {
        return Ok(t.to_string());
    }
    let refresh_token = cache.refresh_token.clone().ok_or(TokenError::NotSignedIn)?;
    let set = refresh(api, config, &refresh_token, audience, origin, now).await?;
    let token = set.access_token.to_string();
    cache.store(audience, set);
    Ok(token)
}

/// Redeems `refresh_token` for a new token for `audience` (and a new
/// refresh token): one request to the token endpoint.
pub async fn refresh<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    config: &SignInConfig,
    refresh_token: &str,
    audience: Audience,
    origin: &str,
    now: UnixTime,
) -> Result<TokenSet, TokenError> {
    let endpoints = config.cloud.endpoints();
    let scopes = vec![
        audience.sign_in_scope(&endpoints),
        "offline_access".to_string(),
    ];
    let response = api
        .identity(refresh_request(config, refresh_token, &scopes, origin))
        .await
        .map_err(|e| match e {
            ApiError::Service(s) if s.message.contains("AADSTS65001") => {
                TokenError::ConsentRequired(vec![scopes[0].clone()])
            }
            other => TokenError::from(other),
        })?;
    parse_response(&response, now)
}

/// Where to send the browser to sign out of Entra.
pub fn sign_out_url(config: &SignInConfig, post_logout_redirect: &str) -> String {
    let endpoints = config.cloud.endpoints();
    format!(
        "{}?post_logout_redirect_uri={}",
        endpoints.logout_url(&config.tenant),
        crate::client::query_encode(post_logout_redirect)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Cloud;

    fn response(body: Value) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: vec![],
            body: serde_json::to_vec(&body).unwrap(),
        }
    }

    fn id_token(claims: Value) -> String {
        format!(
            "e30.{}.sig",
            Base64UrlUnpadded::encode_string(&serde_json::to_vec(&claims).unwrap())
        )
    }

    #[test]
    fn cache_expires_and_detects_missing_scopes() {
        let mut cache = TokenCache::default();
        let now = UnixTime(1_000_000);
        let set = parse_response(
            &response(serde_json::json!({
                "access_token": "at", "refresh_token": "rt", "expires_in": 3599,
                "scope": "https://graph.microsoft.com/User.Read https://graph.microsoft.com/Application.ReadWrite.All openid profile",
                "token_type": "Bearer"})),
            now,
        )
        .unwrap();
        cache.store(Audience::Graph, set);
        assert_eq!(cache.access_token(Audience::Graph, now), Some("at"));
        assert_eq!(cache.access_token(Audience::Arm, now), None);
        assert_eq!(
            cache.access_token(Audience::Graph, UnixTime(now.0 + 3400)),
            None
        );
        assert_eq!(
            cache.missing_scopes(
                Audience::Graph,
                &[
                    "Application.ReadWrite.All",
                    "AppRoleAssignment.ReadWrite.All"
                ]
            ),
            ["AppRoleAssignment.ReadWrite.All"]
        );
        cache.clear();
        assert_eq!(cache.access_token(Audience::Graph, now), None);
    }

    /// An `expires_in` near 2^64 (a number or a string) overflowed the
    /// expiry (a panic with overflow checks, an expired token without).
    #[test]
    fn a_huge_expires_in_saturates() {
        let now = UnixTime(1_700_000_000);
        for expires_in in [
            serde_json::json!(u64::MAX),
            serde_json::json!("18446744073709551615"),
        ] {
            let set = parse_response(
                &response(serde_json::json!({"access_token": "a", "expires_in": expires_in})),
                now,
            )
            .unwrap();
            assert_eq!(set.expires_at, UnixTime(u64::MAX));
        }
    }

    #[test]
    fn requests_carry_origin_and_pkce() {
        let config = SignInConfig {
            cloud: Cloud::Global,
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "c".into(),
            redirect_uri: "https://w/".into(),
        };
        let r = refresh_request(
            &config,
            "rt",
            &["https://management.azure.com/user_impersonation".into()],
            "https://w",
        );
        assert_eq!(
            r.url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert!(r.headers.contains(&("Origin".into(), "https://w".into())));
        let body = String::from_utf8(r.body.unwrap().to_bytes()).unwrap();
        assert!(body.contains("grant_type=refresh_token"));
        assert!(body.contains("scope=https%3A%2F%2Fmanagement.azure.com%2Fuser_impersonation"));
        assert_eq!(
            sign_out_url(&config, "https://w/"),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/logout?post_logout_redirect_uri=https%3A%2F%2Fw%2F"
        );
    }

    #[test]
    fn nonce_is_checked() {
        let config = SignInConfig {
            cloud: Cloud::Global,
            tenant: "organizations".into(),
            client_id: "c".into(),
            redirect_uri: "https://w/".into(),
        };
        let (_, pending) = crate::auth::begin(&config, &["openid".into()], &[7u8; 96]).unwrap();
        let good = parse_response(
            &response(serde_json::json!({"access_token": "a", "id_token":
                id_token(serde_json::json!({"nonce": pending.nonce, "oid": "o", "tid": "t",
                    "preferred_username": "admin@contoso.com", "name": "Admin"}))})),
            UnixTime(0),
        )
        .unwrap();
        let acct = account(&good, &pending).unwrap();
        assert_eq!(acct.username, "admin@contoso.com");
        let bad = parse_response(
            &response(serde_json::json!({"access_token": "a", "id_token":
                id_token(serde_json::json!({"nonce": "other"}))})),
            UnixTime(0),
        )
        .unwrap();
        assert_eq!(account(&bad, &pending), Err(SignInError::NonceMismatch));
        assert!(!format!("{good:?}").contains("\"a\""));
    }
}
