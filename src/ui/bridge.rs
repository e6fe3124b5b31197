//! The page is two wasm modules: the shell (the first load: header,
//! sign-in, the offline certificate tools, settings; `src/main.rs`) and the
//! pages that call Microsoft's APIs (connect, service accounts, renew,
//! dashboard; `src/bin/pages.rs`), loaded on the first visit to one of them
//! so that the first load stays small. This module is the wire between the
//! two, both halves in one place.
//!
//! The shell owns the session: the tokens stay in its memory and never go
//! to storage. It hands the pages module an object of functions (`host`):
//! `token` gives an access token (renewed as needed) or the typed
//! `ApiError`, as JSON; `holds`, `missingScopes` and `consent` answer from
//! or act on the shell's session. Whenever the sign-in or the settings
//! change, the shell sends the pages module a [`Shared`] snapshot (`share`).
//! boot.js loads the module (`entraWizardPages`): the files are named in its
//! script tag's `data-pages` and `data-pages-wasm`.

use js_sys::{Array, Function, Object, Promise, Reflect};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use super::session::{AuthState, Session, Settings};
use crate::api_error::{ApiError, Service};
use crate::auth::{Audience, SignInConfig, TokenSource};

/// The shape of the wire: both modules come from one build, but a browser
/// may hold an older copy of one of them; a mismatch is refused.
pub const PROTOCOL: u32 = 1;

/// What the pages module knows of the session, sent on every change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shared {
    pub auth: AuthState,
    /// The settings in force (`None` until `config.json` was read, when the
    /// admin saved none).
    pub settings: Option<Settings>,
    pub config: Option<SignInConfig>,
}

/// Why the pages module is not there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BridgeError {
    #[error(
        "This page could not be loaded ({0}). Check the network connection and try again; \
         offline, only pages opened once online are kept."
    )]
    Unavailable(String),
    #[error(
        "This page's files are from two different versions of entra-wizard (a new version was \
         published while it was open). Reload the page."
    )]
    Version,
}

fn describe(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

fn get(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(name))
}

