//! F7, the credential dashboard: every application's (and, when asked,
//! every service principal's own) certificates and secrets, sorted by
//! expiry, with counts per status, filters, a weekly timeline, CSV and
//! iCalendar exports, the link that renews a row, and triage of a pasted
//! AADSTS error. The page only holds a [`Table`] in a signal and renders the
//! rows on screen; everything here runs natively.
//!
//! Graph cannot filter applications by a credential's end date, so the
//! dashboard reads the whole collection with the fewest requests Graph
//! allows: `$select` of the fields shown, `$top=999` (Graph's maximum page),
//! following `@odata.nextLink`. The rows of a page are shown as it arrives.
// https://learn.microsoft.com/en-us/graph/api/application-list
// https://learn.microsoft.com/en-us/graph/paging

use core::cmp::Ordering;
use core::fmt::Write as _;

use serde::Deserialize;

use super::connection::{AuthMethod, ConnectionRecord};
use super::route::{Prefill, Route, Wizard};
use crate::api_error::ApiError;
use crate::client::{ApiClient, for_each_page};
use crate::core::aadsts::{self, Advice, EntraError, ParseError, Problem};
use crate::core::credential_expiry::{self, CredentialStatus};
use crate::core::key_credential::KeyCredential;
use crate::core::time::{DAY, UnixTime};
use crate::graph::{PasswordCredential, request};
use crate::http::{HttpClient, Sleeper};

/// Graph's largest page for applications and service principals.
pub const PAGE_SIZE: u32 = 999;
/// Weeks the timeline shows ahead (about 12 months).
pub const WEEKS: usize = 52;
const WEEK: u64 = 7 * DAY;

/// How close a credential is to its end, in the dashboard's steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Band {
    Expired,
    /// 7 whole days left or fewer.
    Days7,
    Days30,
    Days90,
    /// More than 90 days left, or no end date.
    Fine,
}

impl Band {
    pub const ALL: [Band; 5] = [
        Band::Expired,
        Band::Days7,
        Band::Days30,
        Band::Days90,
        Band::Fine,
    ];

    /// The band of a credential ending at `end`, seen at `now` (whole days
    /// left as `core::credential_expiry` counts them).
    pub fn of(end: Option<UnixTime>, now: UnixTime) -> Band {
        let Some(end) = end else {
            return Band::Fine;
        };
        match credential_expiry::status(end, now) {
            CredentialStatus::Expired { .. } => Band::Expired,
            CredentialStatus::ExpiresSoon { days } | CredentialStatus::Valid { days } => match days
            {
                0..=7 => Band::Days7,
                8..=30 => Band::Days30,
                31..=90 => Band::Days90,
                _ => Band::Fine,
            },
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Band::Expired => "Expired",
            Band::Days7 => "7 days or less",
            Band::Days30 => "30 days or less",
            Band::Days90 => "90 days or less",
            Band::Fine => "Later",
        }
    }

    /// Stable name for the page's classes, element IDs and test hooks.
    pub fn slug(self) -> &'static str {
        match self {
            Band::Expired => "expired",
            Band::Days7 => "d7",
            Band::Days30 => "d30",
            Band::Days90 => "d90",
            Band::Fine => "fine",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Band> {
        Band::ALL.into_iter().find(|b| b.slug() == slug)
    }
}

/// Which kind of object holds the credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OwnerKind {
    Application,
    ServicePrincipal,
}

impl OwnerKind {
    pub fn label(self) -> &'static str {
        match self {
            OwnerKind::Application => "Application",
            OwnerKind::ServicePrincipal => "Service principal",
        }
    }
}

/// A certificate (`keyCredentials`) or a client secret (`passwordCredentials`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Certificate,
    Secret,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Certificate => "Certificate",
            Kind::Secret => "Secret",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Kind::Certificate => "certificate",
            Kind::Secret => "secret",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Kind> {
        [Kind::Certificate, Kind::Secret]
            .into_iter()
            .find(|k| k.slug() == slug)
    }
}

/// An application or service principal as listed with `$select`. The
/// certificates' `key` bytes that Graph returns with `keyCredentials` are
/// read once for the thumbprint and not kept.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    pub id: String,
    #[serde(default)]
    pub app_id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub key_credentials: Vec<KeyCredential>,
    #[serde(default)]
    pub password_credentials: Vec<PasswordCredential>,
}

/// The object a row's credential belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub kind: OwnerKind,
    pub object_id: String,
    pub app_id: String,
    /// Display name, or the appId when it has none.
    pub name: String,
}

