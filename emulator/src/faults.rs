//! Realism knobs: Graph throttling, random 429/503, replication delay, latency.
//!
//! SPEC syntax (`--faults`, or `{"spec": "..."}` to `POST /_emulator/faults`):
//! comma-separated `key=value` pairs, any subset, e.g.
//! `throttle=1.0,random429=0.2,random503=0.05,replication=3s,latency=50ms,seed=7`.
//! - `throttle=F`: Graph's identity-and-access limits
//!   (https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits),
//!   token buckets whose capacities and refill rates are F times Microsoft's:
//!   per application+tenant pair a resource-unit quota of 3,500 / 5,000 /
//!   8,000 RU per 10 s (tenant under 50 users / up to 500 / above) and a write
//!   quota of 3,000 requests per 2 min 30 s; per tenant 18,000 writes per
//!   5 min. Costs as the page lists them (see [`graph_cost`]). `1.0` (the
//!   default) is Microsoft's quota, `0` or `off` disables throttling.
//! - `throttlefill=P`: how full a bucket starts (default 1, full; `0` starts
//!   empty, as a tenant whose quota was just used, so a run measures the
//!   steady refill rate).
//! - `random429=P`, `random503=P`: probability that a Graph or ARM request fails
//!   with 429 (Retry-After) or 503 (Retry-After) before it is handled.
//! - `replication=D`: objects created less than D ago are not yet visible
//!   where Entra replicates slowly (`NoBackingApplicationObject`,
//!   `Request_ResourceNotFound`, ARM `PrincipalNotFound`, AADSTS700016).
//! - `latency=D`: added before every Graph, ARM and token response.
//! - `seed=N`: seed of the random generator, so random faults are reproducible.
//! - `next429=N`: the next N Graph or ARM requests fail with 429 (then
//!   requests pass again): deterministic throttling for tests.
//! - `retryafter=D`: the `Retry-After` of `random429`, `random503` and
//!   `next429` answers (whole seconds, rounded up; by default 2 s for 429 and
//!   3 s for 503). Microsoft sends whatever the service needs, minutes
//!   included (https://learn.microsoft.com/en-us/graph/throttling,
//!   https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/request-limits-and-throttling).
//! - `gateway=N`: the next N Graph or ARM requests are answered by the edge
//!   in front of the service (`gatewaystatus=502|503|504`, default 504) with
//!   an HTML page and no CORS headers, as a CDN or load balancer answers
//!   (https://github.com/microsoftgraph/microsoft-graph-explorer-v4/issues/4022);
//!   a browser then reports a network error, not a status
//!   (https://fetch.spec.whatwg.org/#cors-check).
//!
//! - `commitlost=METHOD:PATTERN[@N]`: the next N (default 1) Graph or ARM
//!   requests with that method whose path matches PATTERN (`*` matches any
//!   characters) are carried out, then their answer is lost: the connection
//!   breaks before the body arrives (a browser's fetch rejects, as after a
//!   timeout or a dropped network). Repeat the key for more patterns.
//! - `commit5xx=METHOD:PATTERN[@N]`: the same, but the change is committed
//!   and a 5xx is answered (`commitstatus=500|502|503|504`, default 500), with
//!   Graph's or ARM's error envelope.
//! - `listlag=D`: an object created less than D ago is found by a single read
//!   (`GET /applications/{id}`) but not yet in collections and `$filter`
//!   queries (`GET /applications?$filter=…`), as Entra's replicas lag.
//!
//! Durations take `ms`, `s` or `m` (a bare number means milliseconds).

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Microsoft's resource-unit quota per application+tenant pair, per 10 s, by
/// tenant size (S: under 50 users, M: 50 to 500, L: above 500).
pub const RU_QUOTA: [f64; 3] = [3500.0, 5000.0, 8000.0];
pub const RU_WINDOW_MS: i64 = 10_000;
/// Write quota per application+tenant pair: 3,000 per 2 min 30 s.
pub const WRITE_QUOTA: f64 = 3000.0;
pub const WRITE_WINDOW_MS: i64 = 150_000;
/// Write quota per tenant, all applications together: 18,000 per 5 min.
pub const TENANT_WRITE_QUOTA: f64 = 18_000.0;
pub const TENANT_WRITE_WINDOW_MS: i64 = 300_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultConfig {
    pub throttle: f64,
    pub random429: f64,
    pub random503: f64,
    pub replication_ms: u64,
    pub latency_ms: u64,
    pub seed: u64,
    /// Graph or ARM requests still to fail with 429 (counts down).
    #[serde(default)]
    pub next429: u32,
    /// `Retry-After` of the 429/503 faults, instead of 2 s / 3 s.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// Graph or ARM requests still to be answered by the gateway (counts down).
    #[serde(default)]
    pub gateway: u32,
    /// The gateway's status: 502, 503 or 504.
    #[serde(default = "default_gateway_status")]
    pub gateway_status: u16,
    /// Requests carried out whose answer is then lost.
    #[serde(default)]
    pub commit_lost: Vec<MatchFault>,
    /// Requests carried out and then answered with `commit_status`.
    #[serde(default)]
    pub commit_5xx: Vec<MatchFault>,
    #[serde(default = "default_commit_status")]
    pub commit_status: u16,
    /// How long new objects stay out of collections and `$filter` results.
    #[serde(default)]
    pub list_lag_ms: u64,
    /// How full a throttling bucket is when an application first uses it
    /// (1 = full, as a quiet tenant; 0 = empty, as one whose quota other
    /// work has just used up).
    #[serde(default = "default_throttle_fill")]
    pub throttle_fill: f64,
}

