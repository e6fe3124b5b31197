//! `cargo xtask serve`: the page on http://127.0.0.1:8080 next to the demo
//! tenant (the emulator on http://127.0.0.1:8400).

use crate::process;
use crate::{root, site, tools};

pub const EMULATOR_ADDR: &str = "127.0.0.1:8400";

pub fn run(args: &[String]) -> Result<(), String> {
    let dev = args.iter().any(|a| a == "--dev");
    let port = match args
        .iter()
        .position(|a| a == "--port")
        .map(|i| args.get(i + 1))
    {
        None => 8080,
        Some(Some(p)) => p
            .parse::<u16>()
            .map_err(|_| format!("--port takes a number, not '{p}'"))?,
        Some(None) => return Err("--port takes a number".into()),
    };
    let root = root();
    let tc = tools::toolchain(&root);
    tools::ensure_web_build(&tc)?;
    site::build(&tc, dev)?;
    site::allow_emulator(&site::dist(&root), &format!("http://{EMULATOR_ADDR}"))?;

    // Ctrl+C reaches the emulator too: it shares our process group.
    let mut build = tc.command("cargo");
    build.args(["build", "-p", "entra-emulator"]);
    process::run(build)?;
    let mut emulator = tc.command(&root.join("target/debug/entra-emulator").to_string_lossy());
    emulator.args(["--listen", EMULATOR_ADDR, "--seed", "demo"]);
    let mut child = emulator
        .spawn()
        .map_err(|e| format!("cannot start the emulator: {e}"))?;

    let addr = site::serve_static(site::dist(&root), &format!("127.0.0.1:{port}"));
    let addr = match addr {
        Ok(a) => a,
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    };
    println!("\nentra-wizard is served on http://{addr}");
    println!("the demo tenant (emulator) is on http://{EMULATOR_ADDR}: users and passwords above");
    println!("Ctrl+C stops both");
    let status = child.wait().map_err(|e| e.to_string())?;
    Err(format!("the emulator stopped ({status})"))
}
