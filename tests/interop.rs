//! Interoperability with OpenSSL 3, Python `cryptography` and Java's keytool:
//! our PFX files open in them, and theirs open in ours. The tools are
//! installed by `cargo xtask test`; a missing tool fails the test.

mod common;

use std::path::Path;

use common::{cert, key, normalize_fingerprint, other_key, run, run_ok};
use entra_wizard::core::certificate::{self, Certificate};
use entra_wizard::core::keygen::KeySize;
use entra_wizard::core::pfx::{self, ExportMode, Imported, ImportedKey};
use rand_core::OsRng;

const PASSWORD: &str = "Tr0ub4dor&3";

fn write_export(dir: &Path, name: &str, size: KeySize, mode: ExportMode) -> (String, Certificate) {
    let key = key(size);
    let leaf = cert(key, &format!("interop {name}"));
    let ca = cert(other_key(), "Interop CA");
    let data = pfx::export(
        key,
        &leaf,
        std::slice::from_ref(&ca),
        Some("entra-wizard"),
        PASSWORD,
        mode,
        &mut OsRng,
    )
    .unwrap();
    let file = format!("{name}.p12");
    std::fs::write(dir.join(&file), data).unwrap();
    (file, leaf)
}

fn openssl_opens(size: KeySize, mode: ExportMode) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (file, leaf) = write_export(d, "ours", size, mode);
    // No `-legacy`: OpenSSL 3's default provider must read it.
    let pass = format!("pass:{PASSWORD}");
    let pem = run_ok(
        "openssl",
        &["pkcs12", "-in", &file, "-passin", &pass, "-nodes"],
        d,
    );
    assert!(pem.contains("-----BEGIN PRIVATE KEY-----"), "{pem}");
    assert_eq!(
        pem.matches("-----BEGIN CERTIFICATE-----").count(),
        2,
        "{pem}"
    );
    assert!(pem.contains("friendlyName: entra-wizard"), "{pem}");

    // The certificate OpenSSL reads first (the one of the key) is our leaf.
    let leaf_pem = run_ok(
        "openssl",
        &[
            "pkcs12", "-in", &file, "-passin", &pass, "-nokeys", "-clcerts",
        ],
        d,
    );
    std::fs::write(d.join("leaf.pem"), &leaf_pem).unwrap();
    let fp = run_ok(
        "openssl",
        &["x509", "-in", "leaf.pem", "-noout", "-fingerprint", "-sha1"],
        d,
    );
    let fp = fp.trim().rsplit('=').next().unwrap();
    assert_eq!(normalize_fingerprint(fp), leaf.sha1_hex());

    // The key OpenSSL extracts is ours, at its size.
    let key_pem = run_ok(
        "openssl",
        &[
            "pkcs12", "-in", &file, "-passin", &pass, "-nocerts", "-nodes",
        ],
        d,
    );
    std::fs::write(d.join("key.pem"), &key_pem).unwrap();
    let text = run_ok("openssl", &["pkey", "-in", "key.pem", "-noout", "-text"], d);
    assert!(
        text.contains(&format!("Private-Key: ({} bit", size.bits())),
        "{text}"
    );

    // The parameters are what the mode promises.
    let info = run(
        "openssl",
        &["pkcs12", "-in", &file, "-passin", &pass, "-info", "-noout"],
        d,
    );
    assert!(info.status.success());
    let info =
        String::from_utf8_lossy(&info.stderr).into_owned() + &String::from_utf8_lossy(&info.stdout);
    match mode {
        ExportMode::Compatible => {
            assert!(info.contains("MAC: sha1, Iteration 2048"), "{info}");
            assert!(
                info.contains("pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048"),
                "{info}"
            );
            assert!(!info.contains("PBES2"), "{info}");
        }
        ExportMode::Modern => {
            assert!(info.contains("MAC: sha256"), "{info}");
            assert!(info.contains("salt length: 16"), "{info}");
            assert!(
                info.contains("PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256"),
                "{info}"
            );
        }
    }
}

#[test]
fn openssl_opens_compatible_2048() {
    openssl_opens(KeySize::Rsa2048, ExportMode::Compatible);
}