fn function(target: &JsValue, name: &str) -> Result<Function, JsValue> {
    get(target, name)?
        .dyn_into::<Function>()
        .map_err(|_| JsValue::from_str(&format!("{name} is not a function")))
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

// ---- The shell's half ----------------------------------------------------

/// The session as the pages module gets it; tracked, so that an effect
/// reading it follows sign-in, sign-out and the settings.
fn shared(session: Session) -> Shared {
    let auth = session.auth.get();
    Shared {
        settings: session.settings(),
        // Set before `auth` turns SignedIn, cleared with it on sign-out.
        config: session.sign_in_config(),
        auth,
    }
}

/// Loads the pages module, mounts it in `slot` and keeps it told of the
/// session. `owner` is the shell's, for the effect that shares the session.
pub async fn load(
    session: Session,
    slot: web_sys::HtmlElement,
    owner: Owner,
) -> Result<(), BridgeError> {
    let unavailable = |e: JsValue| BridgeError::Unavailable(describe(&e));
    let window = web_sys::window().ok_or_else(|| BridgeError::Unavailable("no window".into()))?;
    let loader = function(&window, "entraWizardPages").map_err(unavailable)?;
    let promise: Promise = loader
        .call0(&JsValue::NULL)
        .map_err(unavailable)?
        .dyn_into()
        .map_err(unavailable)?;
    let module = JsFuture::from(promise).await.map_err(unavailable)?;
    let theirs = function(&module, "protocol")
        .and_then(|f| f.call0(&JsValue::NULL))
        .map_err(unavailable)?;
    if theirs.as_f64() != Some(f64::from(PROTOCOL)) {
        return Err(BridgeError::Version);
    }
    let mount = function(&module, "mount").map_err(unavailable)?;
    let share = function(&module, "share").map_err(unavailable)?;
    let snapshot = owner.with(|| untrack(|| json(&shared(session))));
    mount
        .call3(&JsValue::NULL, &slot, &host(session), &snapshot.into())
        .map_err(unavailable)?;
    owner.with(|| {
        Effect::new(move |_| {
            let _ = share.call1(&JsValue::NULL, &json(&shared(session)).into());
        })
    });
    Ok(())
}

/// The functions the pages module calls (see the module's comment).
fn host(session: Session) -> Object {
    let host = Object::new();
    let set = |name: &str, f: JsValue| {
        let _ = Reflect::set(&host, &JsValue::from_str(name), &f);
    };
    let token = move |service: String, refused: JsValue| -> Promise {
        let refused = refused.as_string();
        future_to_promise(async move {
            let failed = |e: ApiError| JsValue::from_str(&json(&e));
            let service: Service = serde_json::from_str(&service).map_err(|e| {
                failed(ApiError::Unexpected {
                    service: Service::Identity,
                    what: "a token request from the page".into(),
                    detail: e.to_string(),
                })
            })?;
            let tokens = session
                .tokens()
                .map_err(|_| failed(ApiError::NotSignedIn(service)))?;
            let token = tokens
                .token(service, refused.as_deref())
                .await
                .map_err(failed)?;
            Ok(JsValue::from_str(&token))
        })
    };
    set(
        "token",
        Closure::<dyn Fn(String, JsValue) -> Promise>::new(token).into_js_value(),
    );
    let holds = move |service: String| -> bool {
        let Ok(service) = serde_json::from_str::<Service>(&service) else {
            return false;
        };
        session.tokens().is_ok_and(|t| t.holds(service))
    };
    set(
        "holds",
        Closure::<dyn Fn(String) -> bool>::new(holds).into_js_value(),
    );
    let missing = move |audience: String, needed: String| -> String {
        let (Ok(audience), Ok(needed)) = (
            serde_json::from_str::<Audience>(&audience),
            serde_json::from_str::<Vec<String>>(&needed),
        ) else {
            return "[]".into();
        };
        let needed: Vec<&str> = needed.iter().map(String::as_str).collect();
        json(&session.missing_scopes(audience, &needed))
    };
    set(
        "missingScopes",
        Closure::<dyn Fn(String, String) -> String>::new(missing).into_js_value(),
    );
    let consent = move |missing: String| {
        let missing: Vec<String> = serde_json::from_str(&missing).unwrap_or_default();
        session.consent(&missing);
    };
    set(
        "consent",
        Closure::<dyn Fn(String)>::new(consent).into_js_value(),
    );
    host
}

// ---- The pages module's half ---------------------------------------------

/// The shell's functions, as the pages module calls them.
#[derive(Clone)]
pub struct Host(Object);

impl Host {
    pub fn new(host: Object) -> Host {
        Host(host)
    }

    fn call(&self, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
        let f = function(&self.0, name)?;
        let args: Array = args.iter().collect();
        f.apply(&JsValue::NULL, &args)
    }

    /// An access token for `service` from the shell's session.
    pub async fn token(&self, service: Service, refused: Option<&str>) -> Result<String, ApiError> {
        let bridge = |e: JsValue| {
            serde_json::from_str::<ApiError>(&describe(&e)).unwrap_or_else(|_| {
                ApiError::Unexpected {
                    service,
                    what: "the page's sign-in".into(),
                    detail: describe(&e),
                }
            })
        };
        let refused = refused.map_or(JsValue::UNDEFINED, JsValue::from_str);
        let promise: Promise = self
            .call("token", &[json(&service).into(), refused])
            .map_err(bridge)?
            .dyn_into()
            .map_err(bridge)?;
        let token = JsFuture::from(promise).await.map_err(bridge)?;
        token.as_string().ok_or_else(|| bridge(token))
    }

    pub fn holds(&self, service: Service) -> bool {
        self.call("holds", &[json(&service).into()])
            .is_ok_and(|v| v.is_truthy())
    }

    pub fn missing_scopes(&self, audience: Audience, needed: &[&str]) -> Vec<String> {
        self.call(
            "missingScopes",
            &[json(&audience).into(), json(&needed).into()],
        )
        .ok()
        .and_then(|v| v.as_string())
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default()
    }

    pub fn consent(&self, missing: &[String]) {
        let _ = self.call("consent", &[json(&missing).into()]);
    }
}
