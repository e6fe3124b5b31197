//! Sign-in: authorization code + PKCE with a `spa` redirect URI (the only
//! flow a browser can use with Entra), state and nonce checked on return,
//! and access tokens per audience (Graph, ARM) kept in memory, the second
//! one obtained through the refresh token. Every API request takes its
//! token from a [`TokenSource`]: the page's renews through the refresh
//! token before expiry and after a 401, one renewal at a time. What must survive the full-page
//! redirect is [`PendingSignIn`], which the page keeps in sessionStorage.
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow

pub mod pkce;
pub mod source;
pub mod tokens;

pub use crate::client::TokenSource;
pub use pkce::{PendingSignIn, SignInConfig, SignInError, begin, complete};
pub use source::{RefreshingTokens, SharedTokens};
pub use tokens::{Account, Audience, TokenCache, TokenError, TokenSet};
