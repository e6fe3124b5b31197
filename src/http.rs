//! The HTTP boundary: a small async trait the browser implements with
//! `fetch` and native tests with a native client, a sleeper trait (a JS timer
//! in the browser), and the retry policy Microsoft documents for Graph and
//! ARM: throttling (429 + `Retry-After`), unavailable services (502/503/504)
//! and replication delays of newly created objects, with capped exponential
//! backoff and jitter from a caller-supplied seed. A `Retry-After` is
//! honoured as Microsoft sends it (seconds or an HTTP date), not capped, up
//! to a ceiling of 10 minutes ([`MAX_RETRY_AFTER_MS`]): a longer one fails
//! the request with the time to resume.
// https://learn.microsoft.com/en-us/graph/throttling
// https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/request-limits-and-throttling
// https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting#symptom---assigning-a-role-to-a-new-principal-sometimes-fails

use core::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::time::UnixTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request body: JSON for Graph and ARM, a form for the token endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "camelCase")]
pub enum Body {
    Json(Value),
    Form(Vec<(String, String)>),
}

impl Body {
    pub fn content_type(&self) -> &'static str {
        match self {
            Body::Json(_) => "application/json",
            Body::Form(_) => "application/x-www-form-urlencoded",
        }
    }

    /// The bytes to send.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Body::Json(v) => serde_json::to_vec(v).expect("JSON values serialise"),
            Body::Form(pairs) => serde_urlencoded::to_string(pairs)
                .expect("string pairs encode")
                .into_bytes(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    /// Besides `Content-Type`, which follows the body.
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
}

impl HttpRequest {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", format!("Bearer {token}"))
    }
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(Body::Json(body));
        self
    }
    pub fn form(mut self, pairs: Vec<(String, String)>) -> Self {
        self.body = Some(Body::Form(pairs));
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The body as JSON (`Value::Null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as Graph's or ARM's error envelope, decoded straight from
    /// the bytes (empty when it is not one).
    pub fn error_envelope(&self) -> ErrorEnvelope {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

/// `{"error": {"code", "message", "details": [{"code"}], "innerError":
/// {"request-id"}}}`, as Graph and ARM answer a failed call.
// https://learn.microsoft.com/en-us/graph/errors
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ErrorEnvelope {
    #[serde(default)]
    pub error: ErrorBody,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub details: Vec<ErrorDetail>,
    #[serde(default)]
    pub inner_error: Option<InnerError>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct InnerError {
    #[serde(default, rename = "request-id")]
    pub request_id: Option<String>,
}

impl ErrorBody {
    /// The codes in `details` (`NoBackingApplicationObject`…).
    pub fn detail_codes(&self) -> impl Iterator<Item = &str> {
        self.details.iter().filter_map(|d| d.code.as_deref())
    }
}

/// The request never got an HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error(
    "No answer from {url}: {detail}. Check the network connection; behind a proxy or a \
     strict Content-Security-Policy, allow this host."
)]
pub struct TransportError {
    pub url: String,
    pub detail: String,
}

/// Sends one HTTP request. The browser implements it with `fetch`.
#[allow(async_fn_in_trait)] // implementations need not be Send (fetch is not)
pub trait HttpClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// Waits. The browser implements it with a JS timer; tests may record.
#[allow(async_fn_in_trait)]
pub trait Sleeper {
    async fn sleep(&self, millis: u64);
}

/// Why a response is worth sending again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RetryReason {
    /// 429: Microsoft throttled the caller.
    Throttled,
    /// 502/503/504: the service is momentarily unavailable.
    Unavailable,
    /// A just-created object is not visible everywhere yet.
    Replication,
    /// No answer could be read: the network failed, or a gateway in front
    /// of Graph or ARM answered 502/503/504 without CORS headers, which a
    /// browser's `fetch` reports as a network error (a `TypeError`), its
    /// status unseen (https://fetch.spec.whatwg.org/#cors-check).
    Network,
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RetryReason::Throttled => "Microsoft is throttling requests",
            RetryReason::Unavailable => "the service is temporarily unavailable",
            RetryReason::Replication => "a new object is still replicating",
            RetryReason::Network => "network error or a gateway answer the browser could not read",
        })
    }
}

