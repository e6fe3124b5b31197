//! The emulator's single notion of "now". Everything that checks expiry asks
//! this clock, and the control API moves it (`POST /_emulator/clock`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

fn real_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Clock {
    /// Milliseconds since the Unix epoch, emulated.
    pub fn now_ms(&self) -> i64 {
        real_ms() + self.offset_ms.load(Ordering::SeqCst)
    }

    /// Seconds since the Unix epoch, emulated.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    pub fn advance(&self, seconds: i64) {
        self.offset_ms.fetch_add(seconds * 1000, Ordering::SeqCst);
    }

    /// Make "now" equal to `unix_seconds` (the clock keeps running from there).
    pub fn set(&self, unix_seconds: i64) {
        self.offset_ms
            .store(unix_seconds * 1000 - real_ms(), Ordering::SeqCst);
    }

    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::SeqCst);
    }
}

/// `2026-01-02T03:04:05Z`, the form Graph and ARM use.
pub fn iso(unix_seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp into Unix seconds.
pub fn parse_iso(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// `2026-01-02 03:04:05Z`, the form of the `timestamp` field in Entra token errors.
pub fn entra_timestamp(unix_seconds: i64) -> String {
    iso(unix_seconds).replace('T', " ")
}

/// `MM/DD/YYYY HH:MM:SS`, the form Entra uses for key dates in AADSTS700027.
pub fn entra_key_date(unix_seconds: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix_seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
        u8::from(t.month()),
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_and_formats() {
        let c = Clock::default();
        c.set(1_700_000_000);
        assert!((c.now() - 1_700_000_000).abs() <= 1);
        c.advance(86_400);
        assert!((c.now() - 1_700_086_400).abs() <= 1);
        assert_eq!(iso(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_iso("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(entra_key_date(1_700_000_000), "11/14/2023 22:13:20");
        assert_eq!(entra_timestamp(1_700_000_000), "2023-11-14 22:13:20Z");
    }
}
