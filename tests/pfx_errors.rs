//! One crafted input per import/export error and per certificate warning.

mod common;

use std::path::Path;
use std::time::Instant;

use common::{cert, key, run_ok};
use entra_wizard::core::certificate::{self, warnings};
use entra_wizard::core::keygen::KeySize;
use entra_wizard::core::pfx::{self, ExportMode, PfxError};
use entra_wizard::core::time::{DAY, UnixTime};
use rand_core::OsRng;

const PW: &str = "pw-1234";

fn our_pfx() -> Vec<u8> {
    let key = key(KeySize::Rsa2048);
    let leaf = cert(key, "errors");
    pfx::export(
        key,
        &leaf,
        &[],
        None,
        PW,
        ExportMode::Compatible,
        &mut OsRng,
    )
    .unwrap()
}

fn kind(data: &[u8], password: Option<&str>) -> &'static str {
    pfx::import(data, password).unwrap_err().kind()
}

/// An RSA key and certificate made by OpenSSL in `dir` (k.pem, c.pem).
fn openssl_key_and_cert(dir: &Path, extra: &[&str]) {
    common::openssl_self_signed(dir, "k.pem", "c.pem", "errors", extra);
}

/// DER TLV with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

const ID_DATA: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01,
];

/// PFX { version 3, authSafe data(`auth_safe`), macData }.
fn crafted_pfx(auth_safe: &[u8], mac_data: Option<Vec<u8>>) -> Vec<u8> {
    let content_info = tlv(0x30, &[ID_DATA, &tlv(0xA0, &tlv(0x04, auth_safe))].concat());
    let mut body = vec![0x02, 0x01, 0x03];
    body.extend(content_info);
    body.extend(mac_data.unwrap_or_default());
    tlv(0x30, &body)
}

#[test]
fn wrong_password() {
    let data = our_pfx();
    assert_eq!(kind(&data, Some("pw-1235")), "wrong_password");
    let err = pfx::import(&data, Some("nope")).unwrap_err();
    assert!(err.to_string().contains("password is wrong"), "{err}");
}

#[test]
fn not_pkcs12() {
    assert_eq!(kind(b"", None), "not_pkcs12");
    assert_eq!(kind(b"hello, this is a text file\n", None), "not_pkcs12");
    assert_eq!(kind(b"PK\x03\x04 a zip archive", None), "not_pkcs12");
    assert_eq!(kind(&[0x30, 0x03, 0x02, 0x01, 0x05], None), "not_pkcs12");
}

#[test]
fn pem_certificate() {
    let pem = cert(key(KeySize::Rsa2048), "pem").to_pem();
    let err = pfx::import(pem.as_bytes(), None).unwrap_err();
    assert_eq!(err.kind(), "pem_certificate");
    assert_eq!(
        err.to_string(),
        "This is a PEM certificate — a public certificate without its private key. Export the PFX (.pfx/.p12) with its private key."
    );
}

#[test]
fn pem_private_key() {
    let dir = tempfile::tempdir().unwrap();
    openssl_key_and_cert(dir.path(), &[]);
    let pem = std::fs::read(dir.path().join("k.pem")).unwrap();
    assert_eq!(kind(&pem, None), "pem_private_key");
    // A PEM bundle with the key and the certificate names the key too.
    let both = [pem, std::fs::read(dir.path().join("c.pem")).unwrap()].concat();
    assert_eq!(kind(&both, None), "pem_private_key");
}

#[test]
fn der_certificate() {
    let der = cert(key(KeySize::Rsa2048), "der").into_der();
    let err = pfx::import(&der, None).unwrap_err();
    assert_eq!(err.kind(), "der_certificate");
    assert!(err.to_string().contains("public certificate"), "{err}");
    assert!(err.to_string().contains("Export the PFX"), "{err}");
}

#[test]
fn der_private_key() {
    let der = key(KeySize::Rsa2048).to_pkcs8_der();
    assert_eq!(kind(&der, None), "der_private_key");
}

#[test]
fn truncated() {
    let data = our_pfx();
    for cut in [data.len() - 1, data.len() / 2, 10] {
        assert_eq!(kind(&data[..cut], Some(PW)), "truncated", "cut at {cut}");
    }
}

#[test]
fn corrupt() {
    // A well-formed outer PFX whose authenticated safe is garbage.
    let data = crafted_pfx(&[0xDE, 0xAD, 0xBE, 0xEF], None);
    let err = pfx::import(&data, None).unwrap_err();
    assert_eq!(err.kind(), "corrupt", "{err}");
    assert!(err.to_string().contains("Export it again"), "{err}");
}

