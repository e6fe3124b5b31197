//! Browser glue: the thin edge between `core` and the Web platform
//! (WebCrypto, the clock, downloads).

pub mod clock;
