//! `flows::certificate::decide` — the certificate a wizard registers:
//! generated (key size, lifetime, password checks before any key is made,
//! the PFX kept for download) or imported (opens, private key, RSA, not
//! expired, not a bare public certificate).

mod flows_support;

use std::path::Path;
use std::process::Command;

use entra_wizard::core::certificate::Certificate;
use entra_wizard::core::generate::GenerateError;
use entra_wizard::core::inspect::OpenError;
use entra_wizard::core::key::RsaKey;
use entra_wizard::core::keygen::{KeyGenerator, KeySize, KeygenError, RsaKeyGenerator};
use entra_wizard::core::pfx::{self, ExportMode, PfxError};
use entra_wizard::core::time::{DAY, UnixTime};
use entra_wizard::flows::AuthMethod;
use entra_wizard::flows::InputError;
use entra_wizard::flows::certificate::{
    self, CertificateError, CertificateSource, KEY_SIZE, LIFETIME_MONTHS,
};
use flows_support::{certificate as make_certificate, key};

const NOW: UnixTime = UnixTime(1_790_000_000);
const PASSWORD: &str = "Correct-Horse-Battery-9";

/// A key generator that must not be asked: the checks come first.
struct NeverCalled;

impl KeyGenerator for NeverCalled {
    async fn generate(&self, _: KeySize) -> Result<RsaKey, KeygenError> {
        panic!("no key may be generated before the inputs are checked")
    }
}

fn pfx_of(cert: &Certificate, password: &str) -> Vec<u8> {
    pfx::export(
        key(),
        cert,
        &[],
        Some("Service"),
        password,
        ExportMode::Compatible,
        &mut rand_core::OsRng,
    )
    .unwrap()
}

async fn decide(
    source: &CertificateSource,
) -> Result<certificate::ChosenCertificate, CertificateError> {
    certificate::decide(source, &RsaKeyGenerator, NOW, &mut rand_core::OsRng).await
}

#[tokio::test]
async fn generates_with_the_wizards_key_size_and_lifetime() {
    assert_eq!(KEY_SIZE, KeySize::Rsa2048);
    assert_eq!(LIFETIME_MONTHS, 12);
    let source = CertificateSource::generate(" Backup Azure SA ", PASSWORD.into(), PASSWORD.into());
    assert!(source.is_generated());
    let chosen = decide(&source).await.unwrap();
    let generated = chosen.generated.expect("the PFX is kept for download");
    assert_eq!(generated.file_name, "Backup-Azure-SA.pfx");

    let cert = Certificate::from_der(&chosen.der).unwrap();
    let info = cert.info().unwrap();
    assert_eq!(info.subject_cn.as_deref(), Some("Backup Azure SA"));
    assert_eq!(generated.thumbprint, info.sha1);
    assert!(info.not_before <= NOW);
    assert_eq!(info.not_after, NOW.plus_months(12));
    let AuthMethod::Certificate {
        thumbprint,
        not_after,
        ..
    } = &chosen.auth
    else {
        panic!("{:?}", chosen.auth)
    };
    assert_eq!(thumbprint, &info.sha1);
    assert_eq!(*not_after, info.not_after);

    // The PFX holds this certificate and its 2048-bit key, behind the password.
    let imported = pfx::import(&generated.pfx, Some(PASSWORD)).unwrap();
    let (k, leaf) = imported.usable_for_entra().unwrap();
    assert_eq!(leaf.der(), chosen.der.as_slice());
    assert_eq!(k.bits(), 2048);
    assert!(matches!(
        pfx::import(&generated.pfx, Some("wrong")),
        Err(PfxError::WrongPassword)
    ));
}

#[tokio::test]
async fn generate_checks_come_before_the_key() {
    let rng = &mut rand_core::OsRng;
    let differ = CertificateSource::generate("Svc", PASSWORD.into(), "Another-Password-1".into());
    let e = certificate::decide(&differ, &NeverCalled, NOW, rng)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(e, CertificateError::Generate(GenerateError::Password(_))),
        "{e}"
    );

    let nameless = CertificateSource::generate("  ", PASSWORD.into(), PASSWORD.into());
    let e = certificate::decide(&nameless, &NeverCalled, NOW, rng)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            e,
            CertificateError::Generate(GenerateError::MissingCommonName)
        ),
        "{e}"
    );

    let too_long = CertificateSource::Generate {
        common_name: "Svc".into(),
        password: PASSWORD.to_string().into(),
        confirmation: PASSWORD.to_string().into(),
        key_size: KEY_SIZE,
        validity_months: 36,
    };
    let e = certificate::decide(&too_long, &NeverCalled, NOW, rng)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(e, CertificateError::Generate(GenerateError::Validity(36))),
        "{e}"
    );
}

