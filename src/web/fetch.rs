//! `fetch` behind the crate's HTTP trait, and a JS timer behind its sleeper:
//! the browser's side of every Graph, ARM and token call.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::http::{HttpClient, HttpRequest, HttpResponse, Sleeper, TransportError};

#[derive(Clone, Copy, Debug, Default)]
pub struct FetchClient;

fn transport(url: &str, e: JsValue) -> TransportError {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "the request failed".into());
    TransportError {
        url: url.to_string(),
        detail,
    }
}

impl HttpClient for FetchClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = request.url.clone();
        let fail = |e| transport(&url, e);
        let headers = web_sys::Headers::new().map_err(fail)?;
        for (name, value) in &request.headers {
            headers.append(name, value).map_err(fail)?;
        }
        let init = web_sys::RequestInit::new();
        init.set_method(request.method.as_str());
        init.set_mode(web_sys::RequestMode::Cors);
        // Tokens go in the Authorization header; never send cookies along.
        init.set_credentials(web_sys::RequestCredentials::Omit);
        if let Some(body) = &request.body {
            headers
                .set("Content-Type", body.content_type())
                .map_err(fail)?;
            init.set_body(&Uint8Array::from(body.to_bytes().as_slice()).into());
        }
        init.set_headers(&headers);
        let window = web_sys::window().ok_or_else(|| fail("no window".into()))?;
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(&url, &init))
                .await
                .map_err(fail)?
                .unchecked_into();
        let mut out_headers = Vec::new();
        if let Ok(Some(iter)) = js_sys::try_iter(&response.headers()) {
            for pair in iter.flatten() {
                let pair: js_sys::Array = pair.unchecked_into();
                if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                    out_headers.push((k, v));
                }
            }
        }
        let buffer = JsFuture::from(response.array_buffer().map_err(fail)?)
            .await
            .map_err(fail)?;
        Ok(HttpResponse {
            status: response.status(),
            headers: out_headers,
            body: Uint8Array::new(&buffer).to_vec(),
        })
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct TimerSleeper;

impl Sleeper for TimerSleeper {
    async fn sleep(&self, millis: u64) {
        let promise = Promise::new(&mut |resolve, _| {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                    &resolve,
                    millis.min(i32::MAX as u64) as i32,
                );
            }
        });
        let _ = JsFuture::from(promise).await;
    }
}
