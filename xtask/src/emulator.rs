//! The release page served next to a fresh demo tenant on free ports, as
//! the end-to-end tests and the browser benchmarks use it.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::site;
use crate::tools::Toolchain;

/// Starts the emulator, points the built page (dist/) at it and serves the
/// page; both stop when the returned [`Emulator`] is dropped (the page's
/// server lives as long as the process).
/// How the emulator is compiled: the tests use the debug build (shared
/// with `cargo test`), the benchmarks an optimised one, so that what they
/// time is the page and not a debug server serialising 10,000 applications.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Build {
    Debug,
    Release,
}

pub fn page_on_emulator(tc: &Toolchain, build: Build) -> Result<(Emulator, SocketAddr), String> {
    let dist = site::dist(&tc.root);
    let emulator = Emulator::start(tc, build)?;
    write_config(&dist, &emulator.url)?;
    site::allow_emulator(&dist, &emulator.url)?;
    let addr = site::serve_static(dist, "127.0.0.1:0")?;
    Ok((emulator, addr))
}

/// The emulator with the demo seed on a free port; stopped when dropped.
pub struct Emulator {
    child: Child,
    pub url: String,
}

impl Emulator {
    fn start(tc: &Toolchain, build: Build) -> Result<Emulator, String> {
        let mut cargo = tc.command("cargo");
        cargo.args(["build", "-p", "entra-emulator"]);
        if build == Build::Release {
            cargo.arg("--release");
        }
        crate::process::run(cargo)?;
        let profile = match build {
            Build::Debug => "debug",
            Build::Release => "release",
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port for the emulator: {e}"))?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = tc
            .command(
                &tc.root
                    .join("target")
                    .join(profile)
                    .join("entra-emulator")
                    .to_string_lossy(),
            )
            .args(["--listen", &addr, "--seed", "demo"])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the emulator: {e}"))?;
        let emulator = Emulator {
            child,
            url: format!("http://{addr}"),
        };
        for _ in 0..200 {
            if TcpStream::connect(&addr).is_ok() {
                return Ok(emulator);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("the emulator did not start listening on {addr}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The page's config.json for the demo tenant on the emulator at `url`.
fn write_config(dist: &std::path::Path, url: &str) -> Result<(), String> {
    let config = serde_json::json!({
        "cloud": "local",
        "localBaseUrl": url,
        "clientId": DEMO_CLIENT_ID,
        "tenant": "contoso.onmicrosoft.com",
    });
    std::fs::write(
        dist.join("config.json"),
        serde_json::to_string_pretty(&config).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("cannot write dist/config.json: {e}"))
}

/// The page's sign-in client in the emulator's demo seed.
const DEMO_CLIENT_ID: &str = "3c9f1e2a-7d4b-4a8e-b6c5-1f0e9d8c7b6a";