#[test]
fn openssl_opens_compatible_3072() {
    openssl_opens(KeySize::Rsa3072, ExportMode::Compatible);
}

#[test]
fn openssl_opens_compatible_4096() {
    openssl_opens(KeySize::Rsa4096, ExportMode::Compatible);
}

#[test]
fn openssl_opens_modern_2048() {
    openssl_opens(KeySize::Rsa2048, ExportMode::Modern);
}

#[test]
fn openssl_opens_modern_4096() {
    openssl_opens(KeySize::Rsa4096, ExportMode::Modern);
}

#[test]
fn openssl_accepts_our_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let leaf = cert(key(KeySize::Rsa2048), "openssl-verify");
    std::fs::write(dir.path().join("c.pem"), leaf.to_pem()).unwrap();
    let text = run_ok(
        "openssl",
        &["x509", "-in", "c.pem", "-noout", "-text"],
        dir.path(),
    );
    for needle in [
        "Version: 3 (0x2)",
        "Signature Algorithm: sha256WithRSAEncryption",
        "X509v3 Basic Constraints: critical",
        "CA:FALSE",
        "X509v3 Key Usage: critical",
        "Digital Signature, Key Encipherment",
        "TLS Web Client Authentication, TLS Web Server Authentication",
        "X509v3 Subject Key Identifier",
        "Subject: O = Contoso, CN = openssl-verify",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // Its signature verifies as a self-signed root.
    let out = run_ok(
        "openssl",
        &[
            "verify",
            "-CAfile",
            "c.pem",
            "-partial_chain",
            "-purpose",
            "sslclient",
            "c.pem",
        ],
        dir.path(),
    );
    assert!(out.contains("c.pem: OK"), "{out}");
}

const PYTHON_LOAD: &str = r#"
import sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs12
data = open(sys.argv[1], "rb").read()
key, cert, extra = pkcs12.load_key_and_certificates(data, sys.argv[2].encode())
print(key.key_size)
print(cert.fingerprint(hashes.SHA1()).hex().upper())
print(len(extra))
"#;

fn python_opens(size: KeySize, mode: ExportMode) {
    let dir = tempfile::tempdir().unwrap();
    let (file, leaf) = write_export(dir.path(), "py", size, mode);
    let out = run_ok("python3", &["-c", PYTHON_LOAD, &file, PASSWORD], dir.path());
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(
        lines,
        [size.bits().to_string(), leaf.sha1_hex(), "1".to_string()]
    );
}

#[test]
fn python_cryptography_opens_compatible() {
    python_opens(KeySize::Rsa2048, ExportMode::Compatible);
    python_opens(KeySize::Rsa4096, ExportMode::Compatible);
}

#[test]
fn python_cryptography_opens_modern() {
    python_opens(KeySize::Rsa2048, ExportMode::Modern);
    python_opens(KeySize::Rsa3072, ExportMode::Modern);
}

fn keytool_opens(mode: ExportMode) {
    let dir = tempfile::tempdir().unwrap();
    let (file, leaf) = write_export(dir.path(), "java", KeySize::Rsa2048, mode);
    let out = run_ok(
        "keytool",
        &[
            "-list",
            "-v",
            "-storetype",
            "PKCS12",
            "-keystore",
            &file,
            "-storepass",
            PASSWORD,
        ],
        dir.path(),
    );
    assert!(out.contains("PrivateKeyEntry"), "{out}");
    assert!(out.contains("Alias name: entra-wizard"), "{out}");
    // Java keeps only certificates that chain to the leaf; our extra
    // certificate is an unrelated root, so the chain is the leaf alone.
    assert!(out.contains("Certificate chain length: 1"), "{out}");
    assert!(
        out.contains("Subject Public Key Algorithm: 2048-bit RSA key"),
        "{out}"
    );
    let sha1 = leaf
        .sha1_hex()
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    assert!(
        out.contains(&format!("SHA1: {sha1}")),
        "SHA1: {sha1} not in\n{out}"
    );
}

#[test]
fn keytool_opens_compatible() {
    keytool_opens(ExportMode::Compatible);
}