/// A response to retry, and after how long the service asked to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retryable {
    pub reason: RetryReason,
    pub retry_after_ms: Option<u64>,
}

/// What the caller expects to be still replicating: the hints that turn a
/// "does not exist" into a replication delay. A `bool` is
/// [`Replicating::objects`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Replicating {
    /// The request addresses Graph objects this plan created moments ago:
    /// a Graph `Request_ResourceNotFound` (404) is a delay.
    pub objects: bool,
    /// The request names a custom role definition this plan created (or
    /// found) moments ago: ARM `RoleDefinitionDoesNotExist` is a delay, as
    /// ARM answers until the definition has replicated.
    // https://github.com/Azure/terraform-azurerm-caf-enterprise-scale/wiki/Troubleshooting
    pub role_definitions: bool,
}

impl From<bool> for Replicating {
    fn from(objects: bool) -> Self {
        Replicating {
            objects,
            role_definitions: false,
        }
    }
}

/// Whether `response` should be retried. `replicating` says what the
/// request addresses that this plan made moments ago, so that a Graph
/// `Request_ResourceNotFound` or an ARM `RoleDefinitionDoesNotExist` is a
/// replication delay and not a real "not found" ([`Replicating`]).
/// `NoBackingApplicationObject` and ARM `PrincipalNotFound` only ever happen
/// for new objects and are always retried.
pub fn classify(
    response: &HttpResponse,
    replicating: impl Into<Replicating>,
    now: UnixTime,
) -> Option<Retryable> {
    let replicating = replicating.into();
    let retry_after = || retry_after_ms(response, now);
    match response.status {
        429 => {
            return Some(Retryable {
                reason: RetryReason::Throttled,
                retry_after_ms: retry_after(),
            });
        }
        502..=504 => {
            return Some(Retryable {
                reason: RetryReason::Unavailable,
                retry_after_ms: retry_after(),
            });
        }
        400 | 404 => {}
        _ => return None,
    }
    let error = response.error_envelope().error;
    let code = error.code.as_deref().unwrap_or("");
    let replication = code == "PrincipalNotFound"
        || code == "NoBackingApplicationObject"
        || error
            .detail_codes()
            .any(|c| c == "NoBackingApplicationObject")
        || (replicating.objects && response.status == 404 && code == "Request_ResourceNotFound")
        || (replicating.role_definitions && code == "RoleDefinitionDoesNotExist");
    replication.then(|| Retryable {
        reason: RetryReason::Replication,
        retry_after_ms: retry_after(),
    })
}

/// `Retry-After` as milliseconds: delta-seconds, or an HTTP date measured
/// against the response's `Date` header (else `now`).
pub fn retry_after_ms(response: &HttpResponse, now: UnixTime) -> Option<u64> {
    let value = response.header("Retry-After")?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let at = parse_http_date(value)?;
    let reference = response
        .header("Date")
        .and_then(parse_http_date)
        .unwrap_or(now);
    Some(at.0.saturating_sub(reference.0).saturating_mul(1000))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110
/// requires senders to use.
pub fn parse_http_date(s: &str) -> Option<UnixTime> {
    let s = s.trim();
    let rest = s.split_once(", ").map(|(_, r)| r)?;
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let [day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if *zone != "GMT" {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    let day: u32 = day.parse().ok()?;
    let year: u32 = year.parse().ok()?;
    let hms: Vec<u32> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, mi, se] = hms.as_slice() else {
        return None;
    };
    let text = format!("{year:04}-{month:02}-{day:02}T{h:02}:{mi:02}:{se:02}Z");
    UnixTime::parse_rfc3339(&text).ok()
}

/// How often and how long to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    /// First backoff; doubles with each attempt.
    pub base_delay_ms: u64,
    /// No computed backoff (5xx, replication) waits longer than this. A
    /// `Retry-After` is not capped by it: it is honoured as sent.
    pub max_delay_ms: u64,
    /// The longest `Retry-After` waited for within one request
    /// ([`MAX_RETRY_AFTER_MS`] by default); a longer one fails the request
    /// with the time to resume instead of keeping the page waiting.
    #[serde(default = "default_max_retry_after_ms")]
    pub max_retry_after_ms: u64,
}

/// The default ceiling on a `Retry-After`: 10 minutes. Microsoft Graph and
/// ARM send seconds to a few minutes; a longer wait is better spent with the
/// page closed, so the request fails and says when to apply again.
pub const MAX_RETRY_AFTER_MS: u64 = 600_000;

fn default_max_retry_after_ms() -> u64 {
    MAX_RETRY_AFTER_MS
}

impl Default for RetryPolicy {
    /// Replication can take a minute or more: 10 attempts, 1 s doubling to
    /// 30 s; `Retry-After` honoured up to 10 minutes.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay_ms: 1000,
            max_delay_ms: 30_000,
            max_retry_after_ms: MAX_RETRY_AFTER_MS,
        }
    }
}

