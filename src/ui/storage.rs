//! Every key the page keeps in the browser, each with its typed load and
//! save (gloo-storage). sessionStorage holds what a redirect or a reload of
//! this tab needs; localStorage holds settings and saved records. Nothing
//! confidential is stored (see DESIGN.md, security model): no token, no
//! secret, no key.

use gloo_storage::{LocalStorage, SessionStorage, Storage};

use super::bulk_renew::SavedBulk;
use super::session::Settings;
use super::wizards::SavedApply;
use crate::auth::PendingSignIn;
use crate::flows::connection::{self, ConnectionRecord};
use crate::profiles::Profile;

/// localStorage: the admin's settings (cloud, client ID, tenant).
const SETTINGS: &str = "entra-wizard.settings";
/// localStorage: the finished wizards' connection records (IDs and dates).
const ACCOUNTS: &str = "entra-wizard.service-accounts";
/// sessionStorage: the sign-in in progress (PKCE verifier, state; removed
/// after use).
const PENDING_SIGN_IN: &str = "entra-wizard.sign-in";
/// sessionStorage: the page to come back to after the sign-in redirect.
const SIGN_IN_RETURN: &str = "entra-wizard.sign-in-return";
/// sessionStorage: the permissions an incremental-consent sign-in asked
/// for (bare names; removed once the sign-in completes).
const SIGN_IN_CONSENT: &str = "entra-wizard.sign-in-consent";
/// sessionStorage: the plan being applied and its progress (IDs only).
const APPLY: &str = "entra-wizard.apply";
/// sessionStorage: the bulk renewal (or removal) being run from the
/// dashboard: its tenant and plan, written once per run…
const BULK: &str = "entra-wizard.bulk-renewal";
/// …and where each item stands, written after every batch (IDs only, no
/// secret), so that a run does not write its whole plan again each time.
const BULK_STATE: &str = "entra-wizard.bulk-renewal.state";
/// sessionStorage: the custom permission profiles loaded in this tab.
const CUSTOM_PROFILES: &str = "entra-wizard.custom-profiles";

/// Saves `value` under `key`; false when the browser refuses (storage
/// disabled or full).
fn put<S: Storage>(key: &str, value: &impl serde::Serialize) -> bool {
    S::set(key, value).is_ok()
}

pub fn settings() -> Option<Settings> {
    LocalStorage::get(SETTINGS).ok()
}

pub fn save_settings(s: Option<&Settings>) {
    match s {
        Some(s) => {
            put::<LocalStorage>(SETTINGS, s);
        }
        None => LocalStorage::delete(SETTINGS),
    }
}

/// The saved connection records (an unreadable list reads as none).
pub fn records() -> Vec<ConnectionRecord> {
    LocalStorage::raw()
        .get_item(ACCOUNTS)
        .ok()
        .flatten()
        .and_then(|json| connection::import(&json).ok())
        .unwrap_or_default()
}

pub fn save_records(records: &[ConnectionRecord]) {
    put::<LocalStorage>(ACCOUNTS, &records);
}

/// Keeps `record`, replacing the saved record of the same connection
/// (`flows::connection::upsert`).
pub fn keep_record(record: ConnectionRecord) {
    let mut all = records();
    connection::upsert(&mut all, record);
    save_records(&all);
}

pub fn pending_sign_in() -> Option<PendingSignIn> {
    SessionStorage::get(PENDING_SIGN_IN).ok()
}

pub fn save_pending_sign_in(p: &PendingSignIn) -> bool {
    put::<SessionStorage>(PENDING_SIGN_IN, p)
}

/// The fragment to come back to, and the consent asked for, of the
/// sign-in in progress.
pub fn save_sign_in_return(hash: &str, consent: &[String]) {
    put::<SessionStorage>(SIGN_IN_RETURN, &hash);
    if consent.is_empty() {
        SessionStorage::delete(SIGN_IN_CONSENT);
    } else {
        put::<SessionStorage>(SIGN_IN_CONSENT, &consent.join(", "));
    }
}

/// Takes (reads and removes) what [`save_pending_sign_in`] and
/// [`save_sign_in_return`] kept: the pending sign-in, the fragment to go
/// back to, the consent asked for.
pub fn take_sign_in() -> (Option<PendingSignIn>, Option<String>, Option<String>) {
    let out = (
        pending_sign_in(),
        SessionStorage::get(SIGN_IN_RETURN).ok(),
        SessionStorage::get(SIGN_IN_CONSENT).ok(),
    );
    for key in [PENDING_SIGN_IN, SIGN_IN_RETURN, SIGN_IN_CONSENT] {
        SessionStorage::delete(key);
    }
    out
}

/// Read through `serde_json::Value`, as the saved steps
/// (`plan::step::compat`) and the records (`connection::import`) are: the
/// record's decoder then exists once in the wasm (5.5 KB gzip less).
pub fn saved_apply() -> Option<SavedApply> {
    let json = SessionStorage::raw().get_item(APPLY).ok().flatten()?;
    let value: serde_json::Value = serde_json::from_str(&json).ok()?;
    serde_json::from_value(value).ok()
}

pub fn save_apply(saved: &SavedApply) {
    put::<SessionStorage>(APPLY, saved);
}

pub fn forget_apply() {
    SessionStorage::delete(APPLY);
}

pub fn custom_profiles() -> Vec<Profile> {
    SessionStorage::get(CUSTOM_PROFILES).unwrap_or_default()
}

pub fn save_custom_profiles(list: &[Profile]) {
    put::<SessionStorage>(CUSTOM_PROFILES, &list);
}

/// The saved run's tenant and plan (what [`BULK`] holds).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkPlanOf<T, P> {
    tenant_id: T,
    plan: P,
}

pub fn saved_bulk() -> Option<SavedBulk> {
    let BulkPlanOf { tenant_id, plan } = SessionStorage::get::<BulkPlanOf<_, _>>(BULK).ok()?;
    let state = SessionStorage::get(BULK_STATE).ok()?;
    Some(SavedBulk {
        tenant_id,
        plan,
        state,
    })
}

/// Saves a run's tenant, plan and state (when a run starts or ends).
pub fn save_bulk(saved: &SavedBulk) {
    let plan = BulkPlanOf {
        tenant_id: &saved.tenant_id,
        plan: &saved.plan,
    };
    if put::<SessionStorage>(BULK, &plan) {
        save_bulk_state(&saved.state);
    }
}

/// Saves where the running plan's items stand (after every batch).
pub fn save_bulk_state(state: &crate::flows::bulk_renew::RunState) {
    put::<SessionStorage>(BULK_STATE, state);
}

pub fn forget_bulk() {
    SessionStorage::delete(BULK);
    SessionStorage::delete(BULK_STATE);
}
