//! Inside the page's crypto worker (`src/bin/crypto-worker.rs`): answers the
//! page's [`Request`]s with the signing core — keys from WebCrypto, PBES2
//! keys from WebCrypto's PBKDF2, the rest in Rust — off the page's thread.
//! A private key stays in this worker: the page gets certificates and
//! password-protected PFX files only. Messages travel as JSON bytes in a
//! transferred buffer, and every copy is zeroized once read.

use std::cell::RefCell;

use js_sys::{Array, Uint8Array};
use rand_core::OsRng;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};
use zeroize::Zeroizing;

use crate::core::inspect::{self, Opened};
use crate::core::pfx::{self, Imported};
use crate::core::tools::{
    self, CertificateTools, Op, OpenedFile, Output, PROTOCOL, Progress, Reply, Request, ToolError,
};
use crate::web::webcrypto::{WebCryptoKeyGenerator, WebCryptoPbkdf2};

thread_local! {
    /// The PFX the page opened to convert (one at a time).
    static KEPT: RefCell<Option<Imported>> = const { RefCell::new(None) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// The bytes of a message, its JS copy overwritten.
pub(crate) fn take_bytes(data: &wasm_bindgen::JsValue) -> Zeroizing<Vec<u8>> {
    let view = Uint8Array::new(data);
    let bytes = Zeroizing::new(view.to_vec());
    view.fill(0, 0, view.length());
    bytes
}

/// JSON bytes in a buffer of their own, for a transferring `postMessage`.
pub(crate) fn to_message(value: &impl serde::Serialize) -> Result<Uint8Array, String> {
    let bytes = Zeroizing::new(serde_json::to_vec(value).map_err(|e| e.to_string())?);
    Ok(Uint8Array::from(&bytes[..]))
}

fn post(reply: &Reply) {
    let Ok(message) = to_message(reply) else {
        return;
    };
    let _ = scope().post_message_with_transfer(&message, &Array::of1(&message.buffer()));
}

fn progress(id: u32, stage: Progress) {
    post(&Reply::Progress(id, stage.to_string()));
}

/// Listens to the page, then says it is ready (messages sent before that
/// wait in the page).
pub fn start() {
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        let bytes = take_bytes(&ev.data());
        wasm_bindgen_futures::spawn_local(async move {
            match serde_json::from_slice::<Request>(&bytes) {
                Ok(request) => {
                    let id = request.id;
                    post(&Reply::Done(id, answer(request).await))
                }
                Err(e) => post(&Reply::Done(
                    0,
                    Err(ToolError::Unavailable(format!("unreadable request: {e}"))),
                )),
            }
        });
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The listener lives as long as the worker.
    on_message.forget();
    post(&Reply::Ready(PROTOCOL));
}

async fn answer(Request { id, op }: Request) -> Result<Output, ToolError> {
    match op {
        Op::Generate {
            request,
            password,
            now,
        } => {
            progress(id, Progress::GeneratingKey(request.key_size));
            WebCryptoKeyGenerator
                .make_certificate(&request, &password, now, &mut OsRng)
                .await
                .map(Output::Generated)
        }
        Op::Open {
            file_name,
            data,
            password,
            keep,
        } => {
            let mut report = |stage| progress(id, Progress::Open(stage));
            let opened = inspect::open_with(
                &data,
                file_name.as_deref(),
                password.as_ref().map(|p| p.as_str()),
                &WebCryptoPbkdf2,
                &mut report,
            )
            .await;
            let opened = opened?;
            let file = OpenedFile::of(&opened);
            if keep {
                KEPT.set(match opened {
                    Opened::Pfx { imported, .. } => Some(*imported),
                    Opened::Certificates(_) => None,
                });
            }
            Ok(Output::Opened(file))
        }
        Op::Export { format, password } => {
            progress(id, Progress::BuildingPfx);
            let exported = KEPT.with_borrow(|kept| {
                let kept = kept.as_ref().ok_or(ToolError::Closed)?;
                let (key, leaf) = kept.usable_for_entra()?;
                let name = kept
                    .leaf_friendly_name
                    .clone()
                    .or_else(|| leaf.info().ok().and_then(|i| i.subject_cn));
                pfx::export(
                    key,
                    leaf,
                    &kept.others,
                    name.as_deref(),
                    &password,
                    format,
                    &mut OsRng,
                )
                .map_err(ToolError::from)
            });
            exported.map(|pfx| Output::Exported(Zeroizing::new(pfx)))
        }
        Op::Close => {
            KEPT.set(None);
            Ok(Output::Closed)
        }
        Op::GenerateSet {
            requests,
            password,
            now,
        } => tools::make_set(
            &WebCryptoKeyGenerator,
            &requests,
            &password,
            now,
            &mut OsRng,
            |stage| progress(id, stage),
        )
        .await
        .map(Output::GeneratedSet),
    }
}