/// Exponential backoff with "full jitter" from a seeded generator, so that a
/// run is reproducible in tests and differs between browser tabs.
#[derive(Clone, Debug)]
pub struct Backoff {
    pub policy: RetryPolicy,
    state: u64,
}

impl Backoff {
    pub fn new(policy: RetryPolicy, seed: u64) -> Self {
        Backoff {
            policy,
            // splitmix64 of the seed: never zero for xorshift.
            state: splitmix(seed) | 1,
        }
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    /// The wait before attempt `retry` (1 for the first retry). A
    /// `Retry-After` is honoured as sent (the caller checks it against
    /// [`RetryPolicy::max_retry_after_ms`]); otherwise a random wait in
    /// `[d/2, d]` with `d = min(cap, base · 2^(retry-1))`.
    pub fn delay_ms(&mut self, retry: u32, retry_after_ms: Option<u64>) -> u64 {
        if let Some(after) = retry_after_ms {
            return after;
        }
        let exp = self
            .policy
            .base_delay_ms
            .saturating_mul(1u64 << retry.saturating_sub(1).min(30))
            .min(self.policy.max_delay_ms);
        let half = exp / 2;
        half + self.next_u64() % (exp - half + 1)
    }

    /// What to do after `response` to attempt number `attempt` (1 for the
    /// first): return it, wait and send again, or give up because the
    /// service asked for a wait longer than the policy's ceiling.
    pub fn next(
        &mut self,
        response: &HttpResponse,
        attempt: u32,
        replicating: impl Into<Replicating>,
        now: UnixTime,
    ) -> Next {
        let Some(retry) = classify(response, replicating, now) else {
            return Next::Return;
        };
        if attempt >= self.policy.max_attempts {
            return Next::Return;
        }
        let notice = |wait_ms| RetryNotice {
            reason: retry.reason,
            status: response.status,
            attempt,
            wait_ms,
            service: None,
            retry_after: retry.retry_after_ms.is_some(),
        };
        match retry.retry_after_ms {
            Some(after) if after > self.policy.max_retry_after_ms => Next::TooLong(notice(after)),
            after => Next::Retry(notice(self.delay_ms(attempt, after))),
        }
    }
}

impl Backoff {
    /// Whether to send again after attempt number `attempt` got no answer
    /// at all (a [`TransportError`]): the same capped exponential backoff
    /// as a 5xx, for as many attempts. Only for a request that is safe to
    /// repeat; the caller decides which.
    pub fn after_transport_error(&mut self, attempt: u32) -> Option<RetryNotice> {
        (attempt < self.policy.max_attempts).then(|| RetryNotice {
            reason: RetryReason::Network,
            status: 0,
            attempt,
            wait_ms: self.delay_ms(attempt, None),
            service: None,
            retry_after: false,
        })
    }
}

/// What [`Backoff::next`] decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// A success, an error not worth repeating, or the attempts ran out.
    Return,
    /// Wait `wait_ms`, then send again.
    Retry(RetryNotice),
    /// The service asked to wait longer than the ceiling (`wait_ms` is
    /// what it asked for).
    TooLong(RetryNotice),
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One retry that happened, for the progress list: sent as the wait starts,
/// so the page can show "waiting 95 s (throttled by Microsoft Graph)" while
/// it lasts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryNotice {
    pub reason: RetryReason,
    /// The HTTP status retried; 0 when no answer was read
    /// ([`RetryReason::Network`]).
    pub status: u16,
    pub attempt: u32,
    pub wait_ms: u64,
    /// The name of the API that asked for the wait ("Microsoft Graph"),
    /// set by the API client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The wait is the service's own `Retry-After`, not a computed backoff.
    #[serde(default)]
    pub retry_after: bool,
}

