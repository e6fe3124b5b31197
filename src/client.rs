//! One signed-in conversation with Graph and ARM: the HTTP client, the
//! sleeper, the token source and the retry policy, behind two calls
//! (`graph`, `arm`) that send, retry what is retryable and turn error
//! answers into [`ApiError`]s. `crate::graph` and `crate::arm` build on it.
//!
//! Every attempt of every request asks the [`TokenSource`] for its bearer
//! token (a long wait may outlive a token). A 401 that says the token is
//! expired or invalid (Graph `InvalidAuthenticationToken`, ARM
//! `ExpiredAuthenticationToken` / `InvalidAuthenticationToken`) renews the
//! token once and sends the same request again — safe for a create too: a
//! request refused at authentication never took effect. A second 401 is the
//! error (advice: sign in again).
//!
//! A request that gets no answer at all (a transport error: the network, or
//! a gateway's 502/503/504 without CORS headers, which the browser's fetch
//! reports as a network error) is sent again with the 5xx backoff when it
//! is safe to repeat (GET, PUT, PATCH, DELETE). A POST is not: it may have
//! been carried out, so its error goes back to the caller, and the plan
//! executor re-runs the step, which looks up what it creates before
//! creating it ([`ApiClient::take_unanswered_post`]). A POST answered with a
//! 5xx is treated the same way: the service may have carried it out before
//! failing, so it is never sent again as is. The lookup may have to wait
//! for Entra's replicas (a new object is found by a single read at once, by
//! a list or `$filter` only later): [`ApiClient::look_up_while_replicating`]
//! and [`ApiClient::sent_without_answer`].
// https://learn.microsoft.com/en-us/graph/errors
// https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/common-deployment-errors

use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use zeroize::Zeroizing;

use crate::api_error::{ApiError, Service, ServiceError};
use crate::cloud::Endpoints;
use crate::core::time::UnixTime;
use crate::http::{
    Backoff, HttpClient, HttpRequest, HttpResponse, Method, Next, Replicating, RequestPreview,
    RetryNotice, RetryPolicy, Sleeper, parse_http_date,
};

/// One Graph or ARM call as data: the single description of a request that
/// both sends it ([`ApiClient::call`]) and shows it in a review
/// ([`ApiRequest::preview`]), so that the two cannot differ.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRequest {
    pub service: Service,
    pub method: Method,
    /// Relative to Graph's `/v1.0` or to the ARM base, with its query string
    /// already encoded (or absolute, for a next-page link).
    pub path: String,
    pub body: Option<Value>,
    /// Headers that change what the request does (`Prefer`), besides the
    /// `Authorization` and `Content-Type` every request gets.
    pub headers: Vec<(String, String)>,
}

