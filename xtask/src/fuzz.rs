//! `cargo xtask fuzz [--seconds N | --execs N] [--target NAME]`: coverage-guided fuzzing
//! of every parser that takes untrusted input (the targets in
//! `fuzz/src/bin/`), with AFL++ through afl.rs.
//!
//! afl.rs builds on stable Rust (its instrumentation is LLVM's sanitizer
//! coverage, which stable rustc exposes as `-C passes=sancov-module`),
//! whereas cargo-fuzz's libFuzzer needs nightly's `-Z sanitizer`. cargo-afl
//! comes from crates.io and builds AFL++ from the source it bundles, with
//! the system's C compiler: nothing is downloaded from anywhere else.
//!
//! Each target runs alone (one `afl-fuzz`, no `-M`/`-S` parallel mode) for
//! N seconds, or until about N executions (`--execs`, AFL's `-E`), from its
//! seed corpus `fuzz/corpus/<target>/`; the findings go
//! to `fuzz/target/afl/<target>/` (emptied before each run). A crash makes
//! the command fail and names the input that caused it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::process;
use crate::root;
use crate::tools::{self, Toolchain};

/// cargo-afl from crates.io; `afl` in fuzz/Cargo.toml is the same release.
pub const CARGO_AFL_VERSION: &str = "0.18.2";
const DEFAULT_SECONDS: u64 = 60;
/// One execution slower than this counts as a hang (AFL's `-t`, in ms).
const TIMEOUT_MS: u64 = 1000;

/// How long each target runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Budget {
    Seconds(u64),
    /// About this many executions (AFL++ `-E`), however long they take.
    Executions(u64),
}

struct Args {
    budget: Budget,
    targets: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut out = Args {
        budget: Budget::Seconds(DEFAULT_SECONDS),
        targets: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                out.budget = Budget::Seconds(
                    it.next()
                        .and_then(|n| n.parse().ok())
                        .filter(|n| *n > 0)
                        .ok_or("--seconds takes a positive number of seconds")?,
                );
            }
            "--execs" => {
                out.budget = Budget::Executions(
                    it.next()
                        .and_then(|n| n.replace('_', "").parse().ok())
                        .filter(|n| *n > 0)
                        .ok_or("--execs takes a positive number of executions")?,
                );
            }
            "--target" => out
                .targets
                .push(it.next().ok_or("--target takes a target name")?.clone()),
            other => return Err(format!("cargo xtask fuzz: unknown argument '{other}'")),
        }
    }
    Ok(out)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let args = parse_args(args)?;
    let root = root();
    let fuzz = root.join("fuzz");
    let all = targets(&fuzz)?;
    let chosen: Vec<String> = if args.targets.is_empty() {
        all.clone()
    } else {
        for t in &args.targets {
            if !all.contains(t) {
                return Err(format!(
                    "no fuzz target '{t}'; the targets are: {}",
                    all.join(", ")
                ));
            }
        }
        args.targets
    };

    let tc = tools::toolchain(&root);
    ensure_cargo_afl(&tc)?;

    println!("\n==> building the fuzz targets (AFL instrumentation, fuzz/target)");
    // fuzz/target whatever CARGO_TARGET_DIR says: the runs below look for
    // the binaries there, and AFL's instrumentation stays out of the main
    // build's target directory.
    let mut build = tc.command("cargo");
    build
        .current_dir(&fuzz)
        .args(["afl", "build", "--release", "--target-dir"])
        .arg(fuzz.join("target"));
    for t in &chosen {
        build.args(["--bin", t]);
    }
    process::run(build)?;

    let mut results = Vec::new();
    for t in &chosen {
        match args.budget {
            Budget::Seconds(s) => println!("\n==> fuzzing {t} for {s} s"),
            Budget::Executions(n) => println!("\n==> fuzzing {t} for about {n} executions"),
        }
        results.push(fuzz_one(&tc, &fuzz, t, args.budget)?);
    }

    println!(
        "\n{:<18} {:>12} {:>8} {:>8} {:>6}",
        "target", "executions", "exec/s", "crashes", "hangs"
    );
    for r in &results {
        println!(
            "{:<18} {:>12} {:>8} {:>8} {:>6}",
            r.target,
            r.executions,
            r.execs_per_sec,
            r.crashes.len(),
            r.hangs.len()
        );
    }
    let mut failed = false;
    for r in &results {
        for c in &r.crashes {
            failed = true;
            println!(
                "CRASH {}: {}\n  reproduce: fuzz/target/release/{} < '{}'",
                r.target,
                c.display(),
                r.target,
                c.display()
            );
        }
        for h in &r.hangs {
            println!("hang  {} (over {TIMEOUT_MS} ms): {}", r.target, h.display());
        }
    }
    if failed {
        Err("a fuzz target crashed: make each input above a regression test, then fix it".into())
    } else {
        Ok(())
    }
}

