//! F6 against the in-process emulator: the demo's service whose only
//! certificate expired gets AADSTS700027 from the token endpoint; the
//! admin pastes that text (or the thumbprint), the flow finds the key,
//! registers a new certificate keeping the other keys, and — as its own
//! plan — removes the expired one. The service then gets an app-only token
//! with the new key.

mod common;
mod flows_support;

use core::ops::ControlFlow;

use entra_wizard::client::ApiClient;
use entra_wizard::core::certificate::Certificate;
use entra_wizard::core::inspect;
use entra_wizard::core::key::RsaKey;
use entra_wizard::core::keygen::RsaKeyGenerator;
use entra_wizard::core::thumbprint;
use entra_wizard::core::time::UnixTime;
use entra_wizard::flows::certificate::{self, CertificateSource};
use entra_wizard::flows::connection::{AuthMethod, ConnectionRecord, RecordDetails};
use entra_wizard::flows::policy::PolicyView;
use entra_wizard::flows::renew::{self, FoundKey, OwnerKind, Search, StartError, Target};
use entra_wizard::http::HttpClient;
use entra_wizard::plan::{self, Outcome, Plan, Progress, StepError};
use flows_support::*;
use rand_core::OsRng;
use serde_json::Value;

/// The demo's application whose only certificate has expired.
const EXPIRED_APP: &str = "082c67e2-3c4e-4548-b957-69746605c3bf";

fn seed_app<'s>(env: &'s Env, scenario: &str) -> &'s Value {
    env.seed["serviceApps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["scenario"] == scenario)
        .unwrap()
}

fn pkcs8_pem(pem: &str) -> RsaKey {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = <base64ct::Base64 as base64ct::Encoding>::decode_vec(&b64).unwrap();
    RsaKey::from_pkcs8_der(&der).unwrap()
}

