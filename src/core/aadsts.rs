//! Reads an Entra (`AADSTS…`) error as an admin pastes it — the token
//! endpoint's JSON, a `error_description`, or a log line — and says what
//! happened and what to do next.
//!
//! The texts this understands are Entra's own, for example:
//!
//! ```text
//! AADSTS700027: Client assertion contains an invalid signature. [Reason - The key used is
//! expired., Thumbprint of key used by client: 'FEE7…', Found key 'Start=01/28/2018 16:00:00,
//! End=01/28/2019 16:00:00', Please visit …]
//! Trace ID: 9b5a3607-… Correlation ID: 8940e0ba-… Timestamp: 2019-02-28 08:37:10Z
//! ```

use core::fmt;

use crate::core::time::UnixTime;
use crate::core::validate::is_guid;

/// What went wrong, as far as the text tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// 700027 / 50013 "The key used is expired": the certificate registered on
    /// the application has passed its end date.
    CertificateExpired,
    /// 700027 / 50013 "The key was not found": the service signs with a
    /// certificate that is not registered on the application.
    CertificateNotRegistered,
    /// 700027 / 50013 "Key was found, but use of the key to verify the
    /// signature failed" (or "did not match"): the registered certificate
    /// does not match the private key the service signs with.
    SignatureMismatch,
    /// 700027 without a recognised reason.
    InvalidSignature,
    /// 50013 about the assertion's audience (wrong tenant or token endpoint).
    AssertionAudience,
    /// 50013 without a recognised reason.
    AssertionFailed,
    /// 7000215: the client secret is wrong (usually its ID was pasted).
    SecretInvalid,
    /// 7000222: every client secret of the application has expired.
    SecretExpired,
    /// 700016: no such application in that directory.
    ApplicationNotFound,
    /// 90002: no such tenant in this cloud.
    TenantNotFound,
    /// 65001: permissions not consented.
    ConsentRequired,
    /// 9002326: the redirect URI is not of type Single-page application.
    SpaRedirectRequired,
    /// 50076: multi-factor authentication required.
    MfaRequired,
    /// 50079: the user must register for multi-factor authentication.
    MfaEnrollmentRequired,
    /// Any other code: the raw text and a generic next step.
    Other,
}

/// The validity window Entra reports for the key it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundKey {
    pub start: Option<UnixTime>,
    pub end: Option<UnixTime>,
    /// As written in the error, e.g. `Start=01/28/2018 16:00:00, End=01/28/2019 16:00:00`.
    pub raw: String,
}

/// An Entra error, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntraError {
    /// The AADSTS code the advice is about.
    pub code: u32,
    /// Every AADSTS code in the text, in order.
    pub codes: Vec<u32>,
    pub problem: Problem,
    /// Entra's sentence after `AADSTSnnn:`, without the bracketed details.
    pub message: String,
    /// The `[Reason - …]` part, e.g. `The key used is expired.`
    pub reason: Option<String>,
    /// SHA-1 thumbprint of the key the client used, upper-case hex.
    pub thumbprint: Option<String>,
    pub found_key: Option<FoundKey>,
    /// Application (client) ID or identifier named in the text.
    pub app_id: Option<String>,
    /// Application display name (`named '…'`).
    pub app_name: Option<String>,
    /// Tenant or directory named in the text.
    pub tenant: Option<String>,
    /// Resource named in `to access '…'` (MFA errors).
    pub resource: Option<String>,
    /// `Request origin: '…'` (cross-origin errors).
    pub request_origin: Option<String>,
    /// OAuth error such as `invalid_client`, when the JSON carried it.
    pub oauth_error: Option<String>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<UnixTime>,
    /// The description as read (JSON escapes undone).
    pub raw: String,
}

/// What happened, in plain words, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advice {
    pub summary: String,
    pub next_step: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Paste the error message from the service or its log.")]
    Empty,
    #[error(
        "No AADSTS error code was found in the text. Paste the whole message, including \
         'AADSTS' and its number (for example AADSTS700027: …)."
    )]
    NoCode,
}

