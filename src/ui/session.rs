//! The page's configuration and the signed-in session, shared by every page
//! as a Leptos context.
//!
//! Configuration: `config.json` (the deployment's default, fetched from the
//! page's own origin at start) overridden by what the admin saved under
//! Settings (localStorage; plain settings). Sign-in: `auth::begin` → the
//! `PendingSignIn` in sessionStorage → full-page redirect; back on the page,
//! the answer in the fragment is redeemed, the pending entry removed and the
//! fragment dropped from the address. Tokens stay in memory.

use leptos::prelude::*;
use leptos::task::spawn_local;
// Leptos's arena storage for non-`Send` values, renamed so it is not read as
// the browser's localStorage: tokens never leave memory.
use leptos::prelude::LocalStorage as InMemory;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::error::UiError;
use super::storage;
use crate::auth::pkce::RANDOM_BYTES;
use crate::auth::tokens::{self, Account, Audience, TokenCache};
use crate::auth::{RefreshingTokens, SharedTokens};
use crate::auth::{SignInConfig, begin};
use crate::client::ApiClient;
use crate::cloud::{Cloud, Endpoints};
use crate::core::time::UnixTime;
use crate::http::{HttpClient, HttpRequest, RetryPolicy};
use crate::web::clock;
use crate::web::fetch::{FetchClient, TimerSleeper};

/// The signed-in API client the wizards use.
pub type Api = ApiClient<'static, FetchClient, TimerSleeper>;

/// The page's token source over the session's cache.
pub type PageTokens = RefreshingTokens<'static, FetchClient, TimerSleeper, fn() -> UnixTime>;

/// The clouds the Settings page offers: `(id in config.json, label)`.
pub const CLOUDS: [(&str, &str); 5] = [
    ("global", "Global (Azure public cloud)"),
    ("usGovernment", "US Government (GCC High)"),
    ("usGovernmentDod", "US Government (DoD)"),
    ("china", "China (21Vianet)"),
    ("local", "Local emulator"),
];

/// Where and as whom the page signs in: the shape of `config.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub cloud: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_base_url: Option<String>,
    pub client_id: String,
    pub tenant: String,
}

impl Settings {
    /// Used when the deployment has no `config.json`.
    pub fn fallback() -> Settings {
        Settings {
            cloud: "global".into(),
            local_base_url: None,
            client_id: String::new(),
            tenant: "organizations".into(),
        }
    }

