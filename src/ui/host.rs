//! The session as the pages module sees it (`ui::pages`): the shell's
//! sign-in, reached through `ui::bridge`. It offers the pages what
//! `ui::session::Session` offers the shell's own pages, under the same
//! names; the tokens stay in the shell.

use leptos::prelude::LocalStorage as InMemory;
use leptos::prelude::*;

use super::bridge::{Host, Shared};
use super::error::UiError;
pub use super::session::AuthState;
use super::session::{Api, Settings, api_client};
use crate::api_error::Service;
use crate::auth::{Account, Audience, SignInConfig};
use crate::client::{TokenFuture, TokenSource};

#[derive(Clone, Copy)]
pub struct Session {
    pub auth: RwSignal<AuthState>,
    /// The settings in force; `None` until `config.json` was read, when the
    /// admin saved none.
    pub settings: RwSignal<Option<Settings>>,
    config: RwSignal<Option<SignInConfig>>,
    host: StoredValue<Host, InMemory>,
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

impl Session {
    pub fn new(host: Host, shared: Shared) -> Session {
        Session {
            auth: RwSignal::new(shared.auth),
            settings: RwSignal::new(shared.settings),
            config: RwSignal::new(shared.config),
            host: StoredValue::new_local(host),
        }
    }

    /// Takes the shell's new snapshot; only what changed notifies.
    pub fn update(&self, shared: Shared) {
        if self.config.get_untracked() != shared.config {
            self.config.set(shared.config);
        }
        if self.settings.get_untracked() != shared.settings {
            self.settings.set(shared.settings);
        }
        if self.auth.get_untracked() != shared.auth {
            self.auth.set(shared.auth);
        }
    }

    pub fn account(&self) -> Option<Account> {
        match self.auth.get() {
            AuthState::SignedIn(a) => Some(a),
            _ => None,
        }
    }

    /// The settings in force, untracked.
    pub fn settings_untracked(&self) -> Settings {
        self.settings
            .get_untracked()
            .unwrap_or_else(Settings::fallback)
    }

    pub fn sign_in_config(&self) -> Option<SignInConfig> {
        self.config.get_untracked()
    }

    /// Incremental consent: the shell signs in again asking for `missing`.
    pub fn consent(&self, missing: &[String]) {
        self.host.with_value(|h| h.consent(missing));
    }

    pub fn missing_scopes(&self, audience: Audience, needed: &[&str]) -> Vec<String> {
        self.host.with_value(|h| h.missing_scopes(audience, needed))
    }

    /// An API client taking its tokens from the shell.
    pub async fn api(&self) -> Result<Api, UiError> {
        let config = self.sign_in_config().ok_or(UiError::SignedOut)?;
        let tokens = HostTokens(self.host.get_value());
        Ok(api_client(config.cloud.endpoints()).with_owned_token_source(tokens))
    }
}

/// The shell's tokens as an `ApiClient`'s token source.
struct HostTokens(Host);

impl TokenSource for HostTokens {
    fn token<'s>(&'s self, service: Service, refused: Option<&'s str>) -> TokenFuture<'s> {
        Box::pin(self.0.token(service, refused))
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn holds(&self, service: Service) -> bool {
        self.0.holds(service)
    }
}
