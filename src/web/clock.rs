//! The wall clock in the browser: `SystemTime::now()` panics in wasm, so the
//! time comes from `Date.now()` and is passed into `core` explicitly.

use crate::core::time::UnixTime;

pub fn now() -> UnixTime {
    UnixTime((js_sys::Date::now() / 1000.0) as u64)
}
