//! `POST /graph/v1.0/$batch`: Graph's JSON batching
//! (https://learn.microsoft.com/en-us/graph/json-batching).
//!
//! Each item is dispatched through the emulator's own router, so it passes the
//! same edge as a direct request: authentication with the batch's token,
//! random faults, throttling (each item is charged on its own, as
//! "requests in a batch are evaluated individually against the applicable
//! throttling limits"), `commit5xx`, replication and list lag, and the request
//! log (entries marked with the batch they came in).
//!
//! What this module decides itself:
//! - the batch's own validation (at most 20 requests, unique ids compared
//!   without case, `dependsOn` naming items of the batch, a write carrying a
//!   body and a `Content-Type`): `400` for the whole batch with Graph's
//!   envelope;
//! - `dependsOn`: items run one after the other, each after the items it
//!   depends on; an item whose dependency failed (status ≥ 400, a 424
//!   included) is not run and answers `424 Failed Dependency`;
//! - `commitlost` on an item: the item is carried out like the rest of the
//!   batch, then the whole batch's answer is lost (the connection breaks
//!   before the body), as a lost answer loses everything in it.
//!
//! The batch answers `200` whenever it could be parsed, whatever its items'
//! statuses (the throttling guide once said `424`; Graph answers `200`:
//! https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/8883).
//! Responses come back in request order here; Graph may reorder them, so a
//! client correlates by `id`.

use std::collections::HashMap;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64ct::{Base64, Base64Url, Base64UrlUnpadded, Encoding};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use super::GraphError;
use crate::{Shared, http};

/// Graph's limit of requests in one batch.
pub const MAX_REQUESTS: usize = 20;

/// One parsed item of `requests`.
#[derive(Debug)]
struct Item {
    id: String,
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    depends_on: Vec<String>,
}

fn bad_batch(message: impl Into<String>) -> GraphError {
    GraphError::new(400, "BadRequest", message)
}

fn invalid_payload() -> GraphError {
    bad_batch("Invalid batch payload format.")
}

/// The body of an item: JSON as sent, a string as base64 (Graph takes binary
/// bodies that way), or as text when it is not base64.
fn item_body(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(
            Base64::decode_vec(s)
                .or_else(|_| Base64Url::decode_vec(s))
                .or_else(|_| Base64UrlUnpadded::decode_vec(s))
                .unwrap_or_else(|_| s.clone().into_bytes()),
        ),
        other => Some(serde_json::to_vec(other).unwrap_or_default()),
    }
}

fn parse(body: &Bytes) -> Result<Vec<Item>, GraphError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| invalid_payload())?;
    let requests = v
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(invalid_payload)?;
    if requests.len() > MAX_REQUESTS {
        // Graph's text, e.g. in
        // https://github.com/microsoftgraph/microsoftgraph-postman-collections/issues/9
        return Err(bad_batch(
            "Number of requests inside batch exceeds the limit.",
        ));
    }
    let mut items = Vec::with_capacity(requests.len());
    for r in requests {
        let text = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
        let id = match r.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(invalid_payload()),
        };
        let method = text("method")
            .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
            .ok_or_else(invalid_payload)?;
        let url = text("url")
            .filter(|u| !u.is_empty())
            .ok_or_else(invalid_payload)?;
        // A batch cannot hold another batch.
        if item_uri(&url).split('?').next() == Some("/graph/v1.0/$batch") {
            return Err(invalid_payload());
        }
        let headers = match r.get("headers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), value)
                })
                .collect(),
            Some(_) => return Err(invalid_payload()),
        };
        let depends_on = match r.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|d| match d {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(invalid_payload()),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(invalid_payload()),
        };
        let body = r.get("body").and_then(item_body);
        items.push(Item {
            id,
            method,
            url,
            headers,
            body,
            depends_on,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for item in &items {
        // Ids are not case-sensitive (json-batching, "id").
        if !seen.insert(item.id.to_lowercase()) {
            return Err(bad_batch(format!(
                "Request Id {} has to be unique in a batch.",
                item.id
            )));
        }
    }
    for item in &items {
        let has_type = item
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && !v.trim().is_empty());
        let write = matches!(item.method, Method::POST | Method::PATCH | Method::PUT);
        // "When a body is included with the request, the headers object must
        // contain a value for Content-Type"; Graph's batch validation also
        // refuses a write without a body (an empty object will do).
        if (write || item.body.is_some()) && (!has_type || item.body.is_none()) {
            return Err(bad_batch(format!(
                "Write request id : {} does not contain Content-Type header or body.",
                item.id
            )));
        }
        for dep in &item.depends_on {
            if dep.eq_ignore_ascii_case(&item.id) || !seen.contains(&dep.to_lowercase()) {
                return Err(bad_batch(format!(
                    "Request Id {} depends on request {dep}, which is not in the batch.",
                    item.id
                )));
            }
        }
    }
    Ok(items)
}