fn default_throttle_fill() -> f64 {
    1.0
}

fn default_gateway_status() -> u16 {
    504
}

fn default_commit_status() -> u16 {
    500
}

/// Requests chosen by method and path pattern, and how many more to hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchFault {
    pub method: String,
    /// `*` matches any characters; the rest literally.
    pub pattern: String,
    pub remaining: u32,
}

impl MatchFault {
    fn parse(text: &str) -> Result<MatchFault, String> {
        let (rule, count) = match text.rsplit_once('@') {
            Some((r, n)) => (
                r,
                n.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("invalid count in '{text}'"))?,
            ),
            None => (text, 1),
        };
        let (method, pattern) = rule
            .split_once(':')
            .ok_or_else(|| format!("expected METHOD:PATTERN, got '{text}'"))?;
        let method = method.trim().to_ascii_uppercase();
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
            return Err(format!("invalid method in '{text}'"));
        }
        if !pattern.trim().starts_with('/') {
            return Err(format!("the pattern in '{text}' must start with /"));
        }
        Ok(MatchFault {
            method,
            pattern: pattern.trim().to_string(),
            remaining: count,
        })
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.remaining > 0 && self.method.eq_ignore_ascii_case(method) && glob(&self.pattern, path)
    }
}

/// Whether `text` matches `pattern`, where `*` matches any characters.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

/// What happens to a request after it was carried out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AfterCommit {
    /// The answer is lost.
    Lost,
    /// A 5xx with this status replaces the answer.
    Status(u16),
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            throttle: 1.0,
            random429: 0.0,
            random503: 0.0,
            replication_ms: 0,
            latency_ms: 0,
            seed: 0,
            next429: 0,
            retry_after_ms: None,
            gateway: 0,
            gateway_status: default_gateway_status(),
            commit_lost: Vec::new(),
            commit_5xx: Vec::new(),
            commit_status: default_commit_status(),
            list_lag_ms: 0,
            throttle_fill: 1.0,
        }
    }
}

fn duration_ms(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("invalid duration '{text}'"))?;
    if v < 0.0 {
        return Err(format!("negative duration '{text}'"));
    }
    Ok((v * mult).round() as u64)
}

fn probability(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("invalid probability '{text}'"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("probability '{text}' is not between 0 and 1"));
    }
    Ok(v)
}