/// Reads an Entra error from pasted text.
pub fn parse(text: &str) -> Result<EntraError, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let json = find_json(text);
    let description = json
        .as_ref()
        .and_then(|j| j.description.clone())
        .unwrap_or_else(|| unescape(text));

    let codes = aadsts_codes(&description);
    let json_code = json.as_ref().and_then(|j| j.code);
    let code = codes
        .iter()
        .copied()
        .find(|c| is_known(*c))
        .or(codes.first().copied())
        .or(json_code)
        .ok_or(ParseError::NoCode)?;
    let codes = if codes.is_empty() { vec![code] } else { codes };

    let message = message_of(&description, code);
    let reason = between(&description, "[Reason - ", &["., ", "]"]).map(|r| {
        let r = r.trim();
        if r.ends_with('.') {
            r.to_string()
        } else {
            format!("{r}.")
        }
    });
    let thumbprint = quoted_after(&description, "Thumbprint of key used by client: ")
        .map(|t| t.to_ascii_uppercase());
    let found_key = quoted_after(&description, "Found key ").map(|raw| FoundKey {
        start: between(&raw, "Start=", &[","]).and_then(|s| parse_entra_date(s.trim())),
        end: raw
            .split_once("End=")
            .and_then(|(_, e)| parse_entra_date(e.trim())),
        raw,
    });

    let app_id = [
        "app Id ",
        "app ID ",
        "application with ID ",
        "Application with identifier ",
    ]
    .iter()
    .chain(["for app ", "to app "].iter())
    .find_map(|p| quoted_after(&description, p))
    .or_else(|| graph_application_id(&description));
    let app_name = quoted_after(&description, "named ");
    let tenant = quoted_after(&description, "Tenant ")
        .or_else(|| quoted_after(&description, "in the directory "));
    let resource = quoted_after(&description, "to access ");
    let request_origin = quoted_after(&description, "Request origin: ");

    let trace_id = json
        .as_ref()
        .and_then(|j| j.trace_id.clone())
        .or_else(|| guid_after(&description, "Trace ID:"));
    let correlation_id = json
        .as_ref()
        .and_then(|j| j.correlation_id.clone())
        .or_else(|| guid_after(&description, "Correlation ID:"));
    let timestamp = timestamp_in(&description).or_else(|| {
        json.as_ref()
            .and_then(|j| j.timestamp.as_deref())
            .and_then(|t| UnixTime::parse_rfc3339(t).ok())
    });

    let problem = classify(
        code,
        &message,
        reason.as_deref(),
        found_key.as_ref(),
        timestamp,
    );
    Ok(EntraError {
        code,
        codes,
        problem,
        message,
        reason,
        thumbprint,
        found_key,
        app_id,
        app_name,
        tenant,
        resource,
        request_origin,
        oauth_error: json.and_then(|j| j.error),
        trace_id,
        correlation_id,
        timestamp,
        raw: description.trim().to_string(),
    })
}

fn is_known(code: u32) -> bool {
    matches!(
        code,
        700027 | 50013 | 7000215 | 7000222 | 700016 | 90002 | 65001 | 9002326 | 50076 | 50079
    )
}

fn classify(
    code: u32,
    message: &str,
    reason: Option<&str>,
    found: Option<&FoundKey>,
    timestamp: Option<UnixTime>,
) -> Problem {
    let reason = reason.unwrap_or("").to_ascii_lowercase();
    let message_lc = message.to_ascii_lowercase();
    let signature = || {
        if reason.contains("expired") {
            Some(Problem::CertificateExpired)
        } else if reason.contains("not found") || message_lc.contains("not registered") {
            Some(Problem::CertificateNotRegistered)
        } else if reason.contains("key was found") || reason.contains("did not match") {
            Some(Problem::SignatureMismatch)
        } else if let (Some(end), Some(now)) = (found.and_then(|f| f.end), timestamp) {
            (end < now).then_some(Problem::CertificateExpired)
        } else {
            None
        }
    };
    match code {
        700027 => signature().unwrap_or(Problem::InvalidSignature),
        50013 if message_lc.contains("audience") => Problem::AssertionAudience,
        50013 => signature().unwrap_or(Problem::AssertionFailed),
        7000215 => Problem::SecretInvalid,
        7000222 => Problem::SecretExpired,
        700016 => Problem::ApplicationNotFound,
        90002 => Problem::TenantNotFound,
        65001 => Problem::ConsentRequired,
        9002326 => Problem::SpaRedirectRequired,
        50076 => Problem::MfaRequired,
        50079 => Problem::MfaEnrollmentRequired,
        _ => Problem::Other,
    }
}