/// What the token endpoint answers the service's client-credentials request
/// signed with `key` for the certificate `cert_der`: (status, JSON).
async fn service_sign_in(env: &Env, app_id: &str, key: &RsaKey, cert_der: &[u8]) -> (u16, Value) {
    let token_url = env.endpoints().token_url(&env.tenant_id());
    // Signed as a service does (jsonwebtoken: core::jwt takes https
    // audiences only, and this emulator listens on http).
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.x5t = Some(thumbprint::x5t(cert_der));
    let now = env.now().0;
    let claims = serde_json::json!({
        "aud": token_url, "iss": app_id, "sub": app_id,
        "jti": plan::new_guid(&mut OsRng), "nbf": now, "iat": now, "exp": now + 300,
    });
    let pkcs1 = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(key.rsa()).unwrap();
    let assertion = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(pkcs1.as_bytes()),
    )
    .unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("scope", "https://graph.microsoft.com/.default"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", &assertion),
    ];
    let r = reqwest::Client::new()
        .post(token_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The AADSTS700027 text the demo's service gets with its expired key.
async fn expired_error_text(
    env: &Env,
    api: &ApiClient<'_, impl HttpClient, ClockSleeper<'_>>,
) -> String {
    let app = seed_app(env, "expired-certificate");
    let key = pkcs8_pem(app["privateKeyPem"].as_str().unwrap());
    let graph_app = entra_wizard::graph::get_application_by_app_id(api, EXPIRED_APP)
        .await
        .unwrap()
        .unwrap();
    let der = graph_app.key_credentials[0].certificate_der().unwrap();
    let (status, answer) = service_sign_in(env, EXPIRED_APP, &key, &der).await;
    assert_eq!(status, 401, "{answer}");
    answer["error_description"].as_str().unwrap().to_string()
}

fn record(env: &Env, app_id: &str, thumbprint: &str, name: &str) -> ConnectionRecord {
    ConnectionRecord::local(
        RecordDetails {
            name: name.into(),
            cloud: env.cloud(),
            tenant_id: env.tenant_id(),
            auth: AuthMethod::Certificate {
                thumbprint: thumbprint.into(),
                subject: "CN=Contoso Backup".into(),
                not_before: UnixTime(0),
                not_after: UnixTime(1),
            },
            profile: "azure-backup".into(),
            subscription: None,
            portal_address: None,
        },
        app_id,
        env.now(),
    )
}

async fn apply(api: &ApiClient<'_, impl HttpClient, ClockSleeper<'_>>, plan: &Plan) -> Progress {
    let mut progress = plan.start();
    plan::apply(api, plan, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(progress.is_finished());
    progress
}

/// The keyCredentials of the demo application in the emulator's state.
async fn keys_in_state(env: &Env) -> Vec<Value> {
    let state = env.state().await;
    let app = state["applications"]
        .as_object()
        .unwrap()
        .values()
        .map(|a| &a["body"])
        .find(|b| b["appId"] == EXPIRED_APP)
        .unwrap()
        .clone();
    app["keyCredentials"].as_array().unwrap().clone()
}

fn thumbs(keys: &[Value]) -> Vec<String> {
    keys.iter()
        .map(|k| k["customKeyIdentifier"].as_str().unwrap().to_uppercase())
        .collect()
}

fn found_one(search: Search) -> FoundKey {
    match search {
        Search::Found(mut f) => {
            assert_eq!(f.len(), 1, "{f:#?}");
            f.remove(0)
        }
        Search::NotFound(n) => panic!("{n}"),
    }
}

#[tokio::test]
async fn the_pasted_error_finds_the_expired_key_and_the_service_account() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let seeded = seed_app(&env, "expired-certificate");
    let old = seeded["thumbprint"].as_str().unwrap().to_uppercase();

    let text = expired_error_text(&env, &api).await;
    assert!(text.starts_with("AADSTS700027"), "{text}");
    // As a service's log prints it: on a line with more around it.
    let pasted = format!("2026-11-29 10:00:01 ERROR Backup job failed: {text}\n  at Connect()");
    let target = renew::read(&pasted).unwrap();
    assert_eq!(target.thumbprint, old);
    let decoded = target.error.as_ref().unwrap();
    assert_eq!(decoded.code, 700027);
    assert_eq!(decoded.reason.as_deref(), Some("The key used is expired."));
    let end = decoded.found_key.as_ref().and_then(|k| k.end).unwrap();
    assert!(end < env.now(), "the key's end date is decoded: {end}");

    let records = vec![
        record(&env, EXPIRED_APP, &old.to_lowercase(), "Backup service"),
        record(&env, EXPIRED_APP, &"AB".repeat(20), "Another certificate"),
        record(
            &env,
            "d8b0490d-823f-46df-8680-25017029384a",
            &old,
            "Another application",
        ),
    ];
    let found = found_one(
        renew::find(&api, &target, &env.tenant_id(), &records)
            .await
            .unwrap(),
    );
    assert_eq!(found.owner.kind, OwnerKind::Application);
    assert_eq!(found.owner.app_id, EXPIRED_APP);
    assert_eq!(found.owner.display_name, "Contoso Backup");
    assert_eq!(found.other_keys, 0);
    assert!(found.renewable());
    assert_eq!(found.key.end_date_time, Some(end));
    assert!(!found.status(env.now()).unwrap().is_usable());
    let names: Vec<&str> = found.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Backup service"]);

    // Page by page: small pages find the same key, following nextLink.
    env.clear_requests().await;
    let paged = renew::find_paged(&api, &target, &env.tenant_id(), &records, 2)
        .await
        .unwrap();
    assert_eq!(found_one(paged), found);
    let pages: Vec<String> = env
        .log()
        .await
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .filter(|p| p.contains("/applications?"))
        .collect();
    assert!(pages.len() >= 2, "{pages:?}");
    assert!(
        pages[0].contains("$select=id,appId,displayName,keyCredentials"),
        "{pages:?}"
    );
    assert!(
        pages[1..].iter().all(|p| p.contains("skiptoken")),
        "{pages:?}"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_thumbprint_finds_it_too_and_unknown_or_sha256_ones_say_why() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let seeded = seed_app(&env, "expired-certificate");
    let old = seeded["thumbprint"].as_str().unwrap();

    // As the admin center shows it, or with colons as openssl prints it.
    let spaced: Vec<String> = old
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_lowercase())
        .collect();
    let target = renew::read(&spaced.join(":")).unwrap();
    let found = found_one(
        renew::find(&api, &target, &env.tenant_id(), &[])
            .await
            .unwrap(),
    );
    assert_eq!(found.owner.app_id, EXPIRED_APP);
    assert!(found.records.is_empty());

    // A service account's record starts the same search.
    let r = record(&env, EXPIRED_APP, old, "Backup service");
    let from_record = Target::from_record(&r).unwrap();
    assert_eq!(from_record.thumbprint, target.thumbprint);
    assert_eq!(from_record.app_id.as_deref(), Some(EXPIRED_APP));

    // A thumbprint no key has: the search says what it read and why.
    let unknown = renew::read(&"0123456789".repeat(4)).unwrap();
    match renew::find(&api, &unknown, &env.tenant_id(), &[])
        .await
        .unwrap()
    {
        Search::NotFound(n) => {
            assert!(n.applications >= 4, "{n:?}");
            assert!(n.service_principals >= 4, "{n:?}");
            assert!(n.to_string().contains(&unknown.thumbprint));
            assert!(n.reasons().iter().any(|r| r.contains("already removed")));
        }
        other => panic!("{other:?}"),
    }

    // The SHA-256 thumbprint of the very certificate: Entra uses SHA-1.
    let graph_app = entra_wizard::graph::get_application_by_app_id(&api, EXPIRED_APP)
        .await
        .unwrap()
        .unwrap();
    let der = graph_app.key_credentials[0].certificate_der().unwrap();
    let sha256 = thumbprint::sha256_hex(&der);
    assert_eq!(
        thumbprint::sha1_hex(&der).to_uppercase(),
        old.to_uppercase()
    );
    match renew::read(&sha256) {
        Err(e @ StartError::Sha256 { .. }) => assert!(e.to_string().contains("SHA-1"), "{e}"),
        other => panic!("{other:?}"),
    }
    env.stop().await;
}

/// Opens a PFX the way the page does (no password, then the empty one,
/// when none is given) and returns its key and certificate.
fn open(pfx: &[u8], password: Option<&str>) -> (RsaKey, Certificate) {
    let (imported, _) = inspect::open_pfx(pfx, password).unwrap();
    let (key, cert) = imported.usable_for_entra().unwrap();
    (key.clone(), cert.clone())
}

#[tokio::test]
async fn renew_keeps_the_other_keys_then_the_expired_one_is_removed_once() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let rng = &mut OsRng;
    let old = seed_app(&env, "expired-certificate")["thumbprint"]
        .as_str()
        .unwrap()
        .to_uppercase();

    // Another, valid key the application holds: the renewal must keep it.
    let other = certificate("Other key", env.now());
    let other_thumb = other.info().unwrap().sha1;
    let mut add_other = renew_plan_for(&env, &api, &old, &other).await;
    add_other.title = "Add another key".into();
    apply(&api, &add_other).await;
    assert_eq!(thumbs(&keys_in_state(&env).await).len(), 2);

    // The admin generates the new certificate in the page.
    let source = CertificateSource::generate(
        "Contoso Backup",
        "Correct-Horse-42".into(),
        "Correct-Horse-42".into(),
    );
    let chosen = certificate::decide(&source, &RsaKeyGenerator, env.now(), rng)
        .await
        .unwrap();
    let generated = chosen.generated.clone().unwrap();
    let new_cert = Certificate::from_der(&chosen.der).unwrap();
    let new_thumb = new_cert.info().unwrap().sha1;
    assert_eq!(generated.thumbprint, new_thumb);

    let records = vec![record(&env, EXPIRED_APP, &old, "Backup service")];
    let target = renew::read(&old).unwrap();
    let found = found_one(
        renew::find(&api, &target, &env.tenant_id(), &records)
            .await
            .unwrap(),
    );
    assert_eq!(found.other_keys, 1);
    // No app management policy restricts the demo tenant's certificates.
    let policy = renew::read_policy(&api, &found).await;
    assert_eq!(policy, PolicyView::Read(None));
    assert_eq!(
        renew::generated_validity(&policy, &found, env.now()).unwrap(),
        (12, None)
    );
    let plan = renew::renew_plan(&found, &new_cert, &policy, env.now(), rng).unwrap();
    assert_eq!(
        plan.sentences()[1],
        format!(
            "Register certificate CN=Contoso Backup (thumbprint {new_thumb}), keeping the existing ones"
        )
    );
    let progress = apply(&api, &plan).await;
    assert_eq!(progress.steps[1].outcome, Some(Outcome::Changed));
    let mut now_keys = thumbs(&keys_in_state(&env).await);
    now_keys.sort();
    let mut expected = vec![old.clone(), other_thumb.clone(), new_thumb.clone()];
    expected.sort();
    assert_eq!(now_keys, expected, "exactly one new key, the others kept");

    // Applied again (a second click, another tab): nothing more.
    let again = apply(
        &api,
        &renew::renew_plan(&found, &new_cert, &policy, env.now(), rng).unwrap(),
    )
    .await;
    assert_eq!(again.steps[1].outcome, Some(Outcome::AlreadyDone));
    assert_eq!(thumbs(&keys_in_state(&env).await).len(), 3);

    // The saved service account now names the new certificate.
    let renewed = renew::renewed_records(&found, &chosen.auth, env.now());
    assert_eq!(renewed.len(), 1);
    assert!(
        matches!(&renewed[0].auth, AuthMethod::Certificate { thumbprint, .. } if *thumbprint == new_thumb)
    );
    assert_eq!(renewed[0].app_id, EXPIRED_APP);

    // The service, given the downloaded PFX, gets an app-only token.
    let (key, cert) = open(&generated.pfx, Some("Correct-Horse-42"));
    let (status, answer) = service_sign_in(&env, EXPIRED_APP, &key, cert.der()).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["access_token"].is_string());

    // Then, confirmed, the expired key goes, and only it.
    let removal = renew::removal_plan(&found, Some(&new_thumb), rng).unwrap();
    assert!(
        removal.sentences()[1].starts_with("Remove certificate CN="),
        "{:?}",
        removal.sentences()
    );
    let removed = apply(&api, &removal).await;
    assert_eq!(removed.steps[1].outcome, Some(Outcome::Changed));
    let mut left = thumbs(&keys_in_state(&env).await);
    left.sort();
    let mut expected = vec![other_thumb, new_thumb.clone()];
    expected.sort();
    assert_eq!(left, expected);

    // Removing again is already done, and sends no update.
    let before = api.request_count();
    let again = apply(
        &api,
        &renew::removal_plan(&found, Some(&new_thumb), rng).unwrap(),
    )
    .await;
    assert_eq!(again.steps[1].outcome, Some(Outcome::AlreadyDone));
    assert_eq!(api.request_count() - before, 1, "one read, no PATCH");
    assert_eq!(thumbs(&keys_in_state(&env).await).len(), 2);

    // The new key still signs the service in.
    let (status, answer) = service_sign_in(&env, EXPIRED_APP, &key, cert.der()).await;
    assert_eq!(status, 200, "{answer}");
    env.stop().await;
}

