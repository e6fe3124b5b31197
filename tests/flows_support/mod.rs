//! Shared by tests/flows_*.rs: the emulator in-process, a native
//! `HttpClient` (reqwest) that logs every request, a sleeper that advances
//! the emulator's clock instead of waiting, admin tokens by ROPC, and one
//! RSA certificate per test binary.
#![allow(dead_code)] // each test binary uses a different part

pub mod bulk;

use std::cell::RefCell;
use std::sync::{Mutex, OnceLock};

use entra_emulator::faults::FaultConfig;
use entra_emulator::{Config, RunningEmulator};
use entra_wizard::auth::SignInConfig;
use entra_wizard::auth::source::{RefreshingTokens, SharedTokens};
use entra_wizard::auth::tokens::{self, Audience, TokenCache};
use entra_wizard::client::ApiClient;
use entra_wizard::client::TokenSource;
use entra_wizard::cloud::{Cloud, Endpoints};
use entra_wizard::core::certificate::{self, Certificate, CertificateRequest};
use entra_wizard::core::key::RsaKey;
use entra_wizard::core::keygen::{KeySize, RsaKeyGenerator};
use entra_wizard::core::time::{DAY, UnixTime};
use entra_wizard::flows::SubscriptionChoice;
use entra_wizard::http::{
    Body, HttpClient, HttpRequest, HttpResponse, Method, RequestPreview, RetryPolicy, Sleeper,
    TransportError,
};
use serde_json::Value;

pub const PRODUCTION: &str = "5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b51";
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// The page's origin, as the emulator's sign-in client registers it.
pub const PAGE: &str = "http://127.0.0.1:8080";

pub fn production() -> SubscriptionChoice {
    SubscriptionChoice {
        subscription_id: PRODUCTION.into(),
        display_name: "Production".into(),
    }
}

/// One logged request: method, URL, body.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: Method,
    pub url: String,
    pub body: Vec<u8>,
}

/// `HttpClient` over reqwest, logging every request it sends.
#[derive(Default)]
pub struct Native {
    client: reqwest::Client,
    pub log: Mutex<Vec<Logged>>,
    /// Requests sent twice and answered by the second (see
    /// [`Native::resend_next`]).
    resend: Mutex<Vec<Resend>>,
}

/// The next `times` requests with `method` whose URL contains `url` are
/// sent twice.
struct Resend {
    method: Method,
    url: &'static str,
    times: u32,
}

impl HttpClient for Native {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let resend = self.resend.lock().unwrap().iter_mut().any(|r| {
            let hit = r.times > 0 && r.method == request.method && request.url.contains(r.url);
            if hit {
                r.times -= 1;
            }
            hit
        });
        if resend {
            let _unheard = self.send_once(request.clone()).await;
        }
        self.send_once(request).await
    }
}

impl Native {
    /// Sends the next `times` requests with `method` whose URL contains
    /// `url` twice, answered by the second: what Chromium does on its own
    /// when a connection it reused breaks before any byte of the answer
    /// arrived — the server carried the first one out, the page never hears
    /// of it.
    pub fn resend_next(&self, method: Method, url: &'static str, times: u32) {
        self.resend
            .lock()
            .unwrap()
            .push(Resend { method, url, times });
    }

