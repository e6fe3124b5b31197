//! PFX files in BER (indefinite lengths, chunked OCTET STRINGs), as macOS
//! Keychain and NSS write them: made here by re-encoding OpenSSL's DER.

mod common;

use std::path::Path;

use common::{normalize_fingerprint, run_ok};
use entra_wizard::core::certificate::Certificate;
use entra_wizard::core::pfx;

/// Splits DER into (tag, content) values.
fn values(mut der: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let tag = der[0];
        assert_ne!(tag & 0x1F, 0x1F, "high tag numbers are not expected here");
        let (len, header) = match der[1] {
            l if l < 0x80 => (l as usize, 2),
            l => {
                let n = (l & 0x7F) as usize;
                let len = der[2..2 + n]
                    .iter()
                    .fold(0usize, |a, b| (a << 8) | *b as usize);
                (len, 2 + n)
            }
        };
        out.push((tag, &der[header..header + len]));
        der = &der[header + len..];
    }
    out
}

fn chunked(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x24, 0x80];
    for chunk in content.chunks(16) {
        out.extend([0x04, chunk.len() as u8]);
        out.extend_from_slice(chunk);
    }
    out.extend([0, 0]);
    out
}

/// Re-encodes DER as BER: every constructed value with an indefinite
/// length, every OCTET STRING over 16 bytes in chunks, the primitive
/// `[0]` encryptedContent as constructed chunks. With `deep`, the PKCS#12
/// structures inside OCTET STRINGs (not certificates) are re-encoded too,
/// which changes the MAC's input: only for files without a MAC.
fn berify(der: &[u8], deep: bool, parent: u8) -> Vec<u8> {
    let mut out = Vec::new();
    for (tag, content) in values(der) {
        if tag & 0x20 != 0 {
            out.extend([tag, 0x80]);
            out.extend(berify(content, deep, tag));
            out.extend([0, 0]);
        } else if tag == 0x04 && content.len() > 16 {
            let inner = if deep
                && parent == 0xA0
                && content[0] == 0x30
                && Certificate::from_der(content).is_err()
            {
                berify(content, deep, 0x04)
            } else {
                content.to_vec()
            };
            out.extend(chunked(&inner));
        } else if tag == 0x80 {
            let mut c = chunked(content);
            c[0] = 0xA0;
            out.extend(c);
        } else {
            let mut header = vec![tag];
            if content.len() < 0x80 {
                header.push(content.len() as u8);
            } else {
                let bytes: Vec<u8> = content
                    .len()
                    .to_be_bytes()
                    .into_iter()
                    .skip_while(|b| *b == 0)
                    .collect();
                header.push(0x80 | bytes.len() as u8);
                header.extend(bytes);
            }
            out.extend(header);
            out.extend_from_slice(content);
        }
    }
    out
}

fn make(dir: &Path, name: &str, extra: &[&str]) -> Vec<u8> {
    let mut args = vec![
        "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-passout", "pass:ber", "-name",
        "ber", "-out", name,
    ];
    args.extend_from_slice(extra);
    run_ok("openssl", &args, dir);
    std::fs::read(dir.join(name)).unwrap()
}

#[test]
fn we_open_ber_encoded_pfx_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        "openssl",
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem", "-out", "c.pem",
            "-subj", "/CN=ber", "-days", "30",
        ],
        d,
    );
    let fp = run_ok(
        "openssl",
        &["x509", "-in", "c.pem", "-noout", "-fingerprint", "-sha1"],
        d,
    );
    let sha1 = normalize_fingerprint(fp.trim().rsplit('=').next().unwrap());

    let cases = [
        ("default, MAC kept", make(d, "a.p12", &[]), false),
        ("legacy, MAC kept", make(d, "b.p12", &["-legacy"]), false),
        (
            "legacy without MAC, deep",
            make(d, "c.p12", &["-legacy", "-nomac"]),
            true,
        ),
        (
            "unencrypted without MAC, deep",
            make(
                d,
                "d.p12",
                &["-nomac", "-keypbe", "NONE", "-certpbe", "NONE"],
            ),
            true,
        ),
    ];
    for (what, der, deep) in cases {
        let ber = berify(&der, deep, 0);
        assert_ne!(ber, der, "{what}: the re-encoding changed nothing");
        // OpenSSL reads the BER file too: the re-encoding is faithful.
        std::fs::write(d.join("ber.p12"), &ber).unwrap();
        let mut args = vec![
            "pkcs12", "-in", "ber.p12", "-passin", "pass:ber", "-nodes", "-noout",
        ];
        if what.starts_with("legacy") {
            args.push("-legacy");
        }
        run_ok("openssl", &args, d);
        let imported = pfx::import(&ber, Some("ber")).unwrap_or_else(|e| panic!("{what}: {e}"));
        let (key, leaf) = imported.usable_for_entra().unwrap();
        assert_eq!(key.bits(), 2048, "{what}");
        assert_eq!(leaf.sha1_hex(), sha1, "{what}");
        assert_eq!(
            imported.leaf_friendly_name.as_deref(),
            Some("ber"),
            "{what}"
        );
        if !deep {
            assert_eq!(
                pfx::import(&ber, Some("wrong")).unwrap_err().kind(),
                "wrong_password",
                "{what}"
            );
        }
        // Cut short, it is reported as truncated.
        assert_eq!(
            pfx::import(&ber[..ber.len() - 3], Some("ber"))
                .unwrap_err()
                .kind(),
            "truncated",
            "{what}"
        );
    }
}
