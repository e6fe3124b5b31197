//! RFC 3339 dates (service-account files, Graph, Entra error texts) and
//! HTTP dates (`Retry-After`, `Date`). What parses must print back to the
//! same instant.

use entra_wizard::core::time::UnixTime;
use entra_wizard::http::parse_http_date;
use entra_wizard_fuzz::{NOW, text};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let text = text(data);
        let text: &str = &text;
        for t in [UnixTime::parse_rfc3339(text).ok(), parse_http_date(text)]
            .into_iter()
            .flatten()
        {
            assert_eq!(UnixTime::parse_rfc3339(&t.to_rfc3339()), Ok(t), "{text:?}");
            let _ = t.plus_months(24);
            let _ = t.plus_days(365);
            let _ = NOW.days_until(t);
        }
    });
}
