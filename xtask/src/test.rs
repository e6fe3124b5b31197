//! `cargo xtask test`: every test, each runner's summary, and one total.

use std::process::Command;

use crate::process::run_teed;
use crate::tools::{self, CHROMEDRIVER, CHROMIUM, Toolchain};
use crate::{emulator, root, site};

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    broken: Vec<String>,
}

impl Tally {
    /// Runs one test runner, echoing it, and adds what it reports.
    fn runner(&mut self, name: &str, cmd: Command) {
        println!("\n==> {name}");
        match run_teed(cmd) {
            Ok((ok, lines)) => {
                let (p, f) = count(&lines);
                self.passed += p;
                self.failed += f;
                println!("==> {name}: {p} passed, {f} failed");
                if !ok || (p == 0 && f == 0) {
                    self.broken.push(if ok {
                        format!("{name}: ran no test")
                    } else {
                        format!("{name}: exited with an error")
                    });
                }
            }
            Err(e) => self.broken.push(format!("{name}: {e}")),
        }
    }
}

/// Reads cargo's `test result: ok. N passed; M failed` lines and node's
/// `# pass N` / `# fail N` lines.
fn count(lines: &[String]) -> (u64, u64) {
    let num = |s: &str| {
        s.split_whitespace()
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (mut passed, mut failed) = (0, 0);
    for line in lines {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("test result: ") {
            for part in rest.split(';') {
                let part = part
                    .trim()
                    .trim_start_matches("ok. ")
                    .trim_start_matches("FAILED. ");
                if part.ends_with(" passed") {
                    passed += num(part);
                } else if part.ends_with(" failed") {
                    failed += num(part);
                }
            }
        } else if let Some(n) = l.strip_prefix("# pass ") {
            passed += num(n);
        } else if let Some(n) = l.strip_prefix("# fail ") {
            failed += num(n);
        }
    }
    (passed, failed)
}

/// Which runners a `cargo xtask test` call runs, and which e2e files.
#[derive(Debug, PartialEq, Eq)]
struct Selection {
    native: bool,
    browser: bool,
    e2e: bool,
    /// After `--`: e2e test files (all of them when empty).
    e2e_files: Vec<String>,
}

fn select(args: &[String]) -> Result<Selection, String> {
    let (flags, files) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], args[i + 1..].to_vec()),
        None => (args, Vec::new()),
    };
    let mut s = Selection {
        native: true,
        browser: true,
        e2e: true,
        e2e_files: files,
    };
    let mut it = flags.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--no-e2e" => s.e2e = false,
            "--only" => {
                let which = it.next().map(String::as_str);
                s.native = which == Some("native");
                s.browser = which == Some("browser");
                s.e2e = which == Some("e2e");
                if !(s.native || s.browser || s.e2e) {
                    return Err("--only takes native, browser or e2e".into());
                }
            }
            other => return Err(format!("unknown option '{other}' for test")),
        }
    }
    Ok(s)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let selection = select(args)?;
    let root = root();
    let tc = tools::toolchain(&root);
    tools::ensure_test_tools(&tc)?;
    let mut tally = Tally::default();

    if selection.native {
        let mut native = tc.command("cargo");
        native.args(["test", "--workspace"]);
        tally.runner("native tests (cargo test --workspace)", native);
    }

    if selection.browser {
        tally.runner(
            "browser tests (wasm-bindgen-test in headless Chromium)",
            wasm_tests(&tc),
        );
    }

    if selection.e2e {
        // The page talks to a fresh demo tenant on a free port: its
        // config.json (copied into dist by the build) is rewritten to it.
        let setup = site::build(&tc, false)
            .and_then(|()| emulator::page_on_emulator(&tc, emulator::Build::Debug));
        match setup {
            Ok((emulator, addr)) => {
                tally.runner(
                    "end-to-end tests (Playwright in Chromium)",
                    e2e_tests(
                        &tc,
                        &format!("http://{addr}"),
                        &emulator.url,
                        &selection.e2e_files,
                    ),
                );
                drop(emulator);
            }
            Err(e) => tally.broken.push(format!("end-to-end setup: {e}")),
        }
    }

    println!("\n==> summary");
    for b in &tally.broken {
        println!("  problem: {b}");
    }
    println!("total: {} passed, {} failed", tally.passed, tally.failed);
    if tally.failed > 0 || !tally.broken.is_empty() {
        Err("some tests failed".into())
    } else {
        Ok(())
    }
}

fn wasm_tests(tc: &Toolchain) -> Command {
    let mut c = tc.command("cargo");
    c.args([
        "test",
        "-p",
        "entra-wizard",
        "--target",
        "wasm32-unknown-unknown",
        "--test",
        "web",
    ])
    .env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        "wasm-bindgen-test-runner",
    )
    .env("CHROMEDRIVER", CHROMEDRIVER)
    .env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    c
}

fn e2e_tests(tc: &Toolchain, base_url: &str, emulator_url: &str, files: &[String]) -> Command {
    let tmp = tc.root.join("target").join("e2e");
    let _ = std::fs::create_dir_all(&tmp);
    let mut c = tc.command("node");
    c.current_dir(tc.root.join("tests").join("e2e"))
        .args(["--test", "--test-concurrency=1"])
        .args(files)
        .env("E2E_BASE_URL", base_url)
        .env("E2E_EMULATOR_URL", emulator_url)
        .env("E2E_CHROMIUM", CHROMIUM)
        .env("E2E_TMP", &tmp)
        .env("TMPDIR", &tmp);
    c
}

#[cfg(test)]
mod tests {
    use super::{count, select};

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn selects_runners_and_e2e_files() {
        let all = select(&[]).unwrap();
        assert!(all.native && all.browser && all.e2e && all.e2e_files.is_empty());
        let no_e2e = select(&args("--no-e2e")).unwrap();
        assert!(no_e2e.native && no_e2e.browser && !no_e2e.e2e);
        let some = select(&args("--only e2e -- a.test.mjs b.test.mjs")).unwrap();
        assert!(!some.native && !some.browser && some.e2e);
        assert_eq!(some.e2e_files, ["a.test.mjs", "b.test.mjs"]);
        assert!(select(&args("--only nothing")).is_err());
        assert!(select(&args("--fast")).is_err());
    }

    #[test]
    fn counts_cargo_and_node_summaries() {
        let lines: Vec<String> = [
            "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out",
            "test result: FAILED. 2 passed; 1 failed; 0 ignored",
            "# pass 4",
            "# fail 1",
            "ok 1 - unrelated line 9 passed",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(count(&lines), (9, 2));
    }
}
