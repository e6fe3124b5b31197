//! F2 — use an existing application: unchecked it validates locally and
//! sends nothing; checked it finds the application (or says it is not in
//! the tenant), registers the certificate keeping the existing keys, and
//! grants only what is missing.

mod flows_support;

use core::ops::ControlFlow;

use base64ct::{Base64, Encoding};
use entra_wizard::arm::builtin;
use entra_wizard::client::ApiClient;
use entra_wizard::core::pfx::{self, ExportMode, PfxError};
use entra_wizard::core::time::UnixTime;
use entra_wizard::flows::existing_app::{
    self, CheckedAuth, Credential, ExistingAppError, ExistingApplication, Next, RunError,
};
use entra_wizard::http::RetryPolicy;
use entra_wizard::plan::execute::{ApplyError, StepError};
use entra_wizard::plan::{self, Event, Finish, Outcome};
use entra_wizard::profiles;
use flows_support::*;
use zeroize::Zeroizing;

const TENANT: &str = "8f3a6c2e-4b1d-4e7a-9c5f-2d8b6a1e0c47";
/// The demo tenant's "Contoso Restore" (valid certificate, Contributor only).
const CONTOSO_RESTORE: &str = "d8b0490d-823f-46df-8680-25017029384a";
const NOW: UnixTime = UnixTime(1_790_000_000);

fn input(credential: Credential, grant: bool) -> ExistingApplication {
    ExistingApplication {
        tenant: TENANT.into(),
        app_id: CONTOSO_RESTORE.into(),
        credential,
        grant_and_register: grant,
        profile: profiles::by_id("azure-backup").unwrap(),
        subscription: Some(production()),
    }
}

fn pfx_credential(cn: &str, now: UnixTime, password: &str) -> (Credential, Vec<u8>) {
    let cert = certificate(cn, now);
    let data = pfx::export(
        key(),
        &cert,
        &[],
        Some(cn),
        "Pfx-Passw0rd",
        ExportMode::Compatible,
        &mut rand_core::OsRng,
    )
    .unwrap();
    (
        Credential::Pfx {
            data: Zeroizing::new(data),
            password: Some(Zeroizing::new(password.into())),
        },
        cert.der().to_vec(),
    )
}

fn offline<'a>(http: &'a NoNetwork, sleeper: &'a Recorder) -> ApiClient<'a, NoNetwork, Recorder> {
    let endpoints = entra_wizard::cloud::Cloud::Global.endpoints();
    ApiClient::new(http, sleeper, endpoints, RetryPolicy::default(), 1, NOW)
}

#[tokio::test]
async fn unchecked_validates_locally_and_sends_nothing() {
    let sleeper = Recorder::default();
    let api = offline(&NoNetwork, &sleeper);

    let secret = input(
        Credential::Secret(Zeroizing::new(
            "Sr38Q~UpQGsvDxBcF8cHGBwsAtF-r0mXNik-Mbk7".into(),
        )),
        false,
    );
    let Next::Finished(check) = existing_app::run(&api, &secret, NOW, &mut rand_core::OsRng)
        .await
        .unwrap()
    else {
        panic!("unchecked F2 finishes locally")
    };
    assert_eq!(check.tenant, TENANT);
    assert_eq!(check.app_id, CONTOSO_RESTORE);
    assert_eq!(check.auth, CheckedAuth::Secret { hint: "Sr3".into() });
    assert_eq!(
        check.auth_method(),
        entra_wizard::flows::AuthMethod::ClientSecret {
            hint: "Sr3".into(),
            end: None
        }
    );
    assert!(check.warnings.is_empty());

    // A pasted secret ID is accepted with a warning.
    let id = input(
        Credential::Secret(Zeroizing::new(
            "0c74fb13-03e3-4fc8-9e1f-61862656ca5e".into(),
        )),
        false,
    );
    let Next::Finished(check) = existing_app::run(&api, &id, NOW, &mut rand_core::OsRng)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert!(
        check.warnings[0].contains("secret's ID"),
        "{:?}",
        check.warnings
    );

    // A PFX opens with its password; its certificate is described.
    let (cred, der) = pfx_credential("Service", NOW, "Pfx-Passw0rd");
    let Next::Finished(check) =
        existing_app::run(&api, &input(cred, false), NOW, &mut rand_core::OsRng)
            .await
            .unwrap()
    else {
        panic!()
    };
    let record = entra_wizard::flows::ConnectionRecord::local(
        entra_wizard::flows::connection::RecordDetails {
            name: "Contoso Restore".into(),
            cloud: entra_wizard::cloud::Cloud::Global,
            tenant_id: check.tenant.clone(),
            auth: check.auth_method(),
            profile: "azure-backup".into(),
            subscription: None,
            portal_address: None,
        },
        &check.app_id,
        NOW,
    );
    let json = entra_wizard::flows::connection::export(std::slice::from_ref(&record));
    assert!(json.contains(&entra_wizard::core::thumbprint::sha1_hex(&der)));
    assert!(
        !json.contains(&Base64::encode_string(&der)[..40]),
        "no certificate, no key"
    );
    match check.auth {
        CheckedAuth::Certificate {
            certificate_der,
            thumbprint,
            ..
        } => {
            assert_eq!(certificate_der, der);
            assert_eq!(thumbprint, entra_wizard::core::thumbprint::sha1_hex(&der));
        }
        other => panic!("{other:?}"),
    }

    // Every local mistake is named, still without a request.
    let (cred, _) = pfx_credential("Service", NOW, "wrong");
    let err = existing_app::run(&api, &input(cred, false), NOW, &mut rand_core::OsRng)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RunError::Input(ExistingAppError::Pfx(_))),
        "{err}"
    );
    // With no password typed: a protected PFX asks for one, while a PEM
    // certificate chosen by mistake says what it is.
    let (Credential::Pfx { data, .. }, der) = pfx_credential("Service", NOW, "x") else {
        unreachable!()
    };
    let no_password = Credential::Pfx {
        data,
        password: None,
    };
    let err = existing_app::run(&api, &input(no_password, false), NOW, &mut rand_core::OsRng)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RunError::Input(ExistingAppError::PfxNeedsPassword)),
        "{err}"
    );
    let pem = entra_wizard::core::certificate::Certificate::from_der(&der)
        .unwrap()
        .to_pem();
    let pem_file = Credential::Pfx {
        data: Zeroizing::new(pem.into_bytes()),
        password: None,
    };
    let err = existing_app::run(&api, &input(pem_file, false), NOW, &mut rand_core::OsRng)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RunError::Input(ExistingAppError::Pfx(PfxError::PemCertificate))
        ),
        "{err}"
    );
    let (cred, _) = pfx_credential("Old", UnixTime(NOW.0 - 400 * 86_400), "Pfx-Passw0rd");
    let err = existing_app::run(&api, &input(cred, false), NOW, &mut rand_core::OsRng)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    let mut bad_tenant = input(Credential::Secret(Zeroizing::new("x".repeat(40))), false);
    bad_tenant.tenant = "not a tenant".into();
    let err = existing_app::run(&api, &bad_tenant, NOW, &mut rand_core::OsRng)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Input(ExistingAppError::Tenant(_))));
    let mut bad_app = input(Credential::Secret(Zeroizing::new("x".repeat(40))), false);
    bad_app.app_id = "Contoso Restore".into();
    let err = existing_app::run(&api, &bad_app, NOW, &mut rand_core::OsRng)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        RunError::Input(ExistingAppError::ApplicationId(_))
    ));
    assert!(sleeper.delays.borrow().is_empty());
}

