//! Our PFX export read back by our import, in both modes, at every key size.

mod common;

use common::{cert, key, other_key};
use entra_wizard::core::keygen::KeySize;
use entra_wizard::core::pfx::{self, ExportMode, ImportedKey};
use rand_core::OsRng;

fn round_trip(size: KeySize, mode: ExportMode) {
    let key = key(size);
    let leaf = cert(key, &format!("backup-{}", size.bits()));
    let ca = cert(other_key(), "Contoso Issuing CA");
    let password = "correct horse battery staple";
    let name = "Contoso backup ☺";
    let data = pfx::export(
        key,
        &leaf,
        std::slice::from_ref(&ca),
        Some(name),
        password,
        mode,
        &mut OsRng,
    )
    .unwrap();

    let imported = pfx::import(&data, Some(password)).unwrap();
    let Some(ImportedKey::Rsa(back)) = &imported.key else {
        panic!(
            "{size:?} {mode:?}: expected an RSA key, got {:?}",
            imported.key
        );
    };
    assert_eq!(back, key);
    assert_eq!(back.bits(), size.bits());
    assert_eq!(imported.leaf.as_ref(), Some(&leaf));
    assert_eq!(imported.others, [ca]);
    assert_eq!(imported.other_friendly_names, [None]);
    assert_eq!(imported.leaf_friendly_name.as_deref(), Some(name));
    assert_eq!(imported.key_friendly_name.as_deref(), Some(name));
    assert_eq!(imported.friendly_names, [name]);
    let (k, c) = imported.usable_for_entra().unwrap();
    assert_eq!((k, c), (key, &leaf));

    match mode {
        ExportMode::Compatible => {
            assert_eq!(imported.mac.as_deref(), Some("SHA-1"));
            assert_eq!(imported.encryption, ["pbeWithSHAAnd3-KeyTripleDES-CBC"]);
        }
        ExportMode::Modern => {
            assert_eq!(imported.mac.as_deref(), Some("SHA-256"));
            assert_eq!(imported.encryption, ["PBES2 AES-256-CBC HMAC-SHA256"]);
        }
    }

    // The wrong password, no password and the empty one all fail the MAC.
    for wrong in [Some("Correct horse battery staple"), None, Some("")] {
        assert_eq!(
            pfx::import(&data, wrong).unwrap_err().kind(),
            "wrong_password"
        );
    }
}

#[test]
fn compatible_2048() {
    round_trip(KeySize::Rsa2048, ExportMode::Compatible);
}

#[test]
fn compatible_3072() {
    round_trip(KeySize::Rsa3072, ExportMode::Compatible);
}

#[test]
fn compatible_4096() {
    round_trip(KeySize::Rsa4096, ExportMode::Compatible);
}

#[test]
fn modern_2048() {
    round_trip(KeySize::Rsa2048, ExportMode::Modern);
}

#[test]
fn modern_3072() {
    round_trip(KeySize::Rsa3072, ExportMode::Modern);
}

#[test]
fn modern_4096() {
    round_trip(KeySize::Rsa4096, ExportMode::Modern);
}

#[test]
fn compatible_is_the_default_mode() {
    assert_eq!(ExportMode::default(), ExportMode::Compatible);
    const { assert!(pfx::COMPATIBLE_ITERATIONS >= 2048 && pfx::MODERN_ITERATIONS >= 2048) };
}

#[test]
fn unicode_passwords_round_trip_in_both_modes() {
    let key = key(KeySize::Rsa2048);
    let leaf = cert(key, "unicode");
    for mode in [ExportMode::Compatible, ExportMode::Modern] {
        for password in ["pässwörd", "密码🔑", "Ωmega 42"] {
            let data = pfx::export(key, &leaf, &[], None, password, mode, &mut OsRng).unwrap();
            let imported = pfx::import(&data, Some(password))
                .unwrap_or_else(|e| panic!("{mode:?} {password}: {e}"));
            assert_eq!(imported.usable_for_entra().unwrap().1, &leaf);
            assert!(imported.friendly_names.is_empty());
        }
    }
}

#[test]
fn two_exports_differ_by_their_random_salts() {
    let key = key(KeySize::Rsa2048);
    let leaf = cert(key, "salted");
    let a = pfx::export(key, &leaf, &[], None, "pw", ExportMode::Modern, &mut OsRng).unwrap();
    let b = pfx::export(key, &leaf, &[], None, "pw", ExportMode::Modern, &mut OsRng).unwrap();
    assert_ne!(a, b);
}

#[test]
fn export_refuses_an_empty_password_and_a_foreign_certificate() {
    let key = key(KeySize::Rsa2048);
    let leaf = cert(key, "mine");
    let err = pfx::export(
        key,
        &leaf,
        &[],
        None,
        "",
        ExportMode::Compatible,
        &mut OsRng,
    )
    .unwrap_err();
    assert_eq!(err.kind(), "empty_password");
    let foreign = cert(other_key(), "not mine");
    let err = pfx::export(
        key,
        &foreign,
        &[],
        None,
        "pw",
        ExportMode::Compatible,
        &mut OsRng,
    )
    .unwrap_err();
    assert_eq!(err.kind(), "key_mismatch");
}