#[test]
fn unsupported_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_key_and_cert(d, &[]);
    // PBES2 with Camellia: named, with its OID.
    run_ok(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-passout",
            "pass:x",
            "-keypbe",
            "camellia-256-cbc",
            "-out",
            "cam.p12",
        ],
        d,
    );
    let err = pfx::import(&std::fs::read(d.join("cam.p12")).unwrap(), Some("x")).unwrap_err();
    assert_eq!(err.kind(), "unsupported_algorithm");
    let PfxError::UnsupportedAlgorithm { oid, .. } = &err else {
        unreachable!()
    };
    assert_eq!(oid, "1.2.392.200011.61.1.1.1.4");
    assert!(
        err.to_string().contains("1.2.392.200011.61.1.1.1.4"),
        "{err}"
    );

    // RC4 (legacy OpenSSL only).
    run_ok(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-passout",
            "pass:x",
            "-legacy",
            "-keypbe",
            "PBE-SHA1-RC4-128",
            "-out",
            "rc4.p12",
        ],
        d,
    );
    let err = pfx::import(&std::fs::read(d.join("rc4.p12")).unwrap(), Some("x")).unwrap_err();
    assert_eq!(err.kind(), "unsupported_algorithm");
    assert!(err.to_string().contains("pbeWithSHAAnd128BitRC4"), "{err}");
    assert!(err.to_string().contains("1.2.840.113549.1.12.1.1"), "{err}");
}

#[test]
fn too_many_iterations_is_refused_quickly() {
    // A MAC asking for 2^31 - 1 iterations of the KDF.
    let digest_info = tlv(
        0x30,
        &[
            tlv(
                0x30,
                &[
                    &[0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A][..],
                    &[0x05, 0x00],
                ]
                .concat(),
            ),
            tlv(0x04, &[0; 20]),
        ]
        .concat(),
    );
    let mac_data = tlv(
        0x30,
        &[
            digest_info,
            tlv(0x04, &[1; 8]),
            vec![0x02, 0x04, 0x7F, 0xFF, 0xFF, 0xFF],
        ]
        .concat(),
    );
    let data = crafted_pfx(&[0x30, 0x00], Some(mac_data));
    let start = Instant::now();
    let err = pfx::import(&data, Some("x")).unwrap_err();
    assert_eq!(err.kind(), "too_many_iterations");
    assert!(err.to_string().contains("2147483647"), "{err}");
    assert!(start.elapsed().as_secs() < 2);
}

#[test]
fn no_private_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_key_and_cert(d, &[]);
    run_ok(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-nokeys",
            "-in",
            "c.pem",
            "-passout",
            "pass:x",
            "-out",
            "certs.p12",
        ],
        d,
    );
    let imported = pfx::import(&std::fs::read(d.join("certs.p12")).unwrap(), Some("x")).unwrap();
    assert!(imported.key.is_none() && imported.leaf.is_none());
    assert_eq!(imported.others.len(), 1);
    let err = imported.usable_for_entra().unwrap_err();
    assert_eq!(err.kind(), "no_private_key");
    assert!(err.to_string().contains("export the private key"), "{err}");
}

#[test]
fn no_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_key_and_cert(d, &[]);
    run_ok(
        "openssl",
        &[
            "pkcs12", "-export", "-nocerts", "-inkey", "k.pem", "-passout", "pass:x", "-out",
            "key.p12",
        ],
        d,
    );
    let imported = pfx::import(&std::fs::read(d.join("key.p12")).unwrap(), Some("x")).unwrap();
    assert!(imported.key.is_some() && imported.leaf.is_none() && imported.others.is_empty());
    assert_eq!(
        imported.usable_for_entra().unwrap_err().kind(),
        "no_certificate"
    );
}

#[test]
fn key_mismatch() {
    // pyca refuses to pair a key with a foreign certificate, but writes a
    // key with an unrelated "CA" certificate: nothing belongs to the key.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_key_and_cert(d, &[]);
    run_ok(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k2.pem",
            "-out",
            "c2.pem",
            "-subj",
            "/CN=someone else",
            "-days",
            "30",
        ],
        d,
    );
    let script = r#"
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
k = serialization.load_pem_private_key(open("k.pem", "rb").read(), None)
c = x509.load_pem_x509_certificate(open("c2.pem", "rb").read())
enc = serialization.BestAvailableEncryption(b"x")
open("mm.p12", "wb").write(pkcs12.serialize_key_and_certificates(b"mm", k, None, [c], enc))
"#;
    run_ok("python3", &["-c", script], d);
    let imported = pfx::import(&std::fs::read(d.join("mm.p12")).unwrap(), Some("x")).unwrap();
    assert!(imported.leaf.is_none());
    assert_eq!(imported.others.len(), 1);
    let err = imported.usable_for_entra().unwrap_err();
    assert_eq!(err.kind(), "key_mismatch");
    assert!(err.to_string().contains("does not belong"), "{err}");
}

