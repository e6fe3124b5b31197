//! One signed-in conversation with Graph and ARM: the HTTP client, the
//! sleeper, the tokens per audience and the retry policy, behind two calls
//! (`graph`, `arm`) that send, retry what is retryable and turn error
//! answers into [`ApiError`]s. `crate::graph` and `crate::arm` build on it.

use core::cell::{Cell, RefCell};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api_error::{ApiError, Service, ServiceError};
use crate::cloud::Endpoints;
use crate::core::time::UnixTime;
use crate::http::{
    Backoff, HttpClient, HttpRequest, HttpResponse, Method, RequestPreview, RetryNotice,
    RetryPolicy, Sleeper, send_with_retry,
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
}

impl ApiRequest {
    pub fn graph(method: Method, path: impl Into<String>) -> Self {
        ApiRequest {
            service: Service::Graph,
            method,
            path: path.into(),
            body: None,
        }
    }

    pub fn arm(method: Method, path: impl Into<String>) -> Self {
        ApiRequest {
            service: Service::Arm,
            method,
            path: path.into(),
            body: None,
        }
    }

    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn url(&self, endpoints: &Endpoints) -> String {
        match self.service {
            Service::Arm => absolute(&endpoints.arm_base, &self.path),
            Service::Graph | Service::Identity => absolute(&endpoints.graph_v1(), &self.path),
        }
    }

    fn http(&self, endpoints: &Endpoints) -> HttpRequest {
        let request = HttpRequest::new(self.method, self.url(endpoints));
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

pub struct ApiClient<'a, C: HttpClient, S: Sleeper> {
    http: &'a C,
    sleeper: &'a S,
    pub endpoints: Endpoints,
    graph_token: Option<String>,
    arm_token: Option<String>,
    /// The time the caller started at (for `Retry-After` dates without a
    /// `Date` header).
    pub now: UnixTime,
    backoff: RefCell<Backoff>,
    replication_expected: Cell<bool>,
    retries: RefCell<Vec<RetryNotice>>,
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
            graph_token: None,
            arm_token: None,
            now,
            backoff: RefCell::new(Backoff::new(policy, seed)),
            replication_expected: Cell::new(false),
            retries: RefCell::new(Vec::new()),
            requests: Cell::new(0),
            changes: RefCell::new(Vec::new()),
        }
    }

    pub fn with_graph_token(mut self, token: impl Into<String>) -> Self {
        self.graph_token = Some(token.into());
        self
    }

    pub fn with_arm_token(mut self, token: impl Into<String>) -> Self {
        self.arm_token = Some(token.into());
        self
    }

    pub fn has_arm_token(&self) -> bool {
        self.arm_token.is_some()
    }

    /// While set, a Graph `Request_ResourceNotFound` is taken for a
    /// replication delay and retried (the caller addresses objects it has
    /// just created).
    pub fn expect_replication(&self, on: bool) {
        self.replication_expected.set(on);
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

    /// HTTP requests sent so far, retries included.
    pub fn request_count(&self) -> u32 {
        self.requests.get()
    }

    async fn send(&self, service: Service, request: HttpRequest) -> Result<HttpResponse, ApiError> {
        let token = match service {
            Service::Graph => self.graph_token.as_deref(),
            Service::Arm => self.arm_token.as_deref(),
            Service::Identity => None,
        };
        let request = match (service, token) {
            (Service::Identity, _) => request,
            (_, Some(t)) => request.bearer(t),
            (_, None) => return Err(ApiError::NotSignedIn(service)),
        };
        if service != Service::Identity && request.method != Method::Get {
            self.changes
                .borrow_mut()
                .push(RequestPreview::sent(&request));
        }
        let counting = CountingClient {
            inner: self.http,
            count: &self.requests,
        };
        // The backoff state moves out for the duration of the call so that no
        // RefCell borrow lives across an await.
        let mut backoff = self.backoff.borrow().clone();
        let mut notices = Vec::new();
        let result = send_with_retry(
            &counting,
            self.sleeper,
            &mut backoff,
            &request,
            self.replication_expected.get(),
            self.now,
            &mut |n| notices.push(n.clone()),
        )
        .await;
        *self.backoff.borrow_mut() = backoff;
        self.retries.borrow_mut().extend(notices);
        let response = result?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(ApiError::Service(ServiceError::from_response(
                service, &response,
            )))
        }
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
    let mut request = first;
    loop {
        let page: Page<T> = api.fetch(&request, what).await?;
        out.extend(page.value);
        match page.next_link {
            Some(next) => request.path = next,
            None => return Ok(out),
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

struct CountingClient<'c, C> {
    inner: &'c C,
    count: &'c Cell<u32>,
}

impl<C: HttpClient> HttpClient for CountingClient<'_, C> {
    async fn send(
        &self,
        request: HttpRequest,
    ) -> Result<HttpResponse, crate::http::TransportError> {
        self.count.set(self.count.get() + 1);
        self.inner.send(request).await
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