impl fmt::Display for RetryNotice {
    /// `waiting 95 s (throttled by Microsoft Graph)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "waiting {} (", wait_text(self.wait_ms))?;
        match (self.reason, &self.service) {
            (RetryReason::Throttled, Some(s)) => write!(f, "throttled by {s}")?,
            (RetryReason::Unavailable, Some(s)) => {
                write!(f, "{s} is temporarily unavailable, HTTP {}", self.status)?
            }
            (reason, _) => write!(f, "{reason}")?,
        }
        f.write_str(")")
    }
}

/// `95 s`, `2 min 30 s`: a wait as the progress list says it.
pub fn wait_text(wait_ms: u64) -> String {
    let s = wait_ms.div_ceil(1000);
    match (s / 60, s % 60) {
        _ if s < 120 => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, r) => format!("{m} min {r} s"),
    }
}

/// A request as the review's disclosure shows it: what [`HttpRequest`]
/// carries, with secrets and key bytes [`redact`]ed. Previews made before a
/// plan runs may hold placeholders for what only the run knows (see
/// [`preview_matches`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestPreview {
    pub method: String,
    pub url: String,
    /// Headers that change what the request does (`Prefer`); never
    /// `Authorization`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl RequestPreview {
    /// A request as sent (JSON bodies redacted; forms are never shown).
    pub fn sent(request: &HttpRequest) -> Self {
        let body = match &request.body {
            Some(Body::Json(v)) => Some(redact(v.clone())),
            Some(Body::Form(_)) => Some(Value::String("(form, not shown)".into())),
            None => None,
        };
        RequestPreview {
            method: request.method.as_str().into(),
            url: request.url.clone(),
            headers: request
                .headers
                .iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
                .cloned()
                .collect(),
            body,
        }
    }
}

/// Property names whose values are secrets or key material.
const SECRET_FIELDS: [&str; 8] = [
    "secretText",
    "client_secret",
    "password",
    "privateKey",
    "refresh_token",
    "code_verifier",
    "client_assertion",
    "access_token",
];

