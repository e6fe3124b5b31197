//! The edge every request passes: request IDs, CORS as Microsoft sends it,
//! added latency, random faults and Graph throttling, the request log, and
//! saving the state file after a change.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::faults::{AfterCommit, Caller, Charged, TenantSize, Verdict, graph_cost};
use crate::{LogEntry, Shared, clock, lock};

tokio::task_local! {
    static CTX: RequestCtx;
}

/// Per-request identifiers, readable from any handler (for error envelopes).
#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub request_id: String,
    pub client_request_id: String,
    pub date: String,
    pub origin: Option<String>,
}

pub fn ctx() -> RequestCtx {
    CTX.try_with(|c| c.clone()).unwrap_or_else(|_| RequestCtx {
        request_id: uuid::Uuid::new_v4().to_string(),
        client_request_id: uuid::Uuid::new_v4().to_string(),
        date: clock::iso(0),
        origin: None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Area {
    Graph,
    Arm,
    /// Token, discovery and keys endpoints: CORS enabled, as Entra.
    LoginCors,
    /// Authorize and device-code endpoints: Entra sends no CORS headers.
    LoginNoCors,
    Control,
    Other,
}

fn classify(path: &str) -> Area {
    if path.starts_with("/graph/") {
        Area::Graph
    } else if path.starts_with("/arm/") {
        Area::Arm
    } else if path.starts_with("/login/") {
        if path.ends_with("/token")
            || path.contains("/.well-known/")
            || path.contains("/discovery/")
        {
            Area::LoginCors
        } else {
            Area::LoginNoCors
        }
    } else if path.starts_with("/_emulator") {
        Area::Control
    } else {
        Area::Other
    }
}

/// What graph.microsoft.com exposes to a cross-origin page: not
/// `Retry-After` (nor `Date`), so a browser cannot read how long Graph asks
/// it to wait (https://github.com/microsoftgraph/microsoft-graph-docs/issues/17488,
/// https://learn.microsoft.com/en-us/answers/questions/497336/microsoft-graph-api-retry-after-is-not-exposed-in
/// lists it; `Retry-After` is no CORS-safelisted response header,
/// https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name).
const GRAPH_EXPOSE: &str = "ETag, Location, Preference-Applied, Content-Range, request-id, client-request-id, ReadWriteConsistencyToken, SdkVersion, WWW-Authenticate";
const EXPOSE: &str = "request-id, client-request-id, Retry-After, x-ms-request-id, x-ms-correlation-request-id, x-ms-ags-diagnostic, Location, Date";
const METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS: &str = "Authorization, Content-Type, Accept, client-request-id, return-client-request-id, ConsistencyLevel, Prefer, x-ms-client-request-id, x-ms-correlation-request-id, x-client-SKU, x-client-VER, x-client-OS, x-client-CPU, x-client-current-telemetry, x-client-last-telemetry, x-app-name, x-app-ver";

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

fn add_cors(headers: &mut HeaderMap, origin: &str) {
    set(headers, "access-control-allow-origin", origin);
    set(headers, "access-control-expose-headers", EXPOSE);
    set(headers, "vary", "Origin");
}

/// The bearer token of a request's `Authorization` header ("" when absent).
pub fn bearer_token(headers: &HeaderMap) -> &str {
    let raw = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    raw.strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .unwrap_or("")
        .trim()
}

/// The application and tenant a Graph request is charged to, from its token
/// (unverified: a request with a bad token is refused by Graph anyway, and
/// charged to no one).
fn throttle_caller(headers: &HeaderMap) -> Option<Caller> {
    let data = jsonwebtoken::dangerous::insecure_decode::<Value>(bearer_token(headers)).ok()?;
    let claim = |k: &str| {
        data.claims
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(Caller {
        app_id: claim("appid")?,
        tenant_id: claim("tid")?,
    })
}

fn fault_response(area: Area, status: StatusCode, retry_after: i64, ctx: &RequestCtx) -> Response {
    let body = match area {
        Area::Arm => json!({"error": {
            "code": if status == StatusCode::TOO_MANY_REQUESTS { "TooManyRequests" } else { "ServiceUnavailable" },
            "message": if status == StatusCode::TOO_MANY_REQUESTS {
                "The request is being throttled as the limit has been reached for operation type. Please retry after the time in the Retry-After header."
            } else {
                "The service is temporarily unavailable. Please retry later."
            },
        }}),
        _ => json!({"error": {
            "code": if status == StatusCode::TOO_MANY_REQUESTS { "TooManyRequests" } else { "serviceNotAvailable" },
            "message": if status == StatusCode::TOO_MANY_REQUESTS { "Too many requests." } else { "Service unavailable." },
            "innerError": {"date": ctx.date, "request-id": ctx.request_id, "client-request-id": ctx.client_request_id},
        }}),
    };
    let mut resp = (status, axum::Json(body)).into_response();
    set(resp.headers_mut(), "retry-after", &retry_after.to_string());
    resp
}

/// Marks a request as an item of a `$batch` (set by the batch, read by the
/// edge and the request log).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItem {
    /// The `request-id` of the `$batch` POST it came in.
    pub request_id: String,
    /// The item's `id` in `requests`.
    pub id: String,
}

/// Marks an item's answer as one a `commitlost` fault loses: the item was
/// carried out, and the whole batch's answer is lost.
#[derive(Debug, Clone, Copy)]
pub struct AnswerLost;

/// `resp` with its body replaced by one that breaks the connection.
pub fn lose_answer(resp: Response) -> Response {
    let (parts, _) = resp.into_parts();
    Response::from_parts(parts, Body::new(LostBody))
}

/// Whether `path` is Graph's batch endpoint.
fn is_batch(path: &str) -> bool {
    path == "/graph/v1.0/$batch" || path == "/graph/v1.0/%24batch"
}

/// A body that fails at once: the connection breaks after the change was
/// made, before the client reads the answer (`commitlost`).
struct LostBody;

impl http_body::Body for LostBody {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the emulator dropped the answer (commitlost fault)",
        ))))
    }
}