#[test]
fn keytool_opens_modern() {
    keytool_opens(ExportMode::Modern);
}

/// A key and certificate made by OpenSSL, with its SHA-1 thumbprint, and a
/// CA certificate for chains.
fn openssl_material(dir: &Path) -> String {
    common::openssl_self_signed(dir, "k.pem", "c.pem", "made by openssl", &[]);
    common::openssl_self_signed(dir, "ca-k.pem", "ca.pem", "openssl CA", &[]);
    let fp = run_ok(
        "openssl",
        &["x509", "-in", "c.pem", "-noout", "-fingerprint", "-sha1"],
        dir,
    );
    normalize_fingerprint(fp.trim().rsplit('=').next().unwrap())
}

fn openssl_export(dir: &Path, out: &str, extra: &[&str]) -> Vec<u8> {
    let mut args = vec![
        "pkcs12",
        "-export",
        "-inkey",
        "k.pem",
        "-in",
        "c.pem",
        "-certfile",
        "ca.pem",
        "-name",
        "from openssl",
        "-out",
        out,
    ];
    args.extend_from_slice(extra);
    run_ok("openssl", &args, dir);
    std::fs::read(dir.join(out)).unwrap()
}

fn check_openssl_import(imported: &Imported, sha1: &str, what: &str) {
    let (key, leaf) = imported
        .usable_for_entra()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(key.bits(), 2048, "{what}");
    assert_eq!(leaf.sha1_hex(), sha1, "{what}");
    assert_eq!(
        imported.leaf_friendly_name.as_deref(),
        Some("from openssl"),
        "{what}"
    );
    assert_eq!(imported.others.len(), 1, "{what}");
    assert_eq!(
        imported.others[0].info().unwrap().subject_cn.as_deref(),
        Some("openssl CA"),
        "{what}"
    );
}

#[test]
fn we_open_openssl_exports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sha1 = openssl_material(d);
    let pw = "pass:s3cret";
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "default (PBES2 AES-256, SHA-256 MAC)",
            &["-passout", pw],
            &["PBES2 AES-256-CBC HMAC-SHA256"],
        ),
        (
            "-legacy (RC2-40 certificates, 3DES key)",
            &["-passout", pw, "-legacy"],
            &[
                "pbewithSHAAnd40BitRC2-CBC",
                "pbeWithSHAAnd3-KeyTripleDES-CBC",
            ],
        ),
        (
            "-descert",
            &["-passout", pw, "-descert"],
            &[
                "pbeWithSHAAnd3-KeyTripleDES-CBC",
                "PBES2 AES-256-CBC HMAC-SHA256",
            ],
        ),
        (
            "-nomac",
            &["-passout", pw, "-nomac"],
            &["PBES2 AES-256-CBC HMAC-SHA256"],
        ),
        (
            "-macalg sha512",
            &["-passout", pw, "-macalg", "sha512"],
            &["PBES2 AES-256-CBC HMAC-SHA256"],
        ),
        (
            "-iter 600000",
            &["-passout", pw, "-iter", "600000"],
            &["PBES2 AES-256-CBC HMAC-SHA256"],
        ),
        (
            "AES-128 key, AES-192 certificates",
            &[
                "-passout",
                pw,
                "-keypbe",
                "aes-128-cbc",
                "-certpbe",
                "aes-192-cbc",
            ],
            &[
                "PBES2 AES-192-CBC HMAC-SHA256",
                "PBES2 AES-128-CBC HMAC-SHA256",
            ],
        ),
        (
            "unencrypted bags",
            &["-passout", pw, "-keypbe", "NONE", "-certpbe", "NONE"],
            &[],
        ),
        (
            "RC2-128 key",
            &["-passout", pw, "-legacy", "-keypbe", "PBE-SHA1-RC2-128"],
            &["pbewithSHAAnd40BitRC2-CBC", "pbeWithSHAAnd128BitRC2-CBC"],
        ),
    ];
    for (i, (what, args, encryption)) in cases.iter().enumerate() {
        let data = openssl_export(d, &format!("case{i}.p12"), args);
        let imported = pfx::import(&data, Some("s3cret")).unwrap_or_else(|e| panic!("{what}: {e}"));
        check_openssl_import(&imported, &sha1, what);
        assert_eq!(imported.encryption, *encryption, "{what}");
        if args.contains(&"-nomac") {
            assert_eq!(imported.mac, None, "{what}");
            // Without a MAC a wrong password is caught by the decryption.
            let err = pfx::import(&data, Some("wrong")).unwrap_err();
            assert_eq!(err.kind(), "wrong_password", "{what}");
        } else {
            let err = pfx::import(&data, Some("wrong")).unwrap_err();
            assert_eq!(err.kind(), "wrong_password", "{what}");
        }
    }
}