#[test]
fn not_rsa() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-subj",
            "/CN=ec",
            "-days",
            "30",
        ],
        d,
    );
    run_ok(
        "openssl",
        &[
            "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-passout", "pass:x", "-out",
            "ec.p12",
        ],
        d,
    );
    // Import succeeds (inspection shows the key) but Entra cannot use it.
    let imported = pfx::import(&std::fs::read(d.join("ec.p12")).unwrap(), Some("x")).unwrap();
    assert_eq!(
        imported.key.as_ref().unwrap().kind().to_string(),
        "EC-P-384"
    );
    assert!(
        imported.leaf.is_some(),
        "the EC key is paired with its certificate"
    );
    let err = imported.usable_for_entra().unwrap_err();
    assert_eq!(err.kind(), "not_rsa");
    assert!(
        err.to_string()
            .starts_with("Entra accepts only RSA certificates")
    );
}

#[test]
fn empty_password_and_unencodable_friendly_name_on_export() {
    let key = key(KeySize::Rsa2048);
    let leaf = cert(key, "export errors");
    let err = pfx::export(key, &leaf, &[], None, "", ExportMode::Modern, &mut OsRng).unwrap_err();
    assert_eq!(err.kind(), "empty_password");
    let err = pfx::export(
        key,
        &leaf,
        &[],
        Some("🔑"),
        "x",
        ExportMode::Modern,
        &mut OsRng,
    )
    .unwrap_err();
    assert_eq!(err.kind(), "export_failed");
}

/// Warnings: computed from a certificate and `now`.
fn warning_kinds(pem: &[u8], now: UnixTime) -> Vec<&'static str> {
    let info = certificate::parse(pem).unwrap().info().unwrap();
    warnings(&info, now).iter().map(|w| w.kind()).collect()
}

#[test]
fn warning_expired_and_expiring_soon() {
    let dir = tempfile::tempdir().unwrap();
    openssl_key_and_cert(dir.path(), &[]);
    let pem = std::fs::read(dir.path().join("c.pem")).unwrap();
    let info = certificate::parse(&pem).unwrap().info().unwrap();
    let now = UnixTime(info.not_before.0 + DAY);
    // Valid for 30 days: from the first day on it expires "soon".
    assert_eq!(warning_kinds(&pem, now), ["expires_soon"]);
    assert_eq!(
        warning_kinds(&pem, UnixTime(info.not_after.0 + 1)),
        ["expired"]
    );
    let expired = &warnings(&info, UnixTime(info.not_after.0 + DAY))[0];
    assert!(expired.message().contains("AADSTS700027"), "{expired}");

    // A longer-lived certificate earns no warning in the middle of its life.
    let long = cert(key(KeySize::Rsa2048), "long");
    let li = long.info().unwrap();
    assert!(warnings(&li, UnixTime(li.not_before.0 + 100 * DAY)).is_empty());
    assert_eq!(
        warnings(&li, UnixTime(li.not_after.0 - 29 * DAY))[0].kind(),
        "expires_soon"
    );
}

#[test]
fn warning_sha1_signature() {
    let dir = tempfile::tempdir().unwrap();
    openssl_key_and_cert(dir.path(), &["-sha1"]);
    let pem = std::fs::read(dir.path().join("c.pem")).unwrap();
    let cert = certificate::parse(&pem).unwrap();
    let info = cert.info().unwrap();
    assert_eq!(info.signature_algorithm, "sha1WithRSAEncryption");
    assert!(cert.is_self_signed());
    let now = UnixTime(info.not_before.0 + DAY);
    let w = warnings(&info, now);
    assert!(w.iter().any(|w| w.kind() == "sha1_signature"), "{w:?}");
}

#[test]
fn warning_small_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:1024",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-subj",
            "/CN=small",
            "-days",
            "365",
        ],
        d,
    );
    let pem = std::fs::read(d.join("c.pem")).unwrap();
    let info = certificate::parse(&pem).unwrap().info().unwrap();
    assert_eq!(info.key.to_string(), "RSA-1024");
    assert_eq!(
        warning_kinds(&pem, UnixTime(info.not_before.0 + DAY)),
        ["small_key"]
    );
}