impl EntraError {
    /// Plain-language explanation and next step, with the details the text
    /// carried (thumbprint, dates, application).
    pub fn advice(&self) -> Advice {
        let app = self
            .app_id
            .as_deref()
            .map(|a| format!(" '{a}'"))
            .unwrap_or_default();
        let thumb = self
            .thumbprint
            .as_deref()
            .map(|t| format!(" (thumbprint {t})"))
            .unwrap_or_default();
        let window = self
            .found_key
            .as_ref()
            .map(|k| match (k.start, k.end) {
                (Some(s), Some(e)) => format!(" It was valid from {s} to {e}."),
                _ => format!(" Entra reports: {}.", k.raw),
            })
            .unwrap_or_default();
        let (summary, next_step) = match self.problem {
            Problem::CertificateExpired => (
                format!(
                    "The certificate the service signs in with{thumb} has expired on the \
                     application{app}.{window}"
                ),
                "Renew the certificate: generate a new one (or upload a PFX), register it on \
                 the application, give the new PFX to the service, then remove the expired \
                 certificate."
                    .to_string(),
            ),
            Problem::CertificateNotRegistered => (
                format!(
                    "The service signs in with a certificate{thumb} that is not registered on \
                     the application{app}."
                ),
                "Register that certificate on the application (upload its public part), or \
                 give the service the PFX of a certificate that is registered; check that \
                 the application ID and tenant are the right ones."
                    .to_string(),
            ),
            Problem::SignatureMismatch => (
                format!(
                    "A certificate with the service's thumbprint{thumb} is registered on the \
                     application{app}, but the signature does not verify with it: the private \
                     key the service uses does not belong to that certificate.{window}"
                ),
                "Give the service the PFX that holds both this certificate and its own \
                 private key (re-export it, or generate a new certificate and register it)."
                    .to_string(),
            ),
            Problem::InvalidSignature => (
                format!(
                    "Entra could not verify the client assertion signed with the certificate\
                     {thumb} for application{app}."
                ),
                "Check that the certificate registered on the application is the one in the \
                 service's PFX and that it is within its dates; if unsure, generate a new \
                 certificate and register it."
                    .to_string(),
            ),
            Problem::AssertionAudience => (
                "The signed assertion was made for a different audience than the token \
                 endpoint that received it."
                    .to_string(),
                "Check the tenant ID and the cloud (global, US Government, China) the service \
                 is configured for; the assertion's audience must be that tenant's token \
                 endpoint."
                    .to_string(),
            ),
            Problem::AssertionFailed => (
                format!("Entra could not validate the signed assertion{thumb}.{window}"),
                "Check that the service's PFX holds the certificate registered on the \
                 application and its matching private key, within its dates."
                    .to_string(),
            ),
            Problem::SecretInvalid => (
                format!(
                    "The client secret sent for application{app} is not one of its secrets. \
                     Most often the secret's ID (a GUID) was pasted instead of its Value."
                ),
                "Paste the secret's Value (shown only once when it was created); if it is \
                 lost, create a new client secret and give it to the service."
                    .to_string(),
            ),
            Problem::SecretExpired => (
                format!("Every client secret of application{app} has expired."),
                "Renew the secret: create a new client secret, give its Value to the \
                 service, then remove the expired one."
                    .to_string(),
            ),
            Problem::ApplicationNotFound => {
                let tenant = self
                    .tenant
                    .as_deref()
                    .map(|t| format!(" '{t}'"))
                    .unwrap_or_default();
                (
                    format!("Application{app} does not exist in the directory{tenant}."),
                    "Check that the tenant ID and application ID belong together (the \
                     service may point at the wrong tenant). If the application was deleted, \
                     re-create it and give the service the new application ID and \
                     credentials."
                        .to_string(),
                )
            }
            Problem::TenantNotFound => {
                let tenant = self
                    .tenant
                    .as_deref()
                    .map(|t| format!(" '{t}'"))
                    .unwrap_or_default();
                (
                    format!("The tenant{tenant} does not exist in this cloud."),
                    "Check the tenant ID (Directory ID GUID or a verified domain such as \
                     contoso.onmicrosoft.com) and choose the right cloud: a US Government or \
                     China tenant is not found on the global endpoints."
                        .to_string(),
                )
            }
            Problem::ConsentRequired => (
                format!("The permissions of application{app} have not been consented to."),
                "Grant admin consent for the application's required permissions (as a Global \
                 Administrator, Privileged Role Administrator or Cloud Application \
                 Administrator), then try again."
                    .to_string(),
            ),
            Problem::SpaRedirectRequired => {
                let origin = self
                    .request_origin
                    .as_deref()
                    .map(|o| format!(" from '{o}'"))
                    .unwrap_or_default();
                (
                    format!(
                        "The browser redeemed a sign-in code{origin}, but the application's \
                         redirect URI is not of type Single-page application."
                    ),
                    "Register this page's address as a redirect URI of type 'Single-page \
                     application' (spa) on the application, not 'Web'."
                        .to_string(),
                )
            }
            Problem::MfaRequired => (
                "A Conditional Access policy requires multi-factor authentication for this \
                 sign-in."
                    .to_string(),
                "Sign in interactively and complete the multi-factor prompt; an automated \
                 user sign-in cannot, so use an application credential (certificate or \
                 secret) for services."
                    .to_string(),
            ),
            Problem::MfaEnrollmentRequired => (
                "The account must register for multi-factor authentication before it can sign \
                 in."
                .to_string(),
                "Sign in once interactively (for example at https://aka.ms/mfasetup) and \
                 register a verification method, then try again."
                    .to_string(),
            ),
            Problem::Other => (
                format!("Entra returned AADSTS{}: {}", self.code, self.message),
                format!(
                    "Look the code up at https://login.microsoftonline.com/error?code={} and \
                     check the application's settings; keep the Trace ID and Correlation ID \
                     for Microsoft support.",
                    self.code
                ),
            ),
        };
        Advice { summary, next_step }
    }
}

impl fmt::Display for EntraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.advice();
        write!(f, "AADSTS{}: {} {}", self.code, a.summary, a.next_step)
    }
}

// ------------------------------------------------------------------ reading

