//! Sign-in: authorization code + PKCE with a `spa` redirect URI (the only
//! flow a browser can use with Entra), state and nonce checked on return,
//! and access tokens per audience (Graph, ARM) kept in memory, the second
//! one obtained through the refresh token. What must survive the full-page
//! redirect is [`PendingSignIn`], which the page keeps in sessionStorage.
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow

pub mod pkce;
pub mod tokens;

pub use pkce::{PendingSignIn, SignInConfig, SignInError, begin, complete};
pub use tokens::{Account, Audience, TokenCache, TokenError, TokenSet};