/// Graph's or ARM's envelope for a 5xx answered after the change was made (`commit5xx`).
fn committed_5xx(area: Area, status: u16, ctx: &RequestCtx) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (code, message) = match (area, status.as_u16()) {
        (Area::Arm, 500) => ("InternalServerError", "Encountered internal server error."),
        (Area::Arm, 504) => (
            "GatewayTimeout",
            "The gateway did not receive a response within the specified time period.",
        ),
        (Area::Arm, _) => (
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry later.",
        ),
        (_, 500) => ("generalException", "An unspecified error has occurred."),
        (_, 504) => ("timeout", "The operation timed out."),
        _ => ("serviceNotAvailable", "Service unavailable."),
    };
    let body = match area {
        Area::Arm => json!({"error": {"code": code, "message": message}}),
        _ => json!({"error": {"code": code, "message": message,
            "innerError": {"date": ctx.date, "request-id": ctx.request_id, "client-request-id": ctx.client_request_id}}}),
    };
    (status, axum::Json(body)).into_response()
}

/// Marks a response as the gateway's, not the service's.
#[derive(Clone, Copy)]
struct FromGateway;

/// The edge's own error page for a 502/503/504 (HTML, an edge reference, no
/// JSON envelope, no request-id, no CORS), like the page graph.microsoft.com's
/// CDN served in https://github.com/microsoftgraph/microsoft-graph-explorer-v4/issues/4022.
fn gateway_response(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::GATEWAY_TIMEOUT);
    let reference = uuid::Uuid::new_v4().simple().to_string();
    let html = format!(
        "<HTML><HEAD><TITLE>{status}</TITLE></HEAD><BODY><H1>{status}</H1>An error occurred while processing your request.<p>Reference&#32;&#35;{reference}</p></BODY></HTML>\n"
    );
    let mut resp = (
        status,
        [(axum::http::header::CONTENT_TYPE, "text/html")],
        html,
    )
        .into_response();
    resp.extensions_mut().insert(FromGateway);
    resp
}

