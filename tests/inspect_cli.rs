//! `examples/inspect`: the core from the command line, as an admin runs it on
//! a server, checked on pyca's vectors and on files OpenSSL writes.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn pyca(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/pkcs12/pyca")
        .join(file)
}

/// `cargo test` builds the examples next to the test binaries.
fn inspect(args: &[&str]) -> (bool, Value) {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("inspect");
    let out = Command::new(&bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.success(), json)
}

#[test]
fn describes_a_pfx_with_its_chain_and_names() {
    let f = pyca("name-2-3-pwd.p12");
    let (ok, v) = inspect(&[f.to_str().unwrap(), "--password", "password"]);
    assert!(ok, "{v}");
    assert_eq!(v["key"], "EC-P-256");
    assert_eq!(v["certificate"]["subject_cn"], "cryptography CA");
    assert_eq!(
        v["certificate"]["sha1"],
        "2534F63C8F948CE54827F670D924D5FC81FAA12C"
    );
    let others: Vec<&str> = v["other_certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha1"].as_str().unwrap())
        .collect();
    assert_eq!(
        others,
        [
            "973CEBA25EF865F9D802B0E727555B9C4FC65188",
            "E6A3B45B062D509B3382282D196EFE97D5956CCB"
        ]
    );
    assert_eq!(v["friendly_names"], serde_json::json!(["name2", "name3"]));
}

#[test]
fn opens_a_pfx_without_a_password_unasked_and_reports_errors_as_json() {
    let (ok, v) = inspect(&[pyca("no-password.p12").to_str().unwrap()]);
    assert!(ok, "{v}");
    assert_eq!(
        v["certificate"]["sha1"],
        "2534F63C8F948CE54827F670D924D5FC81FAA12C"
    );

    let (ok, v) = inspect(&[pyca("name-all-pwd.p12").to_str().unwrap()]);
    assert!(!ok);
    assert_eq!(v["error"]["kind"], "needs_password");

    let (ok, v) = inspect(&[
        pyca("name-all-pwd.p12").to_str().unwrap(),
        "--password",
        "nope",
    ]);
    assert!(!ok);
    assert_eq!(v["error"]["kind"], "wrong_password");
    assert!(v["error"]["message"].as_str().unwrap().contains("password"));
}

#[test]
fn reads_a_certificate_and_warns_when_it_has_expired() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("old.pem");
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=old", "-days", "1",
        ])
        .arg("-keyout")
        .arg(dir.path().join("old.key"))
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed by `cargo xtask test`");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let (ok, v) = inspect(&[cert.to_str().unwrap(), "--now", "2100-01-01T00:00:00Z"]);
    assert!(ok, "{v}");
    assert_eq!(v["key"], Value::Null);
    assert_eq!(v["certificate"]["subject_cn"], "old");
    assert_eq!(v["warnings"][0]["kind"], "expired");

    // The same certificate renamed .pfx: a PFX with its key was expected.
    let renamed = dir.path().join("renamed.pfx");
    std::fs::copy(&cert, &renamed).unwrap();
    let (ok, v) = inspect(&[renamed.to_str().unwrap()]);
    assert!(!ok);
    assert_eq!(v["error"]["kind"], "pem_certificate");
}