struct JsonError {
    description: Option<String>,
    code: Option<u32>,
    error: Option<String>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
    timestamp: Option<String>,
}

/// The first JSON object in the text that looks like a token endpoint error.
fn find_json(text: &str) -> Option<JsonError> {
    let str_of =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(String::from);
    for (i, _) in text.match_indices('{').take(32) {
        let mut stream =
            serde_json::Deserializer::from_str(&text[i..]).into_iter::<serde_json::Value>();
        let Some(Ok(v)) = stream.next() else { continue };
        if v.get("error_description").is_none() && v.get("error_codes").is_none() {
            continue;
        }
        return Some(JsonError {
            description: str_of(&v, "error_description"),
            code: v
                .get("error_codes")
                .and_then(|c| c.get(0))
                .and_then(|c| c.as_u64())
                .and_then(|c| u32::try_from(c).ok()),
            error: str_of(&v, "error"),
            trace_id: str_of(&v, "trace_id"),
            correlation_id: str_of(&v, "correlation_id"),
            timestamp: str_of(&v, "timestamp"),
        });
    }
    None
}

/// Undoes the JSON escapes a log line keeps when it prints a response body.
fn unescape(text: &str) -> String {
    text.replace("\\r\\n", "\n")
        .replace("\\n", "\n")
        .replace("\\r", "\n")
        .replace("\\/", "/")
        .replace("\\\"", "\"")
}

fn aadsts_codes(text: &str) -> Vec<u32> {
    let mut codes = Vec::new();
    for (i, _) in text.match_indices("AADSTS") {
        let digits: String = text[i + 6..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(c) = digits.parse::<u32>()
            && !codes.contains(&c)
        {
            codes.push(c);
        }
    }
    codes
}

/// Entra's sentence for `code`: after `AADSTSnnn:`, up to the bracketed
/// details or the trace lines.
fn message_of(text: &str, code: u32) -> String {
    let tag = format!("AADSTS{code}");
    let Some(start) = text.find(&tag) else {
        return String::new();
    };
    let rest = text[start + tag.len()..].trim_start_matches([':', ' ']);
    let end = [
        "[Reason",
        "\r",
        "\n",
        "Trace ID:",
        "Correlation ID:",
        "Timestamp:",
    ]
    .iter()
    .filter_map(|m| rest.find(m))
    .min()
    .unwrap_or(rest.len());
    rest[..end].trim().to_string()
}

/// Text after `start` up to the first of `ends`.
fn between<'a>(text: &'a str, start: &str, ends: &[&str]) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let rest = &text[from..];
    let end = ends.iter().filter_map(|e| rest.find(e)).min()?;
    Some(&rest[..end])
}

/// The single-quoted value right after `prefix`: `prefix'value'`.
fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let pat = format!("{prefix}'");
    let from = text.find(&pat)? + pat.len();
    let rest = &text[from..];
    let end = rest.find('\'')?;
    let v = rest[..end].trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn guid_after(text: &str, label: &str) -> Option<String> {
    let from = text.find(label)? + label.len();
    let candidate = text[from..].trim_start().get(..36)?;
    is_guid(candidate).then(|| candidate.to_ascii_lowercase())
}

/// `…/applications/<guid>` in the Graph link Entra suggests.
fn graph_application_id(text: &str) -> Option<String> {
    let from = text.find("/applications/")? + "/applications/".len();
    let candidate = text[from..].get(..36)?;
    is_guid(candidate).then(|| candidate.to_ascii_lowercase())
}

/// `Timestamp: 2024-05-06 06:03:00Z`, or MSAL's `[2021-06-10 22:21:00Z]`.
fn timestamp_in(text: &str) -> Option<UnixTime> {
    let after_label = text
        .find("Timestamp:")
        .map(|i| text[i + "Timestamp:".len()..].trim_start());
    let bracketed = text
        .match_indices('[')
        .map(|(i, _)| &text[i + 1..])
        .find(|s| s.len() >= 20 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b' ');
    [after_label, bracketed]
        .into_iter()
        .flatten()
        .find_map(|s| {
            let end = s.find(['Z', 'z'])? + 1;
            UnixTime::parse_rfc3339(&s[..end]).ok()
        })
}

