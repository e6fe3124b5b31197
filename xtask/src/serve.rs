//! `cargo xtask serve`: the page on http://127.0.0.1:8080 with the demo tenant.

use crate::{root, site, tools};

pub fn run(args: &[String]) -> Result<(), String> {
    let dev = args.iter().any(|a| a == "--dev");
    let port = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(8080), |p| {
            p.parse::<u16>()
                .map_err(|_| format!("--port takes a number, not '{p}'"))
        })?;
    let root = root();
    let tc = tools::toolchain(&root);
    tools::ensure_web_build(&tc)?;
    site::build(&tc, dev)?;
    let addr = site::serve_static(site::dist(&root), &format!("127.0.0.1:{port}"))?;
    println!("\nentra-wizard is served on http://{addr}  (Ctrl+C stops it)");
    loop {
        std::thread::park();
    }
}