impl ApiRequest {
    pub fn graph(method: Method, path: impl Into<String>) -> Self {
        ApiRequest {
            service: Service::Graph,
            method,
            path: path.into(),
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn arm(method: Method, path: impl Into<String>) -> Self {
        ApiRequest {
            service: Service::Arm,
            method,
            path: path.into(),
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn url(&self, endpoints: &Endpoints) -> String {
        match self.service {
            Service::Arm => absolute(&endpoints.arm_base, &self.path),
            Service::Graph | Service::Identity => absolute(&endpoints.graph_v1(), &self.path),
        }
    }

    fn http(&self, endpoints: &Endpoints) -> HttpRequest {
        let request = self.headers.iter().fold(
            HttpRequest::new(self.method, self.url(endpoints)),
            |r, (n, v)| r.header(n, v.clone()),
        );
        match &self.body {
            Some(b) => request.json(b.clone()),
            None => request,
        }
    }

    /// The request as the review shows it (redacted).
    pub fn preview(&self, endpoints: &Endpoints) -> RequestPreview {
        RequestPreview::sent(&self.http(endpoints))
    }
}

/// What [`TokenSource::token`] returns.
pub type TokenFuture<'s> = Pin<Box<dyn Future<Output = Result<String, ApiError>> + 's>>;

/// Gives the API client a bearer token for each request: fixed tokens, or
/// the page's `auth::RefreshingTokens`.
pub trait TokenSource {
    /// A token for `service`. `refused` is the token the API has just
    /// refused with a 401 (expired or invalid): a new one is obtained
    /// (forcing a renewal) unless the cache already holds another one. With
    /// `None`, the cached token when it is valid for at least the renewal
    /// margin, else a renewed one.
    fn token<'s>(&'s self, service: Service, refused: Option<&'s str>) -> TokenFuture<'s>;

    /// Whether a refused token can be replaced (a fixed token cannot).
    fn can_refresh(&self) -> bool;

    /// Whether the source has (or can get) a token for `service`.
    fn holds(&self, service: Service) -> bool;
}

/// Tokens given once (`with_graph_token`, `with_arm_token`), never renewed.
#[derive(Clone, Default)]
struct FixedTokens {
    graph: Option<Zeroizing<String>>,
    arm: Option<Zeroizing<String>>,
}

impl FixedTokens {
    fn get(&self, service: Service) -> Option<&Zeroizing<String>> {
        match service {
            Service::Graph => self.graph.as_ref(),
            Service::Arm => self.arm.as_ref(),
            Service::Identity => None,
        }
    }
}

impl TokenSource for FixedTokens {
    fn token<'s>(&'s self, service: Service, refused: Option<&'s str>) -> TokenFuture<'s> {
        let out = match (self.get(service), refused) {
            (Some(t), None) => Ok(t.to_string()),
            _ => Err(ApiError::NotSignedIn(service)),
        };
        Box::pin(core::future::ready(out))
    }
    fn can_refresh(&self) -> bool {
        false
    }
    fn holds(&self, service: Service) -> bool {
        self.get(service).is_some()
    }
}

/// A token source the client borrows, or one it keeps (no borrow: an
/// `ApiClient<'static, …>` for the page).
enum Source<'a> {
    Borrowed(&'a dyn TokenSource),
    Owned(Rc<dyn TokenSource>),
}

pub struct ApiClient<'a, C: HttpClient, S: Sleeper> {
    http: &'a C,
    sleeper: &'a S,
    pub endpoints: Endpoints,
    /// The tokens given with `with_graph_token` / `with_arm_token`.
    fixed: FixedTokens,
    /// Where tokens come from when set (instead of `fixed`).
    source: Option<Source<'a>>,
    /// The time the caller started at (for `Retry-After` dates without a
    /// `Date` header).
    pub now: UnixTime,
    /// Waited so far (backoff and `Retry-After`), to tell the time without
    /// a clock.
    waited_ms: Cell<u64>,
    backoff: RefCell<Backoff>,
    replicating: Cell<Replicating>,
    retries: RefCell<Vec<RetryNotice>>,
    /// Set when a POST to this API got no answer and was not sent again
    /// (see [`ApiClient::take_unanswered_post`]).
    unanswered_post: Cell<Option<Service>>,
    /// URLs of POSTs that got no answer or a 5xx (they may have been
    /// carried out), for this client's life.
    uncertain_posts: RefCell<Vec<String>>,
    requests: Cell<u32>,
    changes: RefCell<Vec<RequestPreview>>,
}

impl<'a, C: HttpClient, S: Sleeper> ApiClient<'a, C, S> {
    /// `seed` varies the backoff jitter (the browser passes random bytes).
    pub fn new(
        http: &'a C,
        sleeper: &'a S,
        endpoints: Endpoints,
        policy: RetryPolicy,
        seed: u64,
        now: UnixTime,
    ) -> Self {
        ApiClient {
            http,
            sleeper,
            endpoints,
            fixed: FixedTokens::default(),
            source: None,
            now,
            waited_ms: Cell::new(0),
            backoff: RefCell::new(Backoff::new(policy, seed)),
            replicating: Cell::new(Replicating::default()),
            retries: RefCell::new(Vec::new()),
            unanswered_post: Cell::new(None),
            uncertain_posts: RefCell::new(Vec::new()),
            requests: Cell::new(0),
            changes: RefCell::new(Vec::new()),
        }
    }

    /// A fixed Graph token (never renewed; a 401 is final).
    pub fn with_graph_token(mut self, token: impl Into<String>) -> Self {
        self.fixed.graph = Some(Zeroizing::new(token.into()));
        self
    }

    /// A fixed ARM token (never renewed; a 401 is final).
    pub fn with_arm_token(mut self, token: impl Into<String>) -> Self {
        self.fixed.arm = Some(Zeroizing::new(token.into()));
        self
    }

    /// Takes every token from `source`, for each request (instead of the
    /// fixed tokens), `source` living as long as the client's borrows.
    pub fn with_token_source(mut self, source: &'a dyn TokenSource) -> Self {
        self.source = Some(Source::Borrowed(source));
        self
    }

    /// Takes every token from `source`, which the client keeps: the page
    /// passes its `RefreshingTokens` over the session's `SharedTokens`.
    pub fn with_owned_token_source(mut self, source: impl TokenSource + 'static) -> Self {
        self.source = Some(Source::Owned(Rc::new(source)));
        self
    }

    fn source(&self) -> Option<&dyn TokenSource> {
        match self.source.as_ref()? {
            Source::Borrowed(s) => Some(*s),
            Source::Owned(s) => Some(&**s),
        }
    }

    pub fn has_arm_token(&self) -> bool {
        match self.source() {
            Some(s) => s.holds(Service::Arm),
            None => self.fixed.arm.is_some(),
        }
    }

    /// While set, a Graph `Request_ResourceNotFound` is taken for a
    /// replication delay and retried (the caller addresses objects it has
    /// just created).
    pub fn expect_replication(&self, on: bool) {
        self.replicating.set(Replicating {
            objects: on,
            ..self.replicating.get()
        });
    }

    /// While set, an ARM `RoleDefinitionDoesNotExist` is taken for a
    /// replication delay and retried (the caller names a custom role this
    /// plan has just created or found).
    pub fn expect_role_replication(&self, on: bool) {
        self.replicating.set(Replicating {
            role_definitions: on,
            ..self.replicating.get()
        });
    }

    /// Retries since the last call to this (for the progress list).
    pub fn take_retries(&self) -> Vec<RetryNotice> {
        core::mem::take(&mut *self.retries.borrow_mut())
    }

    /// The changing requests (not GET, not the token endpoint) sent since
    /// the last call, redacted, for the progress list's disclosure.
    pub fn take_changes(&self) -> Vec<RequestPreview> {
        core::mem::take(&mut *self.changes.borrow_mut())
    }

    /// The API a POST went to that got no answer (a [`TransportError`])
    /// since the last call to this, and was not sent again: it may have
    /// been carried out, so only the caller, looking up what it creates,
    /// can tell whether to send it again (the executor re-runs the step).
    ///
    /// [`TransportError`]: crate::http::TransportError
    pub fn take_unanswered_post(&self) -> Option<Service> {
        self.unanswered_post.take()
    }

    /// Whether `request` (a POST) was sent by this client and got no answer,
    /// or a 5xx: it may have been carried out, and what it created may not
    /// be in lists yet. A step then looks it up with
    /// [`ApiClient::look_up_while_replicating`] before sending it again.
    pub fn sent_without_answer(&self, request: &ApiRequest) -> bool {
        let url = request.url(&self.endpoints);
        request.method == Method::Post && self.uncertain_posts.borrow().contains(&url)
    }

    fn mark_uncertain(&self, service: Service, url: &str) {
        self.unanswered_post.set(Some(service));
        let mut uncertain = self.uncertain_posts.borrow_mut();
        if !uncertain.iter().any(|u| u == url) {
            uncertain.push(url.to_string());
        }
    }

    /// Runs `find` (a lookup by the plan's marker, keyId, thumbprint or
    /// name) up to `attempts` times while it finds nothing, waiting the
    /// backoff between tries (reported as replication waits): a list or
    /// `$filter` query shows a new object only once Entra's replicas have
    /// it. `attempts` 1 is a single lookup.
    // https://learn.microsoft.com/en-us/graph/api/application-post-applications
    // ("it can take a few seconds before the new object appears in lists")
    pub async fn look_up_while_replicating<T, F, Fut>(
        &self,
        service: Service,
        attempts: u32,
        mut find: F,
    ) -> Result<Option<T>, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, ApiError>>,
    {
        let mut attempt = 1;
        loop {
            if let Some(found) = find().await? {
                return Ok(Some(found));
            }
            if attempt >= attempts.max(1) {
                return Ok(None);
            }
            let wait_ms = self.backoff.borrow_mut().delay_ms(attempt, None);
            let notice = RetryNotice {
                reason: crate::http::RetryReason::Replication,
                status: 0,
                attempt,
                wait_ms,
                service: None,
                retry_after: false,
            };
            self.wait(service, notice).await;
            attempt += 1;
        }
    }

    /// Waits the backoff before attempt `attempt + 1` of a step whose POST
    /// got no answer (reported like every retry, through
    /// [`ApiClient::take_retries`] as the wait starts); `false` when the
    /// attempts have run out.
    pub async fn back_off_after_unanswered_post(&self, service: Service, attempt: u32) -> bool {
        let notice = self.backoff.borrow_mut().after_transport_error(attempt);
        match notice {
            Some(notice) => {
                self.wait(service, notice).await;
                true
            }
            None => false,
        }
    }

    /// Reports `notice` (heard by the executor while the wait lasts) and
    /// waits it out.
    async fn wait(&self, service: Service, mut notice: RetryNotice) {
        notice.service = Some(service.to_string());
        let wait_ms = notice.wait_ms;
        self.retries.borrow_mut().push(notice);
        self.sleeper.sleep(wait_ms).await;
        self.waited_ms
            .set(self.waited_ms.get().saturating_add(wait_ms));
    }

    /// HTTP requests sent so far, retries included.
    pub fn request_count(&self) -> u32 {
        self.requests.get()
    }

    /// A bearer token for `service`; `refused` is the one it just refused.
    async fn token(&self, service: Service, refused: Option<&str>) -> Result<String, ApiError> {
        let source = self.source().unwrap_or(&self.fixed);
        source.token(service, refused).await
    }

    fn can_refresh(&self) -> bool {
        self.source().is_some_and(|s| s.can_refresh())
    }

    async fn send(&self, service: Service, request: HttpRequest) -> Result<HttpResponse, ApiError> {
        let authorized = service != Service::Identity;
        let mut token = match authorized {
            true => Some(self.token(service, None).await?),
            false => None,
        };
        if authorized && request.method != Method::Get {
            self.changes
                .borrow_mut()
                .push(RequestPreview::sent(&request));
        }
        let mut renewed = false;
        let mut attempt = 1;
        loop {
            let sent = match &token {
                Some(t) => request.clone().bearer(t),
                None => request.clone(),
            };
            self.requests.set(self.requests.get() + 1);
            let response = match self.http.send(sent).await {
                Ok(response) => response,
                // No answer: the network, or a 502/503/504 from a gateway
                // without CORS headers, which the browser's fetch reports
                // as a network error. A GET, PUT, PATCH or DELETE is sent
                // again as after a 5xx; a POST may have been carried out
                // and is left to the caller, which looks up what it creates.
                Err(e) => {
                    let notice = match request.method {
                        Method::Post => None,
                        _ => self.backoff.borrow_mut().after_transport_error(attempt),
                    };
                    let Some(notice) = notice else {
                        if authorized && request.method == Method::Post {
                            self.mark_uncertain(service, &request.url);
                        }
                        return Err(e.into());
                    };
                    self.wait(service, notice).await;
                    attempt += 1;
                    if authorized {
                        token = Some(self.token(service, None).await?);
                    }
                    continue;
                }
            };
            if let Some(used) = &token
                && !renewed
                && self.can_refresh()
                && token_refused(service, &response)
            {
                renewed = true;
                token = Some(self.token(service, Some(used)).await?);
                continue;
            }
            // A POST answered with a 5xx may have been carried out before the
            // service failed: it is not sent again as is (see the module doc).
            if authorized && request.method == Method::Post && response.status >= 500 {
                self.mark_uncertain(service, &request.url);
                return Err(ApiError::Service(ServiceError::from_response(
                    service, &response,
                )));
            }
            // No borrow of the backoff lives across an await.
            let next = self.backoff.borrow_mut().next(
                &response,
                attempt,
                self.replicating.get(),
                self.now,
            );
            match next {
                Next::Return if response.is_success() => return Ok(response),
                Next::Return => {
                    return Err(ApiError::Service(ServiceError::from_response(
                        service, &response,
                    )));
                }
                Next::TooLong(notice) => {
                    return Err(ApiError::WaitTooLong {
                        service,
                        wait_ms: notice.wait_ms,
                        ceiling_ms: self.backoff.borrow().policy.max_retry_after_ms,
                        resume_at: self.resume_at(&response, notice.wait_ms),
                    });
                }
                Next::Retry(notice) => {
                    self.wait(service, notice).await;
                    attempt += 1;
                    if authorized {
                        token = Some(self.token(service, None).await?);
                    }
                }
            }
        }
    }

    /// When a `Retry-After` of `wait_ms` given by `response` ends: its own
    /// date, else the response's `Date` plus the wait, else the page's
    /// clock (start time plus what was waited) plus the wait.
    fn resume_at(&self, response: &HttpResponse, wait_ms: u64) -> UnixTime {
        if let Some(at) = response.header("Retry-After").and_then(parse_http_date) {
            return at;
        }
        let now = response
            .header("Date")
            .and_then(parse_http_date)
            .unwrap_or(UnixTime(self.now.0 + self.waited_ms.get() / 1000));
        UnixTime(now.0.saturating_add(wait_ms.div_ceil(1000)))
    }

    /// Sends `request`; the answer of a success, else its error envelope.
    pub async fn call(&self, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
        self.send(request.service, request.http(&self.endpoints))
            .await
    }

    /// Sends `request` and decodes its JSON answer straight into `T` (one
    /// pass over the bytes, no intermediate `Value`).
    pub async fn fetch<T: DeserializeOwned>(
        &self,
        request: &ApiRequest,
        what: &str,
    ) -> Result<T, ApiError> {
        let response = self.call(request).await?;
        decode_bytes(request.service, what, &response.body)
    }

    /// A Graph call; `path` is relative to `{graph}/v1.0` (or absolute, for
    /// `@odata.nextLink`). Returns the JSON body (`Null` for 204).
    pub async fn graph(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ApiError> {
        self.raw(ApiRequest::graph(method, path), body).await
    }

    /// An ARM call; `path` is relative to the ARM base and carries its
    /// `api-version` (or absolute, for `nextLink`).
    pub async fn arm(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ApiError> {
        self.raw(ApiRequest::arm(method, path), body).await
    }

    async fn raw(&self, mut request: ApiRequest, body: Option<Value>) -> Result<Value, ApiError> {
        request.body = body;
        Ok(self.call(&request).await?.json())
    }

    /// A request to the token endpoint (no bearer token).
    pub async fn identity(&self, request: HttpRequest) -> Result<HttpResponse, ApiError> {
        self.send(Service::Identity, request).await
    }
}

/// Decodes a JSON answer's bytes into `T`, naming what was expected on failure.
pub fn decode_bytes<T: DeserializeOwned>(
    service: Service,
    what: &str,
    body: &[u8],
) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Unexpected {
        service,
        what: what.to_string(),
        detail: e.to_string(),
    })
}

/// One page of a Graph or ARM collection.
#[derive(serde::Deserialize)]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    /// Graph's `@odata.nextLink`, ARM's `nextLink`.
    #[serde(default, rename = "@odata.nextLink", alias = "nextLink")]
    pub next_link: Option<String>,
}

/// Every item of a collection, following its next-page links.
pub async fn list_all<T: DeserializeOwned, C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    first: ApiRequest,
    what: &str,
) -> Result<Vec<T>, ApiError> {
    let mut out = Vec::new();
    for_each_page(api, first, what, |items| out.extend(items)).await?;
    Ok(out)
}

/// Reads a collection page by page, following its next-page links, and
/// hands each page's items to `on_page` as soon as it arrives (a page can
/// show the first rows while the next ones load). Returns the number of
/// pages read.
// https://learn.microsoft.com/en-us/graph/paging
pub async fn for_each_page<T: DeserializeOwned, C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    first: ApiRequest,
    what: &str,
    mut on_page: impl FnMut(Vec<T>),
) -> Result<u32, ApiError> {
    let mut request = first;
    let mut pages = 0;
    loop {
        let page: Page<T> = api.fetch(&request, what).await?;
        pages += 1;
        on_page(page.value);
        match page.next_link {
            Some(next) => request.path = next,
            None => return Ok(pages),
        }
    }
}

fn absolute(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_string()
    } else {
        format!("{base}{path}")
    }
}

/// Whether `response` refuses the bearer token itself (expired, revoked,
/// not yet valid), which a renewed token may cure; not a missing permission
/// (403) nor a wrong audience.
// https://learn.microsoft.com/en-us/graph/errors (401 InvalidAuthenticationToken)
// https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/common-deployment-errors
// (ExpiredAuthenticationToken, InvalidAuthenticationToken)
pub fn token_refused(service: Service, response: &HttpResponse) -> bool {
    if response.status != 401 {
        return false;
    }
    let code = response.error_envelope().error.code.unwrap_or_default();
    match service {
        Service::Graph => code == "InvalidAuthenticationToken",
        Service::Arm => matches!(
            code.as_str(),
            "ExpiredAuthenticationToken" | "InvalidAuthenticationToken"
        ),
        Service::Identity => false,
    }
}

/// `'` doubled, for an OData string literal.
pub fn odata_quote(s: &str) -> String {
    s.replace('\'', "''")
}

/// Percent-encodes a query-string value.
pub fn query_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