/// A saved service account that uses a credential of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    /// `#/accounts/{route_id}`.
    pub route_id: String,
}

/// One credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Index in [`Table::owners`].
    pub owner: u32,
    pub kind: Kind,
    pub key_id: String,
    /// Graph's `displayName` of the credential (may be empty).
    pub name: String,
    /// A certificate's SHA-1 thumbprint, a secret's hint.
    pub detail: String,
    pub start: Option<UnixTime>,
    pub end: Option<UnixTime>,
    /// Index in [`Table::accounts`].
    pub account: Option<u32>,
    /// Lower-case text the search looks in.
    haystack: String,
}

/// A week of the timeline, or the credentials already expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    Expired,
    /// Ends in `[now + n weeks, now + n + 1 weeks)`.
    Week(u16),
}

/// What the table shows: every condition set must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub band: Option<Band>,
    pub kind: Option<Kind>,
    pub bucket: Option<Bucket>,
    /// Words looked for (all of them, any case) in the application's name
    /// and IDs, the credential's name, key ID, hint or thumbprint, and the
    /// service account's name.
    pub text: String,
}

/// Credentials ending per week for the next [`WEEKS`] weeks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    pub expired: usize,
    pub weeks: Vec<usize>,
    /// Ending after the last week shown.
    pub later: usize,
}

impl Timeline {
    /// The tallest bar (at least 1, so that heights can be divided by it).
    pub fn max(&self) -> usize {
        self.weeks
            .iter()
            .copied()
            .chain([self.expired, 1])
            .max()
            .unwrap_or(1)
    }
}

/// Every credential read so far, sorted by soonest end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub tenant_id: String,
    pub now: UnixTime,
    pub owners: Vec<Owner>,
    pub rows: Vec<Row>,
    pub accounts: Vec<Account>,
    /// Objects read, per kind.
    pub applications: usize,
    pub service_principals: usize,
    /// Pages read (one request each).
    pub pages: u32,
    records: Vec<ConnectionRecord>,
}

impl Table {
    /// An empty table for the signed-in tenant, matching credentials to the
    /// saved service accounts of that tenant among `records`.
    pub fn new(tenant_id: &str, records: &[ConnectionRecord], now: UnixTime) -> Table {
        Table {
            tenant_id: tenant_id.to_string(),
            now,
            owners: Vec::new(),
            rows: Vec::new(),
            accounts: Vec::new(),
            applications: 0,
            service_principals: 0,
            pages: 0,
            records: records.to_vec(),
        }
    }