/// Replaces secret values anywhere in `v` with `"(redacted)"`; a `key`
/// holding certificate bytes (long base64) is replaced too.
pub fn redact(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    let long_key = k == "key"
                        && val
                            .as_str()
                            .is_some_and(|s| s.len() > 64 && !s.starts_with('('));
                    if SECRET_FIELDS.contains(&k.as_str()) || long_key {
                        *val = Value::String("(redacted)".into());
                    } else {
                        walk(val);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// Whether `sent` is the request `preview` announced. A preview is exact
/// except for its documented placeholders, which stand for what only the
/// run knows:
/// - in the URL, `{name}` (or its percent-encoded form `%7Bname%7D`) stands
///   for one ID: a run of characters without `/`, `?`, `&`, `'` or `%27`;
/// - in the body, the string `"{name}"` stands for any one JSON value, and
///   an array element `"{...name}"` for any number of elements (the
///   existing entries a whole-collection PATCH sends back).
///
/// Both sides are compared as [`redact`]ed.
pub fn preview_matches(preview: &RequestPreview, sent: &RequestPreview) -> bool {
    preview.method == sent.method
        && url_matches(&preview.url, &sent.url)
        && preview.headers == sent.headers
        && match (&preview.body, &sent.body) {
            (None, None) => true,
            (Some(p), Some(s)) => value_matches(&redact(p.clone()), &redact(s.clone())),
            _ => false,
        }
}

fn url_matches(pattern: &str, url: &str) -> bool {
    // Split the pattern into literal runs and placeholders.
    let mut rest = pattern;
    let mut parts: Vec<(bool, &str)> = Vec::new();
    while !rest.is_empty() {
        let open = [rest.find('{'), rest.find("%7B")]
            .into_iter()
            .flatten()
            .min();
        let Some(start) = open else {
            parts.push((false, rest));
            break;
        };
        let encoded = rest[start..].starts_with("%7B");
        let close = if encoded {
            rest[start..].find("%7D").map(|i| start + i + 3)
        } else {
            rest[start..].find('}').map(|i| start + i + 1)
        };
        let Some(end) = close else {
            parts.push((false, rest));
            break;
        };
        if start > 0 {
            parts.push((false, &rest[..start]));
        }
        parts.push((true, &rest[start..end]));
        rest = &rest[end..];
    }
    fn go(parts: &[(bool, &str)], url: &str) -> bool {
        match parts.split_first() {
            None => url.is_empty(),
            Some(((false, lit), tail)) => {
                url.strip_prefix(lit).is_some_and(|after| go(tail, after))
            }
            Some(((true, _), tail)) => {
                let id_end = url
                    .find(['/', '?', '&', '\''])
                    .unwrap_or(url.len())
                    .min(url.find("%27").unwrap_or(url.len()));
                (1..=id_end).any(|n| go(tail, &url[n..]))
            }
        }
    }
    go(&parts, url)
}

fn is_placeholder(s: &str) -> bool {
    s.len() > 2 && s.starts_with('{') && s.ends_with('}')
}

fn value_matches(preview: &Value, sent: &Value) -> bool {
    match (preview, sent) {
        (Value::String(p), _) if is_placeholder(p) && !p.starts_with("{...") => true,
        (Value::Object(p), Value::Object(s)) => {
            p.len() == s.len()
                && p.iter()
                    .all(|(k, pv)| s.get(k).is_some_and(|sv| value_matches(pv, sv)))
        }
        (Value::Array(p), Value::Array(s)) => array_matches(p, s),
        _ => preview == sent,
    }
}

fn array_matches(p: &[Value], s: &[Value]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((Value::String(first), tail))
            if first.starts_with("{...") && is_placeholder(first) =>
        {
            (0..=s.len()).any(|n| array_matches(tail, &s[n..]))
        }
        Some((first, tail)) => s
            .split_first()
            .is_some_and(|(x, rest)| value_matches(first, x) && array_matches(tail, rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(status: u16, headers: &[(&str, &str)], body: Value) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: serde_json::to_vec(&body).unwrap(),
        }
    }

    const NOW: UnixTime = UnixTime(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn http_dates_parse() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(NOW));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("soon"), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let r = resp(429, &[("retry-after", "7")], Value::Null);
        assert_eq!(retry_after_ms(&r, NOW), Some(7000));
        let r = resp(
            503,
            &[
                ("Retry-After", "Sun, 06 Nov 1994 08:50:07 GMT"),
                ("Date", "Sun, 06 Nov 1994 08:49:57 GMT"),
            ],
            Value::Null,
        );
        assert_eq!(retry_after_ms(&r, NOW), Some(10_000));
        let r = resp(
            503,
            &[("Retry-After", "Sun, 06 Nov 1994 08:50:07 GMT")],
            Value::Null,
        );
        assert_eq!(retry_after_ms(&r, NOW), Some(30_000));
    }

    #[test]
    fn classifies_throttling_outages_and_replication() {
        let t = classify(&resp(429, &[("Retry-After", "2")], Value::Null), false, NOW);
        assert_eq!(
            t,
            Some(Retryable {
                reason: RetryReason::Throttled,
                retry_after_ms: Some(2000)
            })
        );
        for s in [502, 503, 504] {
            assert_eq!(
                classify(&resp(s, &[], Value::Null), false, NOW)
                    .unwrap()
                    .reason,
                RetryReason::Unavailable
            );
        }
        assert_eq!(classify(&resp(500, &[], Value::Null), false, NOW), None);
        let nba = json!({"error": {"code": "Request_BadRequest", "message": "…",
            "details": [{"code": "NoBackingApplicationObject"}]}});
        assert_eq!(
            classify(&resp(400, &[], nba), false, NOW).unwrap().reason,
            RetryReason::Replication
        );
        let pnf = json!({"error": {"code": "PrincipalNotFound", "message": "…"}});
        assert!(classify(&resp(400, &[], pnf), false, NOW).is_some());
        let nf = json!({"error": {"code": "Request_ResourceNotFound", "message": "…"}});
        assert_eq!(classify(&resp(404, &[], nf.clone()), false, NOW), None);
        assert!(classify(&resp(404, &[], nf), true, NOW).is_some());
        let denied = json!({"error": {"code": "Authorization_RequestDenied"}});
        assert_eq!(classify(&resp(403, &[], denied), true, NOW), None);
        // A role definition is waited for only when this plan made it.
        let rdne = json!({"error": {"code": "RoleDefinitionDoesNotExist", "message": "…"}});
        assert_eq!(classify(&resp(400, &[], rdne.clone()), true, NOW), None);
        let made = Replicating {
            objects: false,
            role_definitions: true,
        };
        assert_eq!(
            classify(&resp(400, &[], rdne), made, NOW).unwrap().reason,
            RetryReason::Replication
        );
    }

    #[test]
    fn backoff_doubles_jitters_and_caps() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay_ms: 1000,
            max_delay_ms: 8000,
            max_retry_after_ms: MAX_RETRY_AFTER_MS,
        };
        let mut b = Backoff::new(policy, 42);
        for (retry, full) in [(1, 1000), (2, 2000), (3, 4000), (4, 8000), (9, 8000)] {
            let d = b.delay_ms(retry, None);
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d}");
        }
        assert_eq!(b.delay_ms(1, Some(3000)), 3000);
        assert_eq!(
            b.delay_ms(1, Some(60_000)),
            60_000,
            "Retry-After is not capped"
        );
        let a: Vec<u64> = {
            let mut b = Backoff::new(policy, 7);
            (1..6).map(|r| b.delay_ms(r, None)).collect()
        };
        let same: Vec<u64> = {
            let mut b = Backoff::new(policy, 7);
            (1..6).map(|r| b.delay_ms(r, None)).collect()
        };
        assert_eq!(a, same);
    }

    #[test]
    fn retry_after_is_honoured_as_sent_up_to_the_ceiling() {
        let mut b = Backoff::new(RetryPolicy::default(), 1);
        let throttled = |after: &str| resp(429, &[("Retry-After", after)], Value::Null);
        // 120 s: longer than the 30 s backoff cap, waited for as sent.
        let Next::Retry(n) = b.next(&throttled("120"), 1, false, NOW) else {
            panic!()
        };
        assert_eq!((n.wait_ms, n.retry_after, n.attempt), (120_000, true, 1));
        assert_eq!(
            n.to_string(),
            "waiting 2 min (Microsoft is throttling requests)"
        );
        let n = RetryNotice {
            service: Some("Microsoft Graph".into()),
            wait_ms: 95_000,
            ..n
        };
        assert_eq!(n.to_string(), "waiting 95 s (throttled by Microsoft Graph)");
        // Exactly the ceiling is still waited for; beyond it, given up.
        assert!(
            matches!(b.next(&throttled("600"), 1, false, NOW), Next::Retry(n) if n.wait_ms == 600_000)
        );
        let Next::TooLong(n) = b.next(&throttled("601"), 1, false, NOW) else {
            panic!()
        };
        assert_eq!(n.wait_ms, 601_000);
        // A computed backoff stays capped; the attempts run out; a success
        // or a real error is returned.
        let Next::Retry(n) = b.next(&resp(503, &[], Value::Null), 9, false, NOW) else {
            panic!()
        };
        assert!(n.wait_ms <= 30_000 && !n.retry_after);
        assert_eq!(b.next(&throttled("2"), 10, false, NOW), Next::Return);
        assert_eq!(
            b.next(&resp(200, &[], Value::Null), 1, false, NOW),
            Next::Return
        );
        assert_eq!(
            b.next(&resp(403, &[], Value::Null), 1, false, NOW),
            Next::Return
        );
        assert_eq!(wait_text(150_500), "2 min 31 s");
    }

    #[test]
    fn no_answer_backs_off_like_a_5xx_for_as_many_attempts() {
        let policy = RetryPolicy::default();
        let mut b = Backoff::new(policy, 3);
        for attempt in 1..policy.max_attempts {
            let n = b.after_transport_error(attempt).unwrap();
            assert_eq!(
                (n.reason, n.status, n.attempt),
                (RetryReason::Network, 0, attempt)
            );
            assert!(n.wait_ms <= policy.max_delay_ms && !n.retry_after);
        }
        assert_eq!(b.after_transport_error(policy.max_attempts), None);
        let n = RetryNotice {
            wait_ms: 1000,
            service: Some("Microsoft Graph".into()),
            ..b.after_transport_error(1).unwrap()
        };
        assert_eq!(
            n.to_string(),
            "waiting 1 s (network error or a gateway answer the browser could not read)"
        );
    }

    #[test]
    fn form_bodies_are_url_encoded() {
        let b = Body::Form(vec![
            (
                "scope".into(),
                "https://graph.microsoft.com/.default offline_access".into(),
            ),
            ("code".into(), "a+b".into()),
        ]);
        assert_eq!(
            String::from_utf8(b.to_bytes()).unwrap(),
            "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default+offline_access&code=a%2Bb"
        );
    }

    #[test]
    fn previews_redact_secrets_and_certificates() {
        let v = redact(
            json!({"keyCredentials": [{"key": "MII".repeat(100), "type": "AsymmetricX509Cert"}],
            "passwordCredential": {"secretText": "abc"}, "scope": "User.Read"}),
        );
        assert_eq!(v["keyCredentials"][0]["key"], "(redacted)");
        assert_eq!(v["passwordCredential"]["secretText"], "(redacted)");
        assert_eq!(v["scope"], "User.Read");
    }

    #[test]
    fn placeholders_stand_for_ids_and_existing_entries() {
        let p = |url: &str, body: Option<Value>| RequestPreview {
            method: "PATCH".into(),
            url: url.into(),
            headers: Vec::new(),
            body,
        };
        let sent = p(
            "https://g/v1.0/applications/abc-1?$filter=appId%20eq%20%27x-2%27",
            Some(
                json!({"keyCredentials": [{"keyId": "k1"}, {"keyId": "k2"}, {"key": "new"}],
                "id": "r1"}),
            ),
        );
        let preview = p(
            "https://g/v1.0/applications/{application-object-id}?$filter=appId%20eq%20%27%7Bapp-id%7D%27",
            Some(
                json!({"keyCredentials": ["{...existing keyCredentials}", {"key": "new"}],
                "id": "{role id}"}),
            ),
        );
        assert!(preview_matches(&preview, &sent));
        // Literal parts, shapes and fields must be the same.
        let mut other = preview.clone();
        other.url = other.url.replace("%20eq%20", " eq ");
        assert!(!preview_matches(&other, &sent));
        let mut other = preview.clone();
        other.body = Some(json!({"keyCredentials": ["{...existing}", {"key": "new"}]}));
        assert!(!preview_matches(&other, &sent));
        let mut other = preview.clone();
        other.body = Some(json!({"keyCredentials": [{"key": "new"}], "id": "{role id}"}));
        assert!(!preview_matches(&other, &sent));
        let mut other = preview.clone();
        other.method = "PUT".into();
        assert!(!preview_matches(&other, &sent));
        // A placeholder never swallows a path separator.
        let nested = p("https://g/v1.0/applications/{id}", None);
        assert!(!preview_matches(
            &nested,
            &p("https://g/v1.0/applications/a/b", None)
        ));
    }
}
