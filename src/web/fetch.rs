//! gloo-net's `fetch` behind the crate's HTTP trait, and a gloo-timers
//! timeout behind its sleeper: the browser's side of every Graph, ARM and
//! token call.

use gloo_net::http::{Method as FetchMethod, RequestBuilder};
use js_sys::Uint8Array;
use web_sys::{RequestCredentials, RequestMode};

use crate::http::{HttpClient, HttpRequest, HttpResponse, Method, Sleeper, TransportError};

#[derive(Clone, Copy, Debug, Default)]
pub struct FetchClient;

fn method(m: Method) -> FetchMethod {
    match m {
        Method::Get => FetchMethod::GET,
        Method::Post => FetchMethod::POST,
        Method::Put => FetchMethod::PUT,
        Method::Patch => FetchMethod::PATCH,
        Method::Delete => FetchMethod::DELETE,
    }
}

impl HttpClient for FetchClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = request.url.clone();
        let fail = |e: gloo_net::Error| TransportError {
            url: url.clone(),
            detail: match e {
                gloo_net::Error::JsError(js) => js.message,
                other => other.to_string(),
            },
        };
        let mut builder = RequestBuilder::new(&request.url)
            .method(method(request.method))
            .mode(RequestMode::Cors)
            // Tokens go in the Authorization header; never send cookies along.
            .credentials(RequestCredentials::Omit);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let sent = match &request.body {
            Some(body) => builder
                .header("Content-Type", body.content_type())
                .body(Uint8Array::from(body.to_bytes().as_slice()))
                .map_err(fail)?,
            None => builder.build().map_err(fail)?,
        };
        let response = sent.send().await.map_err(fail)?;
        // Only the headers the server exposes to CORS are visible here
        // (Retry-After, request-id: the emulator and Microsoft expose them).
        let headers = response.headers().entries().collect();
        let status = response.status();
        let body = response.binary().await.map_err(fail)?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct TimerSleeper;

impl Sleeper for TimerSleeper {
    async fn sleep(&self, millis: u64) {
        gloo_timers::future::TimeoutFuture::new(millis.min(u32::MAX as u64) as u32).await;
    }
}
