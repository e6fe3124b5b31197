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
        Self(self.0.saturating_add(days * DAY))
    }

    /// The same day and time `months` calendar months later, clamped to the
    /// end of a shorter month (Jan 31 + 1 month = Feb 28/29).
    pub fn plus_months(self, months: u32) -> Self {
        let dt = self.to_der();
        let total = dt.month() as u32 - 1 + months;
        let year = dt.year() as u32 + total / 12;
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
            year.min(9999) as u16,
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
        (later.0 as i64 - self.0 as i64).div_euclid(DAY as i64)
    }

    /// ISO 8601 / RFC 3339 in UTC, as Graph writes dates: `2025-01-31T12:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_der().to_string()
    }

    /// Reads what Graph and Entra error texts write: `2025-01-31T12:00:00Z`,
    /// with optional fractional seconds and an optional `+00:00` offset.
    pub fn parse_rfc3339(s: &str) -> Result<Self, BadTimestamp> {
        let bad = || BadTimestamp(s.to_string());
        let t = s.trim();
        let (date, rest) = t.split_once(['T', 't', ' ']).ok_or_else(bad)?;
        let num = |x: &str| x.parse::<u32>().map_err(|_| bad());
        let mut d = date.split('-');
        let (y, mo, da) = (
            num(d.next().ok_or_else(bad)?)?,
            num(d.next().ok_or_else(bad)?)?,
            num(d.next().ok_or_else(bad)?)?,
        );
        // Split off the zone: Z, z, +hh:mm or -hh:mm.
        let (clock, offset_secs): (&str, i64) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else if let Some(pos) = rest.rfind(['+', '-']) {
            let (c, z) = rest.split_at(pos);
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (h, m) = z[1..]
                .split_once(':')
                .unwrap_or((&z[1..3.min(z.len())], "0"));
            (c, sign * (num(h)? as i64 * 3600 + num(m)? as i64 * 60))
        } else {
            (rest, 0)
        };
        let clock = clock.split('.').next().unwrap_or(clock);
        let mut c = clock.split(':');
        let (h, mi, se) = (
            num(c.next().ok_or_else(bad)?)?,
            num(c.next().ok_or_else(bad)?)?,
            c.next().map(num).transpose()?.unwrap_or(0),
        );
        let dt = der::DateTime::new(y as u16, mo as u8, da as u8, h as u8, mi as u8, se as u8)
            .map_err(|_| bad())?;
        let secs = dt.unix_duration().as_secs() as i64 - offset_secs;
        u64::try_from(secs).map(UnixTime).map_err(|_| bad())
    }
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