#[tokio::test]
async fn checked_says_when_the_application_is_not_in_the_tenant() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let mut form = input(Credential::Secret(Zeroizing::new("x".repeat(40))), true);
    form.app_id = "11111111-2222-4333-8444-555555555555".into();
    let Next::Review { plan, missing, .. } =
        existing_app::run(&api, &form, env.now(), &mut rand_core::OsRng)
            .await
            .unwrap()
    else {
        panic!("checked F2 plans")
    };
    assert!(missing.is_empty());
    let mut progress = plan.start();
    let err = plan::apply(&api, &plan, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap_err();
    let ApplyError::Step(failure) = err else {
        panic!("{err}")
    };
    assert_eq!(failure.index, 0);
    assert!(matches!(
        failure.error,
        StepError::ApplicationNotInTenant { .. }
    ));
    assert!(failure.to_string().contains(
        "No application with application (client) ID 11111111-2222-4333-8444-555555555555"
    ));
    assert!(failure.what_to_do.contains("right tenant") || failure.what_to_do.contains("tenant"));
    env.stop().await;
}

#[tokio::test]
async fn checked_registers_the_certificate_keeping_keys_and_grants_what_is_missing() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let before = env.state().await;
    let app_before = &apps_named(&before, "Contoso Restore")[0].clone();
    let old_keys = app_before["keyCredentials"].as_array().unwrap().clone();
    assert_eq!(old_keys.len(), 1);

    let (cred, der) = pfx_credential("Contoso Restore 2027", env.now(), "Pfx-Passw0rd");
    let Next::Review { plan, missing, .. } =
        existing_app::run(&api, &input(cred, true), env.now(), &mut rand_core::OsRng)
            .await
            .unwrap()
    else {
        panic!()
    };
    assert!(missing.is_empty(), "{missing:?}");
    let mut progress = plan.start();
    let mut outcomes = Vec::new();
    let finish = plan::apply(&api, &plan, &mut progress, &mut |e, _| {
        if let Event::Done { record, .. } = e {
            outcomes.push(record.outcome.unwrap());
        }
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert_eq!(finish, Finish::Completed);
    use Outcome::*;
    // find, service principal (exists), certificate, Contributor (exists), two new roles
    assert_eq!(
        outcomes,
        [
            AlreadyDone,
            AlreadyDone,
            Changed,
            AlreadyDone,
            Changed,
            Changed
        ]
    );

    let state = env.state().await;
    let apps = apps_named(&state, "Contoso Restore");
    assert_eq!(apps.len(), 1);
    let keys = apps[0]["keyCredentials"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "the existing certificate is kept");
    assert_eq!(keys[0]["keyId"], old_keys[0]["keyId"]);
    assert_eq!(keys[0]["key"], old_keys[0]["key"]);
    assert_eq!(
        Base64::decode_vec(keys[1]["key"].as_str().unwrap()).unwrap(),
        der
    );
    let sps = sps_for(&state, CONTOSO_RESTORE);
    assert_eq!(sps.len(), 1);
    let mut want = vec![
        builtin::CONTRIBUTOR.to_string(),
        builtin::KEY_VAULT_CRYPTO_USER.to_string(),
        builtin::STORAGE_QUEUE_DATA_CONTRIBUTOR.to_string(),
    ];
    want.sort();
    assert_eq!(role_ids_of(&state, sps[0]["id"].as_str().unwrap()), want);
    env.stop().await;
}
