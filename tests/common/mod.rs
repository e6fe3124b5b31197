//! Shared by the PFX integration tests: one key per size (RSA 4096 keygen is
//! slow), certificates, and the external tools of the interop tests.
#![allow(dead_code)] // each test binary uses a different part

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use entra_wizard::core::certificate::{self, Certificate, CertificateRequest};
use entra_wizard::core::key::RsaKey;
use entra_wizard::core::keygen::{KeySize, RsaKeyGenerator};
use entra_wizard::core::time::UnixTime;

/// Generates each key size once per test binary.
pub fn key(size: KeySize) -> &'static RsaKey {
    static KEYS: [OnceLock<RsaKey>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match size {
        KeySize::Rsa2048 => &KEYS[0],
        KeySize::Rsa3072 => &KEYS[1],
        KeySize::Rsa4096 => &KEYS[2],
    };
    slot.get_or_init(|| RsaKeyGenerator.generate_blocking(size).unwrap())
}

/// A second, independent 2048-bit key (for chains and mismatches).
pub fn other_key() -> &'static RsaKey {
    static KEY: OnceLock<RsaKey> = OnceLock::new();
    KEY.get_or_init(|| RsaKeyGenerator.generate_blocking(KeySize::Rsa2048).unwrap())
}

pub const NOT_BEFORE: UnixTime = UnixTime(1_767_225_600); // 2026-01-01
pub const NOT_AFTER: UnixTime = UnixTime(1_830_297_600); // 2028-01-01

pub fn cert(key: &RsaKey, cn: &str) -> Certificate {
    let mut serial = [0u8; 10];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut serial);
    certificate::self_signed(
        key,
        &CertificateRequest {
            common_name: cn.into(),
            organization: Some("Contoso".into()),
            organizational_unit: None,
        },
        serial,
        NOT_BEFORE,
        NOT_AFTER,
    )
    .unwrap()
}

/// Runs an external tool; fails the test (never skips) when it is missing.
pub fn run(program: &str, args: &[&str], dir: &Path) -> Output {
    match Command::new(program).args(args).current_dir(dir).output() {
        Ok(out) => out,
        Err(e) => {
            panic!("`{program}` could not be run ({e}): run `cargo xtask test`, which installs it")
        }
    }
}

/// Runs an external tool and requires success.
pub fn run_ok(program: &str, args: &[&str], dir: &Path) -> String {
    let out = run(program, args, dir);
    assert!(
        out.status.success(),
        "`{program} {}` failed: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// "AB:CD:…" or "abcd…" → "ABCD…".
pub fn normalize_fingerprint(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// An RSA-2048 key (`key_file`) and a self-signed certificate (`cert_file`)
/// made by OpenSSL in `dir`, valid 30 days; `extra` adds `req` options.
pub fn openssl_self_signed(dir: &Path, key_file: &str, cert_file: &str, cn: &str, extra: &[&str]) {
    let subject = format!("/CN={cn}");
    let mut args = vec![
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key_file, "-out", cert_file,
        "-subj", &subject, "-days", "30",
    ];
    args.extend_from_slice(extra);
    run_ok("openssl", &args, dir);
}