/// A plan registering `cert` on the application holding `old`.
async fn renew_plan_for(
    env: &Env,
    api: &ApiClient<'_, impl HttpClient, ClockSleeper<'_>>,
    old: &str,
    cert: &Certificate,
) -> Plan {
    let found = found_one(
        renew::find(api, &renew::read(old).unwrap(), &env.tenant_id(), &[])
            .await
            .unwrap(),
    );
    renew::renew_plan(&found, cert, &PolicyView::Read(None), env.now(), &mut OsRng).unwrap()
}

#[tokio::test]
async fn a_custom_pfx_without_a_password_renews_and_removal_waits_for_it() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let rng = &mut OsRng;
    let old = seed_app(&env, "expired-certificate")["thumbprint"]
        .as_str()
        .unwrap()
        .to_uppercase();
    let found = found_one(
        renew::find(&api, &renew::read(&old).unwrap(), &env.tenant_id(), &[])
            .await
            .unwrap(),
    );

    // Removing before the new certificate is registered is refused.
    let dir = tempfile::tempdir().unwrap();
    common::openssl_self_signed(
        dir.path(),
        "key.pem",
        "cert.pem",
        "Contoso Backup 2027",
        &[],
    );
    common::run_ok(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "key.pem",
            "-in",
            "cert.pem",
            "-passout",
            "pass:",
            "-out",
            "custom.pfx",
        ],
        dir.path(),
    );
    let pfx = std::fs::read(dir.path().join("custom.pfx")).unwrap();
    // Seed 004: "Password (Optional)": none typed.
    let source = CertificateSource::import(Some(("custom.pfx".into(), pfx.clone())), String::new());
    let chosen = certificate::decide(&source, &RsaKeyGenerator, env.now(), rng)
        .await
        .unwrap();
    assert!(chosen.generated.is_none());
    let cert = Certificate::from_der(&chosen.der).unwrap();
    let thumb = cert.info().unwrap().sha1;

    let early = renew::removal_plan(&found, Some(&thumb), rng).unwrap();
    let mut progress = early.start();
    let failed = plan::apply(&api, &early, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await;
    match failed {
        Err(plan::execute::ApplyError::Step(f)) => {
            assert!(matches!(f.error, StepError::RemoveKey(_)), "{f}");
            assert!(f.error.to_string().contains(&thumb), "{f}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        thumbs(&keys_in_state(&env).await),
        std::slice::from_ref(&old),
        "nothing removed"
    );

    apply(
        &api,
        &renew::renew_plan(
            &found,
            &cert,
            &renew::read_policy(&api, &found).await,
            env.now(),
            rng,
        )
        .unwrap(),
    )
    .await;
    assert_eq!(
        thumbs(&keys_in_state(&env).await),
        [old.clone(), thumb.clone()]
    );
    // The same plan, resumed, now removes the old key.
    let mut progress = early.start();
    plan::apply(&api, &early, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert_eq!(thumbs(&keys_in_state(&env).await), [thumb]);

    // The custom PFX signs the service in.
    let (key, cert) = open(&pfx, None);
    let (status, answer) = service_sign_in(&env, EXPIRED_APP, &key, cert.der()).await;
    assert_eq!(status, 200, "{answer}");
    env.stop().await;
}

#[tokio::test]
async fn a_policy_capping_certificate_lifetimes_shortens_the_generated_one_and_refuses_a_longer_pfx()
 {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let rng = &mut OsRng;
    let old = seed_app(&env, "expired-certificate")["thumbprint"]
        .as_str()
        .unwrap()
        .to_uppercase();
    // The tenant's default policy: certificates valid for 90 days at most.
    entra_emulator::lock(&env.emulator.emulator.dir).default_app_management_policy =
        Some(
            serde_json::from_value(serde_json::json!({"isEnabled": true, "applicationRestrictions": {
                "passwordCredentials": [],
                "keyCredentials": [{"restrictionType": "asymmetricKeyLifetime", "maxLifetime": "P90D",
                                    "restrictForAppsCreatedAfterDateTime": null}]}}))
            .unwrap(),
        );
    let found = found_one(
        renew::find(&api, &renew::read(&old).unwrap(), &env.tenant_id(), &[])
            .await
            .unwrap(),
    );
    assert!(
        found.created.is_some(),
        "the listing carries createdDateTime"
    );
    let policy = renew::read_policy(&api, &found).await;
    let (months, note) = renew::generated_validity(&policy, &found, env.now()).unwrap();
    assert_eq!(months, 2);
    assert!(note.unwrap().contains("default app management policy"));

    // A year-long PFX is refused before anything is sent, naming the policy.
    let year = certificate("A year", env.now());
    let refused = renew::renew_plan(&found, &year, &policy, env.now(), rng).unwrap_err();
    assert!(matches!(refused, renew::RenewError::Policy(_)), "{refused}");
    assert!(refused.to_string().contains("90 days"), "{refused}");

    // The certificate generated for the months allowed is registered.
    let mut source = CertificateSource::generate(
        "Contoso Backup",
        "Correct-Horse-42".into(),
        "Correct-Horse-42".into(),
    );
    if let CertificateSource::Generate {
        validity_months, ..
    } = &mut source
    {
        *validity_months = months;
    }
    let chosen = certificate::decide(&source, &RsaKeyGenerator, env.now(), rng)
        .await
        .unwrap();
    let cert = Certificate::from_der(&chosen.der).unwrap();
    let plan = renew::renew_plan(&found, &cert, &policy, env.now(), rng).unwrap();
    apply(&api, &plan).await;
    assert_eq!(thumbs(&keys_in_state(&env).await).len(), 2);
    env.stop().await;
}

#[tokio::test]
async fn lost_answers_and_5xx_after_the_change_leave_one_new_key_and_the_expired_one_gone() {
    // The registration's PATCH is carried out and its answer lost; the
    // removal's PATCH is carried out and answered 503.
    let faults = entra_emulator::faults::FaultConfig::default()
        .apply_spec(
            "commitlost=PATCH:/graph/v1.0/applications/*,\
             commit5xx=PATCH:/graph/v1.0/applications/*,commitstatus=503",
        )
        .unwrap();
    let env = Env::start(faults).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let rng = &mut OsRng;
    let old = seed_app(&env, "expired-certificate")["thumbprint"]
        .as_str()
        .unwrap()
        .to_uppercase();
    let found = found_one(
        renew::find(&api, &renew::read(&old).unwrap(), &env.tenant_id(), &[])
            .await
            .unwrap(),
    );
    let policy = renew::read_policy(&api, &found).await;
    let cert = certificate("Contoso Backup 2027", env.now());
    let new = cert.info().unwrap().sha1;

    apply(
        &api,
        &renew::renew_plan(&found, &cert, &policy, env.now(), rng).unwrap(),
    )
    .await;
    let mut keys = thumbs(&keys_in_state(&env).await);
    keys.sort();
    let mut expected = vec![old.clone(), new.clone()];
    expected.sort();
    assert_eq!(
        keys, expected,
        "one new key, however often the PATCH was sent"
    );

    apply(&api, &renew::removal_plan(&found, Some(&new), rng).unwrap()).await;
    assert_eq!(thumbs(&keys_in_state(&env).await), [new]);
    let patches = env
        .log()
        .await
        .iter()
        .filter(|e| e["method"] == "PATCH")
        .count();
    assert!(
        patches >= 3,
        "each lost or refused PATCH was sent again: {patches}"
    );
    env.stop().await;
}