    /// Adds one page of listed objects, keeping the rows sorted.
    pub fn add(&mut self, kind: OwnerKind, page: Vec<Listed>) {
        self.pages += 1;
        for listed in page {
            match kind {
                OwnerKind::Application => self.applications += 1,
                OwnerKind::ServicePrincipal => self.service_principals += 1,
            }
            if listed.key_credentials.is_empty() && listed.password_credentials.is_empty() {
                continue;
            }
            let owner = Owner {
                kind,
                name: listed
                    .display_name
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| listed.app_id.clone()),
                object_id: listed.id,
                app_id: listed.app_id,
            };
            let index = self.owners.len() as u32;
            for key in &listed.key_credentials {
                let thumbprint = key.thumbprint().unwrap_or_default();
                let account = self.account_for(
                    &owner,
                    Kind::Certificate,
                    key.key_id.as_deref(),
                    &thumbprint,
                );
                self.push(
                    Row {
                        owner: index,
                        kind: Kind::Certificate,
                        key_id: key.key_id.clone().unwrap_or_default(),
                        name: key.display_name.clone().unwrap_or_default(),
                        detail: thumbprint,
                        start: key.start_date_time,
                        end: key.end_date_time,
                        account,
                        haystack: String::new(),
                    },
                    &owner,
                );
            }
            for secret in &listed.password_credentials {
                let hint = secret.hint.clone().unwrap_or_default();
                let account = self.account_for(&owner, Kind::Secret, Some(&secret.key_id), &hint);
                self.push(
                    Row {
                        owner: index,
                        kind: Kind::Secret,
                        key_id: secret.key_id.clone(),
                        name: secret.display_name.clone().unwrap_or_default(),
                        detail: hint,
                        start: secret.start_date_time,
                        end: secret.end_date_time,
                        account,
                        haystack: String::new(),
                    },
                    &owner,
                );
            }
            self.owners.push(owner);
        }
        // Mostly sorted already: the sort merges the new run in.
        let owners = &self.owners;
        self.rows.sort_by(|a, b| order(a, b, owners));
    }

    fn push(&mut self, mut row: Row, owner: &Owner) {
        let account = row.account.map(|a| self.accounts[a as usize].name.as_str());
        row.haystack = [
            owner.name.as_str(),
            &owner.app_id,
            &owner.object_id,
            &row.name,
            &row.detail,
            &row.key_id,
            account.unwrap_or(""),
        ]
        .join("\u{1f}")
        .to_lowercase();
        self.rows.push(row);
    }

    /// The saved service account of this tenant that signs in with this
    /// credential: same application (the records' identity rule) and the
    /// certificate's thumbprint, or the secret's keyId (its hint when the
    /// record kept no keyId).
    fn account_for(
        &mut self,
        owner: &Owner,
        kind: Kind,
        key_id: Option<&str>,
        detail: &str,
    ) -> Option<u32> {
        let record = self.records.iter().find(|r| {
            r.is(&self.tenant_id, &owner.app_id)
                && match (&r.auth, kind) {
                    (AuthMethod::Certificate { thumbprint, .. }, Kind::Certificate) => {
                        !detail.is_empty() && thumbprint.trim().eq_ignore_ascii_case(detail)
                    }
                    (AuthMethod::ClientSecret { hint, .. }, Kind::Secret) => match &r.key_id {
                        Some(id) => key_id.is_some_and(|k| k.eq_ignore_ascii_case(id.trim())),
                        None => !hint.is_empty() && detail == hint,
                    },
                    _ => false,
                }
        })?;
        let route_id = record.route_id();
        if let Some(i) = self.accounts.iter().position(|a| a.route_id == route_id) {
            return Some(i as u32);
        }
        self.accounts.push(Account {
            name: record.name.clone(),
            route_id,
        });
        Some(self.accounts.len() as u32 - 1)
    }

    pub fn owner(&self, row: &Row) -> &Owner {
        &self.owners[row.owner as usize]
    }

    pub fn account(&self, row: &Row) -> Option<&Account> {
        row.account.map(|a| &self.accounts[a as usize])
    }

    pub fn band(&self, row: &Row) -> Band {
        Band::of(row.end, self.now)
    }

    /// Where the row falls on the timeline (`None`: beyond it).
    pub fn bucket(&self, row: &Row) -> Option<Bucket> {
        let end = row.end?;
        if end <= self.now {
            return Some(Bucket::Expired);
        }
        let week = (end.0 - self.now.0) / WEEK;
        (week < WEEKS as u64).then_some(Bucket::Week(week as u16))
    }

    /// How many credentials are in each band, in [`Band::ALL`]'s order.
    pub fn counts(&self) -> [usize; 5] {
        let mut out = [0; 5];
        for row in &self.rows {
            out[self.band(row) as usize] += 1;
        }
        out
    }

    /// The rows `filter` keeps, as indices into [`Table::rows`], soonest
    /// end first.
    pub fn view(&self, filter: &Filter) -> Vec<u32> {
        let words: Vec<String> = filter
            .text
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                filter.band.is_none_or(|b| self.band(r) == b)
                    && filter.kind.is_none_or(|k| r.kind == k)
                    && filter.bucket.is_none_or(|b| self.bucket(r) == Some(b))
                    && words.iter().all(|w| r.haystack.contains(w.as_str()))
            })
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// Credentials ending per week, over every row.
    pub fn timeline(&self) -> Timeline {
        let mut t = Timeline {
            expired: 0,
            weeks: vec![0; WEEKS],
            later: 0,
        };
        for row in &self.rows {
            match self.bucket(row) {
                Some(Bucket::Expired) => t.expired += 1,
                Some(Bucket::Week(w)) => t.weeks[w as usize] += 1,
                None => t.later += 1,
            }
        }
        t
    }

    /// The page that renews `row`: a certificate goes to the renewal
    /// (`#/renew` with its thumbprint, application and tenant); a secret to
    /// the service account that uses it, else to the renewal of its
    /// application.
    pub fn renew_route(&self, row: &Row) -> Route {
        let owner = self.owner(row);
        let mut prefill = Prefill {
            app: Some(owner.app_id.clone()),
            tenant: Some(self.tenant_id.clone()),
            thumbprint: None,
        };
        match row.kind {
            Kind::Certificate => {
                prefill.thumbprint = Some(row.detail.clone()).filter(|t| !t.is_empty());
                Route::Renew(prefill)
            }
            Kind::Secret => match self.account(row) {
                Some(a) => Route::Account(a.route_id.clone()),
                None => Route::Renew(prefill),
            },
        }
    }

    /// Reads a pasted Entra error and finds the credentials it is about:
    /// the certificate by thumbprint, else the application's certificates
    /// or secrets (by what the error is about), with the fix.
    pub fn triage(&self, text: &str) -> Result<Triage, ParseError> {
        let error = aadsts::parse(text)?;
        let about = match error.problem {
            Problem::SecretInvalid | Problem::SecretExpired => Some(Kind::Secret),
            Problem::CertificateExpired
            | Problem::CertificateNotRegistered
            | Problem::SignatureMismatch
            | Problem::InvalidSignature
            | Problem::AssertionFailed => Some(Kind::Certificate),
            _ => None,
        };
        let same_app = |r: &Row| {
            error
                .app_id
                .as_deref()
                .is_some_and(|a| self.owner(r).app_id.eq_ignore_ascii_case(a.trim()))
        };
        let rows: Vec<u32> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| match (&error.thumbprint, about) {
                (Some(t), _) => r.kind == Kind::Certificate && r.detail.eq_ignore_ascii_case(t),
                (None, Some(kind)) => r.kind == kind && same_app(r),
                (None, None) => same_app(r),
            })
            .map(|(i, _)| i as u32)
            .collect();
        let fix = self.fix(&error, &rows);
        Ok(Triage {
            advice: error.advice(),
            error,
            rows,
            fix,
        })
    }

    fn fix(&self, error: &EntraError, rows: &[u32]) -> Option<Fix> {
        let saved = || {
            let app = error.app_id.as_deref()?;
            self.records
                .iter()
                .find(|r| r.is(&self.tenant_id, app))
                .map(|r| Route::Account(r.route_id()))
        };
        let app_prefill = || Prefill {
            app: error.app_id.clone(),
            tenant: Some(self.tenant_id.clone()),
            thumbprint: None,
        };
        match (error.problem, rows.first()) {
            (Problem::ApplicationNotFound, _) => Some(match saved() {
                Some(route) => Fix {
                    label: "Re-create the application of this service account",
                    route,
                },
                None => Fix {
                    label: "Register a new application",
                    route: Route::Connect(Wizard::NewApp, Prefill::default()),
                },
            }),
            (Problem::CertificateNotRegistered, None) => Some(Fix {
                label: "Register the service's certificate on its application",
                route: Route::Connect(Wizard::ExistingApp, app_prefill()),
            }),
            (_, Some(&first)) => {
                let row = &self.rows[first as usize];
                Some(Fix {
                    label: match row.kind {
                        Kind::Certificate => "Renew this certificate",
                        Kind::Secret => "Renew this secret",
                    },
                    route: self.renew_route(row),
                })
            }
            (Problem::SecretInvalid | Problem::SecretExpired, None) => saved().map(|route| Fix {
                label: "Renew the secret of this service account",
                route,
            }),
            _ => None,
        }
    }

    /// The rows as CSV (RFC 4180, CRLF), one line per credential. Cells
    /// that a spreadsheet would run as a formula are prefixed with `'`.
    pub fn csv(&self, rows: &[u32]) -> String {
        let mut out = String::from(
            "Application,Application (client) ID,Object,Object ID,Type,Credential,Key ID,\
             Thumbprint or hint,Start,End,Status,Days left,Service account\r\n",
        );
        for &i in rows {
            let row = &self.rows[i as usize];
            let owner = self.owner(row);
            let days = row
                .end
                .map(|e| self.now.days_until(e).to_string())
                .unwrap_or_default();
            let cells = [
                owner.name.as_str(),
                &owner.app_id,
                owner.kind.label(),
                &owner.object_id,
                row.kind.label(),
                &row.name,
                &row.key_id,
                &row.detail,
                &date_time(row.start),
                &date_time(row.end),
                self.band(row).label(),
                &days,
                self.account(row).map(|a| a.name.as_str()).unwrap_or(""),
            ];
            for (n, cell) in cells.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                csv_cell(&mut out, cell);
            }
            out.push_str("\r\n");
        }
        out
    }

    /// An iCalendar file (RFC 5545) with one event at the end of each of
    /// `rows` that has not ended yet, each with a reminder 30 days before.
    /// A credential's UID stays the same across exports, so importing a
    /// newer file updates the events instead of doubling them.
    pub fn ics(&self, rows: &[u32], stamp: UnixTime) -> String {
        let mut out = String::new();
        let mut line = |text: &str| fold(&mut out, text);
        line("BEGIN:VCALENDAR");
        line("VERSION:2.0");
        line("PRODID:-//entra-wizard//Credential dashboard//EN");
        line("CALSCALE:GREGORIAN");
        line("METHOD:PUBLISH");
        for &i in rows {
            let row = &self.rows[i as usize];
            let Some(end) = row.end.filter(|e| *e > self.now) else {
                continue;
            };
            let owner = self.owner(row);
            let what = match row.kind {
                Kind::Certificate => format!("Certificate {}", row.detail),
                Kind::Secret => format!("Client secret {}…", row.detail),
            };
            let summary = format!("{} of {} expires", row.kind.label(), owner.name);
            let mut description = format!(
                "{what} ({}) of {} {} (application ID {}) in tenant {} ends {}.",
                if row.name.is_empty() {
                    "no name"
                } else {
                    &row.name
                },
                owner.kind.label().to_lowercase(),
                owner.name,
                owner.app_id,
                self.tenant_id,
                end,
            );
            if let Some(a) = self.account(row) {
                let _ = write!(description, " Used by the service account {}.", a.name);
            }
            description.push_str(" Renew it with entra-wizard before then.");
            line("BEGIN:VEVENT");
            line(&format!(
                "UID:{}.{}@entra-wizard",
                row.key_id, owner.object_id
            ));
            line(&format!("DTSTAMP:{}", ics_time(stamp)));
            line(&format!("DTSTART:{}", ics_time(end)));
            line(&format!("SUMMARY:{}", ics_text(&summary)));
            line(&format!("DESCRIPTION:{}", ics_text(&description)));
            line("TRANSP:TRANSPARENT");
            line("BEGIN:VALARM");
            line("ACTION:DISPLAY");
            line(&format!(
                "DESCRIPTION:{}",
                ics_text(&format!("In 30 days: {summary}"))
            ));
            line("TRIGGER:-P30D");
            line("END:VALARM");
            line("END:VEVENT");
        }
        line("END:VCALENDAR");
        out
    }
}