/// The order to run items in: each after the items it depends on, otherwise
/// in request order. `None` when the dependencies form a cycle.
fn run_order(items: &[Item]) -> Option<Vec<usize>> {
    let index: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id.to_lowercase(), i))
        .collect();
    let mut done = vec![false; items.len()];
    let mut order = Vec::with_capacity(items.len());
    while order.len() < items.len() {
        let next = (0..items.len()).find(|&i| {
            !done[i]
                && items[i]
                    .depends_on
                    .iter()
                    .all(|d| index.get(&d.to_lowercase()).is_some_and(|&j| done[j]))
        })?;
        done[next] = true;
        order.push(next);
    }
    Some(order)
}

/// `https://graph.microsoft.com/v1.0/users?x` or `/users?x` or `users?x`
/// → `/graph/v1.0/users?x`.
fn item_uri(url: &str) -> String {
    let mut rest = url.trim();
    if let Some(i) = rest.find("://") {
        let after = &rest[i + 3..];
        rest = after.find('/').map_or("", |j| &after[j..]);
        for version in ["/v1.0", "/beta"] {
            if let Some(r) = rest.strip_prefix(version) {
                rest = r;
                break;
            }
        }
    }
    format!("/graph/v1.0/{}", rest.trim_start_matches('/'))
}

/// Graph's spelling of the headers a client reads in an item.
fn header_name(name: &str) -> String {
    match name {
        "content-type" => "Content-Type".into(),
        "retry-after" => "Retry-After".into(),
        "location" => "Location".into(),
        "cache-control" => "Cache-Control".into(),
        "etag" => "ETag".into(),
        "odata-version" => "OData-Version".into(),
        other => other.to_string(),
    }
}

fn failed_dependency(id: &str) -> Value {
    let ctx = http::ctx();
    json!({
        "id": id,
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": {"error": {
            "code": "FailedDependency",
            "message": "Failed Dependency",
            "innerError": {"date": ctx.date, "request-id": ctx.request_id, "client-request-id": ctx.client_request_id},
        }},
    })
}

async fn run_item(
    emu: &Shared,
    outer: &HeaderMap,
    item: &Item,
    batch_request_id: &str,
) -> (Value, bool) {
    let mut req = Request::builder()
        .method(item.method.clone())
        .uri(item_uri(&item.url));
    let headers = req.headers_mut().expect("a fresh builder");
    for (k, v) in &item.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            headers.insert(name, value);
        }
    }
    // The batch's token authenticates every item.
    match outer.get(header::AUTHORIZATION) {
        Some(auth) => {
            headers.insert(header::AUTHORIZATION, auth.clone());
        }
        None => {
            headers.remove(header::AUTHORIZATION);
        }
    }
    let req = req
        .extension(http::BatchItem {
            request_id: batch_request_id.to_string(),
            id: item.id.clone(),
        })
        .body(Body::from(item.body.clone().unwrap_or_default()));
    let Ok(req) = req else {
        let e = GraphError::new(400, "BadRequest", "Invalid request URL.");
        return (
            json!({"id": item.id, "status": 400, "headers": {"Content-Type": "application/json"},
                   "body": error_value(e)}),
            false,
        );
    };
    let router = crate::router(emu.clone());
    let resp = match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let lost = resp.extensions().get::<http::AnswerLost>().is_some();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let mut out_headers = Map::new();
    for (name, value) in &parts.headers {
        let n = name.as_str();
        if n.starts_with("access-control-") || n == "vary" || n == "content-length" {
            continue;
        }
        if let Ok(v) = value.to_str() {
            out_headers.insert(header_name(n), Value::String(v.to_string()));
        }
    }
    let mut entry = json!({
        "id": item.id,
        "status": parts.status.as_u16(),
        "headers": out_headers,
    });
    if !bytes.is_empty() {
        entry["body"] = serde_json::from_slice::<Value>(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    }
    (entry, lost)
}

fn error_value(e: GraphError) -> Value {
    let ctx = http::ctx();
    json!({"error": {"code": e.code, "message": e.message,
        "innerError": {"date": ctx.date, "request-id": ctx.request_id, "client-request-id": ctx.client_request_id}}})
}