#[test]
fn warning_not_yet_valid() {
    let long = cert(key(KeySize::Rsa2048), "future");
    let info = long.info().unwrap();
    assert_eq!(
        warnings(&info, UnixTime(info.not_before.0 - DAY))
            .iter()
            .map(|w| w.kind())
            .collect::<Vec<_>>(),
        ["not_yet_valid"]
    );
}

/// Issue 11: ten bytes that put a high-tag-number chunk inside a constructed
/// OCTET STRING made the BER reader index past its buffer (a panic that
/// kills the page, before any password is asked). Now a typed error.
#[test]
fn high_tag_number_chunk_in_a_constructed_string() {
    // SEQUENCE { OCTET STRING (constructed, indefinite) { [31] 0xAA } }:
    // the chunk's second tag byte (0x7F) was read as a 127-byte length.
    let ten = [0x30, 0x08, 0x24, 0x80, 0x1F, 0x7F, 0x01, 0xAA, 0x00, 0x00];
    assert_eq!(kind(&ten, None), "not_pkcs12");
    assert_eq!(kind(&ten, Some("pw")), "not_pkcs12");
    // A long-form length byte taken from a high tag (0x84: four length
    // bytes that are not there), and a BIT STRING of such chunks.
    let cases: [&[u8]; 3] = [
        &[0x24, 0x80, 0x1F, 0x84, 0x01, 0x00, 0x00, 0x00],
        &[0x23, 0x80, 0x1F, 0x84, 0x01, 0x00, 0x00, 0x00],
        &[0x24, 0x05, 0x1F, 0x81, 0x7F, 0x01, 0xAA],
    ];
    for constructed in cases {
        assert_eq!(kind(&tlv(0x30, constructed), None), "not_pkcs12");
        // Inside a PFX's authenticated safe, the same bytes are damage.
        let err = pfx::import(&crafted_pfx(constructed, None), None).unwrap_err();
        assert_eq!(err.kind(), "corrupt", "{err}");
    }
}

/// Issue 11: the no-password and empty-password attempts each had a fresh
/// iteration budget. Now one budget covers a file and every password tried
/// on it, and a file may ask for at most 1,000,000 iterations per derivation
/// and 4,000,000 in all.
#[test]
fn one_iteration_budget_per_file() {
    use entra_wizard::core::inspect;
    use entra_wizard::core::pfx::{IterationBudget, MAX_ITERATIONS, MAX_TOTAL_ITERATIONS};
    assert_eq!(
        (MAX_ITERATIONS, MAX_TOTAL_ITERATIONS),
        (1_000_000, 4_000_000)
    );

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_key_and_cert(d, &[]);
    let export = |out: &str, pass: &str, iter: &str| {
        run_ok(
            "openssl",
            &[
                "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-passout", pass, "-iter",
                iter, "-out", out,
            ],
            d,
        );
        std::fs::read(d.join(out)).unwrap()
    };
    // MAC, certificates and key: 3 × 1,000,000 iterations.
    let million = export("million.p12", "pass:pw", "1000000");

    let mut budget = IterationBudget::new();
    let err = pfx::import_with_budget(&million, Some("wrong"), &mut budget).unwrap_err();
    assert_eq!(err.kind(), "wrong_password");
    assert_eq!(budget.spent(), 1_000_000, "the MAC alone");
    pfx::import_with_budget(&million, Some("pw"), &mut budget).unwrap();
    assert_eq!(budget.spent(), 4_000_000);
    // The file's budget is spent: a third attempt is refused before any
    // derivation runs.
    let start = Instant::now();
    let err = pfx::import_with_budget(&million, Some("pw"), &mut budget).unwrap_err();
    assert_eq!(err.kind(), "too_many_iterations", "{err}");
    assert!(start.elapsed().as_millis() < 200, "{:?}", start.elapsed());
    assert_eq!(budget.spent(), 4_000_000);

    // Opened with no password then the empty one, from one budget: no
    // password fails at the MAC (1,000,000), the empty one opens (3,000,000).
    let empty = export("empty.p12", "pass:", "1000000");
    let (imported, password) = inspect::open_pfx(&empty, None).unwrap();
    assert_eq!(password.as_deref(), Some(""));
    imported.usable_for_entra().unwrap();

    // Over 1,000,000 per derivation is refused at once.
    let over = export("over.p12", "pass:", "1000001");
    let err = inspect::open_pfx(&over, None).err().unwrap();
    assert_eq!(err.kind(), "too_many_iterations", "{err}");
}
