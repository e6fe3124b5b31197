//! Every PKCS#12 vector of pyca/cryptography reads as pyca reads it: key
//! type, leaf certificate, other certificates and friendly names.

use std::path::PathBuf;

use entra_wizard::core::certificate::KeyKind;
use entra_wizard::core::pfx::{self, Imported, ImportedKey};
use serde_json::Value;

fn dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/testdata/pkcs12/pyca"
    ));
    assert!(
        dir.join("expected.json").is_file(),
        "the pyca PKCS#12 vectors are missing: expected {}/expected.json",
        dir.display()
    );
    dir
}

fn expected() -> Vec<Value> {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

/// pyca names EC keys after the SEC curve; we use the NIST name.
fn pyca_key_name(kind: &KeyKind) -> String {
    match kind {
        KeyKind::Rsa { bits } => format!("RSA-{bits}"),
        KeyKind::Ec { curve } if curve == "P-256" => "EC-secp256r1".into(),
        KeyKind::Ec { curve } if curve == "P-384" => "EC-secp384r1".into(),
        other => other.to_string(),
    }
}

fn cn(cert: &entra_wizard::core::certificate::Certificate) -> Option<String> {
    cert.info().unwrap().subject_cn
}

fn check(entry: &Value, imported: &Imported) {
    let file = entry["file"].as_str().unwrap();
    let key = imported.key.as_ref().map(|k| pyca_key_name(&k.kind()));
    assert_eq!(key.as_deref(), entry["key"].as_str(), "{file}: key");

    match (&imported.leaf, &entry["cert"]) {
        (None, Value::Null) => {}
        (Some(leaf), want) if !want.is_null() => {
            assert_eq!(
                leaf.sha1_hex(),
                want["sha1"].as_str().unwrap(),
                "{file}: leaf"
            );
            assert_eq!(cn(leaf).as_deref(), want["subject_cn"].as_str(), "{file}");
            assert_eq!(
                imported.leaf_friendly_name.as_deref(),
                want["friendly_name"].as_str(),
                "{file}: leaf friendly name"
            );
        }
        (got, want) => panic!("{file}: leaf {got:?}, expected {want}"),
    }

    let want_others = entry["additional_certs"].as_array().unwrap();
    let got: Vec<_> = imported
        .others
        .iter()
        .zip(&imported.other_friendly_names)
        .map(|(c, name)| (c.sha1_hex(), cn(c), name.clone()))
        .collect();
    let want: Vec<_> = want_others
        .iter()
        .map(|c| {
            (
                c["sha1"].as_str().unwrap().to_owned(),
                c["subject_cn"].as_str().map(str::to_owned),
                c["friendly_name"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(got, want, "{file}: other certificates");

    // Every friendly name pyca reports is in our list of names.
    let pyca_names = std::iter::once(&entry["cert"]["friendly_name"])
        .chain(want_others.iter().map(|c| &c["friendly_name"]))
        .filter_map(Value::as_str);
    for name in pyca_names {
        assert!(
            imported.friendly_names.iter().any(|n| n == name),
            "{file}: friendly name {name:?} missing from {:?}",
            imported.friendly_names
        );
    }
}

#[test]
fn every_pyca_vector_matches_expected_json() {
    let entries = expected();
    let on_disk = std::fs::read_dir(dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "p12")
        })
        .count();
    assert_eq!(
        entries.len(),
        on_disk,
        "expected.json should list every .p12"
    );
    for entry in &entries {
        let file = entry["file"].as_str().unwrap();
        let data = std::fs::read(dir().join(file)).unwrap();
        let password = entry["password"].as_str();
        // pyca's "no password" covers both encodings of nothing (keytool
        // writes the empty BMP password, OpenSSL none); so do the wizards.
        let result = match password {
            Some(pw) => pfx::import(&data, Some(pw)),
            None => pfx::import(&data, None).or_else(|_| pfx::import(&data, Some(""))),
        };
        let imported =
            result.unwrap_or_else(|e| panic!("{file} with {password:?}: {e} ({})", e.kind()));
        check(entry, &imported);
    }
}

#[test]
fn callers_fallback_opens_the_no_password_vectors() {
    // The wizards try no password, then the empty one, before asking.
    for entry in expected().iter().filter(|e| e["password"].is_null()) {
        let file = entry["file"].as_str().unwrap();
        let data = std::fs::read(dir().join(file)).unwrap();
        let imported = pfx::import(&data, None)
            .or_else(|_| pfx::import(&data, Some("")))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        check(entry, &imported);
    }
}

#[test]
fn a_wrong_password_is_reported_as_such() {
    for entry in expected().iter().filter(|e| e["password"].is_string()) {
        let file = entry["file"].as_str().unwrap();
        let data = std::fs::read(dir().join(file)).unwrap();
        for wrong in [None, Some(""), Some("not the password")] {
            let err = pfx::import(&data, wrong).unwrap_err();
            assert_eq!(err.kind(), "wrong_password", "{file} with {wrong:?}: {err}");
        }
    }
}

#[test]
fn ec_keys_are_parsed_and_refused_for_entra() {
    let data = std::fs::read(dir().join("no-password.p12")).unwrap();
    let imported = pfx::import(&data, None).unwrap();
    let Some(ImportedKey::NonRsa { kind }) = &imported.key else {
        panic!("expected an EC key, got {:?}", imported.key);
    };
    assert_eq!(kind.to_string(), "EC-P-256");
    let err = imported.usable_for_entra().unwrap_err();
    assert_eq!(err.kind(), "not_rsa");
    assert!(err.to_string().contains("EC-P-256"), "{err}");
}

#[test]
fn a_pfx_without_key_or_without_certificate_is_refused_for_entra() {
    let certs_only = std::fs::read(dir().join("no-cert-no-name-no-pwd.p12")).unwrap();
    let imported = pfx::import(&certs_only, None).unwrap();
    assert_eq!(
        imported.usable_for_entra().unwrap_err().kind(),
        "no_private_key"
    );

    let key_only = std::fs::read(dir().join("no-cert-key-aes256cbc.p12")).unwrap();
    let imported = pfx::import(&key_only, Some("cryptography")).unwrap();
    assert!(imported.leaf.is_none() && imported.others.is_empty());
    // The key is EC, so "not RSA" is what the admin must fix first.
    assert_eq!(imported.usable_for_entra().unwrap_err().kind(), "not_rsa");
}

#[test]
fn algorithms_are_reported_for_inspection() {
    let aes = std::fs::read(dir().join("cert-key-aes256cbc.p12")).unwrap();
    let imported = pfx::import(&aes, Some("cryptography")).unwrap();
    assert!(
        imported
            .encryption
            .iter()
            .all(|e| e.starts_with("PBES2 AES-256-CBC")),
        "{:?}",
        imported.encryption
    );
    let legacy = std::fs::read(dir().join("cert-rc2-key-3des.p12")).unwrap();
    let imported = pfx::import(&legacy, Some("cryptography")).unwrap();
    assert_eq!(
        imported.encryption,
        [
            "pbewithSHAAnd40BitRC2-CBC",
            "pbeWithSHAAnd3-KeyTripleDES-CBC"
        ]
    );
    let none = std::fs::read(dir().join("cert-none-key-none.p12")).unwrap();
    let imported = pfx::import(&none, Some("cryptography")).unwrap();
    assert!(imported.encryption.is_empty(), "{:?}", imported.encryption);
}