    pub fn cloud(&self) -> Result<Cloud, String> {
        Ok(match self.cloud.as_str() {
            "global" => Cloud::Global,
            "usGovernment" => Cloud::UsGovernment,
            "usGovernmentDod" => Cloud::UsGovernmentDod,
            "china" => Cloud::China,
            "local" => {
                let base = self
                    .local_base_url
                    .as_deref()
                    .map(str::trim)
                    .filter(|b| !b.is_empty())
                    .ok_or("Enter the emulator's address (for example http://127.0.0.1:8400).")?;
                let parsed = url::Url::parse(base).map_err(|_| {
                    format!("The emulator address '{base}' is not a URL (http://host:port).")
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(format!(
                        "The emulator address '{base}' must start with http:// or https://."
                    ));
                }
                Cloud::Local {
                    base_url: base.trim_end_matches('/').to_string(),
                }
            }
            other => return Err(format!("'{other}' is not a cloud this page knows.")),
        })
    }

    /// Checks every field; the sign-in configuration for `redirect_uri`.
    pub fn sign_in_config(&self, redirect_uri: String) -> Result<SignInConfig, String> {
        let cloud = self.cloud()?;
        let client_id = self.client_id.trim();
        if client_id.is_empty() {
            return Err(
                "Set the client ID of this page's sign-in application under Settings.".into(),
            );
        }
        let tenant = self.tenant.trim();
        if tenant.is_empty() {
            return Err("Set the tenant (ID or domain, or 'organizations') under Settings.".into());
        }
        Ok(SignInConfig {
            cloud,
            tenant: tenant.to_string(),
            client_id: client_id.to_string(),
            redirect_uri,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthState {
    SignedOut,
    /// Redeeming the answer of a sign-in.
    Working,
    SignedIn(Account),
}

static HTTP: FetchClient = FetchClient;
static SLEEPER: TimerSleeper = TimerSleeper;

/// An API client over `fetch` for `endpoints` (no token yet).
pub fn api_client(endpoints: Endpoints) -> ApiClient<'static, FetchClient, TimerSleeper> {
    ApiClient::new(
        &HTTP,
        &SLEEPER,
        endpoints,
        RetryPolicy::default(),
        OsRng.next_u64(),
        clock::now(),
    )
}

pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The page's own address without query or fragment: its redirect URI.
pub fn page_address() -> String {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into());
    format!("{}{path}", origin())
}

#[derive(Clone, Copy)]
pub struct Session {
    /// `config.json`, once fetched (`None` before, or when it is missing).
    pub defaults: RwSignal<Option<Settings>>,
    /// True once `config.json` was fetched or found missing.
    pub loaded: RwSignal<bool>,
    /// The admin's saved settings (localStorage).
    pub saved: RwSignal<Option<Settings>>,
    pub auth: RwSignal<AuthState>,
    /// The last sign-in or token error, with Microsoft's advice.
    pub error: RwSignal<Option<String>>,
    /// What a completed sign-in tells the admin (after incremental consent).
    pub notice: RwSignal<Option<String>>,
    /// The tokens, in the page's memory only (Leptos's arena for
    /// non-`Send` values; see the import of `InMemory`).
    cache: StoredValue<SharedTokens, InMemory>,
    config: StoredValue<Option<SignInConfig>>,
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

impl Session {
    /// Creates the session, provides it as context, fetches `config.json`
    /// and completes a sign-in whose answer is in the address.
    pub fn start() -> Session {
        let saved = storage::settings();
        let session = Session {
            defaults: RwSignal::new(None),
            loaded: RwSignal::new(false),
            saved: RwSignal::new(saved),
            auth: RwSignal::new(AuthState::SignedOut),
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            cache: StoredValue::new_local(SharedTokens::default()),
            config: StoredValue::new(None),
        };
        provide_context(session);
        spawn_local(async move {
            let answer = HTTP.send(HttpRequest::get("config.json")).await;
            if let Ok(r) = answer
                && r.status == 200
                && let Ok(s) = serde_json::from_slice::<Settings>(&r.body)
            {
                session.defaults.set(Some(s));
            }
            session.loaded.set(true);
        });
        session.complete_sign_in();
        session
    }

    /// The settings in force: the admin's, else the deployment's.
    pub fn settings_untracked(&self) -> Settings {
        self.saved
            .get_untracked()
            .or_else(|| self.defaults.get_untracked())
            .unwrap_or_else(Settings::fallback)
    }

    pub fn save_settings(&self, s: Option<Settings>) {
        storage::save_settings(s.as_ref());
        self.saved.set(s);
    }

    pub fn account(&self) -> Option<Account> {
        match self.auth.get() {
            AuthState::SignedIn(a) => Some(a),
            _ => None,
        }
    }

    /// The sign-in configuration of the current session.
    pub fn sign_in_config(&self) -> Option<SignInConfig> {
        self.config.get_value()
    }

    /// Starts a sign-in: keeps the pending sign-in in sessionStorage and
    /// sends the browser to the authority.
    pub fn sign_in(&self) {
        self.redirect(&[]);
    }

    /// Incremental consent: signs in again asking for exactly the Graph
    /// permissions `missing` (bare names) besides the OpenID scopes, so
    /// that Entra shows its consent screen for them. Back on the page the
    /// admin is told what was granted and reviews the plan again.
    pub fn consent(&self, missing: &[String]) {
        self.redirect(missing);
    }

    /// The scopes a sign-in asks for: the OpenID ones, plus Graph's
    /// `.default` — or, for incremental consent, each missing permission
    /// as its own scope (Entra refuses `.default` mixed with named scopes of
    /// the same resource; the token it issues carries every permission
    /// already consented besides the new ones).
    pub fn sign_in_scopes(endpoints: &Endpoints, missing: &[String]) -> Vec<String> {
        let mut scopes = vec![
            "openid".to_string(),
            "profile".into(),
            "offline_access".into(),
        ];
        if missing.is_empty() {
            scopes.push(Audience::Graph.sign_in_scope(endpoints));
        } else {
            scopes.extend(missing.iter().map(|m| endpoints.graph_scope(m)));
        }
        scopes
    }

    fn redirect(&self, missing: &[String]) {
        self.error.set(None);
        self.notice.set(None);
        let outcome = self
            .settings_untracked()
            .sign_in_config(page_address())
            .and_then(|config| {
                let scopes = Session::sign_in_scopes(&config.cloud.endpoints(), missing);
                let mut random = [0u8; RANDOM_BYTES];
                OsRng.fill_bytes(&mut random);
                let out = begin(&config, &scopes, &random).map_err(|e| e.to_string());
                random.fill(0);
                out
            });
        match outcome {
            Ok((url, pending)) => {
                if !storage::save_pending_sign_in(&pending) {
                    self.error.set(Some(
                        "This browser refuses sessionStorage, which the sign-in needs.".into(),
                    ));
                    return;
                }
                let hash = web_sys::window()
                    .and_then(|w| w.location().hash().ok())
                    .unwrap_or_default();
                storage::save_sign_in_return(&hash, missing);
                if let Some(w) = web_sys::window() {
                    let _ = w.location().assign(&url);
                }
            }
            Err(e) => self.error.set(Some(e)),
        }
    }

    /// The `needed` permissions (bare names) the current token for
    /// `audience` was not granted.
    pub fn missing_scopes(&self, audience: Audience, needed: &[&str]) -> Vec<String> {
        self.cache
            .with_value(|c| c.missing_scopes(audience, needed))
    }

    /// Forgets every token and the account.
    pub fn sign_out(&self) {
        self.cache.with_value(SharedTokens::clear);
        self.config.set_value(None);
        self.auth.set(AuthState::SignedOut);
        self.error.set(None);
    }

    /// Signs out here and ends the Entra session too (Microsoft's logout
    /// URL, which comes back to this page), so that the next person at this
    /// browser is asked who they are instead of being signed in silently.
    pub fn sign_out_of_entra(&self) {
        let config = self.config.get_value();
        self.sign_out();
        if let (Some(config), Some(w)) = (config, web_sys::window()) {
            let _ = w
                .location()
                .assign(&tokens::sign_out_url(&config, &page_address()));
        }
    }

    /// An API client taking its tokens from the session's cache, renewed
    /// as needed; ARM's token comes on its first use.
    pub async fn api(&self) -> Result<Api, UiError> {
        let config = self.sign_in_config().ok_or(UiError::SignedOut)?;
        Ok(api_client(config.cloud.endpoints()).with_owned_token_source(self.tokens()?))
    }

    /// The session's tokens, renewed as needed: for `api`, and for the
    /// pages module through `ui::bridge`.
    pub fn tokens(&self) -> Result<PageTokens, UiError> {
        let config = self.sign_in_config().ok_or(UiError::SignedOut)?;
        Ok(self.cache.with_value(|t| {
            t.source(
                &HTTP,
                &SLEEPER,
                config,
                origin(),
                clock::now as fn() -> UnixTime,
            )
        }))
    }

    /// The settings in force, tracked; `None` until `config.json` was read
    /// when the admin saved none.
    pub fn settings(&self) -> Option<Settings> {
        self.saved.get().or_else(|| self.defaults.get())
    }

    /// When the address carries a sign-in answer (`#code=…` or `#error=…`):
    /// removes the pending sign-in, drops the answer from the address and
    /// redeems the code.
    fn complete_sign_in(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let hash = location.hash().unwrap_or_default();
        let params = hash.trim_start_matches('#');
        let is_answer = params
            .split('&')
            .any(|p| p.starts_with("code=") || p.starts_with("error=") || p.starts_with("state="));
        if !is_answer {
            return;
        }
        let href = location.href().unwrap_or_default();
        let (pending, back, consented) = storage::take_sign_in();
        let back = back
            .filter(|h| h.starts_with("#/"))
            .unwrap_or_else(|| "#/connect".into());
        let path = location.pathname().unwrap_or_else(|_| "/".into());
        if let Ok(history) = window.history() {
            let _ =
                history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}{back}")));
        }
        let pending = match pending {
            Some(p) => p,
            None => {
                self.error
                    .set(Some(crate::auth::SignInError::NotPending.to_string()));
                return;
            }
        };
        let session = *self;
        session.auth.set(AuthState::Working);
        spawn_local(async move {
            let api = api_client(pending.config.cloud.endpoints());
            let mut cache = TokenCache::default();
            let outcome = tokens::redeem(
                &api,
                &mut cache,
                &pending,
                &href,
                Audience::Graph,
                &origin(),
                clock::now(),
            )
            .await;
            match outcome {
                Ok(account) => {
                    session.cache.with_value(|t| t.replace(cache));
                    session.config.set_value(Some(pending.config.clone()));
                    session.auth.set(AuthState::SignedIn(account));
                    if let Some(permissions) = consented {
                        session.notice.set(Some(format!(
                            "Signed in again with consent for {permissions}. The form could not be \
                             kept across the sign-in (passwords and keys never leave this page's \
                             memory): fill the wizard in again and review — the plan is no longer \
                             blocked."
                        )));
                    }
                }
                Err(e) => {
                    session.auth.set(AuthState::SignedOut);
                    session.error.set(Some(e.to_string()));
                }
            }
        });
    }
}
