//! Realism knobs: Graph throttling, random 429/503, replication delay, latency.
//!
//! SPEC syntax (`--faults`, or `{"spec": "..."}` to `POST /_emulator/faults`):
//! comma-separated `key=value` pairs, any subset, e.g.
//! `throttle=1.0,random429=0.2,random503=0.05,replication=3s,latency=50ms,seed=7`.
//! - `throttle=F`: Graph quota per application and tenant, as a multiple of
//!   Microsoft's published identity-and-access quota (3,500 resource units per
//!   10 s for an app in a small tenant; a GET costs 1 RU, a write 3 RU).
//!   `1.0` (the default) is Microsoft's quota, `0.001` allows 3 RU per 10 s,
//!   `0` or `off` disables throttling.
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

/// Microsoft's published quota: resource units per 10 s per app and small tenant.
pub const GRAPH_QUOTA_RU: f64 = 3500.0;
pub const GRAPH_WINDOW_MS: i64 = 10_000;

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
    Throttled {
        retry_after: i64,
    },
    Random429,
    Random503,
    /// Answered by the gateway with this status, without CORS headers.
    Gateway(u16),
}

pub struct Faults {
    pub config: FaultConfig,
    rng: StdRng,
    /// (app, tenant) -> (window start ms, RU used)
    buckets: HashMap<String, (i64, f64)>,
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

    /// Charges a Graph request to its app+tenant bucket.
    pub fn throttle(&mut self, key: &str, write: bool, now_ms: i64) -> Verdict {
        if self.config.throttle <= 0.0 {
            return Verdict::Pass;
        }
        let quota = GRAPH_QUOTA_RU * self.config.throttle;
        let cost = if write { 3.0 } else { 1.0 };
        let entry = self.buckets.entry(key.to_string()).or_insert((now_ms, 0.0));
        if now_ms - entry.0 >= GRAPH_WINDOW_MS || now_ms < entry.0 {
            *entry = (now_ms, 0.0);
        }
        if entry.1 + cost > quota {
            let retry_ms = (entry.0 + GRAPH_WINDOW_MS - now_ms).max(1);
            return Verdict::Throttled {
                retry_after: (retry_ms + 999) / 1000,
            };
        }
        entry.1 += cost;
        Verdict::Pass
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
    fn throttles_per_window_and_is_deterministic() {
        let mut f = Faults::new(FaultConfig {
            throttle: 3.0 / 3500.0,
            ..FaultConfig::default()
        });
        assert_eq!(f.throttle("a", false, 0), Verdict::Pass);
        assert_eq!(f.throttle("a", false, 100), Verdict::Pass);
        assert_eq!(f.throttle("a", false, 200), Verdict::Pass);
        assert_eq!(
            f.throttle("a", false, 1_500),
            Verdict::Throttled { retry_after: 9 }
        );
        assert_eq!(f.throttle("b", true, 1_500), Verdict::Pass);
        assert_eq!(f.throttle("a", false, 10_000), Verdict::Pass);

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
