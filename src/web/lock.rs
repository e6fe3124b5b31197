//! Web Locks: two tabs (or windows) of this browser never apply the same
//! plan at once. The apply runs inside an exclusive lock named after the
//! plan, asked for with `ifAvailable` (never queued): a second tab is told
//! at once that the plan is being applied elsewhere, and by which tab — the
//! holder also holds a shared lock whose name describes it ("started at
//! 21:40:12 UTC on #/connect/new"), which `navigator.locks.query()` lists.
//! A lock is released when its apply ends, when the future is dropped, or
//! when the tab closes.
//!
//! Where the browser has no Web Locks (an insecure context, an old
//! browser), the apply runs unguarded: plans are idempotent, so a second
//! apply creates nothing twice, it only repeats lookups.
// https://developer.mozilla.org/en-US/docs/Web/API/LockManager/request
// https://developer.mozilla.org/en-US/docs/Web/API/LockManager/query
// https://w3c.github.io/web-locks/

use core::future::Future;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Another tab holds the plan's lock.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "This plan is being applied in another tab or window of this browser{}. Let it finish \
     there, or close that tab; then apply again here: completed steps are not repeated.",
    .holder.as_deref().map(|h| format!(" (the tab that {h})")).unwrap_or_default()
)]
pub struct HeldElsewhere {
    pub plan_id: String,
    /// How the holding tab describes itself: "started at 21:40:12 UTC on
    /// #/connect/new".
    pub holder: Option<String>,
}

/// The exclusive lock of a plan's apply.
pub fn lock_name(plan_id: &str) -> String {
    format!("entra-wizard:apply:{plan_id}")
}

/// The prefix of the shared lock the holder describes itself with.
fn holder_prefix(plan_id: &str) -> String {
    format!("{}:held-by:", lock_name(plan_id))
}

/// Runs `f` (the apply of plan `plan_id`) holding the plan's lock, or
/// returns [`HeldElsewhere`] at once without running it.
pub async fn with_plan_lock<T, Fut: Future<Output = T>>(
    plan_id: &str,
    f: impl FnOnce() -> Fut,
) -> Result<T, HeldElsewhere> {
    let Some(locks) = lock_manager() else {
        return Ok(f().await);
    };
    // Resolved (with the callback's argument) when the browser decides.
    let (granted, grant) = promise();
    // Resolved when `f` is done (or dropped): ends both locks.
    let (release_promise, release) = promise();
    let release = Release(release);
    // `once_into_js`: freed by wasm-bindgen once the browser has called it
    // (with `ifAvailable`, it always does, at once).
    let on_lock = {
        let release_promise = release_promise.clone();
        Closure::once_into_js(move |lock: JsValue| -> JsValue {
            let held = !lock.is_null();
            let _ = grant.call1(&JsValue::NULL, &JsValue::from_bool(held));
            match held {
                true => release_promise.into(),
                false => JsValue::UNDEFINED,
            }
        })
    };
    if request(&locks, &lock_name(plan_id), "exclusive", &on_lock).is_err() {
        return Ok(f().await);
    }
    let held = JsFuture::from(granted).await.is_ok_and(|v| v.is_truthy());
    if !held {
        return Err(HeldElsewhere {
            plan_id: plan_id.to_string(),
            holder: holder(&locks, plan_id).await,
        });
    }
    // Describes this tab to the others while it holds the lock (in place
    // before the apply starts).
    let (described, describe) = promise();
    let on_described = Closure::once_into_js(move |_: JsValue| -> JsValue {
        let _ = describe.call0(&JsValue::NULL);
        release_promise.into()
    });
    let description = format!("{}{}", holder_prefix(plan_id), describe_this_tab());
    if request(&locks, &description, "shared", &on_described).is_ok() {
        let _ = JsFuture::from(described).await;
    }
    let out = f().await;
    drop(release);
    Ok(out)
}

/// Resolves its promise when dropped: a lock ends however its apply ends.
struct Release(Function);

impl Drop for Release {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::NULL);
    }
}

/// A promise and the function that resolves it.
fn promise() -> (Promise, Function) {
    let mut resolve = None;
    let promise = Promise::new(&mut |res, _| resolve = Some(res));
    let resolve = resolve.unwrap_or_else(|| Function::new_no_args(""));
    (promise, resolve)
}

/// `navigator.locks`, where the browser has it.
fn lock_manager() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    Reflect::get(&navigator, &JsValue::from_str("locks"))
        .ok()
        .filter(|l| l.is_object())
}

/// `locks.request(name, {mode, ifAvailable: true}, callback)`.
fn request(
    locks: &JsValue,
    name: &str,
    mode: &str,
    callback: &JsValue,
) -> Result<JsValue, JsValue> {
    let options = Object::new();
    Reflect::set(&options, &"mode".into(), &mode.into())?;
    Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE)?;
    let request: Function = Reflect::get(locks, &"request".into())?.dyn_into()?;
    request.call3(locks, &name.into(), &options, callback)
}

/// How the holder of `plan_id`'s lock describes itself, from
/// `locks.query()`.
async fn holder(locks: &JsValue, plan_id: &str) -> Option<String> {
    let query: Function = Reflect::get(locks, &"query".into()).ok()?.dyn_into().ok()?;
    let snapshot: Promise = query.call0(locks).ok()?.dyn_into().ok()?;
    let snapshot = JsFuture::from(snapshot).await.ok()?;
    let held: Array = Reflect::get(&snapshot, &"held".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let prefix = holder_prefix(plan_id);
    held.iter()
        .filter_map(|l| Reflect::get(&l, &"name".into()).ok()?.as_string())
        .find_map(|name| name.strip_prefix(&prefix).map(str::to_string))
}

/// "started at 21:40:12 UTC on #/connect/new".
fn describe_this_tab() -> String {
    let time = super::clock::now().to_rfc3339();
    let time = time.get(11..19).unwrap_or(&time).to_string();
    let place = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .filter(|h| !h.is_empty())
        .map(|h| format!(" on {h}"))
        .unwrap_or_default();
    format!("started at {time} UTC{place}")
}