impl FaultConfig {
    /// Applies a SPEC on top of `self`.
    pub fn apply_spec(&self, spec: &str) -> Result<FaultConfig, String> {
        let mut c = self.clone();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, got '{part}'"))?;
            match k.trim() {
                "throttle" => {
                    c.throttle = if v.trim() == "off" {
                        0.0
                    } else {
                        let f: f64 = v
                            .trim()
                            .parse()
                            .map_err(|_| format!("invalid throttle '{v}'"))?;
                        if f < 0.0 {
                            return Err(format!("invalid throttle '{v}'"));
                        }
                        f
                    }
                }
                "random429" => c.random429 = probability(v)?,
                "random503" => c.random503 = probability(v)?,
                "replication" => c.replication_ms = duration_ms(v)?,
                "latency" => c.latency_ms = duration_ms(v)?,
                "next429" => {
                    c.next429 = v
                        .trim()
                        .parse()
                        .map_err(|_| format!("invalid next429 '{v}'"))?
                }
                "retryafter" => c.retry_after_ms = Some(duration_ms(v)?),
                "gateway" => {
                    c.gateway = v
                        .trim()
                        .parse()
                        .map_err(|_| format!("invalid gateway '{v}'"))?
                }
                "gatewaystatus" => {
                    c.gateway_status = match v.trim() {
                        "502" => 502,
                        "503" => 503,
                        "504" => 504,
                        _ => return Err(format!("invalid gatewaystatus '{v}' (502, 503 or 504)")),
                    }
                }
                "commitlost" => c.commit_lost.push(MatchFault::parse(v)?),
                "commit5xx" => c.commit_5xx.push(MatchFault::parse(v)?),
                "commitstatus" => {
                    c.commit_status = match v.trim() {
                        "500" => 500,
                        "502" => 502,
                        "503" => 503,
                        "504" => 504,
                        _ => {
                            return Err(format!(
                                "invalid commitstatus '{v}' (500, 502, 503 or 504)"
                            ));
                        }
                    }
                }
                "listlag" => c.list_lag_ms = duration_ms(v)?,
                "throttlefill" => {
                    c.throttle_fill = v
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|f| (0.0..=1.0).contains(f))
                        .ok_or_else(|| format!("invalid throttlefill '{v}' (0 to 1)"))?
                }
                "seed" => {
                    c.seed = v
                        .trim()
                        .parse()
                        .map_err(|_| format!("invalid seed '{v}'"))?
                }
                other => return Err(format!("unknown fault '{other}'")),
            }
        }
        Ok(c)
    }

    /// Whether an object created at `created_ms` is still missing from
    /// collections at `now_ms` (`listlag`).
    pub fn lags_in_lists(&self, created_ms: i64, now_ms: i64) -> bool {
        created_ms + self.list_lag_ms as i64 > now_ms
    }

    /// The `Retry-After` (seconds) of a 429 or 503 fault.
    pub fn retry_after(&self, default_seconds: i64) -> i64 {
        self.retry_after_ms
            .map_or(default_seconds, |ms| ms.div_ceil(1000) as i64)
    }
}

/// What happened to a request at the door.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Pass,
    /// Over one of the identity-and-access quotas.
    Throttled {
        /// Whole seconds until the bucket holds enough again (at least 1).
        retry_after: i64,
        /// `x-ms-throttle-scope`, e.g. `Tenant_Application/Write/{appId}/{tenantId}`.
        scope: String,
        /// `x-ms-throttle-information`: `WriteLimitExceeded` or `ResourceUnitLimitExceeded`.
        information: &'static str,
    },
    Random429,
    Random503,
    /// Answered by the gateway with this status, without CORS headers.
    Gateway(u16),
}

/// A tenant's size class, which sets the resource-unit quota.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TenantSize {
    S,
    M,
    L,
}

impl TenantSize {
    pub fn of(users: usize) -> TenantSize {
        match users {
            0..50 => TenantSize::S,
            50..=500 => TenantSize::M,
            _ => TenantSize::L,
        }
    }
    fn ru_quota(self) -> f64 {
        RU_QUOTA[self as usize]
    }
    pub fn name(self) -> &'static str {
        ["S", "M", "L"][self as usize]
    }
}

/// The caller a request is charged to: the application and tenant of its token.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub app_id: String,
    pub tenant_id: String,
}

/// What a Graph request costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    pub resource_units: u32,
    /// Whether it counts against the write quotas.
    pub write: bool,
}

/// Graph's base cost of an identity request, and the query options that change
/// it: `$select` −1, `$expand` +1, `$top` under 20 −1, never below 1. A path
/// under `users/{id}/` costs what the same path under `me/` costs.
// https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits
pub fn graph_cost(method: &str, path: &str, query: &str) -> Cost {
    let rest = path.strip_prefix("/graph/v1.0").unwrap_or(path);
    let mut segs: Vec<String> = Vec::new();
    for raw in rest.split('/').filter(|s| !s.is_empty()) {
        let s = percent_encoding::percent_decode_str(raw)
            .decode_utf8_lossy()
            .into_owned();
        match s.find('(') {
            Some(i) if i > 0 => {
                segs.push(s[..i].to_string());
                segs.push("{id}".into());
            }
            _ => segs.push(s),
        }
    }
    if segs.len() >= 2 && segs[0] == "users" {
        segs.splice(0..2, ["me".to_string()]);
    }
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method.to_ascii_uppercase();
    let (base, write) = match (m.as_str(), s.as_slice()) {
        ("GET", ["applications"]) => (2, false),
        ("GET", ["applications", _, "extensionProperties"]) => (2, false),
        ("GET", ["contracts"]) => (3, false),
        ("GET", ["domains", _, "domainNameReferences"]) => (4, false),
        ("GET", ["groups", _, "members"]) => (3, false),
        ("GET", ["groups", _, "transitiveMembers"]) => (5, false),
        (
            "GET",
            [
                "me",
                "licenseDetails" | "memberOf" | "ownedObjects" | "transitiveMemberOf",
            ],
        ) => (2, false),
        ("GET", ["oauth2PermissionGrants"] | ["oauth2PermissionGrants", _]) => (2, false),
        ("GET", ["servicePrincipals", _, "appRoleAssignments"]) => (2, false),
        ("GET", ["subscribedSkus"]) => (3, false),
        ("GET", ["users"]) => (2, false),
        ("GET", _) => (1, false),
        ("POST", ["directoryObjects", "getByIds"] | ["getObjectsById"]) => (3, false),
        ("POST", ["isMemberOf"] | ["me", "checkMemberGroups" | "checkMemberObjects"]) => (4, false),
        ("POST", ["me", "getMemberGroups" | "getMemberObjects"]) => (2, false),
        _ => (1, true),
    };
    let mut cost: i64 = base;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_encoding::percent_decode_str(k).decode_utf8_lossy();
        match k.as_ref() {
            "$select" => cost -= 1,
            "$expand" => cost += 1,
            "$top" if v.trim().parse::<i64>().is_ok_and(|t| t < 20) => cost -= 1,
            _ => {}
        }
    }
    Cost {
        resource_units: cost.max(1) as u32,
        write,
    }
}

