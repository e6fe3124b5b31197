//! Wall-clock instants as Unix seconds. `core` never reads the clock itself:
//! in wasm `SystemTime::now()` panics, so callers pass the time in.

use core::fmt;
use core::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds since 1970-01-01T00:00:00Z (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub u64);

pub const DAY: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a date and time like 2025-01-31T12:00:00Z")]
pub struct BadTimestamp(pub String);

impl UnixTime {
    pub fn from_der(dt: der::DateTime) -> Self {
        Self(dt.unix_duration().as_secs())
    }

    pub fn to_der(self) -> der::DateTime {
        // Beyond 9999-12-31 is not representable; clamp to it.
        der::DateTime::from_unix_duration(Duration::from_secs(self.0))
            .unwrap_or(der::DateTime::INFINITY)
    }

    pub fn plus_days(self, days: u64) -> Self {
        Self(self.0.saturating_add(days.saturating_mul(DAY)))
    }

    /// The same day and time `months` calendar months later, clamped to the
    /// end of a shorter month (Jan 31 + 1 month = Feb 28/29).
    pub fn plus_months(self, months: u32) -> Self {
        let dt = self.to_der();
        let total = u64::from(dt.month()) - 1 + u64::from(months);
        let year = u64::from(dt.year()) + total / 12;
        if year > 9999 {
            return UnixTime::from_der(der::DateTime::INFINITY);
        }
        let month = (total % 12 + 1) as u8;
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let last = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        der::DateTime::new(
            year as u16,
            month,
            dt.day().min(last),
            dt.hour(),
            dt.minutes(),
            dt.seconds(),
        )
        .map(UnixTime::from_der)
        .unwrap_or(UnixTime::from_der(der::DateTime::INFINITY))
    }

    /// Whole days from `self` until `later` (negative when `later` is past).
    pub fn days_until(self, later: UnixTime) -> i64 {
        let days = (i128::from(later.0) - i128::from(self.0)).div_euclid(i128::from(DAY));
        days as i64 // |days| < 2^64 / 86,400: it fits
    }

    /// ISO 8601 / RFC 3339 in UTC, as Graph writes dates: `2025-01-31T12:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_der().to_string()
    }

    /// Reads what Graph and Entra error texts write: `2025-01-31T12:00:00Z`,
    /// with optional fractional seconds and an optional `+hh:mm` offset
    /// (`+hhmm` and `+hh` too). The text may come from a file anyone wrote:
    /// anything else, a field out of range or an instant past
    /// 9999-12-31T23:59:59Z is refused, never wrapped or sliced through.
    pub fn parse_rfc3339(s: &str) -> Result<Self, BadTimestamp> {
        Self::parse_rfc3339_parts(s.trim()).ok_or_else(|| BadTimestamp(s.to_string()))
    }

    fn parse_rfc3339_parts(t: &str) -> Option<Self> {
        let (date, rest) = t.split_once(['T', 't', ' '])?;
        let [y, mo, da] = fields(date, '-')?;
        // Split off the zone: Z, z, +hh:mm, -hh:mm, +hhmm or +hh.
        let (clock, offset_secs): (&str, i64) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else if let Some(pos) = rest.rfind(['+', '-']) {
            let (c, zone) = rest.split_at(pos);
            let negative = zone.starts_with('-');
            // The sign is one byte (so `1..` is a character boundary); what
            // follows may be anything, and is only split where a check says
            // it is a boundary.
            let zone = &zone[1..];
            let (h, m) = match zone.split_once(':') {
                Some(hm) => hm,
                None if zone.len() == 4 => zone.split_at_checked(2)?,
                None => (zone, "00"),
            };
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m) = (number(h)?, number(m)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = i64::from(h * 3600 + m * 60);
            (c, if negative { -secs } else { secs })
        } else {
            (rest, 0)
        };
        let clock = match clock.split_once('.') {
            Some((hms, fraction)) => {
                if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                hms
            }
            None => clock,
        };
        let (h, mi, se) = match fields::<3>(clock, ':') {
            Some([h, mi, se]) => (h, mi, se),
            None => {
                let [h, mi] = fields::<2>(clock, ':')?;
                (h, mi, 0)
            }
        };
        let byte = |n: u32| u8::try_from(n).ok();
        let dt = der::DateTime::new(
            u16::try_from(y).ok()?,
            byte(mo)?,
            byte(da)?,
            byte(h)?,
            byte(mi)?,
            byte(se)?,
        )
        .ok()?;
        let secs = i64::try_from(dt.unix_duration().as_secs()).ok()? - offset_secs;
        let t = UnixTime(u64::try_from(secs).ok()?);
        (t <= Self::MAX).then_some(t)
    }

    /// 9999-12-31T23:59:59Z, the last instant a certificate (and
    /// [`UnixTime::to_rfc3339`]) can write.
    pub const MAX: UnixTime = UnixTime(253_402_300_799);
}

/// Exactly `N` numbers separated by `sep`.
fn fields<const N: usize>(s: &str, sep: char) -> Option<[u32; N]> {
    let mut parts = s.split(sep);
    let mut out = [0; N];
    for slot in &mut out {
        *slot = number(parts.next()?)?;
    }
    parts.next().is_none().then_some(out)
}

