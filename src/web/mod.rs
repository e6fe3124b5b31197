//! Browser glue: the thin edge between `core` and the Web platform
//! (WebCrypto, the clock, files and downloads, fetch and timers, Web Locks).
//! Storage is `ui::storage` (gloo-storage, one module for every key).

pub mod clock;
pub mod download;
pub mod fetch;
pub mod file;
pub mod lock;
pub mod webcrypto;