/// What a request that passed was charged.
#[derive(Debug, Clone, PartialEq)]
pub struct Charged {
    /// `x-ms-resource-unit`.
    pub resource_units: u32,
    /// `x-ms-throttle-limit-percentage`: the most used quota's share, when
    /// above 0.8.
    pub limit_percentage: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
enum Limit {
    /// The resource-unit quota: every request.
    ReadWrite,
    /// A write quota.
    Write,
}

/// A token bucket: full at first, refilled continuously at capacity per
/// window, never above capacity.
#[derive(Debug, Clone)]
struct Bucket {
    limit: Limit,
    /// `Tenant_Application` or `Tenant`.
    scope: &'static str,
    app_id: Option<String>,
    tenant_id: String,
    capacity: f64,
    window_ms: i64,
    tokens: f64,
    /// What it held at its first request.
    initial: f64,
    last_ms: i64,
    since_ms: i64,
    accepted: u64,
    accepted_cost: f64,
    throttled: u64,
}

impl Bucket {
    #[allow(clippy::too_many_arguments)]
    fn new(
        limit: Limit,
        scope: &'static str,
        app_id: Option<String>,
        tenant_id: &str,
        capacity: f64,
        window_ms: i64,
        fill: f64,
        now_ms: i64,
    ) -> Bucket {
        Bucket {
            limit,
            scope,
            app_id,
            tenant_id: tenant_id.to_string(),
            capacity,
            window_ms,
            tokens: capacity * fill,
            initial: capacity * fill,
            last_ms: now_ms,
            since_ms: now_ms,
            accepted: 0,
            accepted_cost: 0.0,
            throttled: 0,
        }
    }

    fn refill_per_ms(&self) -> f64 {
        self.capacity / self.window_ms as f64
    }

    /// Brings the bucket to `now_ms`, with `capacity` (the tenant may have
    /// changed size). The emulator clock can move back (`/_emulator/reset`):
    /// then the bucket starts over from there.
    fn refill(&mut self, capacity: f64, now_ms: i64) {
        self.capacity = capacity;
        if now_ms < self.last_ms {
            self.last_ms = now_ms;
            self.since_ms = self.since_ms.min(now_ms);
        }
        let gained = (now_ms - self.last_ms) as f64 * self.refill_per_ms();
        self.tokens = (self.tokens + gained).min(self.capacity);
        self.last_ms = now_ms;
    }

    /// Milliseconds until `cost` fits (a cost above the capacity waits for a
    /// full bucket, or it could never pass).
    fn wait_ms(&self, cost: f64) -> f64 {
        let missing = cost.min(self.capacity) - self.tokens;
        if missing <= 1e-9 {
            0.0
        } else {
            missing / self.refill_per_ms()
        }
    }

    fn header_scope(&self, caller: &Caller) -> String {
        let limit = match self.limit {
            Limit::ReadWrite => "ReadWrite",
            Limit::Write => "Write",
        };
        format!(
            "{}/{limit}/{}/{}",
            self.scope, caller.app_id, caller.tenant_id
        )
    }