pub async fn handle(
    State(emu): State<Shared>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        return GraphError::new(
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
        .into_response();
    }
    // The gateway checks the token before it looks at the batch.
    if let Err(e) = super::caller(&emu, &headers) {
        return e.into_response();
    }
    let items = match parse(&body) {
        Ok(items) => items,
        Err(e) => return e.into_response(),
    };
    let Some(order) = run_order(&items) else {
        return bad_batch("The dependencies of the requests in the batch form a cycle.")
            .into_response();
    };
    let batch_request_id = http::ctx().request_id;
    let mut status: HashMap<String, u16> = HashMap::new();
    let mut responses: Vec<Value> = vec![Value::Null; items.len()];
    let mut lost = false;
    for i in order {
        let item = &items[i];
        let failed = item
            .depends_on
            .iter()
            .any(|d| status.get(&d.to_lowercase()).is_none_or(|&s| s >= 400));
        let (entry, item_lost) = if failed {
            (failed_dependency(&item.id), false)
        } else {
            run_item(&emu, &headers, item, &batch_request_id).await
        };
        lost |= item_lost;
        status.insert(
            item.id.to_lowercase(),
            entry["status"].as_u64().unwrap_or(500) as u16,
        );
        responses[i] = entry;
    }
    let resp = (StatusCode::OK, Json(json!({ "responses": responses }))).into_response();
    if lost { http::lose_answer(resp) } else { resp }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(v: Value) -> Result<Vec<Item>, GraphError> {
        parse(&Bytes::from(serde_json::to_vec(&v).unwrap()))
    }

    #[test]
    fn validates_the_batch_as_graph_does() {
        let get = |id: &str| json!({"id": id, "method": "GET", "url": "/me"});
        let many: Vec<Value> = (0..21).map(|i| get(&i.to_string())).collect();
        let e = items(json!({ "requests": many })).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.message.as_str()),
            (400, "Number of requests inside batch exceeds the limit.")
        );
        let twenty: Vec<Value> = (0..20).map(|i| get(&i.to_string())).collect();
        assert_eq!(items(json!({ "requests": twenty })).unwrap().len(), 20);
        let e = items(json!({"requests": [get("a"), get("A")]})).unwrap_err();
        assert_eq!(e.message, "Request Id A has to be unique in a batch.");
        let e = items(json!({"requests": [
            {"id": "1", "method": "POST", "url": "/applications", "body": {}}
        ]}))
        .unwrap_err();
        assert_eq!(
            e.message,
            "Write request id : 1 does not contain Content-Type header or body."
        );
        assert!(
            items(json!({"requests": [
                {"id": "1", "method": "POST", "url": "/applications", "headers": {"Content-Type": "application/json"}}
            ]}))
            .is_err()
        );
        assert!(
            items(json!({"requests": [
                {"id": "1", "method": "DELETE", "url": "/applications/x"}
            ]}))
            .is_ok()
        );
        assert_eq!(
            items(json!({"value": []})).unwrap_err().message,
            "Invalid batch payload format."
        );
        assert!(items(json!({"requests": [get("1"), {"id": "2", "method": "GET", "url": "/me", "dependsOn": ["3"]}]})).is_err());
    }

    #[test]
    fn runs_dependencies_first_and_refuses_cycles() {
        let it = |id: &str, deps: &[&str]| Item {
            id: id.into(),
            method: Method::GET,
            url: "/me".into(),
            headers: Vec::new(),
            body: None,
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
        };
        // The json-batching page's example: 1, 2, 4, 3.
        let order = run_order(&[
            it("1", &[]),
            it("2", &["1"]),
            it("4", &["2"]),
            it("3", &["4"]),
        ]);
        assert_eq!(order, Some(vec![0, 1, 2, 3]));
        let order = run_order(&[it("b", &["A"]), it("a", &[])]);
        assert_eq!(order, Some(vec![1, 0]));
        assert_eq!(run_order(&[it("1", &["2"]), it("2", &["1"])]), None);
    }

    #[test]
    fn item_urls_are_relative_to_the_version() {
        assert_eq!(item_uri("/me"), "/graph/v1.0/me");
        assert_eq!(
            item_uri("users?$select=id&$top=5"),
            "/graph/v1.0/users?$select=id&$top=5"
        );
        assert_eq!(
            item_uri("https://graph.microsoft.com/v1.0/applications/x"),
            "/graph/v1.0/applications/x"
        );
    }
}
