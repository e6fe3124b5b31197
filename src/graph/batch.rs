//! Microsoft Graph JSON batching: up to 20 Graph requests in one
//! `POST /$batch`, each answered on its own (status, headers, body) and
//! matched to its request by `id`, in whatever order Graph sends them.
//!
//! A [`Batch`] holds the same [`ApiRequest`]s the single-step code sends
//! (built by `graph::request`), with relative URLs, and a `Content-Type`
//! header on every item that has a body (Graph refuses the batch otherwise).
//! It cannot hold more than [`MAX_REQUESTS`].
//!
//! Every item counts against throttling on its own: one may get a 429 with
//! its own `Retry-After` while the others succeed, so the caller reads each
//! item's answer. The outer POST goes through [`ApiClient::call`]: a 429 on
//! the whole batch (nothing carried out) is retried by the client's policy
//! as for any request, but no answer, a 5xx, or an answer that cannot be
//! read is never sent again as is — its items may have been carried out.
//! That is [`BatchError::AnswerLost`]: the caller looks each item up before
//! sending anything again.
// https://learn.microsoft.com/en-us/graph/json-batching
// https://learn.microsoft.com/en-us/graph/throttling (batches: each request evaluated on its own)

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroize;

use crate::api_error::{ApiError, Service, ServiceError};
use crate::client::{ApiClient, ApiRequest};
use crate::core::time::UnixTime;
use crate::http::{self, HttpClient, HttpResponse, Method, Sleeper};

/// Graph's limit of requests in one batch.
pub const MAX_REQUESTS: usize = 20;

/// Up to [`MAX_REQUESTS`] Graph requests with unique ids. The items are
/// private and [`Batch::push`] refuses a 21st, so no value of this type
/// holds more.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    items: Vec<(String, ApiRequest)>,
}

/// Why a batch could not be built, sent or read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("A Graph batch holds at most {MAX_REQUESTS} requests; send the rest in another batch.")]
    Full,
    #[error(
        "The request id '{0}' is already in this batch: Graph refuses a batch whose ids repeat."
    )]
    DuplicateId(String),
    #[error(
        "Only Microsoft Graph requests with a path relative to /v1.0 can be batched, not \
         '{0}'. Send it on its own."
    )]
    NotRelativeGraph(String),
    /// The batch may have been carried out, in whole or in part.
    #[error(
        "The answer to a batch of requests was lost ({detail}); some of its changes may have \
         been made. Each change is looked up before anything is sent again."
    )]
    AnswerLost { detail: String },
    /// Graph refused the whole batch (nothing in it was carried out).
    #[error("{0}")]
    Refused(ApiError),
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Adds `request` under `id`. Refused when the batch is full, the id
    /// is taken (ids are compared without case, as Graph does), or the
    /// request is not a relative Graph request.
    pub fn push(&mut self, id: impl Into<String>, request: ApiRequest) -> Result<(), BatchError> {
        let id = id.into();
        if self.is_full() {
            return Err(BatchError::Full);
        }
        if self.items.iter().any(|(i, _)| i.eq_ignore_ascii_case(&id)) {
            return Err(BatchError::DuplicateId(id));
        }
        if request.service != Service::Graph || !request.path.starts_with('/') {
            return Err(BatchError::NotRelativeGraph(request.path));
        }
        self.items.push((id, request));
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.items.len() >= MAX_REQUESTS
    }

    /// The ids, in the order pushed.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|(id, _)| id.as_str())
    }

    /// The requests, with their ids.
    pub fn items(&self) -> impl Iterator<Item = (&str, &ApiRequest)> {
        self.items.iter().map(|(id, r)| (id.as_str(), r))
    }

    /// `{"requests": [{"id", "method", "url", "headers", "body"}, …]}`.
    pub fn body(&self) -> Value {
        let requests: Vec<Value> = self
            .items
            .iter()
            .map(|(id, r)| {
                let mut item = json!({ "id": id, "method": r.method.as_str(), "url": r.path });
                let mut headers: Map<String, Value> = r
                    .headers
                    .iter()
                    .map(|(n, v)| (n.clone(), Value::String(v.clone())))
                    .collect();
                if let Some(body) = &r.body {
                    item["body"] = body.clone();
                    headers.insert("Content-Type".into(), "application/json".into());
                }
                if !headers.is_empty() {
                    item["headers"] = Value::Object(headers);
                }
                item
            })
            .collect();
        json!({ "requests": requests })
    }

    /// The one request that carries the batch: `POST /$batch`.
    pub fn request(&self) -> ApiRequest {
        ApiRequest::graph(Method::Post, "/$batch").with_body(self.body())
    }
}