    fn report(&self, now_ms: i64) -> Value {
        let elapsed = (now_ms - self.since_ms).max(0) as f64 / 1000.0;
        let refill_per_second = self.refill_per_ms() * 1000.0;
        json!({
            "scope": match &self.app_id {
                Some(app) => format!("{}/{:?}/{app}/{}", self.scope, self.limit, self.tenant_id),
                None => format!("{}/{:?}/{}", self.scope, self.limit, self.tenant_id),
            },
            "limit": self.limit,
            "appId": self.app_id,
            "tenantId": self.tenant_id,
            "capacity": self.capacity,
            "windowSeconds": self.window_ms as f64 / 1000.0,
            "refillPerSecond": refill_per_second,
            "available": self.tokens,
            "accepted": self.accepted,
            "acceptedCost": self.accepted_cost,
            "throttled": self.throttled,
            "sinceMs": self.since_ms,
            "elapsedSeconds": elapsed,
            "initial": self.initial,
            "ceiling": self.initial + refill_per_second * elapsed,
        })
    }
}

pub struct Faults {
    pub config: FaultConfig,
    rng: StdRng,
    /// Token buckets by key: `ru|app|tenant`, `write|app|tenant`, `tenant|tenant`.
    buckets: HashMap<String, Bucket>,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        let rng = StdRng::seed_from_u64(config.seed);
        Faults {
            config,
            rng,
            buckets: HashMap::new(),
        }
    }

    pub fn set(&mut self, config: FaultConfig) {
        *self = Faults::new(config);
    }

    /// Draws the random faults for one Graph or ARM request.
    pub fn random(&mut self) -> Verdict {
        match self.gateway() {
            Verdict::Pass => self.random_service(),
            v => v,
        }
    }

    /// The gateway's fault alone: for a `$batch` POST, whose items draw the
    /// service's faults each.
    pub fn gateway(&mut self) -> Verdict {
        if self.config.gateway > 0 {
            self.config.gateway -= 1;
            return Verdict::Gateway(self.config.gateway_status);
        }
        Verdict::Pass
    }

    /// The service's faults (`next429`, `random429`, `random503`): for a
    /// request, or for an item of a `$batch`.
    pub fn random_service(&mut self) -> Verdict {
        if self.config.next429 > 0 {
            self.config.next429 -= 1;
            return Verdict::Random429;
        }
        if self.config.random429 <= 0.0 && self.config.random503 <= 0.0 {
            return Verdict::Pass;
        }
        let x: f64 = self.rng.r#gen();
        if x < self.config.random429 {
            Verdict::Random429
        } else if x < self.config.random429 + self.config.random503 {
            Verdict::Random503
        } else {
            Verdict::Pass
        }
    }

    /// What happens to a Graph or ARM request that was carried out (answered
    /// with a success): its answer lost, a 5xx instead, or nothing.
    pub fn after_commit(&mut self, method: &str, path: &str) -> Option<AfterCommit> {
        if let Some(f) = self
            .config
            .commit_lost
            .iter_mut()
            .find(|f| f.matches(method, path))
        {
            f.remaining -= 1;
            return Some(AfterCommit::Lost);
        }
        let status = self.config.commit_status;
        let f = self
            .config
            .commit_5xx
            .iter_mut()
            .find(|f| f.matches(method, path))?;
        f.remaining -= 1;
        Some(AfterCommit::Status(status))
    }

    /// Charges a Graph request to its application+tenant pair's resource-unit
    /// and write buckets and its tenant's write bucket. Over any of them the
    /// request is refused and charged nothing, with the longest wait among the
    /// buckets it does not fit.
    pub fn throttle(
        &mut self,
        caller: &Caller,
        cost: Cost,
        size: TenantSize,
        now_ms: i64,
    ) -> Result<Charged, Verdict> {
        let f = self.config.throttle;
        let fill = self.config.throttle_fill;
        let ru = cost.resource_units as f64;
        if f <= 0.0 {
            return Ok(Charged {
                resource_units: cost.resource_units,
                limit_percentage: None,
            });
        }
        let (app, tenant) = (&caller.app_id, &caller.tenant_id);
        let mut wanted = vec![(
            format!("ru|{app}|{tenant}"),
            size.ru_quota() * f,
            ru,
            (
                Limit::ReadWrite,
                "Tenant_Application",
                Some(app.clone()),
                RU_WINDOW_MS,
            ),
        )];
        if cost.write {
            wanted.push((
                format!("write|{app}|{tenant}"),
                WRITE_QUOTA * f,
                1.0,
                (
                    Limit::Write,
                    "Tenant_Application",
                    Some(app.clone()),
                    WRITE_WINDOW_MS,
                ),
            ));
            wanted.push((
                format!("tenant|{tenant}"),
                TENANT_WRITE_QUOTA * f,
                1.0,
                (Limit::Write, "Tenant", None, TENANT_WRITE_WINDOW_MS),
            ));
        }
        let mut worst: Option<(f64, String)> = None;
        for (key, capacity, need, (limit, scope, app_id, window)) in &wanted {
            let bucket = self.buckets.entry(key.clone()).or_insert_with(|| {
                Bucket::new(
                    *limit,
                    scope,
                    app_id.clone(),
                    tenant,
                    *capacity,
                    *window,
                    fill,
                    now_ms,
                )
            });
            bucket.refill(*capacity, now_ms);
            let wait = bucket.wait_ms(*need);
            if wait > 0.0 && worst.as_ref().is_none_or(|(w, _)| wait > *w) {
                worst = Some((wait, key.clone()));
            }
        }
        if let Some((wait, key)) = worst {
            let bucket = self.buckets.get_mut(&key).expect("bucket just made");
            bucket.throttled += 1;
            return Err(Verdict::Throttled {
                // Whole seconds, at least 1 (the tolerance keeps 2000.0000001 ms at 2 s).
                retry_after: ((wait / 1000.0) - 1e-6).ceil().max(1.0) as i64,
                scope: bucket.header_scope(caller),
                information: match bucket.limit {
                    Limit::ReadWrite => "ResourceUnitLimitExceeded",
                    Limit::Write => "WriteLimitExceeded",
                },
            });
        }
        let mut used: f64 = 0.0;
        for (key, _, need, _) in &wanted {
            let bucket = self.buckets.get_mut(key).expect("bucket just made");
            let take = need.min(bucket.capacity);
            bucket.tokens -= take;
            bucket.accepted += 1;
            bucket.accepted_cost += need;
            used = used.max(1.0 - bucket.tokens / bucket.capacity);
        }
        Ok(Charged {
            resource_units: cost.resource_units,
            limit_percentage: (used > 0.8).then_some(used),
        })
    }