/// Soonest end first (no end date last), then by application name and keyId.
fn order(a: &Row, b: &Row, owners: &[Owner]) -> Ordering {
    let end = |r: &Row| r.end.map_or(u64::MAX, |e| e.0);
    end(a)
        .cmp(&end(b))
        .then_with(|| {
            owners[a.owner as usize]
                .name
                .cmp(&owners[b.owner as usize].name)
        })
        .then_with(|| a.key_id.cmp(&b.key_id))
}

/// What a pasted error is about and what fixes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Triage {
    pub error: EntraError,
    pub advice: Advice,
    /// The matching rows (indices into [`Table::rows`]), soonest end first.
    pub rows: Vec<u32>,
    pub fix: Option<Fix>,
}

/// The button that fixes a triaged error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub label: &'static str,
    pub route: Route,
}

/// Reads every application (and, with `service_principals`, every service
/// principal) with its credentials, one page of [`PAGE_SIZE`] at a time,
/// handing each page to `on_page` as it arrives. Returns the requests
/// sent (one per page, retries aside).
pub async fn load<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    service_principals: bool,
    mut on_page: impl FnMut(OwnerKind, Vec<Listed>),
) -> Result<u32, ApiError> {
    let mut pages = for_each_page(
        api,
        request::list_applications_with_credentials(PAGE_SIZE),
        "applications",
        |page| on_page(OwnerKind::Application, page),
    )
    .await?;
    if service_principals {
        pages += for_each_page(
            api,
            request::list_service_principals_with_credentials(PAGE_SIZE),
            "service principals",
            |page| on_page(OwnerKind::ServicePrincipal, page),
        )
        .await?;
    }
    Ok(pages)
}

