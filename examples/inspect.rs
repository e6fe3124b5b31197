//! The signing core from the command line: read a PFX/P12 (or a
//! certificate) and print what it holds as JSON.
//!
//! ```text
//! cargo run --release --example inspect -- FILE [--password PW] [--now RFC3339]
//! ```
//!
//! Without `--password` it tries no password, then the empty one; a
//! `.cer`/`.crt`/`.pem`/`.der` file is read as certificates. Exits 0
//! with the description, or 1 with `{"error": {"kind", "message"}}`.

use std::process::ExitCode;

use entra_wizard::core::certificate::{Certificate, CertificateError, warnings};
use entra_wizard::core::inspect::{self, OpenError, Opened};
use entra_wizard::core::pfx::Imported;
use entra_wizard::core::time::UnixTime;
use serde_json::{Value, json};

struct Failure {
    kind: &'static str,
    message: String,
}

impl From<OpenError> for Failure {
    fn from(e: OpenError) -> Self {
        Failure {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl From<CertificateError> for Failure {
    fn from(e: CertificateError) -> Self {
        Failure {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        kind: "usage",
        message: format!(
            "{} — usage: inspect FILE [--password PW] [--now RFC3339]",
            message.into()
        ),
    }
}

struct Args {
    file: String,
    password: Option<String>,
    now: UnixTime,
}

fn parse_args() -> Result<Args, Failure> {
    let mut file = None;
    let mut password = None;
    let mut now = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--password" => {
                password = Some(
                    args.next()
                        .ok_or_else(|| usage("--password needs a value"))?,
                )
            }
            "--now" => {
                let value = args.next().ok_or_else(|| usage("--now needs a value"))?;
                now = Some(UnixTime::parse_rfc3339(&value).map_err(|e| usage(e.to_string()))?);
            }
            other if other.starts_with("--") => {
                return Err(usage(format!("unknown option {other}")));
            }
            other if file.is_none() => file = Some(other.to_owned()),
            other => return Err(usage(format!("unexpected argument {other}"))),
        }
    }
    let now = now.unwrap_or_else(|| {
        // Native only: the core itself never reads the clock.
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        UnixTime(secs)
    });
    Ok(Args {
        file: file.ok_or_else(|| usage("no file given"))?,
        password,
        now,
    })
}

fn describe_cert(cert: &Certificate, with_dates: bool) -> Result<Value, Failure> {
    let info = cert.info()?;
    let mut v = json!({ "subject_cn": info.subject_cn, "sha1": info.sha1 });
    if with_dates {
        v["not_after"] = json!(info.not_after);
    }
    Ok(v)
}

fn describe(imported: &Imported, now: UnixTime) -> Result<Value, Failure> {
    let certificate = imported
        .leaf
        .as_ref()
        .map(|c| describe_cert(c, true))
        .transpose()?;
    let others = imported
        .others
        .iter()
        .map(|c| describe_cert(c, false))
        .collect::<Result<Vec<_>, _>>()?;
    // The leaf's warnings; with no leaf, those of every certificate.
    let checked: Vec<&Certificate> = match &imported.leaf {
        Some(leaf) => vec![leaf],
        None => imported.others.iter().collect(),
    };
    let mut warns = Vec::new();
    for cert in checked {
        let info = cert.info()?;
        for w in warnings(&info, now) {
            warns.push(json!({
                "kind": w.kind(),
                "message": w.message(),
                "certificate": info.sha1,
            }));
        }
    }
    Ok(json!({
        "key": imported.key.as_ref().map(|k| k.kind().to_string()),
        "certificate": certificate,
        "other_certificates": others,
        "friendly_names": imported.friendly_names,
        "warnings": warns,
    }))
}

fn run() -> Result<Value, Failure> {
    let args = parse_args()?;
    let data = std::fs::read(&args.file).map_err(|e| Failure {
        kind: "io",
        message: format!("{}: {e}", args.file),
    })?;
    // The page's own logic: certificates under their own names, a PFX with
    // no password or the empty one before asking for one.
    let imported = match inspect::open(&data, &args.file, args.password.as_deref())? {
        Opened::Pfx { imported, .. } => *imported,
        Opened::Certificates(mut certs) => {
            let leaf = certs.remove(0);
            Imported {
                leaf: Some(leaf),
                other_friendly_names: vec![None; certs.len()],
                others: certs,
                ..Imported::default()
            }
        }
    };
    describe(&imported, args.now)
}

fn main() -> ExitCode {
    match run() {
        Ok(v) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&v).expect("JSON values serialize")
            );
            ExitCode::SUCCESS
        }
        Err(f) => {
            let v = json!({ "error": { "kind": f.kind, "message": f.message } });
            println!(
                "{}",
                serde_json::to_string_pretty(&v).expect("JSON values serialize")
            );
            ExitCode::FAILURE
        }
    }
}