/// One to nine ASCII digits (no sign, no space).
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for UnixTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for UnixTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        UnixTime::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339() {
        let t = UnixTime(1_700_000_000);
        assert_eq!(t.to_rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(UnixTime::parse_rfc3339("2023-11-14T22:13:20Z"), Ok(t));
        assert_eq!(
            UnixTime::parse_rfc3339("2023-11-14T22:13:20.1234567Z"),
            Ok(t)
        );
        assert_eq!(UnixTime::parse_rfc3339("2023-11-15T00:13:20+02:00"), Ok(t));
        assert!(UnixTime::parse_rfc3339("yesterday").is_err());
    }

    /// Issue 11: a non-ASCII time-zone offset made the parser slice a
    /// string inside a character (a panic that kills the page).
    #[test]
    fn non_ascii_offsets_are_refused_not_a_panic() {
        for s in [
            "2025-01-31T12:00:00+€",
            "2025-01-31T12:00:00-€1",
            "2025-01-31T12:00:00+é",
            "2025-01-31T12:00:00+0é",
            "2025-01-31T12:00:00+😀:00",
            "2025-01-31T12:00:00+",
        ] {
            assert_eq!(
                UnixTime::parse_rfc3339(s),
                Err(BadTimestamp(s.to_string())),
                "{s}"
            );
        }
    }

    #[test]
    fn offsets_are_read_whole() {
        let t = UnixTime::parse_rfc3339("2025-01-31T12:00:00Z").unwrap();
        let at = |s| UnixTime::parse_rfc3339(s);
        assert_eq!(at("2025-01-31T14:30:00+02:30"), Ok(t));
        // Without the colon: +hhmm and +hh, minutes not dropped.
        assert_eq!(at("2025-01-31T14:30:00+0230"), Ok(t));
        assert_eq!(at("2025-01-31T10:00:00-02"), Ok(t));
        for s in [
            "2025-01-31T12:00:00+24:00",
            "2025-01-31T12:00:00+02:60",
            "2025-01-31T12:00:00+023",
            "2025-01-31T12:00:00+02:30:00",
        ] {
            assert!(at(s).is_err(), "{s}");
        }
    }

    /// Fields were cast with `as`: month 257 became January and year 67506
    /// became 2000.
    #[test]
    fn out_of_range_fields_are_refused_not_wrapped() {
        for s in [
            "2025-257-01T00:00:00Z",
            "67506-01-01T00:00:00Z",
            "2025-01-257T00:00:00Z",
            "2025-01-01T256:00:00Z",
            "2025-01-01T00:256:00Z",
            "2025-01-01T00:00:256Z",
            "2025-01-01T00:00:00.5.5Z",
            "2025-01-01T00:00:00.xZ",
            "2025-01-01-01T00:00:00Z",
            "2025-01-01T00:00:00:00Z",
            "2025-+1-01T00:00:00Z",
            "2025-01-01T+1:00:00Z",
            "2025-01-01T00:00:00+-1:00",
        ] {
            assert!(UnixTime::parse_rfc3339(s).is_err(), "{s}");
        }
        assert_eq!(
            UnixTime::parse_rfc3339("2025-01-01T00:00:00.999Z"),
            UnixTime::parse_rfc3339("2025-01-01T00:00:00Z")
        );
    }

    /// Arithmetic on instants saturates instead of overflowing.
    #[test]
    fn arithmetic_saturates() {
        let t = UnixTime(1_700_000_000);
        assert_eq!(t.plus_days(u64::MAX), UnixTime(u64::MAX));
        assert_eq!(t.plus_days(1), UnixTime(1_700_000_000 + DAY));
        assert_eq!(t.plus_months(u32::MAX).to_rfc3339(), "9999-12-31T23:59:59Z");
        assert_eq!(
            t.plus_months(12 * 8000).to_rfc3339(),
            "9999-12-31T23:59:59Z"
        );
        // u64::MAX seconds is 213,503,982,334,601 days and a bit.
        assert_eq!(
            UnixTime(0).days_until(UnixTime(u64::MAX)),
            213_503_982_334_601
        );
        assert_eq!(
            UnixTime(u64::MAX).days_until(UnixTime(0)),
            -213_503_982_334_602
        );
    }

    #[test]
    fn plus_months_follows_the_calendar() {
        let jan31 = UnixTime::parse_rfc3339("2024-01-31T10:00:00Z").unwrap();
        assert_eq!(jan31.plus_months(1).to_rfc3339(), "2024-02-29T10:00:00Z");
        assert_eq!(jan31.plus_months(12).to_rfc3339(), "2025-01-31T10:00:00Z");
        assert_eq!(jan31.plus_months(13).to_rfc3339(), "2025-02-28T10:00:00Z");
        assert_eq!(jan31.plus_months(24).to_rfc3339(), "2026-01-31T10:00:00Z");
    }

    #[test]
    fn days_until_counts_whole_days() {
        let now = UnixTime(1_000 * DAY);
        assert_eq!(now.days_until(now.plus_days(10)), 10);
        assert_eq!(now.days_until(UnixTime(now.0 - 1)), -1);
    }
}
