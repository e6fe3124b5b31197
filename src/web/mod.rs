//! Browser glue: the thin edge between `core` and the Web platform
//! (WebCrypto, the clock, files and downloads, fetch and timers, Web Locks,
//! the crypto worker: `crypto_worker` in the page, `worker` inside it).
//! Storage is `ui::storage` (gloo-storage, one module for every key).

pub mod clock;
pub mod crypto_worker;
pub mod download;
pub mod fetch;
pub mod file;
pub mod lock;
pub mod webcrypto;
pub mod worker;
