//! Installs what the commands need, and only what is missing, from the package
//! registries this project may reach (crates.io, npm, Debian, PyPI). Nothing is
//! downloaded from anywhere else: trunk must find wasm-bindgen and wasm-opt on
//! PATH at the exact versions it wants, or it would try GitHub and fail.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{output, run, succeeds};

pub const TRUNK_VERSION: &str = "0.21.14";
/// The npm `binaryen` package gives a wasm-opt that trunk accepts. Debian's
/// binaryen (108) is far older and produces a wasm that dies on load.
pub const BINARYEN_VERSION: &str = "132.0.0";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The PATH every child gets: our npm tools first, then cargo's bin.
pub struct Toolchain {
    pub path: OsString,
    pub root: PathBuf,
}

impl Toolchain {
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("PATH", &self.path)
            .env("TRUNK_SKIP_VERSION_CHECK", "true")
            .current_dir(&self.root);
        c
    }
}

fn tools_dir(root: &Path) -> PathBuf {
    root.join("target").join("tools")
}

pub fn toolchain(root: &Path) -> Toolchain {
    let mut dirs = vec![tools_dir(root).join("node_modules").join(".bin")];
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
    {
        dirs.push(home.join("bin"));
    }
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    Toolchain {
        path: std::env::join_paths(dirs).expect("PATH entries are valid"),
        root: root.to_path_buf(),
    }
}

fn say(what: &str) {
    println!("\nxtask: installing {what}");
}

/// What the page build needs: the wasm target, trunk, wasm-bindgen-cli at the
/// Cargo.lock version, and wasm-opt from npm.
pub fn ensure_web_build(tc: &Toolchain) -> Result<(), String> {
    ensure_wasm_target()?;
    ensure_cargo_tool(tc, "trunk", "trunk", TRUNK_VERSION, true)?;
    let bindgen = wasm_bindgen_version(&tc.root)?;
    ensure_cargo_tool(tc, "wasm-bindgen", "wasm-bindgen-cli", &bindgen, false)?;
    ensure_binaryen(tc)
}

/// What the tests need on top: Chromium and its driver, the interop tools,
/// and the Playwright driver library.
pub fn ensure_test_tools(tc: &Toolchain) -> Result<(), String> {
    ensure_web_build(tc)?;
    let mut debs = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        debs.push("chromium");
    }
    if !Path::new(CHROMEDRIVER).exists() {
        debs.push("chromium-driver");
    }
    if !succeeds("openssl", &["version"]) {
        debs.push("openssl");
    }
    if !succeeds("keytool", &["-help"]) {
        debs.push("default-jdk-headless");
    }
    if !succeeds("node", &["--version"]) || !succeeds("npm", &["--version"]) {
        debs.extend(["nodejs", "npm"]);
    }
    if !succeeds("python3", &["--version"]) {
        debs.extend(["python3", "python3-pip"]);
    }
    ensure_debs(&debs)?;
    ensure_python_cryptography()?;
    ensure_e2e_packages(tc)
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = output("rustup", &["target", "list", "--installed"]).ok_or(
        "rustup is not on PATH: install Rust with rustup (https://rustup.rs), then run this again",
    )?;
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    say("the Rust target wasm32-unknown-unknown");
    let mut c = Command::new("rustup");
    c.args(["target", "add", "wasm32-unknown-unknown"]);
    run(c).map_err(|e| format!("{e}\nInstall it by hand: rustup target add wasm32-unknown-unknown"))
}

/// `binary --version` must print `version`; otherwise `cargo install` it.
fn ensure_cargo_tool(
    tc: &Toolchain,
    binary: &str,
    krate: &str,
    version: &str,
    locked: bool,
) -> Result<(), String> {
    let mut probe = tc.command(binary);
    probe.arg("--version");
    if let Ok(out) = probe.output()
        && String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .any(|w| w.trim_start_matches('v') == version)
    {
        return Ok(());
    }
    say(&format!(
        "{krate} {version} from crates.io (a few minutes, once)"
    ));
    let mut c = tc.command("cargo");
    c.args(["install", krate, "--version", version]);
    if locked {
        c.arg("--locked");
    }
    run(c).map_err(|e| {
        format!(
            "{e}\nInstall it by hand: cargo install {}{krate} --version {version}",
            if locked { "--locked " } else { "" }
        )
    })
}

/// The `wasm-bindgen` version pinned in Cargo.lock: the CLI must match it exactly.
pub fn wasm_bindgen_version(root: &Path) -> Result<String, String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn ensure_binaryen(tc: &Toolchain) -> Result<(), String> {
    let mut probe = tc.command("wasm-opt");
    probe.arg("--version");
    let major = BINARYEN_VERSION.split('.').next().unwrap_or_default();
    if let Ok(out) = probe.output()
        && String::from_utf8_lossy(&out.stdout).contains(&format!("version_{major}"))
    {
        return Ok(());
    }
    say(&format!("wasm-opt (npm binaryen@{BINARYEN_VERSION})"));
    let dir = tools_dir(&tc.root);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut c = tc.command("npm");
    c.args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(format!("binaryen@{BINARYEN_VERSION}"));
    run(c).map_err(|e| {
        format!("{e}\nInstall Node.js and npm (apt-get install nodejs npm), then run this again")
    })
}

fn is_root() -> bool {
    output("id", &["-u"]).is_some_and(|s| s.trim() == "0")
}

fn ensure_debs(packages: &[&str]) -> Result<(), String> {
    if packages.is_empty() {
        return Ok(());
    }
    let list = packages.join(" ");
    if !is_root() {
        return Err(format!(
            "these Debian packages are missing and installing them needs root:\n  sudo apt-get install -y {list}"
        ));
    }
    say(&format!("Debian packages: {list}"));
    let mut update = Command::new("apt-get");
    update.arg("update");
    run(update).map_err(|e| format!("{e}\nInstall by hand: apt-get install -y {list}"))?;
    let mut install = Command::new("apt-get");
    install
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages);
    run(install).map_err(|e| format!("{e}\nInstall by hand: apt-get install -y {list}"))
}

fn ensure_python_cryptography() -> Result<(), String> {
    if !succeeds("python3", &["-c", "import cryptography"]) {
        say("Python cryptography (PyPI)");
        let mut c = Command::new("python3");
        c.args(["-m", "pip", "install", "--quiet", "cryptography"]);
        if run(c).is_err() {
            // Debian's externally-managed Python refuses pip: take Debian's package.
            ensure_debs(&["python3-cryptography"])?;
        }
    }
    // MSAL Python, for tests/msal_interop.rs.
    if !succeeds("python3", &["-c", "import msal"]) {
        say("Python msal (PyPI)");
        let mut c = Command::new("python3");
        c.args(["-m", "pip", "install", "--quiet", "msal"]);
        if run(c).is_err() {
            ensure_debs(&["python3-msal"])?;
        }
    }
    Ok(())
}

/// `npm ci` in tests/e2e when its node_modules is missing or older than the lock.
fn ensure_e2e_packages(tc: &Toolchain) -> Result<(), String> {
    let dir = tc.root.join("tests").join("e2e");
    let lock = dir.join("package-lock.json");
    let marker = dir.join("node_modules").join(".package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&marker)) {
        (Ok(l), Ok(m)) => m.modified().ok() >= l.modified().ok(),
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    say("playwright-core for the end-to-end tests (npm ci)");
    let mut c = tc.command("npm");
    c.current_dir(&dir).args(["ci", "--no-audit", "--no-fund"]);
    run(c)
}
