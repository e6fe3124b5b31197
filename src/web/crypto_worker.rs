//! The page's side of its crypto worker: the certificate operations
//! (generate, open a PFX or certificate file, re-export) run in a Web Worker
//! of their own wasm (`src/bin/crypto-worker.rs`), started on first use — so
//! the crypto is not part of the page's first load, and the page stays
//! responsive while a heavy PFX opens. [`cancel`] stops it mid-way.
//!
//! The worker is this page's own origin (`worker-src 'self'`), and a private
//! key never comes back from it: the page gets certificates and
//! password-protected PFX files. Passwords and files go to it in a
//! transferred buffer whose copies are zeroized.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect};
use rand_core::CryptoRngCore;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker};
use zeroize::Zeroizing;

use super::worker::{take_bytes, to_message};
use crate::core::generate::GenerateRequest;
use crate::core::pfx::ExportMode;
use crate::core::time::UnixTime;
use crate::core::tools::{
    CertificateSet, CertificateTools, GeneratedFiles, Op, OpenedFile, Output, PROTOCOL, Reply,
    Request, ToolError,
};

use crate::core::tools::WORKER_LOADER;

/// Shown what the worker is doing (a [`crate::core::tools::Progress`]'s sentence).
type OnProgress = Rc<dyn Fn(&str)>;
type Slot = Rc<RefCell<Option<Result<Output, ToolError>>>>;

struct Pending {
    resolve: Function,
    slot: Slot,
    progress: Option<OnProgress>,
}

struct Running {
    worker: Worker,
    ready: bool,
    /// Requests sent before the worker listens.
    queue: Vec<js_sys::Uint8Array>,
    pending: HashMap<u32, Pending>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

thread_local! {
    static WORKER: RefCell<Option<Running>> = const { RefCell::new(None) };
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

fn send(worker: &Worker, message: &js_sys::Uint8Array) {
    let _ = worker.post_message_with_transfer(message, &Array::of1(&message.buffer()));
}

fn settle(pending: Pending, result: Result<Output, ToolError>) {
    *pending.slot.borrow_mut() = Some(result);
    let _ = pending.resolve.call0(&JsValue::UNDEFINED);
}

/// Stops the worker; every request still waiting ends with `error`.
fn stop(error: ToolError) {
    let Some(running) = WORKER.with_borrow_mut(Option::take) else {
        return;
    };
    let Running {
        worker,
        pending,
        _on_message,
        _on_error,
        ..
    } = running;
    worker.terminate();
    // Called from these very listeners: dropping them now would free a
    // closure while it runs. A stopped worker leaks two small closures.
    _on_message.forget();
    _on_error.forget();
    for (_, pending) in pending {
        settle(pending, Err(error.clone()));
    }
}

fn on_message(ev: MessageEvent) {
    let bytes = take_bytes(&ev.data());
    let reply = match serde_json::from_slice::<Reply>(&bytes) {
        Ok(r) => r,
        Err(e) => return stop(ToolError::Unavailable(format!("unreadable answer: {e}"))),
    };
    let (id, result) = match reply {
        Reply::Ready(protocol) if protocol != PROTOCOL => {
            return stop(ToolError::Unavailable(
                "the page and its cached worker are of different versions".into(),
            ));
        }
        Reply::Ready(_) => {
            WORKER.with_borrow_mut(|w| {
                if let Some(r) = w {
                    r.ready = true;
                    for message in r.queue.drain(..) {
                        send(&r.worker, &message);
                    }
                }
            });
            return;
        }
        Reply::Progress(id, stage) => {
            let report = WORKER.with_borrow(|w| {
                w.as_ref()
                    .and_then(|r| r.pending.get(&id))
                    .and_then(|p| p.progress.clone())
            });
            if let Some(report) = report {
                report(&stage);
            }
            return;
        }
        Reply::Done(id, result) => (id, result),
    };
    let pending = WORKER.with_borrow_mut(|w| w.as_mut().and_then(|r| r.pending.remove(&id)));
    if let Some(pending) = pending {
        settle(pending, result);
    }
}

fn start() -> Result<Running, ToolError> {
    let worker = Worker::new(WORKER_LOADER).map_err(|e| ToolError::Unavailable(describe(&e)))?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(on_message);
    // A worker that cannot load (offline and never cached) or that traps.
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(|ev: web_sys::Event| {
        ev.prevent_default();
        let message = Reflect::get(&ev, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "its script did not load".into());
        stop(ToolError::Unavailable(message));
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Ok(Running {
        worker,
        ready: false,
        queue: Vec::new(),
        pending: HashMap::new(),
        _on_message: on_message,
        _on_error: on_error,
    })
}

fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// Sends `op` to the worker (starting it if needed) and waits for its answer.
async fn call(op: Op, progress: Option<OnProgress>) -> Result<Output, ToolError> {
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1).max(1));
        id
    });
    let message = to_message(&Request { id, op }).map_err(ToolError::Unavailable)?;
    let slot: Slot = Rc::new(RefCell::new(None));
    let mut resolve = None;
    let promise = Promise::new(&mut |r, _| resolve = Some(r));
    let resolve = resolve.ok_or_else(|| ToolError::Unavailable("no promise".into()))?;
    WORKER.with_borrow_mut(|w| {
        if w.is_none() {
            *w = Some(start()?);
        }
        let Some(running) = w.as_mut() else {
            return Err(ToolError::Unavailable("the worker did not start".into()));
        };
        running.pending.insert(
            id,
            Pending {
                resolve,
                slot: slot.clone(),
                progress,
            },
        );
        if running.ready {
            send(&running.worker, &message);
        } else {
            running.queue.push(message);
        }
        Ok(())
    })?;
    let _ = JsFuture::from(promise).await;
    slot.borrow_mut()
        .take()
        .unwrap_or(Err(ToolError::Cancelled))
}