    /// `GET /_emulator/throttle`: every bucket as of `now_ms`.
    pub fn throttle_report(&mut self, now_ms: i64) -> Value {
        let mut buckets: Vec<&mut Bucket> = self.buckets.values_mut().collect();
        buckets.sort_by(|a, b| {
            (&a.tenant_id, &a.app_id, a.scope, a.limit as u8).cmp(&(
                &b.tenant_id,
                &b.app_id,
                b.scope,
                b.limit as u8,
            ))
        });
        let report: Vec<Value> = buckets
            .into_iter()
            .map(|b| {
                let capacity = b.capacity;
                b.refill(capacity, now_ms);
                b.report(now_ms)
            })
            .collect();
        json!({"throttle": self.config.throttle, "nowMs": now_ms, "buckets": report})
    }

    /// Empties the throttling history: every bucket starts full again.
    pub fn clear_throttle(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spec() {
        let c = FaultConfig::default()
            .apply_spec(
                "throttle=0.5,random429=0.2,random503=0.05,replication=3s,latency=50ms,seed=7",
            )
            .unwrap();
        assert_eq!(
            c,
            FaultConfig {
                throttle: 0.5,
                random429: 0.2,
                random503: 0.05,
                replication_ms: 3000,
                latency_ms: 50,
                seed: 7,
                next429: 0,
                retry_after_ms: None,
                gateway: 0,
                gateway_status: 504,
                commit_lost: Vec::new(),
                commit_5xx: Vec::new(),
                commit_status: 500,
                list_lag_ms: 0,
                throttle_fill: 1.0,
            }
        );
        let c = FaultConfig::default()
            .apply_spec("next429=2,retryafter=120s")
            .unwrap();
        assert_eq!((c.next429, c.retry_after(2)), (2, 120));
        assert_eq!(FaultConfig::default().retry_after(3), 3);
        let mut f = Faults::new(c);
        assert_eq!(f.random(), Verdict::Random429);
        assert_eq!(f.random(), Verdict::Random429);
        assert_eq!(f.random(), Verdict::Pass);
        assert_eq!(f.config.next429, 0);
        assert_eq!(
            FaultConfig::default()
                .apply_spec("throttle=off,replication=1m")
                .unwrap()
                .replication_ms,
            60_000
        );
        let c = FaultConfig::default()
            .apply_spec("gateway=1,gatewaystatus=502,next429=1")
            .unwrap();
        let mut f = Faults::new(c);
        assert_eq!(f.random(), Verdict::Gateway(502));
        assert_eq!(f.random(), Verdict::Random429);
        assert_eq!(f.random(), Verdict::Pass);
        assert!(
            FaultConfig::default()
                .apply_spec("gatewaystatus=500")
                .is_err()
        );
        assert!(FaultConfig::default().apply_spec("random429=2").is_err());
        assert!(FaultConfig::default().apply_spec("bogus=1").is_err());
        let c = FaultConfig::default()
            .apply_spec("commitlost=POST:/graph/v1.0/applications,commit5xx=put:/arm/*/roleAssignments/*@2,commitstatus=503,listlag=20s")
            .unwrap();
        assert_eq!(c.list_lag_ms, 20_000);
        let mut f = Faults::new(c);
        assert_eq!(f.after_commit("GET", "/graph/v1.0/applications"), None);
        assert_eq!(
            f.after_commit("POST", "/graph/v1.0/applications/x/addPassword"),
            None
        );
        assert_eq!(
            f.after_commit("POST", "/graph/v1.0/applications"),
            Some(AfterCommit::Lost)
        );
        assert_eq!(f.after_commit("POST", "/graph/v1.0/applications"), None);
        let ra = "/arm/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/n";
        assert_eq!(f.after_commit("PUT", ra), Some(AfterCommit::Status(503)));
        assert_eq!(f.after_commit("PUT", ra), Some(AfterCommit::Status(503)));
        assert_eq!(f.after_commit("PUT", ra), None);
        assert!(f.config.lags_in_lists(1_000, 20_999));
        assert!(!f.config.lags_in_lists(1_000, 21_000));
        for bad in [
            "commitlost=POST",
            "commitlost=FETCH:/x",
            "commitlost=POST:x",
            "commit5xx=POST:/x@n",
            "commitstatus=501",
        ] {
            assert!(FaultConfig::default().apply_spec(bad).is_err(), "{bad}");
        }
        assert!(glob("/a/*/c", "/a/b/b/c") && glob("*", "") && !glob("/a/*/c", "/a/c"));
        assert!(FaultConfig::default().apply_spec("latency").is_err());
    }

    #[test]
    fn costs_follow_microsofts_table() {
        let c = |m: &str, p: &str, q: &str| graph_cost(m, &format!("/graph/v1.0/{p}"), q);
        let read = |ru| Cost {
            resource_units: ru,
            write: false,
        };
        assert_eq!(c("GET", "applications", ""), read(2));
        // The dashboard's page: $select −1, $top=999 unchanged.
        assert_eq!(
            c("GET", "applications", "$select=id,appId&$top=999"),
            read(1)
        );
        assert_eq!(c("GET", "applications", "%24select=id&%24top=5"), read(1));
        assert_eq!(c("GET", "applications/x", ""), read(1));
        assert_eq!(c("GET", "applications(appId='x')", ""), read(1));
        assert_eq!(c("GET", "users", ""), read(2));
        assert_eq!(c("GET", "users", "$expand=manager"), read(3));
        assert_eq!(c("GET", "users/u/memberOf", ""), read(2));
        assert_eq!(c("GET", "me/transitiveMemberOf", ""), read(2));
        assert_eq!(c("GET", "oauth2PermissionGrants", "$filter=x"), read(2));
        assert_eq!(c("GET", "oauth2PermissionGrants/g", ""), read(2));
        assert_eq!(
            c("GET", "servicePrincipals/s/appRoleAssignments", ""),
            read(2)
        );
        assert_eq!(c("GET", "groups/g/transitiveMembers", ""), read(5));
        // Never below 1.
        assert_eq!(c("GET", "me", "$select=id&$top=1"), read(1));
        assert_eq!(c("POST", "directoryObjects/getByIds", ""), read(3));
        let write = Cost {
            resource_units: 1,
            write: true,
        };
        for m in ["POST", "PATCH", "PUT", "DELETE"] {
            assert_eq!(c(m, "applications/x/addPassword", ""), write, "{m}");
        }
        assert_eq!(TenantSize::of(3), TenantSize::S);
        assert_eq!(TenantSize::of(50), TenantSize::M);
        assert_eq!(TenantSize::of(501), TenantSize::L);
    }

    fn caller(app: &str) -> Caller {
        Caller {
            app_id: app.into(),
            tenant_id: "t".into(),
        }
    }

    #[test]
    fn resource_units_refill_continuously() {
        // 3 RU per 10 s: 0.3 RU a second.
        let mut f = Faults::new(FaultConfig {
            throttle: 3.0 / 3500.0,
            ..FaultConfig::default()
        });
        let get = graph_cost("GET", "/graph/v1.0/me", "");
        let s = TenantSize::S;
        for t in [0, 100, 200] {
            assert!(f.throttle(&caller("a"), get, s, t).is_ok());
        }
        // Empty but for the 0.12 RU gained in 400 ms: the missing 0.88 RU
        // take 2.93 s.
        assert_eq!(
            f.throttle(&caller("a"), get, s, 400),
            Err(Verdict::Throttled {
                retry_after: 3,
                scope: "Tenant_Application/ReadWrite/a/t".into(),
                information: "ResourceUnitLimitExceeded",
            })
        );
        // Another application has its own bucket.
        assert!(f.throttle(&caller("b"), get, s, 400).is_ok());
        // A refused request took nothing: at 3.6 s the bucket holds 1.02 RU.
        assert!(f.throttle(&caller("a"), get, s, 3_600).is_ok());
        assert!(f.throttle(&caller("a"), get, s, 3_700).is_err());
        // Never more than the capacity, however long the pause.
        let later = 1_000_000;
        for i in 0..3 {
            assert!(f.throttle(&caller("a"), get, s, later + i).is_ok());
        }
        assert!(f.throttle(&caller("a"), get, s, later + 3).is_err());
        // A larger tenant has a larger quota (5,000 vs 3,500 RU).
        let mut f = Faults::new(FaultConfig::default());
        let page = graph_cost("GET", "/graph/v1.0/users", "");
        let passed = (0..3000)
            .take_while(|_| f.throttle(&caller("a"), page, TenantSize::M, 0).is_ok())
            .count();
        assert_eq!(passed, 2500);
        // Near the limit, answers say how much is used.
        let mut f = Faults::new(FaultConfig {
            throttle: 10.0 / 3500.0,
            ..FaultConfig::default()
        });
        let pct: Vec<Option<f64>> = (0..10)
            .map(|_| {
                f.throttle(&caller("a"), get, s, 0)
                    .unwrap()
                    .limit_percentage
            })
            .collect();
        assert_eq!(pct[7], None);
        assert!(pct[8].is_some_and(|p| (p - 0.9).abs() < 1e-9));
        assert_eq!(pct[9], Some(1.0));
    }

    #[test]
    fn writes_have_their_own_quota() {
        // 30 writes per 150 s (0.2 a second) and 35 RU per 10 s.
        let mut f = Faults::new(FaultConfig {
            throttle: 0.01,
            ..FaultConfig::default()
        });
        let write = graph_cost("POST", "/graph/v1.0/applications/x/addPassword", "");
        let read = graph_cost("GET", "/graph/v1.0/me", "");
        let s = TenantSize::S;
        let mut t = 0;
        for _ in 0..30 {
            assert!(f.throttle(&caller("a"), write, s, t).is_ok());
            t += 100; // 10 writes a second: far above the write refill
        }
        let Err(Verdict::Throttled {
            retry_after,
            scope,
            information,
        }) = f.throttle(&caller("a"), write, s, t)
        else {
            panic!("the 31st write should be throttled");
        };
        assert_eq!(scope, "Tenant_Application/Write/a/t");
        assert_eq!(information, "WriteLimitExceeded");
        // Writes refill at 0.2 a second; the 3 s gave back 0.6 of one.
        assert_eq!(retry_after, 2);
        // Reads still pass.
        assert!(f.throttle(&caller("a"), read, s, t).is_ok());
        // The report: capacity, refill, accepted and refused writes.
        let report = f.throttle_report(t);
        let b = report["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["scope"] == "Tenant_Application/Write/a/t")
            .unwrap()
            .clone();
        assert_eq!(b["capacity"], 30.0);
        assert!((b["refillPerSecond"].as_f64().unwrap() - 0.2).abs() < 1e-9);
        assert_eq!(
            (b["accepted"].clone(), b["throttled"].clone()),
            (json!(30), json!(1))
        );
        assert!((b["ceiling"].as_f64().unwrap() - (30.0 + 0.2 * 3.0)).abs() < 1e-9);
        // The tenant's own write bucket counts the same writes.
        assert!(
            report["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["scope"] == "Tenant/Write/t" && b["accepted"] == 30)
        );
        f.clear_throttle();
        assert!(f.throttle(&caller("a"), write, s, t).is_ok());
        // Starting empty, the first write waits for the refill: 5 s.
        let mut f = Faults::new(
            FaultConfig::default()
                .apply_spec("throttle=0.01,throttlefill=0")
                .unwrap(),
        );
        assert!(matches!(
            f.throttle(&caller("a"), write, s, 0),
            Err(Verdict::Throttled { retry_after: 5, .. })
        ));
        assert!(f.throttle(&caller("a"), write, s, 5_000).is_ok());
        let report = f.throttle_report(10_000);
        let b = &report["buckets"].as_array().unwrap()[0];
        assert_eq!(b["initial"], 0.0);
        assert!(FaultConfig::default().apply_spec("throttlefill=2").is_err());
        // Off: nothing is refused, costs are still reported.
        let mut f = Faults::new(FaultConfig {
            throttle: 0.0,
            ..FaultConfig::default()
        });
        for _ in 0..10_000 {
            assert_eq!(
                f.throttle(&caller("a"), write, s, 0)
                    .unwrap()
                    .resource_units,
                1
            );
        }
    }

    #[test]
    fn random_faults_are_deterministic() {
        let draw = |seed| {
            let mut f = Faults::new(FaultConfig {
                random429: 0.3,
                random503: 0.3,
                seed,
                ..FaultConfig::default()
            });
            (0..50).map(|_| f.random()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert!(draw(7).contains(&Verdict::Random429));
        assert!(draw(7).contains(&Verdict::Random503));
    }
}