pub async fn edge(State(emu): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let in_batch = req.extensions().get::<BatchItem>().cloned();
    let path = uri.path().to_string();
    let area = classify(&path);
    let origin = req
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let client_request_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let ctx = RequestCtx {
        request_id: uuid::Uuid::new_v4().to_string(),
        client_request_id,
        date: clock::iso(emu.clock.now()),
        origin: origin.clone(),
    };
    // The control API allows any origin too, so browser tests can drive it.
    let cors = matches!(
        area,
        Area::Graph | Area::Arm | Area::LoginCors | Area::Control
    );

    let (parts, body) = req.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let request_body = String::from_utf8_lossy(&bytes).into_owned();
    let prefer = parts
        .headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);

    // The status of a change carried out whose answer a fault then replaced.
    let mut committed: Option<StatusCode> = None;
    let mut response = if method == Method::OPTIONS && area != Area::Other {
        // Preflight. Entra's authorize and device-code endpoints answer without
        // any Access-Control-* header, so a browser refuses the real request.
        let mut resp = StatusCode::OK.into_response();
        if cors && let Some(o) = &origin {
            add_cors(resp.headers_mut(), o);
            set(resp.headers_mut(), "access-control-allow-methods", METHODS);
            let requested = parts
                .headers
                .get("access-control-request-headers")
                .and_then(|v| v.to_str().ok())
                .unwrap_or(ALLOW_HEADERS)
                .to_string();
            set(
                resp.headers_mut(),
                "access-control-allow-headers",
                &requested,
            );
            set(resp.headers_mut(), "access-control-max-age", "3600");
        }
        resp
    } else {
        let latency = lock(&emu.faults).config.latency_ms;
        // An item of a batch is answered within the batch's own latency.
        if latency > 0
            && in_batch.is_none()
            && matches!(area, Area::Graph | Area::Arm | Area::LoginCors)
        {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        // What the request was charged, for the answer's headers.
        let mut charged: Option<Charged> = None;
        // Read before the faults are locked: handlers lock the directory, then
        // the faults.
        let tenant_size = (area == Area::Graph).then(|| TenantSize::of(lock(&emu.dir).users.len()));
        let verdict = if area == Area::Graph && is_batch(&path) && method == Method::POST {
            // The gateway can fail the batch as a whole; the service's faults
            // and throttling apply to each item (json-batching: "Requests in a
            // batch are evaluated individually against the applicable
            // throttling limits"), not to the batch.
            lock(&emu.faults).gateway()
        } else if matches!(area, Area::Graph | Area::Arm) {
            let mut faults = lock(&emu.faults);
            let drawn = if in_batch.is_some() {
                faults.random_service()
            } else {
                faults.random()
            };
            match drawn {
                Verdict::Pass if area == Area::Graph => match throttle_caller(&parts.headers) {
                    Some(caller) => {
                        let cost = graph_cost(method.as_str(), &path, uri.query().unwrap_or(""));
                        let size = tenant_size.unwrap_or(TenantSize::S);
                        match faults.throttle(&caller, cost, size, emu.clock.now_ms()) {
                            Ok(c) => {
                                charged = Some(c);
                                Verdict::Pass
                            }
                            Err(v) => v,
                        }
                    }
                    None => Verdict::Pass,
                },
                v => v,
            }
        } else {
            Verdict::Pass
        };
        match verdict {
            // https://learn.microsoft.com/en-us/graph/throttling-limits#throttled-responses-requests
            Verdict::Throttled {
                retry_after,
                scope,
                information,
            } => {
                let mut resp =
                    fault_response(area, StatusCode::TOO_MANY_REQUESTS, retry_after, &ctx);
                set(resp.headers_mut(), "x-ms-throttle-scope", &scope);
                set(resp.headers_mut(), "x-ms-throttle-information", information);
                resp
            }
            Verdict::Random429 => {
                let after = lock(&emu.faults).config.retry_after(2);
                fault_response(area, StatusCode::TOO_MANY_REQUESTS, after, &ctx)
            }
            Verdict::Random503 => {
                let after = lock(&emu.faults).config.retry_after(3);
                fault_response(area, StatusCode::SERVICE_UNAVAILABLE, after, &ctx)
            }
            Verdict::Gateway(status) => gateway_response(status),
            Verdict::Pass => {
                let req = Request::from_parts(parts, Body::from(bytes));
                let mut response = CTX.scope(ctx.clone(), next.run(req)).await;
                // https://learn.microsoft.com/en-us/graph/throttling-limits#regular-responses-requests
                if let Some(c) = &charged {
                    let headers = response.headers_mut();
                    set(headers, "x-ms-resource-unit", &c.resource_units.to_string());
                    if let Some(p) = c.limit_percentage {
                        set(
                            headers,
                            "x-ms-throttle-limit-percentage",
                            &format!("{p:.2}"),
                        );
                    }
                }
                let after = (matches!(area, Area::Graph | Area::Arm)
                    && response.status().is_success())
                .then(|| lock(&emu.faults).after_commit(method.as_str(), &path))
                .flatten();
                match after {
                    None => response,
                    Some(fault) => {
                        committed = Some(response.status());
                        match fault {
                            // The batch loses its whole answer once all
                            // its items are carried out.
                            AfterCommit::Lost if in_batch.is_some() => {
                                let mut response = response;
                                response.extensions_mut().insert(AnswerLost);
                                response
                            }
                            AfterCommit::Lost => lose_answer(response),
                            AfterCommit::Status(s) => committed_5xx(area, s, &ctx),
                        }
                    }
                }
            }
        }
    };

    // A gateway's own error page carries none of the service's headers, CORS
    // included: the browser's fetch rejects with a TypeError.
    let from_gateway = response.extensions().get::<FromGateway>().is_some();
    let headers = response.headers_mut();
    match area {
        _ if from_gateway => {}
        Area::Graph => {
            set(headers, "request-id", &ctx.request_id);
            set(headers, "client-request-id", &ctx.client_request_id);
        }
        Area::Arm => {
            set(headers, "x-ms-request-id", &ctx.request_id);
            set(
                headers,
                "x-ms-correlation-request-id",
                &ctx.client_request_id,
            );
        }
        _ => {}
    }
    if cors
        && !from_gateway
        && let Some(o) = &origin
    {
        add_cors(headers, o);
        if area == Area::Graph {
            set(headers, "access-control-expose-headers", GRAPH_EXPOSE);
        }
    }
    let status = response.status();
    let mut log = lock(&emu.log);
    log.push(LogEntry {
        time: ctx.date.clone(),
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or(path.clone()),
        status: status.as_u16(),
        origin,
        request_body,
        prefer,
        batch: in_batch,
    });
    if log.len() > 50_000 {
        log.drain(..10_000);
    }
    drop(log);
    if method != Method::GET
        && method != Method::OPTIONS
        && committed.unwrap_or(status).as_u16() < 400
        && matches!(area, Area::Graph | Area::Arm | Area::LoginNoCors)
    {
        emu.persist();
    }
    response
}

/// `GET /_emulator/throttle`: each token bucket's capacity, refill rate,
/// accepted and refused requests, and the ceiling of what it could have let
/// through since its first request (capacity + refill × elapsed), so a bench
/// can report achieved writes as a share of the quota. `DELETE` refills them
/// all (a run starts from full quotas). Emulator-only.
pub fn throttle_router() -> axum::Router<Shared> {
    axum::Router::new().route(
        "/_emulator/throttle",
        axum::routing::get(throttle_get).delete(throttle_delete),
    )
}

async fn throttle_get(State(emu): State<Shared>) -> Response {
    let size = TenantSize::of(lock(&emu.dir).users.len());
    let mut report = lock(&emu.faults).throttle_report(emu.clock.now_ms());
    report["tenantSize"] = Value::String(size.name().into());
    axum::Json(report).into_response()
}

async fn throttle_delete(State(emu): State<Shared>) -> Response {
    lock(&emu.faults).clear_throttle();
    StatusCode::NO_CONTENT.into_response()
}