    async fn send_once(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes()).unwrap();
        let mut builder = self.client.request(method, &request.url);
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        let body = request
            .body
            .as_ref()
            .map(Body::to_bytes)
            .unwrap_or_default();
        if let Some(b) = &request.body {
            builder = builder
                .header("Content-Type", b.content_type())
                .body(body.clone());
        }
        self.log.lock().unwrap().push(Logged {
            method: request.method,
            url: request.url.clone(),
            body,
        });
        let response = builder.send().await.map_err(|e| TransportError {
            url: request.url.clone(),
            detail: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = response
            .bytes()
            .await
            .map_err(|e| TransportError {
                url: request.url.clone(),
                detail: e.to_string(),
            })?
            .to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// An `HttpClient` that fails the test if anything is sent.
pub struct NoNetwork;

impl HttpClient for NoNetwork {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        panic!(
            "no request may be sent, but {} {} was",
            request.method, request.url
        )
    }
}

/// Records each wait, without waiting.
#[derive(Default)]
pub struct Recorder {
    pub delays: RefCell<Vec<u64>>,
}

impl Sleeper for Recorder {
    async fn sleep(&self, millis: u64) {
        self.delays.borrow_mut().push(millis);
    }
}

/// Records each wait and advances the emulator's clock by it, so that
/// Retry-After and replication delays pass without real waiting.
pub struct ClockSleeper<'e> {
    pub emulator: &'e RunningEmulator,
    pub delays: RefCell<Vec<u64>>,
}

impl Sleeper for ClockSleeper<'_> {
    async fn sleep(&self, millis: u64) {
        self.delays.borrow_mut().push(millis);
        self.emulator
            .emulator
            .clock
            .advance(millis.div_ceil(1000) as i64);
        tokio::task::yield_now().await;
    }
}

pub struct Env {
    pub emulator: RunningEmulator,
    pub seed: Value,
    http: reqwest::Client,
}

impl Env {
    pub async fn start(faults: FaultConfig) -> Env {
        let emulator = entra_emulator::start(Config {
            faults,
            ..Config::default()
        })
        .await
        .expect("emulator starts");
        let seed = emulator.seed();
        Env {
            emulator,
            seed,
            http: reqwest::Client::new(),
        }
    }

    pub async fn demo() -> Env {
        Env::start(FaultConfig::default()).await
    }

    pub fn cloud(&self) -> Cloud {
        Cloud::Local {
            base_url: self.emulator.base_url.clone(),
        }
    }

    pub fn endpoints(&self) -> Endpoints {
        self.cloud().endpoints()
    }

    pub fn tenant_id(&self) -> String {
        self.seed["tenant"]["id"].as_str().unwrap().to_string()
    }

    pub fn client_id(&self) -> String {
        self.seed["client"]["appId"].as_str().unwrap().to_string()
    }

    pub fn now(&self) -> UnixTime {
        UnixTime(self.emulator.emulator.clock.now() as u64)
    }

