//! How close a credential (client secret or certificate) is to its end date,
//! for the Logon step, the renewal wizard and the dashboard.

use core::fmt;

use serde::Serialize;

use crate::core::time::{DAY, UnixTime};

/// A credential ending within this many days is flagged for renewal.
pub const EXPIRES_SOON_DAYS: u64 = 30;

/// Where a credential stands relative to its end date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Past its end date; `days_ago` whole days ago (0: within the last day).
    Expired { days_ago: u64 },
    /// Ends within [`EXPIRES_SOON_DAYS`]; `days` whole days left (0: today).
    ExpiresSoon { days: u64 },
    /// Ends later; `days` whole days left.
    Valid { days: u64 },
}

/// The tagged form read as one flat object (serde's derive for a tagged enum
/// buffers the whole object first, which costs the page's wasm).
impl<'de> serde::Deserialize<'de> for CredentialStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Status {
            Expired,
            ExpiresSoon,
            Valid,
        }
        #[derive(serde::Deserialize)]
        struct Flat {
            status: Status,
            days_ago: Option<u64>,
            days: Option<u64>,
        }
        let f = Flat::deserialize(d)?;
        let days = || f.days.ok_or_else(|| D::Error::missing_field("days"));
        Ok(match f.status {
            Status::Expired => CredentialStatus::Expired {
                days_ago: f
                    .days_ago
                    .ok_or_else(|| D::Error::missing_field("days_ago"))?,
            },
            Status::ExpiresSoon => CredentialStatus::ExpiresSoon { days: days()? },
            Status::Valid => CredentialStatus::Valid { days: days()? },
        })
    }
}

/// The status of a credential that ends at `end`, seen at `now`. A
/// credential whose end is exactly `now` has expired.
pub fn status(end: UnixTime, now: UnixTime) -> CredentialStatus {
    if end <= now {
        CredentialStatus::Expired {
            days_ago: (now.0 - end.0) / DAY,
        }
    } else {
        let days = (end.0 - now.0) / DAY;
        if days <= EXPIRES_SOON_DAYS {
            CredentialStatus::ExpiresSoon { days }
        } else {
            CredentialStatus::Valid { days }
        }
    }
}

impl CredentialStatus {
    /// Entra still accepts the credential.
    pub fn is_usable(self) -> bool {
        !matches!(self, CredentialStatus::Expired { .. })
    }

    /// The credential should be renewed now (expired or expiring soon).
    pub fn needs_renewal(self) -> bool {
        !matches!(self, CredentialStatus::Valid { .. })
    }
}

fn days(n: u64) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}

impl fmt::Display for CredentialStatus {
    /// "Expired 3 days ago", "Expires today", "Expires in 12 days",
    /// "Valid for 200 more days".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CredentialStatus::Expired { days_ago: 0 } => f.write_str("Expired today"),
            CredentialStatus::Expired { days_ago } => write!(f, "Expired {} ago", days(days_ago)),
            CredentialStatus::ExpiresSoon { days: 0 } => f.write_str("Expires today"),
            CredentialStatus::ExpiresSoon { days: n } => write!(f, "Expires in {}", days(n)),
            CredentialStatus::Valid { days: 1 } => f.write_str("Valid for 1 more day"),
            CredentialStatus::Valid { days: n } => write!(f, "Valid for {n} more days"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = UnixTime(1_750_000_000);

    #[test]
    fn expired_counts_whole_days_ago() {
        assert_eq!(status(NOW, NOW), CredentialStatus::Expired { days_ago: 0 });
        assert_eq!(
            status(UnixTime(NOW.0 - 1), NOW),
            CredentialStatus::Expired { days_ago: 0 }
        );
        assert_eq!(
            status(UnixTime(NOW.0 - 3 * DAY - 5), NOW),
            CredentialStatus::Expired { days_ago: 3 }
        );
    }

    #[test]
    fn thirty_days_is_soon_thirty_one_is_valid() {
        assert_eq!(
            status(UnixTime(NOW.0 + 1), NOW),
            CredentialStatus::ExpiresSoon { days: 0 }
        );
        assert_eq!(
            status(NOW.plus_days(30), NOW),
            CredentialStatus::ExpiresSoon { days: 30 }
        );
        assert_eq!(
            status(UnixTime(NOW.plus_days(31).0 - 1), NOW),
            CredentialStatus::ExpiresSoon { days: 30 }
        );
        assert_eq!(
            status(NOW.plus_days(31), NOW),
            CredentialStatus::Valid { days: 31 }
        );
        assert_eq!(
            status(NOW.plus_days(730), NOW),
            CredentialStatus::Valid { days: 730 }
        );
    }

    #[test]
    fn usable_and_renewal_flags() {
        assert!(!status(NOW, NOW).is_usable());
        assert!(status(NOW, NOW).needs_renewal());
        assert!(status(NOW.plus_days(5), NOW).is_usable());
        assert!(status(NOW.plus_days(5), NOW).needs_renewal());
        assert!(!status(NOW.plus_days(90), NOW).needs_renewal());
    }

    #[test]
    fn labels_and_json() {
        assert_eq!(status(NOW, NOW).to_string(), "Expired today");
        assert_eq!(
            status(UnixTime(NOW.0 - DAY), NOW).to_string(),
            "Expired 1 day ago"
        );
        assert_eq!(
            status(NOW.plus_days(12), NOW).to_string(),
            "Expires in 12 days"
        );
        assert_eq!(
            status(UnixTime(NOW.0 + 60), NOW).to_string(),
            "Expires today"
        );
        assert_eq!(
            status(NOW.plus_days(200), NOW).to_string(),
            "Valid for 200 more days"
        );
        assert_eq!(
            serde_json::to_string(&status(NOW.plus_days(12), NOW)).unwrap(),
            r#"{"status":"expires_soon","days":12}"#
        );
    }

    #[test]
    fn statuses_read_back_what_they_write() {
        for status in [
            CredentialStatus::Expired { days_ago: 3 },
            CredentialStatus::ExpiresSoon { days: 0 },
            CredentialStatus::Valid { days: 200 },
        ] {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(
                serde_json::from_str::<CredentialStatus>(&json).unwrap(),
                status
            );
        }
        assert_eq!(
            serde_json::to_string(&CredentialStatus::Expired { days_ago: 3 }).unwrap(),
            r#"{"status":"expired","days_ago":3}"#
        );
        assert!(serde_json::from_str::<CredentialStatus>(r#"{"status":"valid"}"#).is_err());
    }
}