/// The dates in `Found key 'Start=01/28/2018 16:00:00, End=…'`: US
/// month/day/year, 24-hour UTC; ISO 8601 is read too.
fn parse_entra_date(s: &str) -> Option<UnixTime> {
    if let Ok(t) = UnixTime::parse_rfc3339(s) {
        return Some(t);
    }
    let (date, time) = s.split_once(' ')?;
    let mut d = date.split('/').map(|x| x.parse::<u16>().ok());
    let (month, day, year) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|x| x.parse::<u8>().ok());
    let (h, m, sec) = (t.next()??, t.next()??, t.next().flatten().unwrap_or(0));
    let (month, day) = (u8::try_from(month).ok()?, u8::try_from(day).ok()?);
    let dt = der::DateTime::new(year, month, day, h, m, sec).ok()?;
    Some(UnixTime::from_der(dt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> UnixTime {
        UnixTime::parse_rfc3339(s).unwrap()
    }

    /// A month or day past 255 was cast with `as`: `257/28/2018` became
    /// January 28.
    #[test]
    fn found_key_dates_out_of_range_are_not_wrapped() {
        assert_eq!(
            parse_entra_date("01/28/2018 16:00:00"),
            Some(t("2018-01-28T16:00:00Z"))
        );
        assert_eq!(parse_entra_date("257/28/2018 16:00:00"), None);
        assert_eq!(parse_entra_date("01/284/2018 16:00:00"), None);
    }

    // As reported by an adal4j user: JSON with escaped slashes, key expired.
    const EXPIRED: &str = r#"Error : Failed to submit application to spark cluster. Exception : com.microsoft.aad.adal4j.AuthenticationException: {"error_description":"AADSTS700027: Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: 'FEE7837AEDA22B9C13EF27ED6A4A5143F6B8F8E8', Found key 'Start=01\/28\/2018 16:00:00, End=01\/28\/2019 16:00:00', Please visit 'https:\/\/developer.microsoft.com\/en-us\/graph\/graph-explorer' and query for 'https:\/\/graph.microsoft.com\/beta\/applications\/38cf1aad-04a3-465c-ae31-e0f27fa709c3' to see configured keys]\r\nTrace ID: 9b5a3607-298c-4745-a141-2ad7e00e0400\r\nCorrelation ID: 8940e0ba-6faf-4c69-ba1b-44f6c2aa24c3\r\nTimestamp: 2019-02-28 08:37:10Z","error":"invalid_client"}"#;

    #[test]
    fn certificate_expired_with_thumbprint_and_dates() {
        let e = parse(EXPIRED).unwrap();
        assert_eq!(e.code, 700027);
        assert_eq!(e.problem, Problem::CertificateExpired);
        assert_eq!(e.message, "Client assertion contains an invalid signature.");
        assert_eq!(e.reason.as_deref(), Some("The key used is expired."));
        assert_eq!(
            e.thumbprint.as_deref(),
            Some("FEE7837AEDA22B9C13EF27ED6A4A5143F6B8F8E8")
        );
        let k = e.found_key.clone().unwrap();
        assert_eq!(k.start, Some(t("2018-01-28T16:00:00Z")));
        assert_eq!(k.end, Some(t("2019-01-28T16:00:00Z")));
        assert_eq!(
            e.app_id.as_deref(),
            Some("38cf1aad-04a3-465c-ae31-e0f27fa709c3")
        );
        assert_eq!(
            e.trace_id.as_deref(),
            Some("9b5a3607-298c-4745-a141-2ad7e00e0400")
        );
        assert_eq!(
            e.correlation_id.as_deref(),
            Some("8940e0ba-6faf-4c69-ba1b-44f6c2aa24c3")
        );
        assert_eq!(e.timestamp, Some(t("2019-02-28T08:37:10Z")));
        assert_eq!(e.oauth_error.as_deref(), Some("invalid_client"));
        let a = e.advice();
        assert!(
            a.summary
                .contains("FEE7837AEDA22B9C13EF27ED6A4A5143F6B8F8E8"),
            "{a:?}"
        );
        assert!(a.summary.contains("2019-01-28T16:00:00Z"), "{a:?}");
        assert!(a.next_step.starts_with("Renew the certificate"), "{a:?}");
    }

    #[test]
    fn certificate_not_found_msal_log_line() {
        let text = "Azure.Identity.AuthenticationFailedException : ClientAssertionCredential \
            authentication failed: A configuration issue is preventing authentication - check \
            the error message from the server for details. Original exception: AADSTS700027: \
            Client assertion contains an invalid signature. [Reason - The key was not found., \
            Thumbprint of key used by client: '8BDEB513EAC11E9E9DA752EB9D5087F317F6D931', Please \
            visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys \
            for app Id '26790ce1-d05c-4de7-ba73-51837152f0bc'. Review the documentation at \
            https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding \
            service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http \
            to build a query request URL, such as \
            'https://graph.microsoft.com/beta/applications/26790ce1-d05c-4de7-ba73-51837152f0bc'].\n\
            Trace ID: 2ab6a7c1-0c26-4f57-8d2b-8a7bd5b10f00\nCorrelation ID: \
            0c1d5d8e-7d3a-4bb5-a8a4-1a2e0e2b7f3a\nTimestamp: 2022-05-27 03:12:45Z";
        let e = parse(text).unwrap();
        assert_eq!(e.problem, Problem::CertificateNotRegistered);
        assert_eq!(e.reason.as_deref(), Some("The key was not found."));
        assert_eq!(
            e.thumbprint.as_deref(),
            Some("8BDEB513EAC11E9E9DA752EB9D5087F317F6D931")
        );
        assert_eq!(
            e.app_id.as_deref(),
            Some("26790ce1-d05c-4de7-ba73-51837152f0bc")
        );
        assert_eq!(e.found_key, None);
        assert_eq!(e.timestamp, Some(t("2022-05-27T03:12:45Z")));
        assert!(
            e.advice()
                .next_step
                .starts_with("Register that certificate")
        );
    }

    #[test]
    fn newer_not_registered_wording() {
        let text = "errorMessage: \"Error(s): 700027 - Timestamp: 2026-02-18 11:42:13Z - \
            Description: AADSTS700027: The certificate with identifier used to sign the client \
            assertion is not registered on application. [Reason - The key was not found., \
            Thumbprint of key used by client: '3baffde57adc4abb93374403c529dd84776e9b0f', Please \
            visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys \
            for app Id '9edfcdd9-0bc5-4bd4-b287-c3afc716aac7'.";
        let e = parse(text).unwrap();
        assert_eq!(e.problem, Problem::CertificateNotRegistered);
        assert_eq!(
            e.thumbprint.as_deref(),
            Some("3BAFFDE57ADC4ABB93374403C529DD84776E9B0F")
        );
        assert_eq!(e.timestamp, Some(t("2026-02-18T11:42:13Z")));
        assert_eq!(
            e.app_id.as_deref(),
            Some("9edfcdd9-0bc5-4bd4-b287-c3afc716aac7")
        );
    }

    #[test]
    fn key_found_but_signature_failed() {
        let text = "AADSTS700027: Client assertion contains an invalid signature. [Reason - Key \
            was found, but use of the key to verify the signature failed., Thumbprint of key used \
            by client: '1FD9E3E40392B30329860D52171EE3695FA507DC', Found key 'Start=08/18/2024 \
            19:33:23, End=08/18/2029 19:33:23', Please visit the Azure Portal, Graph Explorer or \
            directly use MS Graph to see configured keys for app Id \
            'b0a7c1f2-6c8e-4d4b-9a3e-2f1d0c9b8a7e'.]. Trace ID: \
            5c1e5f0a-3b1d-4e8f-9a2b-7c6d5e4f3a00 Correlation ID: \
            d2b7a1c3-9e8f-4a6b-8c7d-1e2f3a4b5c6d Timestamp: 2024-08-20 09:14:02Z";
        let e = parse(text).unwrap();
        assert_eq!(e.problem, Problem::SignatureMismatch);
        assert_eq!(
            e.reason.as_deref(),
            Some("Key was found, but use of the key to verify the signature failed.")
        );
        let k = e.found_key.clone().unwrap();
        assert_eq!(k.start, Some(t("2024-08-18T19:33:23Z")));
        assert_eq!(k.end, Some(t("2029-08-18T19:33:23Z")));
        assert_eq!(
            e.trace_id.as_deref(),
            Some("5c1e5f0a-3b1d-4e8f-9a2b-7c6d5e4f3a00")
        );
        assert!(e.advice().summary.contains("does not belong"));
    }

    #[test]
    fn assertion_failed_signature_validation_50013() {
        let text = "AADSTS50013: Assertion failed signature validation. [Reason - The provided \
            signature value did not match the expected signature value., Thumbprint of key used \
            by client: '977B10FB9D1C087E3105564B1D31B09D247BEBCD', Found key 'Start=02/07/2021 \
            17:00:39, End=02/06/2026 17:00:39'].\nTrace ID: 62d60ed5-56c3-45a0-b960-93d4ec917d00\n\
            Correlation ID: 23f6c5a9-1ff9-4e6a-9dc8-b8b5fa539613\nTimestamp: 2021-10-29 10:23:09Z";
        let e = parse(text).unwrap();
        assert_eq!(e.code, 50013);
        assert_eq!(e.problem, Problem::SignatureMismatch);
        assert_eq!(e.message, "Assertion failed signature validation.");

        let audience = parse(
            "AADSTS50013: Assertion audience does not match the Client app presenting the \
             assertion. The audience in the assertion was 'https://login.microsoftonline.com/x' \
             and the expected audience is 'api://contoso'.\r\nTrace ID: \
             62d60ed5-56c3-45a0-b960-93d4ec917d00",
        )
        .unwrap();
        assert_eq!(audience.problem, Problem::AssertionAudience);
        assert!(audience.advice().next_step.contains("tenant ID"));
    }

    #[test]
    fn expiry_inferred_from_dates_when_reason_missing() {
        let text = "AADSTS700027: Client assertion contains an invalid signature. [Thumbprint of \
            key used by client: 'AB01', Found key 'Start=01/01/2020 00:00:00, End=01/01/2021 \
            00:00:00'] Timestamp: 2022-03-01 10:00:00Z";
        assert_eq!(parse(text).unwrap().problem, Problem::CertificateExpired);
    }

    #[test]
    fn invalid_client_secret_token_endpoint_json() {
        let text = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'a8fdfbd0-da97-42d9-8f1a-fd6a7cb650b4'.\r\nTrace ID: 6f6c4645-0202-4486-b625-fa957dfc4700\r\nCorrelation ID: 5fc87507-4086-4e77-b415-cee677eb232e\r\nTimestamp: 2023-05-06 06:03:00Z","error_codes":[7000215],"timestamp":"2023-05-06 06:03:00Z","trace_id":"6f6c4645-0202-4486-b625-fa957dfc4700","correlation_id":"5fc87507-4086-4e77-b415-cee677eb232e","error_uri":"https://login.microsoftonline.com/error?code=7000215"}"#;
        let e = parse(text).unwrap();
        assert_eq!(e.code, 7000215);
        assert_eq!(e.problem, Problem::SecretInvalid);
        assert_eq!(
            e.app_id.as_deref(),
            Some("a8fdfbd0-da97-42d9-8f1a-fd6a7cb650b4")
        );
        assert_eq!(e.timestamp, Some(t("2023-05-06T06:03:00Z")));
        assert_eq!(e.oauth_error.as_deref(), Some("invalid_client"));
        let a = e.advice();
        assert!(a.summary.contains("secret's ID"), "{a:?}");
        assert!(a.next_step.contains("Value"), "{a:?}");
    }

    #[test]
    fn expired_client_secret() {
        let text = "Original exception: AADSTS7000222: The provided client secret keys for app \
            'ccc25fb8-d83b-4225-b4b7-5f31bfb007be' are expired. Visit the Azure portal to create \
            new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate \
            credentials for added security: https://aka.ms/certCreds. Trace ID: \
            de577a4f-a611-44e8-94e6-5ca7955a3800 Correlation ID: \
            b1f881fe-810c-4731-a772-fa920ee90430 Timestamp: 2025-04-10 13:07:42Z";
        let e = parse(text).unwrap();
        assert_eq!(e.problem, Problem::SecretExpired);
        assert_eq!(
            e.app_id.as_deref(),
            Some("ccc25fb8-d83b-4225-b4b7-5f31bfb007be")
        );
        assert_eq!(
            e.correlation_id.as_deref(),
            Some("b1f881fe-810c-4731-a772-fa920ee90430")
        );
        assert!(e.advice().next_step.starts_with("Renew the secret"));
    }

    #[test]
    fn application_not_found() {
        let text = "AADSTS700016: Application with identifier \
            'bbe6ea72-3498-452b-9125-787be7a187d4' was not found in the directory \
            'a0343913-a606-4477-8d29-12345eb4cb08'. This can happen if the application has not \
            been installed by the administrator of the tenant or consented to by any user in the \
            tenant. You may have sent your authentication request to the wrong tenant.\r\n\
            Trace ID: a5c936aa-7b30-4f6d-bdd6-c69866950600\r\nCorrelation ID: \
            539d8a2b-9e25-4c20-ae3d-b8ad6c42e3a5\r\nTimestamp: 2019-01-04 23:07:41Z";
        let e = parse(text).unwrap();
        assert_eq!(e.problem, Problem::ApplicationNotFound);
        assert_eq!(
            e.app_id.as_deref(),
            Some("bbe6ea72-3498-452b-9125-787be7a187d4")
        );
        assert_eq!(
            e.tenant.as_deref(),
            Some("a0343913-a606-4477-8d29-12345eb4cb08")
        );
        let a = e.advice();
        assert!(a.next_step.contains("re-create"), "{a:?}");
    }

    #[test]
    fn tenant_not_found_in_this_cloud() {
        let text = r#"ValueError: OIDC Discovery endpoint rejects our request. Error: {"error":"invalid_tenant","error_description":"AADSTS90002: Tenant '2b0623dd-90fa-4c5c-bee8-8dc18bd4d948' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.\r\nTrace ID: c1806f4a-bcae-4ac1-b7ff-4eea2dcd1200\r\nCorrelation ID: 9d8aaacf-a655-4b1f-b113-3d0691054798\r\nTimestamp: 2022-04-21 16:26:49Z","error_codes":[90002],"timestamp":"2022-04-21 16:26:49Z"}"#;
        let e = parse(text).unwrap();
        assert_eq!(e.problem, Problem::TenantNotFound);
        assert_eq!(
            e.tenant.as_deref(),
            Some("2b0623dd-90fa-4c5c-bee8-8dc18bd4d948")
        );
        assert_eq!(e.oauth_error.as_deref(), Some("invalid_tenant"));
        assert!(e.advice().next_step.contains("cloud"));
    }

    #[test]
    fn consent_not_granted() {
        let text = "Graph Error: invalid_grant:AADSTS65001: The user or administrator has not \
            consented to use the application with ID '4d856d1f-8648-456c-9bb2-f36273bbe4e3' named \
            'Backup Service'. Send an interactive authorization request for this user and \
            resource.\r\nTrace ID: 72303ad3-3a2a-4b31-a79e-7869828018ea\r\nCorrelation ID: \
            40eb9bfc-b293-434f-9b49-4604f5ac5af6\r\nTimestamp: 2017-01-17 03:57:48Z";
        let e = parse(text).unwrap();
        assert_eq!(e.problem, Problem::ConsentRequired);
        assert_eq!(
            e.app_id.as_deref(),
            Some("4d856d1f-8648-456c-9bb2-f36273bbe4e3")
        );
        assert_eq!(e.app_name.as_deref(), Some("Backup Service"));
        assert!(e.advice().next_step.starts_with("Grant admin consent"));
    }

    #[test]
    fn cross_origin_redemption_needs_spa_redirect() {
        let text = "ServerError: invalid_request: 9002326 - [2021-09-03 14:20:13Z]: \
            AADSTS9002326: Cross-origin token redemption is permitted only for the 'Single-Page \
            Application' client-type. Request origin: 'https://wizard.contoso.com'.\nTrace ID: \
            40e5a04a-6016-42c3-b32f-0b9f20b61500\nCorrelation ID: \
            b5a1a372-ed08-48a7-95e6-f7ab55489f03";
        let e = parse(text).unwrap();
        assert_eq!(e.problem, Problem::SpaRedirectRequired);
        assert_eq!(
            e.request_origin.as_deref(),
            Some("https://wizard.contoso.com")
        );
        assert_eq!(e.timestamp, Some(t("2021-09-03T14:20:13Z")));
        assert!(e.advice().next_step.contains("Single-page application"));
    }

    #[test]
    fn mfa_required_and_enrollment() {
        let mfa = parse(
            r#"{"error":"interaction_required","error_description":"AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '797f4846-ba00-4fd7-ba43-dac1f8f63013'.\r\nTrace ID: 9eb381ba-429d-45ce-bdc4-74f66b235500\r\nCorrelation ID: a32d7f75-3130-404e-a68c-9b127d9f2eed\r\nTimestamp: 2021-11-18 10:00:50Z","error_codes":[50076],"suberror":"basic_action"}"#,
        )
        .unwrap();
        assert_eq!(mfa.problem, Problem::MfaRequired);
        assert_eq!(
            mfa.resource.as_deref(),
            Some("797f4846-ba00-4fd7-ba43-dac1f8f63013")
        );
        assert_eq!(mfa.oauth_error.as_deref(), Some("interaction_required"));

        let enroll = parse(
            "AADSTS50079: Due to a configuration change made by your administrator, or because \
             you moved to a new location, you must enroll in multi-factor authentication to \
             access '00000003-0000-0000-c000-000000000000'.\nTrace ID: \
             0f8d3c1e-5b6a-4c2d-9e8f-7a6b5c4d3e00\nTimestamp: 2024-02-12 08:00:01Z",
        )
        .unwrap();
        assert_eq!(enroll.problem, Problem::MfaEnrollmentRequired);
        assert_eq!(
            enroll.resource.as_deref(),
            Some("00000003-0000-0000-c000-000000000000")
        );
        assert!(enroll.advice().next_step.contains("register"));
    }

    #[test]
    fn unknown_code_keeps_text_and_generic_step() {
        let text = "AADSTS70002: Error validating credentials. AADSTS50012: Invalid client \
            secret is provided. Trace ID: f8002e35-8e39-4dce-a889-96498b8f0d00 Correlation ID: \
            96cd5114-2f15-4cc4-89fd-8d110359777a Timestamp: 2017-04-02 12:10:31Z";
        let e = parse(text).unwrap();
        assert_eq!(e.code, 70002);
        assert_eq!(e.codes, vec![70002, 50012]);
        assert_eq!(e.problem, Problem::Other);
        assert_eq!(
            e.message,
            "Error validating credentials. AADSTS50012: Invalid client secret is provided."
        );
        let a = e.advice();
        assert!(a.next_step.contains("error?code=70002"), "{a:?}");
        assert!(e.to_string().starts_with("AADSTS70002:"));
    }

    #[test]
    fn known_code_wins_over_wrapper_code() {
        let text = "AADSTS70002: Error validating credentials. AADSTS7000215: Invalid client \
            secret provided. Ensure the secret being sent in the request is the client secret \
            value, not the client secret ID, for a secret added to app \
            '396c2760-2fa5-4948-b9d5-9839a7440836'.";
        let e = parse(text).unwrap();
        assert_eq!(e.code, 7000215);
        assert_eq!(e.problem, Problem::SecretInvalid);
    }

    #[test]
    fn code_only_in_json_error_codes() {
        let e = parse(r#"{"error":"invalid_client","error_description":"Invalid client secret provided.","error_codes":[7000215]}"#).unwrap();
        assert_eq!(e.code, 7000215);
        assert_eq!(e.problem, Problem::SecretInvalid);
    }

    #[test]
    fn text_without_code_is_refused() {
        assert_eq!(parse("  "), Err(ParseError::Empty));
        assert_eq!(
            parse("The remote server returned an error: (401) Unauthorized."),
            Err(ParseError::NoCode)
        );
    }
}