    pub fn sleeper(&self) -> ClockSleeper<'_> {
        ClockSleeper {
            emulator: &self.emulator,
            delays: RefCell::new(Vec::new()),
        }
    }

    /// The token endpoint's answer to ROPC for the page's client, `user`
    /// (local part: admin, appadmin, reader) and `scope`.
    async fn ropc(&self, user: &str, scope: &str) -> HttpResponse {
        let domain = self.seed["tenant"]["domain"].as_str().unwrap();
        let password = self.seed["password"].as_str().unwrap();
        let url = self.endpoints().token_url(&self.tenant_id());
        let form = [
            ("grant_type", "password".to_string()),
            ("client_id", self.client_id()),
            ("username", format!("{user}@{domain}")),
            ("password", password.to_string()),
            ("scope", scope.to_string()),
        ];
        let answer = self
            .http
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        HttpResponse {
            status: answer.status().as_u16(),
            headers: vec![],
            body: answer.bytes().await.unwrap().to_vec(),
        }
    }

    /// An access token for `user` (local part: admin, appadmin, reader) and
    /// `scope` (`https://graph.microsoft.com/.default`…), by ROPC for the
    /// page's client.
    pub async fn token(&self, user: &str, scope: &str) -> String {
        let r = self.ropc(user, scope).await.json();
        r["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token for {user}: {r}"))
            .to_string()
    }

    /// A signed-in `ApiClient` with Graph and ARM tokens for `user`.
    pub async fn api<'a, C: HttpClient>(
        &'a self,
        http: &'a C,
        sleeper: &'a ClockSleeper<'a>,
        user: &str,
    ) -> ApiClient<'a, C, ClockSleeper<'a>> {
        let e = self.endpoints();
        let graph = self.token(user, &e.graph_default_scope()).await;
        let arm = self.token(user, &e.arm_default_scope()).await;
        ApiClient::new(http, sleeper, e, RetryPolicy::default(), 7, self.now())
            .with_graph_token(graph)
            .with_arm_token(arm)
    }

    /// The page's sign-in configuration for the emulator (its client, the
    /// tenant, the page's address as redirect URI).
    pub fn sign_in_config(&self) -> SignInConfig {
        SignInConfig {
            cloud: self.cloud(),
            tenant: self.tenant_id(),
            client_id: self.client_id(),
            redirect_uri: format!("{PAGE}/"),
        }
    }

    /// The token cache as the page holds it after `user` signed in: a
    /// Graph token and the refresh token (ROPC with `offline_access`, the
    /// emulator's clock as the page's).
    pub async fn signed_in(&self, user: &str) -> TokenCache {
        let scope = format!("{} offline_access", self.endpoints().graph_default_scope());
        let response = self.ropc(user, &scope).await;
        let set = tokens::parse_response(&response, self.now()).unwrap();
        assert!(
            set.refresh_token.is_some(),
            "offline_access gives a refresh token"
        );
        let mut cache = TokenCache::default();
        cache.store(Audience::Graph, set);
        cache
    }

    /// The page's token source over `tokens`: renewed through the refresh
    /// token at the emulator, with `clock` as the page's clock.
    pub fn token_source<'a, C: HttpClient, K: Fn() -> UnixTime>(
        &'a self,
        http: &'a C,
        sleeper: &'a ClockSleeper<'a>,
        tokens: &SharedTokens,
        clock: K,
    ) -> RefreshingTokens<'a, C, ClockSleeper<'a>, K> {
        tokens.source(http, sleeper, self.sign_in_config(), PAGE, clock)
    }

    /// An `ApiClient` taking its token from `source` for each request, as
    /// the page's does.
    pub fn api_with<'a, C: HttpClient>(
        &'a self,
        http: &'a C,
        sleeper: &'a ClockSleeper<'a>,
        source: &'a dyn TokenSource,
    ) -> ApiClient<'a, C, ClockSleeper<'a>> {
        ApiClient::new(
            http,
            sleeper,
            self.endpoints(),
            RetryPolicy::default(),
            7,
            self.now(),
        )
        .with_token_source(source)
    }

    /// The emulator's request log without the control API's own entries:
    /// `{time, method, path, status, origin, requestBody}` each.
    pub async fn log(&self) -> Vec<Value> {
        let log = self.control("requests").await;
        log["value"]
            .as_array()
            .unwrap()
            .iter()
            // The control API's own calls are logged too.
            .filter(|e| !e["path"].as_str().unwrap().starts_with("/_emulator"))
            .cloned()
            .collect()
    }

    /// The scopes of each refresh-token request the token endpoint got, in
    /// order (`https://graph.microsoft.com/.default offline_access`…).
    pub async fn refreshes(&self) -> Vec<String> {
        self.log()
            .await
            .iter()
            .filter(|e| e["path"].as_str().unwrap().ends_with("/oauth2/v2.0/token"))
            .filter_map(|e| {
                let form: Vec<(String, String)> =
                    serde_urlencoded::from_str(e["requestBody"].as_str().unwrap()).unwrap();
                let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                (field("grant_type").as_deref() == Some("refresh_token"))
                    .then(|| field("scope").unwrap_or_default())
            })
            .collect()
    }

    /// `GET /_emulator/{what}` of the control API.
    async fn control(&self, what: &str) -> Value {
        self.http
            .get(format!("{}/_emulator/{what}", self.emulator.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `GET /_emulator/state`.
    pub async fn state(&self) -> Value {
        self.control("state").await
    }

    /// The emulator's request log (`GET /_emulator/requests`), each entry
    /// as a preview of what was sent: method, absolute URL, JSON body.
    pub async fn logged_requests(&self) -> Vec<RequestPreview> {
        self.log()
            .await
            .iter()
            .map(|e| {
                let body = e["requestBody"].as_str().unwrap_or("");
                RequestPreview {
                    method: e["method"].as_str().unwrap().to_string(),
                    url: format!("{}{}", self.emulator.base_url, e["path"].as_str().unwrap()),
                    // The one header the log keeps: it changes what a
                    // PATCH does.
                    headers: e["prefer"]
                        .as_str()
                        .map(|p| vec![("Prefer".to_string(), p.to_string())])
                        .unwrap_or_default(),
                    body: (!body.is_empty())
                        .then(|| serde_json::from_str(body).expect("JSON request bodies")),
                }
            })
            .collect()
    }

    /// Empties the emulator's request log (`DELETE /_emulator/requests`).
    pub async fn clear_requests(&self) {
        let r = self
            .http
            .delete(format!("{}/_emulator/requests", self.emulator.base_url))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    pub async fn stop(self) {
        self.emulator.stop().await;
    }
}

/// Applications in the state with this display name.
pub fn apps_named<'s>(state: &'s Value, name: &str) -> Vec<&'s Value> {
    state["applications"]
        .as_object()
        .unwrap()
        .values()
        .map(|a| &a["body"])
        .filter(|b| b["displayName"] == name)
        .collect()
}

/// Service principals in the state for this appId.
pub fn sps_for<'s>(state: &'s Value, app_id: &str) -> Vec<&'s Value> {
    state["service_principals"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| &s["body"])
        .filter(|b| b["appId"] == app_id)
        .collect()
}