/// One item's own answer. Its body may hold a new secret's value: its
/// strings are zeroized when it is dropped.
#[derive(Debug, PartialEq)]
pub struct ItemAnswer {
    pub id: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    body: Value,
}

impl ItemAnswer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The answer as a response of its own, to read with the same code as
    /// an answer sent alone (`http::classify`, `ServiceError`). Not for a
    /// body holding a secret: the copy is not zeroized.
    pub fn response(&self) -> HttpResponse {
        HttpResponse {
            status: self.status,
            headers: self.headers.clone(),
            body: match &self.body {
                Value::Null => Vec::new(),
                b => serde_json::to_vec(b).unwrap_or_default(),
            },
        }
    }

    /// A response received on its own, as an item's answer (its body read
    /// as JSON, then zeroized).
    pub fn from_response(id: String, mut response: HttpResponse) -> ItemAnswer {
        let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        response.body.zeroize();
        ItemAnswer {
            id,
            status: response.status,
            headers: core::mem::take(&mut response.headers),
            body,
        }
    }

    /// The item's own `Retry-After`, in milliseconds.
    pub fn retry_after_ms(&self, now: UnixTime) -> Option<u64> {
        http::retry_after_ms(&self.response(), now)
    }

    /// The item's error envelope (Graph's code, message, request ID).
    pub fn error(&self) -> ServiceError {
        ServiceError::from_response(Service::Graph, &self.response())
    }

    /// The body decoded into `T`, naming `what` was expected on failure.
    pub fn decode<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, ApiError> {
        T::deserialize(&self.body).map_err(|e| ApiError::Unexpected {
            service: Service::Graph,
            what: what.to_string(),
            detail: e.to_string(),
        })
    }
}

impl Drop for ItemAnswer {
    fn drop(&mut self) {
        wipe(&mut self.body);
    }
}

/// Zeroizes every string in `v` (a new secret's `secretText`).
fn wipe(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => map.values_mut().for_each(wipe),
        _ => {}
    }
}

/// The answers of one batch, by id.
#[derive(Debug, Default)]
pub struct Answers {
    items: HashMap<String, ItemAnswer>,
}

impl Answers {
    /// The answer to the request sent under `id`; `None` when Graph's
    /// answer left it out (treat it as lost: it may have been carried out).
    pub fn take(&mut self, id: &str) -> Option<ItemAnswer> {
        let key = self
            .items
            .keys()
            .find(|k| k.eq_ignore_ascii_case(id))?
            .clone();
        self.items.remove(&key)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[derive(Deserialize)]
struct Outer {
    #[serde(default)]
    responses: Vec<RawItem>,
}

#[derive(Deserialize)]
struct RawItem {
    id: String,
    status: u16,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    body: Value,
}

/// Reads Graph's batch answer; `None` when it is not one.
fn read(body: &[u8]) -> Option<Answers> {
    let outer: Outer = serde_json::from_slice(body).ok()?;
    let items = outer
        .responses
        .into_iter()
        .map(|r| {
            let headers = r
                .headers
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, v)
                })
                .collect();
            let answer = ItemAnswer {
                id: r.id.clone(),
                status: r.status,
                headers,
                body: r.body,
            };
            (r.id, answer)
        })
        .collect();
    Some(Answers { items })
}

/// Sends `batch` as one `POST /$batch` and returns each item's answer.
/// An empty batch sends nothing.
pub async fn send<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    batch: &Batch,
) -> Result<Answers, BatchError> {
    if batch.is_empty() {
        return Ok(Answers::default());
    }
    let mut response = match api.call(&batch.request()).await {
        Ok(response) => response,
        Err(e) => return Err(outer_error(e)),
    };
    let answers = read(&response.body);
    response.body.zeroize();
    answers.ok_or_else(|| BatchError::AnswerLost {
        detail: "Microsoft Graph's answer to the batch could not be read".into(),
    })
}

