//! A local Microsoft Entra ID + Microsoft Graph + Azure Resource Manager.
//!
//! `/login` stands for `https://login.microsoftonline.com`, `/graph` for
//! `https://graph.microsoft.com` and `/arm` for `https://management.azure.com`;
//! under each prefix paths, payloads, status codes and error envelopes are
//! Microsoft's. `/_emulator` is the control API (see README.md).

pub mod arm;
pub mod certs;
pub mod clock;
pub mod control;
pub mod faults;
pub mod graph;
pub mod http;
pub mod identity;
pub mod ids;
pub mod known;
pub mod seed;
pub mod state;
pub mod tls;
pub mod tokens;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::faults::{FaultConfig, Faults};
use crate::identity::Sessions;
use crate::state::Directory;
use crate::tokens::TokenKeys;

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `demo`, `empty` or `large:N`.
    pub seed: String,
    /// Save the state as JSON here on every change, and load it on start.
    pub state_file: Option<PathBuf>,
    pub faults: FaultConfig,
    /// Also serve HTTPS here (a certificate generated at start).
    pub tls_listen: Option<SocketAddr>,
    /// Write the HTTPS listener's CA certificate (PEM) here.
    pub tls_ca_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: "demo".into(),
            state_file: None,
            faults: FaultConfig::default(),
            tls_listen: None,
            tls_ca_file: None,
        }
    }
}

/// One entry of the request log (`GET /_emulator/requests`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub time: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub origin: Option<String>,
    pub request_body: String,
    /// The `Prefer` header, when sent (`create-if-missing` makes a PATCH an
    /// upsert).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefer: Option<String>,
    /// Set on an item of a `$batch`: the batch's request-id and the item's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<http::BatchItem>,
}

/// The shared state behind every handler.
pub struct Emulator {
    pub base_url: String,
    pub clock: Clock,
    pub keys: TokenKeys,
    pub dir: Mutex<Directory>,
    pub sessions: Mutex<Sessions>,
    pub faults: Mutex<Faults>,
    pub log: Mutex<Vec<LogEntry>>,
    pub seed_spec: Mutex<String>,
    pub state_file: Option<PathBuf>,
}

pub type Shared = Arc<Emulator>;

/// Locks a mutex, recovering from poisoning (a panicking handler must not
/// take the whole emulator down).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

tokio::task_local! {
    /// The scheme and authority a request came in on, when it is not
    /// [`Emulator::base_url`] (the HTTPS listener).
    static PUBLIC_BASE: String;
}

impl Emulator {
    /// `http://127.0.0.1:PORT`, or `https://127.0.0.1:PORT` while answering a
    /// request that came in on the HTTPS listener: discovery documents, token
    /// audiences and next links name the endpoint the client used.
    pub fn public_base(&self) -> String {
        PUBLIC_BASE
            .try_with(Clone::clone)
            .unwrap_or_else(|_| self.base_url.clone())
    }
    pub fn login_url(&self) -> String {
        format!("{}/login", self.public_base())
    }
    pub fn graph_url(&self) -> String {
        format!("{}/graph", self.public_base())
    }
    pub fn arm_url(&self) -> String {
        format!("{}/arm", self.public_base())
    }

    /// Writes the state file, if one is configured.
    pub fn persist(&self) {
        if let Some(path) = &self.state_file {
            let json = serde_json::to_vec_pretty(&*lock(&self.dir)).expect("state serialises");
            if let Err(e) = std::fs::write(path, json) {
                eprintln!("entra-emulator: cannot write {}: {e}", path.display());
            }
        }
    }

    /// Replaces the whole state with a fresh seed.
    pub fn reseed(&self, spec: &str) -> Result<(), String> {
        let dir = seed::build(spec, self.clock.now())?;
        *lock(&self.dir) = dir;
        *lock(&self.sessions) = Sessions::default();
        *lock(&self.seed_spec) = spec.to_string();
        self.persist();
        Ok(())
    }
}

/// A running emulator; dropping it does not stop it, call [`RunningEmulator::stop`].
pub struct RunningEmulator {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    pub login_url: String,
    pub graph_url: String,
    pub arm_url: String,
    pub addr: SocketAddr,
    /// `https://127.0.0.1:PORT` when [`Config::tls_listen`] is set.
    pub tls_url: Option<String>,
    /// The CA (PEM) behind the HTTPS listener's certificate.
    pub tls_ca_pem: Option<String>,
    pub emulator: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningEmulator {
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }

    /// The `GET /_emulator/seed` description of the tenant.
    pub fn seed(&self) -> serde_json::Value {
        control::describe(&self.emulator)
    }

    /// Waits until the server ends (it ends only when stopped).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

pub fn router(emu: Shared) -> Router {
    Router::new()
        .merge(identity::router())
        .merge(graph::router())
        .merge(arm::router())
        .merge(control::router())
        .merge(http::throttle_router())
        .layer(axum::middleware::from_fn_with_state(
            emu.clone(),
            http::edge,
        ))
        .with_state(emu)
}

/// Binds, seeds (or loads the state file) and serves in the background.
pub async fn start(config: Config) -> std::io::Result<RunningEmulator> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    let clock = Clock::default();
    let loaded = match &config.state_file {
        Some(path) if path.exists() => {
            let text = std::fs::read(path)?;
            Some(
                serde_json::from_slice::<Directory>(&text)
                    .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?,
            )
        }
        _ => None,
    };
    let dir = match loaded {
        Some(d) => d,
        None => seed::build(&config.seed, clock.now()).map_err(std::io::Error::other)?,
    };
    let emu = Arc::new(Emulator {
        base_url: base_url.clone(),
        clock,
        keys: TokenKeys::new(),
        dir: Mutex::new(dir),
        sessions: Mutex::new(Sessions::default()),
        faults: Mutex::new(Faults::new(config.faults.clone())),
        log: Mutex::new(Vec::new()),
        seed_spec: Mutex::new(config.seed.clone()),
        state_file: config.state_file.clone(),
    });
    emu.persist();
    let app = router(emu.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let (tls_tx, tls_rx) = tokio::sync::watch::channel(false);
    let mut tls_url = None;
    let mut tls_ca_pem = None;
    let mut tls_task = None;
    if let Some(tls_addr) = config.tls_listen {
        let material = tls::generate(emu.clock.now());
        if let Some(path) = &config.tls_ca_file {
            std::fs::write(path, &material.ca_pem)?;
        }
        let tcp = TcpListener::bind(tls_addr).await?;
        let https = format!("https://{}", tcp.local_addr()?);
        let listener = tls::TlsListener::new(tcp, material.server_config)?;
        let public = https.clone();
        let tls_app = app.clone().layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                PUBLIC_BASE.scope(public.clone(), next.run(req))
            },
        ));
        let mut stop = tls_rx;
        tls_task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, tls_app)
                .with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                })
                .await;
        }));
        tls_url = Some(https);
        tls_ca_pem = Some(material.ca_pem);
    }
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
        let _ = tls_tx.send(true);
        if let Some(t) = tls_task {
            let _ = t.await;
        }
    });
    Ok(RunningEmulator {
        login_url: emu.login_url(),
        graph_url: emu.graph_url(),
        arm_url: emu.arm_url(),
        base_url,
        addr,
        tls_url,
        tls_ca_pem,
        emulator: emu,
        shutdown: Some(tx),
        task,
    })
}