#[tokio::test]
async fn imports_the_leaf_of_a_pfx() {
    let cert = make_certificate("Service", NOW);
    let data = pfx_of(&cert, PASSWORD);
    let source =
        CertificateSource::import(Some(("service.pfx".into(), data.clone())), PASSWORD.into());
    assert!(!source.is_generated());
    let chosen = decide(&source).await.unwrap();
    assert_eq!(chosen.der, cert.der());
    assert!(
        chosen.generated.is_none(),
        "the admin already holds the key"
    );
    assert!(
        matches!(chosen.auth, AuthMethod::Certificate { ref thumbprint, .. } if *thumbprint == cert.info().unwrap().sha1)
    );

    // A wrong password is said so; no password asks for one.
    let wrong =
        CertificateSource::import(Some(("service.pfx".into(), data.clone())), "wrong".into());
    assert!(matches!(
        decide(&wrong).await,
        Err(CertificateError::Open(OpenError::Pfx(
            PfxError::WrongPassword
        )))
    ));
    let none = CertificateSource::import(Some(("service.pfx".into(), data)), String::new());
    assert!(matches!(
        decide(&none).await,
        Err(CertificateError::Open(OpenError::NeedsPassword))
    ));
    // No file chosen.
    let missing = CertificateSource::import(None, PASSWORD.into());
    assert!(matches!(
        decide(&missing).await,
        Err(CertificateError::NoFile)
    ));
}

#[tokio::test]
async fn refuses_what_entra_or_the_service_cannot_use() {
    // Expired.
    let old = make_certificate("Old", UnixTime(NOW.0 - 400 * DAY));
    let source = CertificateSource::import(
        Some(("old.pfx".into(), pfx_of(&old, PASSWORD))),
        PASSWORD.into(),
    );
    assert!(matches!(
        decide(&source).await,
        Err(CertificateError::Input(InputError::CertificateExpired(_)))
    ));

    // A public certificate only.
    let cert = make_certificate("Public", NOW);
    let source = CertificateSource::import(
        Some(("public.cer".into(), cert.der().to_vec())),
        String::new(),
    );
    let e = decide(&source).await.err().unwrap();
    assert!(matches!(e, CertificateError::OnlyPublicCertificate), "{e}");
    assert!(e.to_string().contains("private key"));

    let dir = tempfile::tempdir().unwrap();
    // A PFX with no private key, and one with an EC key (OpenSSL makes both).
    let nokey = openssl_pfx(dir.path(), "nokey", false);
    let source = CertificateSource::import(Some(("nokey.pfx".into(), nokey)), "pass".into());
    assert!(matches!(
        decide(&source).await,
        Err(CertificateError::Unusable(PfxError::NoPrivateKey))
    ));
    let ec = openssl_pfx(dir.path(), "ec", true);
    let source = CertificateSource::import(Some(("ec.pfx".into(), ec)), "pass".into());
    let e = decide(&source).await.err().unwrap();
    assert!(
        matches!(e, CertificateError::Unusable(PfxError::NotRsa { .. })),
        "{e}"
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed (cargo xtask test installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `ec` false: a PFX of an RSA certificate only (no key); true: an EC key
/// and its certificate.
fn openssl_pfx(dir: &Path, name: &str, ec: bool) -> Vec<u8> {
    let key = format!("{name}.key");
    let crt = format!("{name}.crt");
    let out = format!("{name}.pfx");
    let newkey = if ec { "ec" } else { "rsa:2048" };
    let mut req = vec!["req", "-x509", "-newkey", newkey];
    if ec {
        req.extend(["-pkeyopt", "ec_paramgen_curve:P-256"]);
    }
    req.extend([
        "-nodes", "-keyout", &key, "-out", &crt, "-days", "30", "-subj", "/CN=test",
    ]);
    openssl(dir, &req);
    // With the EC key, or with no key at all.
    let mut export = vec!["pkcs12", "-export"];
    if ec {
        export.extend(["-inkey", key.as_str()]);
    } else {
        export.push("-nokeys");
    }
    export.extend(["-in", &crt, "-out", &out, "-passout", "pass:pass"]);
    openssl(dir, &export);
    std::fs::read(dir.join(out)).unwrap()
}
