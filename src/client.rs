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
    Backoff, HttpClient, HttpRequest, HttpResponse, Method, RetryNotice, RetryPolicy, Sleeper,
    send_with_retry,
};

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
    changes: RefCell<Vec<crate::plan::RequestPreview>>,
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
    pub fn take_changes(&self) -> Vec<crate::plan::RequestPreview> {
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
                .push(crate::plan::RequestPreview::sent(&request));
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

    /// A Graph call; `path` is relative to `{graph}/v1.0` (or absolute, for
    /// `@odata.nextLink`). Returns the JSON body (`Null` for 204).
    pub async fn graph(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ApiError> {
        let url = absolute(&self.endpoints.graph_v1(), path);
        let mut request = HttpRequest::new(method, url);
        if let Some(b) = body {
            request = request.json(b);
        }
        Ok(self.send(Service::Graph, request).await?.json())
    }

    /// An ARM call; `path` is relative to the ARM base and carries its
    /// `api-version` (or absolute, for `nextLink`).
    pub async fn arm(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ApiError> {
        let url = absolute(&self.endpoints.arm_base, path);
        let mut request = HttpRequest::new(method, url);
        if let Some(b) = body {
            request = request.json(b);
        }
        Ok(self.send(Service::Arm, request).await?.json())
    }

    /// A request to the token endpoint (no bearer token).
    pub async fn identity(&self, request: HttpRequest) -> Result<HttpResponse, ApiError> {
        self.send(Service::Identity, request).await
    }
}

/// Decodes a JSON answer into `T`, naming what was expected on failure.
pub fn decode<T: DeserializeOwned>(service: Service, what: &str, v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::Unexpected {
        service,
        what: what.to_string(),
        detail: e.to_string(),
    })
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
