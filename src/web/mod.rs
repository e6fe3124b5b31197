//! Browser glue: the thin edge between `core` and the Web platform
//! (WebCrypto, the clock, files and downloads, fetch, storage).

pub mod clock;
pub mod download;
pub mod fetch;
pub mod file;
pub mod storage;
pub mod webcrypto;