/// Role definition GUIDs assigned to a principal in the state.
pub fn role_ids_of(state: &Value, principal_id: &str) -> Vec<String> {
    let mut ids: Vec<String> = state["role_assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["principal_id"] == principal_id)
        .map(|a| {
            assert_eq!(a["principal_type"], "ServicePrincipal");
            a["role_definition_id"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    ids
}

/// Grants (oauth2PermissionGrants) whose client is this service principal.
pub fn grants_of<'s>(state: &'s Value, client_sp: &str) -> Vec<&'s Value> {
    state["oauth2_permission_grants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["clientId"] == client_sp)
        .collect()
}

pub fn key() -> &'static RsaKey {
    static KEY: OnceLock<RsaKey> = OnceLock::new();
    KEY.get_or_init(|| RsaKeyGenerator.generate_blocking(KeySize::Rsa2048).unwrap())
}

/// A certificate made by the core, valid from a day before `now` for a year.
pub fn certificate(cn: &str, now: UnixTime) -> Certificate {
    let mut serial = [0u8; 10];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut serial);
    certificate::self_signed(
        key(),
        &CertificateRequest::new(cn),
        serial,
        UnixTime(now.0 - DAY),
        now.plus_days(365),
    )
    .unwrap()
}

/// Requests one wizard's plan sent when applied once on the demo seed, and
/// the fewest its idempotency allows.
#[derive(Clone, Debug)]
pub struct WizardRequests {
    pub wizard: &'static str,
    pub sent: u32,
    pub minimum: u32,
    /// Why no fewer requests can do.
    pub why: &'static str,
}

/// Applies F1, F2, F4 and F5 once each, as admin, on a fresh demo tenant,
/// counting the Graph and ARM requests of the apply (pre-flight and
/// sign-in not included: they are the same for every plan).
pub async fn requests_per_wizard() -> Vec<WizardRequests> {
    use entra_wizard::flows::existing_app::{self, CheckedAuth, LocalCheck};
    use entra_wizard::flows::new_app::{self, NewApplication};
    use entra_wizard::flows::restore_portal::{self, PortalApplication, RestorePortal};
    use entra_wizard::flows::roles;
    use entra_wizard::plan::Plan;
    use entra_wizard::profiles;

    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let rng = &mut rand_core::OsRng;
    let now = env.now();
    let backup = profiles::by_id("azure-backup").unwrap();
    let count = |plan: Plan| {
        let api = &api;
        async move {
            let before = api.request_count();
            let mut progress = plan.start();
            let finish = entra_wizard::plan::apply(api, &plan, &mut progress, &mut |_, _| {
                core::ops::ControlFlow::Continue(())
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            assert!(progress.is_finished(), "{finish:?}");
            api.request_count() - before
        }
    };

    let f1 = new_app::plan(
        &NewApplication {
            display_name: "Requests F1".into(),
            description: None,
            profile: backup.clone(),
            certificate_der: certificate("Requests F1", now).der().to_vec(),
            redirect_uri: None,
            subscription: Some(production()),
        },
        now,
        rng,
    )
    .unwrap();
    // The demo's "expired-certificate" application already holds the
    // three azure-backup roles: F2 registers a new certificate next to
    // its expired one.
    let cert = certificate("Requests F2", now);
    let info = cert.info().unwrap();
    let check = LocalCheck {
        tenant: env.tenant_id(),
        app_id: "082c67e2-3c4e-4548-b957-69746605c3bf".into(),
        auth: CheckedAuth::Certificate {
            certificate_der: cert.der().to_vec(),
            thumbprint: info.sha1,
            subject: info.subject,
            not_before: info.not_before,
            not_after: info.not_after,
        },
        warnings: vec![],
    };
    let f2 = existing_app::plan(&check, &backup, Some(&production()), now, rng).unwrap();
    // The demo's "missing-roles" application: two of three roles missing.
    let f4 = roles::plan(
        "d8b0490d-823f-46df-8680-25017029384a",
        &backup,
        &production(),
        rng,
    )
    .unwrap();
    let (f5, _) = restore_portal::plan(
        &RestorePortal {
            application: PortalApplication::New {
                display_name: "Requests F5".into(),
            },
            certificate_der: certificate("Requests F5", now).der().to_vec(),
            portal_address: "https://portal.contoso.com:4443".into(),
        },
        now,
        rng,
    )
    .unwrap();

    let out = vec![
        WizardRequests {
            wizard: "F1 new application (azure-backup)",
            sent: count(f1).await,
            minimum: 5,
            why: "PATCH /applications(uniqueName=…) with Prefer: create-if-missing and the \
                  certificate (an upsert: a repeat updates the same application), POST \
                  /servicePrincipals (a repeat answers 409), 3 PUT roleAssignments (named by the \
                  plan: a repeat is the same assignment)",
        },
        WizardRequests {
            wizard: "F2 existing application (azure-backup, new certificate)",
            sent: count(f2).await,
            minimum: 4,
            why: "GET the application by appId with its keys (one read for its object ID and \
                  the keyCredentials a PATCH must send back), GET its service principal, PATCH \
                  keyCredentials, GET the role assignments once (all three present: no PUT)",
        },
        WizardRequests {
            wizard: "F4 Azure roles (azure-backup, two missing)",
            sent: count(f4).await,
            minimum: 5,
            why: "GET the application by appId (its object ID for the connection record, and a \
                  clear 'not in this tenant'), GET its service principal, GET the role \
                  assignments once, 2 PUT roleAssignments",
        },
        WizardRequests {
            wizard: "F5 Restore Portal, new application",
            sent: count(f5).await,
            minimum: 6,
            why: "GET Graph's service principal (the User.Read scope ID), the application's \
                  upsert with the certificate, POST /servicePrincipals, PATCH identifierUris api://{appId} and the scope (the \
                  appId exists only after the create), POST 2 oauth2PermissionGrants",
        },
    ];
    env.stop().await;
    out
}

/// Applies `plan` to the end, returning the retry notices heard.
pub async fn apply_hearing_retries<C: HttpClient>(
    api: &ApiClient<'_, C, ClockSleeper<'_>>,
    plan: &entra_wizard::plan::Plan,
) -> Vec<entra_wizard::http::RetryNotice> {
    use entra_wizard::plan::{Event, Finish};
    let mut progress = plan.start();
    let mut retries = Vec::new();
    let finish = entra_wizard::plan::apply(api, plan, &mut progress, &mut |e, _| {
        if let Event::Retrying { notice, .. } = e {
            retries.push(notice.clone());
        }
        core::ops::ControlFlow::Continue(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(finish, Finish::Completed);
    retries
}