/// The targets: `fuzz/src/bin/<name>.rs`.
fn targets(fuzz: &Path) -> Result<Vec<String>, String> {
    let dir = fuzz.join("src").join("bin");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".rs"))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// `cargo install cargo-afl` when it is missing (or another version), then
/// AFL++ built for this toolchain (cargo-afl's install usually does that
/// already; `config --build` then answers that it was built).
fn ensure_cargo_afl(tc: &Toolchain) -> Result<(), String> {
    let mut probe = tc.command("cargo");
    probe.args(["afl", "--version"]);
    let installed = probe.output().is_ok_and(|out| {
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .any(|w| w == CARGO_AFL_VERSION)
    });
    if !installed {
        println!(
            "\nxtask: installing cargo-afl {CARGO_AFL_VERSION} from crates.io (it builds AFL++ from its bundled source with the C compiler; a few minutes, once)"
        );
        let mut c = tc.command("cargo");
        c.args([
            "install",
            "cargo-afl",
            "--locked",
            "--version",
            CARGO_AFL_VERSION,
        ]);
        process::run(c).map_err(|e| {
            format!(
                "{e}\nInstall it by hand: cargo install cargo-afl --locked --version {CARGO_AFL_VERSION} (it needs a C compiler and make: apt-get install build-essential)"
            )
        })?;
    }
    let mut config = tc.command("cargo");
    config.args(["afl", "config", "--build"]);
    let out = config
        .output()
        .map_err(|e| format!("could not run cargo afl config --build: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        println!("\nxtask: built AFL++ for this Rust toolchain (cargo afl config --build)");
        Ok(())
    } else if stderr.contains("already built") {
        Ok(())
    } else {
        Err(format!(
            "cargo afl config --build failed:\n{stderr}\nRun it by hand with --verbose to see why (it needs a C compiler and make)"
        ))
    }
}

struct Outcome {
    target: String,
    executions: u64,
    execs_per_sec: String,
    crashes: Vec<PathBuf>,
    hangs: Vec<PathBuf>,
}

fn fuzz_one(tc: &Toolchain, fuzz: &Path, target: &str, budget: Budget) -> Result<Outcome, String> {
    let corpus = fuzz.join("corpus").join(target);
    if !corpus.is_dir() {
        return Err(format!("no seed corpus at {}", corpus.display()));
    }
    let out = fuzz.join("target").join("afl").join(target);
    if out.exists() {
        std::fs::remove_dir_all(&out)
            .map_err(|e| format!("cannot empty {}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let log_path = out.join("afl-fuzz.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let binary = fuzz.join("target").join("release").join(target);

    let mut c = tc.command("cargo");
    c.current_dir(fuzz)
        .arg("afl")
        .arg("fuzz")
        .arg("-i")
        .arg(&corpus)
        .arg("-o")
        .arg(&out)
        .args(match budget {
            Budget::Seconds(s) => ["-V".to_string(), s.to_string()],
            Budget::Executions(n) => ["-E".to_string(), n.to_string()],
        })
        .args(["-t", &TIMEOUT_MS.to_string()])
        .arg("--")
        .arg(&binary)
        // No curses screen; a plain log instead.
        .env("AFL_NO_UI", "1")
        // A shared machine: neither pin a core nor insist on the
        // performance governor or a core_pattern AFL likes.
        .env("AFL_NO_AFFINITY", "1")
        .env("AFL_SKIP_CPUFREQ", "1")
        .env("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1")
        // A seed that is slow (a PFX with many iterations) is not a reason to stop.
        .env("AFL_IGNORE_SEED_PROBLEMS", "1")
        .stdin(Stdio::null())
        .stdout(
            log.try_clone()
                .map_err(|e| format!("cannot write {}: {e}", log_path.display()))?,
        )
        .stderr(log);
    println!("$ {} (log: {})", process::describe(&c), log_path.display());
    let status = c
        .status()
        .map_err(|e| format!("could not start cargo afl fuzz: {e}"))?;
    let findings = out.join("default");
    let stats = std::fs::read_to_string(findings.join("fuzzer_stats")).map_err(|_| {
        format!(
            "afl-fuzz ({status}) left no statistics; the end of {}:\n{}",
            log_path.display(),
            tail(&log_path, 30)
        )
    })?;
    let stats = parse_stats(&stats);
    let executions = stats
        .get("execs_done")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let outcome = Outcome {
        target: target.to_string(),
        executions,
        execs_per_sec: stats
            .get("execs_per_sec")
            .cloned()
            .unwrap_or_else(|| "?".into()),
        crashes: inputs_in(&findings.join("crashes")),
        hangs: inputs_in(&findings.join("hangs")),
    };
    println!(
        "{target}: {} executions, {} exec/s, {} crashes, {} hangs",
        outcome.executions,
        outcome.execs_per_sec,
        outcome.crashes.len(),
        outcome.hangs.len()
    );
    Ok(outcome)
}

/// `key : value` lines of AFL's `fuzzer_stats`.
fn parse_stats(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The saved inputs of a findings folder (not AFL's README.txt).
fn inputs_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("id:"))
        })
        .collect();
    files.sort();
    files
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments() {
        let a = parse_args(&[]).unwrap();
        assert_eq!(
            (a.budget, a.targets.len()),
            (Budget::Seconds(DEFAULT_SECONDS), 0)
        );
        let a = parse_args(&strings(&[
            "--seconds",
            "5",
            "--target",
            "pfx",
            "--target",
            "time",
        ]))
        .unwrap();
        assert_eq!(a.budget, Budget::Seconds(5));
        let e = parse_args(&strings(&["--execs", "10_000_000"])).unwrap();
        assert_eq!(e.budget, Budget::Executions(10_000_000));
        assert!(parse_args(&strings(&["--execs", "0"])).is_err());
        assert_eq!(a.targets, ["pfx", "time"]);
        assert!(parse_args(&strings(&["--seconds", "0"])).is_err());
        assert!(parse_args(&strings(&["--seconds"])).is_err());
        assert!(parse_args(&strings(&["--target"])).is_err());
        assert!(parse_args(&strings(&["--fast"])).is_err());
    }

    #[test]
    fn reads_afl_statistics_and_findings() {
        let stats = parse_stats(
            "start_time        : 1764448000\nexecs_done        : 123456\nexecs_per_sec     : 2057.60\nsaved_crashes     : 1\n",
        );
        assert_eq!(stats["execs_done"], "123456");
        assert_eq!(stats["execs_per_sec"], "2057.60");
        assert_eq!(stats["saved_crashes"], "1");

        let dir = std::env::temp_dir().join(format!("xtask-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["README.txt", "id:000001,sig:06", "id:000000,sig:06"] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let found = inputs_in(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["id:000000,sig:06", "id:000001,sig:06"]);
        assert!(inputs_in(Path::new("/nonexistent/crashes")).is_empty());
    }

    #[test]
    fn every_target_has_a_seed_corpus() {
        let fuzz = root().join("fuzz");
        let all = targets(&fuzz).unwrap();
        assert!(all.len() >= 12, "{all:?}");
        for t in &all {
            let seeds = std::fs::read_dir(fuzz.join("corpus").join(t))
                .map(|d| d.count())
                .unwrap_or(0);
            assert!(seeds > 0, "fuzz/corpus/{t} has no seed");
        }
    }
}