/// `2025-01-31`, or empty.
pub fn date(t: Option<UnixTime>) -> String {
    t.map(|t| t.to_rfc3339()[..10].to_string())
        .unwrap_or_default()
}

fn date_time(t: Option<UnixTime>) -> String {
    t.map(UnixTime::to_rfc3339).unwrap_or_default()
}

pub(crate) fn csv_cell(out: &mut String, cell: &str) {
    // A leading = + - @ (or tab, CR) makes spreadsheets evaluate the cell;
    // a number (days left: -30) is left as it is.
    let guard = cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<i64>().is_err();
    let quote = guard || cell.contains([',', '"', '\r', '\n']);
    if quote {
        out.push('"');
    }
    if guard {
        out.push('\'');
    }
    out.push_str(&cell.replace('"', "\"\""));
    if quote {
        out.push('"');
    }
}

/// `20250131T120000Z` (RFC 5545 DATE-TIME in UTC).
fn ics_time(t: UnixTime) -> String {
    t.to_rfc3339().replace(['-', ':'], "")
}

/// RFC 5545 §3.3.11 TEXT: backslash, semicolon, comma and newlines escaped;
/// other control characters dropped.
fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded (RFC 5545 §3.1) so that no line is longer
/// than 75 octets, never inside a UTF-8 character; lines end with CRLF.
fn fold(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = UnixTime(1_750_000_000);

    #[test]
    fn bands_follow_whole_days_left() {
        assert_eq!(Band::of(Some(NOW), NOW), Band::Expired);
        assert_eq!(Band::of(Some(NOW.plus_days(7)), NOW), Band::Days7);
        assert_eq!(Band::of(Some(NOW.plus_days(8)), NOW), Band::Days30);
        assert_eq!(Band::of(Some(NOW.plus_days(30)), NOW), Band::Days30);
        assert_eq!(Band::of(Some(NOW.plus_days(31)), NOW), Band::Days90);
        assert_eq!(Band::of(Some(NOW.plus_days(90)), NOW), Band::Days90);
        assert_eq!(Band::of(Some(NOW.plus_days(91)), NOW), Band::Fine);
        assert_eq!(Band::of(None, NOW), Band::Fine);
    }

    #[test]
    fn folding_keeps_lines_short_and_characters_whole() {
        let mut out = String::new();
        fold(&mut out, &format!("DESCRIPTION:{}", "é".repeat(60)));
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{l:?} is {} octets", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("DESCRIPTION:{}\r\n", "é".repeat(60)));
        assert_eq!(ics_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    fn listed(id: &str, app_id: &str, name: &str, secrets: &[(&str, &str, Option<u64>)]) -> Listed {
        Listed {
            id: id.into(),
            app_id: app_id.into(),
            display_name: Some(name.into()),
            key_credentials: Vec::new(),
            password_credentials: secrets
                .iter()
                .map(|(key_id, hint, end_days)| PasswordCredential {
                    key_id: (*key_id).into(),
                    display_name: None,
                    hint: Some((*hint).into()),
                    start_date_time: None,
                    end_date_time: end_days.map(|d| NOW.plus_days(d)),
                })
                .collect(),
        }
    }

    #[test]
    fn pages_merge_sorted_and_no_end_date_comes_last() {
        let mut t = Table::new("tenant", &[], NOW);
        t.add(
            OwnerKind::Application,
            vec![listed(
                "o1",
                "a1",
                "Zeta",
                &[("k1", "abc", Some(40)), ("k2", "def", None)],
            )],
        );
        t.add(
            OwnerKind::Application,
            vec![
                listed("o2", "a2", "Alpha", &[("k3", "ghi", Some(5))]),
                listed("o3", "a3", "Empty", &[]),
            ],
        );
        let keys: Vec<&str> = t.rows.iter().map(|r| r.key_id.as_str()).collect();
        assert_eq!(keys, ["k3", "k1", "k2"]);
        assert_eq!((t.applications, t.pages, t.owners.len()), (3, 2, 2));
        assert_eq!(t.counts(), [0, 1, 0, 1, 1]);
        let found = t.view(&Filter {
            text: "ZETA def".into(),
            ..Filter::default()
        });
        assert_eq!(found, [2]);
        // A secret with no saved account renews its application.
        assert_eq!(
            t.renew_route(&t.rows[0]),
            Route::Renew(Prefill {
                app: Some("a2".into()),
                tenant: Some("tenant".into()),
                thumbprint: None,
            })
        );
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut s = String::new();
        csv_cell(&mut s, "=HYPERLINK(\"x\")");
        assert_eq!(s, "\"'=HYPERLINK(\"\"x\"\")\"");
        let mut s = String::new();
        csv_cell(&mut s, "a,b");
        assert_eq!(s, "\"a,b\"");
        let mut s = String::new();
        csv_cell(&mut s, "plain");
        assert_eq!(s, "plain");
    }
}