#[test]
fn we_open_openssl_exports_with_an_empty_password() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sha1 = openssl_material(d);
    for (name, extra) in [
        ("empty.p12", &["-passout", "pass:"][..]),
        ("empty-legacy.p12", &["-passout", "pass:", "-legacy"][..]),
    ] {
        let data = openssl_export(d, name, extra);
        // What the wizards do: no password, then the empty one.
        let imported = pfx::import(&data, None)
            .or_else(|_| pfx::import(&data, Some("")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        check_openssl_import(&imported, &sha1, name);
    }
}

#[test]
fn we_open_openssl_exports_with_unicode_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sha1 = openssl_material(d);
    for (i, password) in ["pässwörd", "пароль", "密码"].iter().enumerate() {
        for legacy in [false, true] {
            let pass = format!("pass:{password}");
            let mut args = vec!["-passout", pass.as_str()];
            if legacy {
                args.push("-legacy");
            }
            let data = openssl_export(d, &format!("u{i}{legacy}.p12"), &args);
            let imported = pfx::import(&data, Some(password))
                .unwrap_or_else(|e| panic!("{password} legacy={legacy}: {e}"));
            check_openssl_import(&imported, &sha1, password);
        }
    }
}

#[test]
fn we_open_python_cryptography_exports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sha1 = openssl_material(d);
    let script = r#"
import sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
key = serialization.load_pem_private_key(open("k.pem", "rb").read(), None)
cert = x509.load_pem_x509_certificate(open("c.pem", "rb").read())
ca = x509.load_pem_x509_certificate(open("ca.pem", "rb").read())
best = serialization.BestAvailableEncryption(b"py-pw")
legacy = (serialization.PrivateFormat.PKCS12.encryption_builder()
    .kdf_rounds(50000)
    .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
    .hmac_hash(hashes.SHA1()).build(b"py-pw"))
for name, enc in [("best.p12", best), ("legacy.p12", legacy)]:
    open(name, "wb").write(pkcs12.serialize_key_and_certificates(b"from openssl", key, cert, [ca], enc))
"#;
    run_ok("python3", &["-c", script], d);
    for name in ["best.p12", "legacy.p12"] {
        let data = std::fs::read(d.join(name)).unwrap();
        let imported = pfx::import(&data, Some("py-pw")).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_openssl_import(&imported, &sha1, name);
    }
}

#[test]
fn we_open_keytool_keystores() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        "keytool",
        &[
            "-genkeypair",
            "-alias",
            "from-java",
            "-keyalg",
            "RSA",
            "-keysize",
            "2048",
            "-dname",
            "CN=made by keytool",
            "-validity",
            "30",
            "-storetype",
            "PKCS12",
            "-keystore",
            "java.p12",
            "-storepass",
            "java-pw",
        ],
        d,
    );
    let data = std::fs::read(d.join("java.p12")).unwrap();
    let imported = pfx::import(&data, Some("java-pw")).unwrap();
    let (key, leaf) = imported.usable_for_entra().unwrap();
    assert_eq!(key.bits(), 2048);
    assert_eq!(
        leaf.info().unwrap().subject_cn.as_deref(),
        Some("made by keytool")
    );
    assert_eq!(imported.leaf_friendly_name.as_deref(), Some("from-java"));
    assert!(matches!(imported.key, Some(ImportedKey::Rsa(_))));
    // The certificate also parses on its own.
    assert_eq!(certificate::parse(leaf.der()).unwrap(), *leaf);
}
