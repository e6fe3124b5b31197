//! `cargo xtask serve | test | bench`: the project's only entry points. Each
//! installs what it is missing (and says so) before it does its work, so a
//! fresh machine needs nothing but Rust, and the package registries.

mod bench;
mod emulator;
mod fuzz;
mod process;
mod serve;
mod site;
mod test;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command '{other}'\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nxtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "\
cargo xtask serve [--dev] [--port N]   build the page and serve it on http://127.0.0.1:8080
                                       next to the demo tenant (the emulator)
cargo xtask test [--no-e2e]            install what is missing, then run every test
                 [--only native|browser|e2e] [-- E2E_FILES...]
                                       only one runner; only some Playwright files
cargo xtask bench [--runs N] [--size]  time generate/inspect in Chromium against OpenSSL, and the page size
                                       against its budget (--size: only the size); non-zero over budget;
                  [--dashboard]        the dashboard over a large tenant (--dashboard: only that)
                  [--bulk]             bulk renewal of 500 secrets under Microsoft's quota (--bulk: only that)
cargo xtask fuzz [--seconds N]         fuzz each parser of untrusted input for N s (default 60), or
                 [--execs N]           for about N executions each, with AFL++; prints executions,
                 [--target NAME]       crashes and hangs; non-zero on a crash
";

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}
