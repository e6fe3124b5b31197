//! Untrusted inputs that once crashed a parser — found by reading (issue 11)
//! or by `cargo xtask fuzz` (the input is kept under
//! `tests/fuzz_inputs/<target>/`). Each must now come back as a typed error.

use entra_wizard::cloud::Cloud;
use entra_wizard::core::inspect;
use entra_wizard::core::time::UnixTime;
use entra_wizard::flows::connection::{
    self, AuthMethod, ConnectionRecord, RecordDetails, RecordError,
};

/// A "Service accounts" file with one record saved at `saved`.
fn service_accounts_file(saved: &str) -> String {
    let record = ConnectionRecord::local(
        RecordDetails {
            name: "backup".into(),
            cloud: Cloud::Global,
            tenant_id: "11111111-2222-3333-4444-555555555555".into(),
            auth: AuthMethod::ClientSecret {
                hint: "abc".into(),
                end: None,
            },
            profile: "azure-backup".into(),
            subscription: None,
            portal_address: None,
        },
        "66666666-7777-8888-9999-000000000000",
        UnixTime(1_700_000_000),
    );
    let json = connection::export(&[record]);
    let good = "\"2023-11-14T22:13:20Z\"";
    assert!(json.contains(good), "{json}");
    json.replace(good, &serde_json::to_string(saved).unwrap())
}

/// Issue 11: a service-accounts file whose date ends in a non-ASCII
/// time-zone offset panicked the RFC 3339 parser.
#[test]
fn service_accounts_with_a_non_ascii_offset() {
    let ok = service_accounts_file("2023-11-15T00:13:20+02:00");
    assert_eq!(
        connection::import(&ok).unwrap()[0].saved,
        UnixTime(1_700_000_000)
    );
    for saved in ["2023-11-14T22:13:20+€", "2023-11-14T22:13:20-0€"] {
        let err = connection::import(&service_accounts_file(saved)).unwrap_err();
        assert!(matches!(err, RecordError::Import(_)), "{err:?}");
        let message = err.to_string();
        assert!(
            message.starts_with("This file is not a list of service accounts"),
            "{message}"
        );
        assert!(message.contains(saved), "{message}");
        assert!(message.contains("2025-01-31T12:00:00Z"), "{message}");
    }
}

/// The inputs `cargo xtask fuzz` found crashing a target, kept in
/// `tests/fuzz_inputs/<target>/` and replayed here through the same call.
fn found_by_the_fuzzer(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_inputs")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no input in {}", dir.display());
    inputs
}

/// High-tag-number chunks in constructed strings, in the first seconds of
/// fuzzing (the panic of issue 11 in other shapes).
#[test]
fn pfx_files_found_by_the_fuzzer() {
    for (name, data) in found_by_the_fuzzer("pfx") {
        let err = inspect::open_pfx(&data, None)
            .err()
            .unwrap_or_else(|| panic!("{name} opened"));
        assert!(
            matches!(err.kind(), "not_pkcs12" | "corrupt" | "truncated"),
            "{name}: {err}"
        );
    }
}

/// Offsets with a replaced (U+FFFD) character: the text a browser hands
/// over for a file that is not valid UTF-8.
#[test]
fn dates_found_by_the_fuzzer() {
    for (name, data) in found_by_the_fuzzer("time") {
        let text = String::from_utf8_lossy(&data);
        assert!(UnixTime::parse_rfc3339(&text).is_err(), "{name}: {text}");
    }
}

#[test]
fn service_account_files_found_by_the_fuzzer() {
    for (name, data) in found_by_the_fuzzer("service_accounts") {
        let err = connection::import(&String::from_utf8_lossy(&data)).unwrap_err();
        assert!(matches!(err, RecordError::Import(_)), "{name}: {err:?}");
    }
}