fn unexpected(output: Output) -> ToolError {
    ToolError::Unavailable(format!("unexpected answer {output:?}"))
}

/// Stops whatever the worker is doing (a heavy PFX, a key): the waiting
/// operations end with [`ToolError::Cancelled`], and the next one starts a
/// fresh worker. A kept PFX is forgotten with it.
pub fn cancel() {
    stop(ToolError::Cancelled);
}

/// The certificate tools in the page's worker.
#[derive(Clone, Copy, Debug, Default)]
pub struct CryptoWorker;

impl CryptoWorker {
    /// [`CertificateTools::make_certificate`], reporting its progress.
    pub async fn generate(
        &self,
        request: &GenerateRequest,
        password: &str,
        now: UnixTime,
        progress: Option<OnProgress>,
    ) -> Result<GeneratedFiles, ToolError> {
        let op = Op::Generate {
            request: request.clone(),
            password: Zeroizing::new(password.to_string()),
            now,
        };
        match call(op, progress).await? {
            Output::Generated(files) => Ok(files),
            other => Err(unexpected(other)),
        }
    }

    /// [`CertificateTools::open_file`], reporting its progress; `keep`
    /// keeps the opened PFX in the worker for [`CryptoWorker::export`].
    pub async fn open(
        &self,
        file_name: Option<&str>,
        data: &[u8],
        password: Option<&str>,
        keep: bool,
        progress: Option<OnProgress>,
    ) -> Result<OpenedFile, ToolError> {
        let op = Op::Open {
            file_name: file_name.map(str::to_string),
            data: Zeroizing::new(data.to_vec()),
            password: password.map(|p| Zeroizing::new(p.to_string())),
            keep,
        };
        match call(op, progress).await? {
            Output::Opened(file) => Ok(file),
            other => Err(unexpected(other)),
        }
    }

    /// The kept PFX written again in `format` under `password`.
    pub async fn export(
        &self,
        format: ExportMode,
        password: &str,
    ) -> Result<Zeroizing<Vec<u8>>, ToolError> {
        let op = Op::Export {
            format,
            password: Zeroizing::new(password.to_string()),
        };
        match call(op, None).await? {
            Output::Exported(pfx) => Ok(pfx),
            other => Err(unexpected(other)),
        }
    }

    /// A certificate for each of `requests` (each its own WebCrypto key,
    /// every PFX under `password`) and the zip of their PFX files
    /// ([`crate::core::tools::make_set`], run in the worker), reporting
    /// which one it is making.
    pub async fn generate_set(
        &self,
        requests: Vec<GenerateRequest>,
        password: &str,
        now: UnixTime,
        progress: Option<OnProgress>,
    ) -> Result<CertificateSet, ToolError> {
        let op = Op::GenerateSet {
            requests,
            password: Zeroizing::new(password.to_string()),
            now,
        };
        match call(op, progress).await? {
            Output::GeneratedSet(set) => Ok(set),
            other => Err(unexpected(other)),
        }
    }

    /// Forgets the kept PFX (a running worker only: none means none kept).
    pub async fn close(&self) {
        if WORKER.with_borrow(Option::is_some) {
            let _ = call(Op::Close, None).await;
        }
    }
}

impl CertificateTools for CryptoWorker {
    /// `_rng` is unused: the worker draws the serial and salts from the
    /// browser's randomness, where the key is.
    async fn make_certificate(
        &self,
        request: &GenerateRequest,
        password: &str,
        now: UnixTime,
        _rng: &mut impl CryptoRngCore,
    ) -> Result<GeneratedFiles, ToolError> {
        self.generate(request, password, now, None).await
    }

    async fn open_file(
        &self,
        file_name: Option<&str>,
        data: &[u8],
        password: Option<&str>,
    ) -> Result<OpenedFile, ToolError> {
        self.open(file_name, data, password, false, None).await
    }
}