/// No answer or a 5xx: the items may have been carried out. Anything else
/// (401, 403, 400, a wait too long) refused the batch as a whole.
fn outer_error(e: ApiError) -> BatchError {
    match &e {
        ApiError::Transport(t) => BatchError::AnswerLost {
            detail: t.detail.clone(),
        },
        ApiError::Service(s) if s.status >= 500 => BatchError::AnswerLost {
            detail: format!("HTTP {} {}", s.status, s.code),
        },
        _ => BatchError::Refused(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::request;

    #[test]
    fn a_batch_holds_twenty_unique_relative_graph_requests() {
        let mut b = Batch::new();
        for i in 0..MAX_REQUESTS {
            b.push(i.to_string(), request::get_password_credentials("o"))
                .unwrap();
        }
        assert!(b.is_full());
        assert_eq!(
            b.push("20", request::get_password_credentials("o")),
            Err(BatchError::Full)
        );
        assert_eq!(b.len(), MAX_REQUESTS);
        let mut b = Batch::new();
        b.push("a", request::get_key_credentials("o")).unwrap();
        assert_eq!(
            b.push("A", request::get_key_credentials("o")),
            Err(BatchError::DuplicateId("A".into()))
        );
        let next = ApiRequest::graph(Method::Get, "https://graph.microsoft.com/v1.0/x");
        assert!(matches!(
            b.push("n", next),
            Err(BatchError::NotRelativeGraph(_))
        ));
        let arm = ApiRequest::arm(Method::Get, "/subscriptions");
        assert!(matches!(
            b.push("m", arm),
            Err(BatchError::NotRelativeGraph(_))
        ));
    }

    #[test]
    fn items_with_a_body_carry_their_content_type() {
        let mut b = Batch::new();
        b.push("1", request::get_password_credentials("o1"))
            .unwrap();
        b.push("2", request::remove_password("o1", "k1")).unwrap();
        let body = b.body();
        assert_eq!(
            body,
            json!({"requests": [
                {"id": "1", "method": "GET", "url": "/applications/o1?$select=passwordCredentials"},
                {"id": "2", "method": "POST", "url": "/applications/o1/removePassword",
                 "body": {"keyId": "k1"}, "headers": {"Content-Type": "application/json"}},
            ]})
        );
        let r = b.request();
        assert_eq!((r.method, r.path.as_str()), (Method::Post, "/$batch"));
    }

    #[test]
    fn answers_are_matched_by_id_in_any_order() {
        let raw = json!({"responses": [
            {"id": "2", "status": 429, "headers": {"Retry-After": "7"},
             "body": {"error": {"code": "TooManyRequests", "message": "slow down"}}},
            {"id": "1", "status": 200, "headers": {"Content-Type": "application/json"},
             "body": {"keyId": "k", "secretText": "s3cr3t"}},
        ]});
        let mut answers = read(&serde_json::to_vec(&raw).unwrap()).unwrap();
        let one = answers.take("1").unwrap();
        assert!(one.is_success());
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Made {
            key_id: String,
        }
        assert_eq!(one.decode::<Made>("a secret").unwrap().key_id, "k");
        let two = answers.take("2").unwrap();
        assert_eq!(two.retry_after_ms(UnixTime(0)), Some(7000));
        assert_eq!(two.error().code, "TooManyRequests");
        assert!(answers.take("3").is_none());
        assert!(read(b"<html>bad gateway</html>").is_none());
    }

    #[test]
    fn dropped_answers_wipe_their_strings() {
        let mut v = json!({"secretText": "abc", "nested": ["def"]});
        wipe(&mut v);
        assert_eq!(v, json!({"secretText": "", "nested": [""]}));
    }

    #[test]
    fn only_no_answer_or_a_5xx_is_a_lost_answer() {
        let t = ApiError::Transport(http::TransportError {
            url: "u".into(),
            detail: "reset".into(),
        });
        assert!(matches!(outer_error(t), BatchError::AnswerLost { .. }));
        let service = |status| {
            ApiError::Service(ServiceError {
                service: Service::Graph,
                status,
                code: "c".into(),
                message: "m".into(),
                detail_codes: vec![],
                request_id: None,
            })
        };
        assert!(matches!(
            outer_error(service(503)),
            BatchError::AnswerLost { .. }
        ));
        assert!(matches!(outer_error(service(403)), BatchError::Refused(_)));
    }
}
