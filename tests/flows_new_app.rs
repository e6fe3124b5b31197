//! F1 — register a new application, end to end against the in-process
//! emulator: the state afterwards (one application, one service principal,
//! the certificate core made, the grants, the role assignments), faults
//! (429s, replication delay), an interrupted apply resumed from saved
//! progress, and a create whose answer was lost.

mod flows_support;

use core::ops::ControlFlow;

use base64ct::{Base64, Encoding};
use entra_emulator::faults::FaultConfig;
use entra_wizard::arm::builtin;
use entra_wizard::core::time::UnixTime;
use entra_wizard::flows::connection::{self, RecordDetails};
use entra_wizard::flows::new_app::{self, NewApplication};
use entra_wizard::flows::{AuthMethod, ConnectionRecord};
use entra_wizard::plan::{self, Event, Finish, Outcome, Plan, Progress, preflight};
use entra_wizard::profiles::{self, Profile};
use flows_support::*;
use serde_json::Value;

/// azure-backup plus Microsoft Graph permissions, so that F1 also grants
/// an app role and delegated consent.
fn backup_with_graph() -> Profile {
    let mut p = profiles::load_custom(&format!(
        r#"{{"id": "backup-graph", "displayName": "Backup with Graph",
            "resources": [{{"resourceAppId": "{GRAPH_APP_ID}", "displayName": "Microsoft Graph",
              "applicationPermissions": ["Application.Read.All"],
              "delegatedPermissions": ["User.Read"]}}]}}"#
    ))
    .unwrap()
    .remove(0);
    p.azure_roles = profiles::by_id("azure-backup").unwrap().azure_roles;
    p
}

fn input(name: &str, profile: Profile, now: UnixTime) -> (NewApplication, Vec<u8>) {
    let cert = certificate(name, now);
    let der = cert.der().to_vec();
    (
        NewApplication {
            display_name: name.into(),
            description: Some("Backup service".into()),
            profile,
            certificate_der: der.clone(),
            redirect_uri: None,
            subscription: Some(production()),
        },
        der,
    )
}

fn backup_roles() -> Vec<String> {
    let mut v = vec![
        builtin::CONTRIBUTOR.to_string(),
        builtin::KEY_VAULT_CRYPTO_USER.to_string(),
        builtin::STORAGE_QUEUE_DATA_CONTRIBUTOR.to_string(),
    ];
    v.sort();
    v
}

/// Checks the emulator holds exactly one application named `name`, one
/// service principal, the certificate, and the roles; returns (app, sp).
fn assert_single_connection(state: &Value, name: &str, cert_der: &[u8]) -> (Value, Value) {
    let apps = apps_named(state, name);
    assert_eq!(apps.len(), 1, "exactly one application '{name}'");
    let app = apps[0].clone();
    assert_eq!(app["signInAudience"], "AzureADMyOrg");
    let sps = sps_for(state, app["appId"].as_str().unwrap());
    assert_eq!(sps.len(), 1, "exactly one service principal");
    let keys = app["keyCredentials"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = Base64::decode_vec(keys[0]["key"].as_str().unwrap()).unwrap();
    assert_eq!(
        key, cert_der,
        "the registered key is the certificate core made"
    );
    assert_eq!(keys[0]["type"], "AsymmetricX509Cert");
    assert_eq!(keys[0]["usage"], "Verify");
    let sp = sps[0].clone();
    assert_eq!(
        role_ids_of(state, sp["id"].as_str().unwrap()),
        backup_roles()
    );
    (app, sp)
}

async fn apply_all<C: entra_wizard::http::HttpClient>(
    api: &entra_wizard::client::ApiClient<'_, C, ClockSleeper<'_>>,
    plan: &Plan,
    progress: &mut Progress,
) -> Vec<Event> {
    let mut events = Vec::new();
    let finish = plan::apply(api, plan, progress, &mut |e, _| {
        events.push(e.clone());
        ControlFlow::Continue(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(finish, Finish::Completed);
    assert!(progress.is_finished());
    events
}

#[tokio::test]
async fn f1_azure_backup_as_admin() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let profile = profiles::by_id("azure-backup").unwrap();
    let (input, der) = input("Backup Azure SA", profile, env.now());
    let plan = new_app::plan(&input, env.now(), &mut rand_core::OsRng).unwrap();
    assert_eq!(
        plan.sentences(),
        [
            "Create application 'Backup Azure SA'",
            "Create the application's service principal",
            &format!(
                "Register certificate CN=Backup Azure SA (thumbprint {}), keeping the existing ones",
                entra_wizard::core::thumbprint::sha1_hex(&der)
            ),
            "Assign Contributor on subscription Production",
            "Assign Key Vault Crypto User on subscription Production",
            "Assign Storage Queue Data Contributor on subscription Production",
        ]
    );
    assert!(preflight::run(&api, &plan).await.unwrap().is_empty());

    let mut progress = plan.start();
    let events = apply_all(&api, &plan, &mut progress).await;
    let done: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            Event::Done { index, record } => {
                assert_eq!(record.outcome, Some(Outcome::Changed));
                Some(*index)
            }
            _ => None,
        })
        .collect();
    assert_eq!(done, [0, 1, 2, 3, 4, 5]);
    // The certificate travelled with the create.
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Done { index: 2, record }
        if record.note.as_deref() == Some("registered with the new application")))
    );
    // What the progress list discloses: the changing requests, redacted.
    let sent: Vec<(usize, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Sent { index, request } => Some((*index, request.method.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent,
        [
            // The application's upsert by uniqueName.
            (0, "PATCH".into()),
            (1, "POST".into()),
            (3, "PUT".into()),
            (4, "PUT".into()),
            (5, "PUT".into())
        ]
    );
    let cert_b64 = Base64::encode_string(&der);
    let mut shown = serde_json::to_string(
        &events
            .iter()
            .filter_map(|e| match e {
                Event::Sent { request, .. } => Some(request.clone()),
                _ => None,
            })
            .collect::<Vec<_>>(),
    )
    .unwrap();
    for i in 0..plan.steps.len() {
        shown +=
            &serde_json::to_string(&plan.preview(i, &env.endpoints(), Some(&progress))).unwrap();
    }
    assert!(shown.contains("(redacted)"));
    assert!(
        !shown.contains(&cert_b64[..60]),
        "no certificate bytes are shown"
    );
    // Previews take the IDs made by earlier steps from the progress (the
    // certificate now travels with the create, so no request addresses the
    // application by ID; the role assignments name the service principal).
    assert!(shown.contains(&format!(
        "\"principalId\":\"{}\"",
        progress.service_principal_id.as_deref().unwrap()
    )));

    let state = env.state().await;
    let (app, sp) = assert_single_connection(&state, "Backup Azure SA", &der);
    let ids = progress.application.clone().unwrap();
    assert_eq!(app["id"], ids.object_id.as_str());
    assert_eq!(sp["id"], progress.service_principal_id.as_deref().unwrap());

    // Applying the same plan again from scratch changes nothing.
    let before = env.state().await;
    let mut again = plan.start();
    let events = apply_all(&api, &plan, &mut again).await;
    assert!(events.iter().all(|e| match e {
        Event::Done { record, .. } => record.outcome == Some(Outcome::AlreadyDone),
        _ => true,
    }));
    let after = env.state().await;
    // The create is an upsert: sent again, it updates the same application
    // with the same body. The one thing that moves is the key's keyId (Graph
    // gives a key sent without one a new one); its certificate is the same.
    let key_ids = |state: &serde_json::Value| {
        state["applications"][&ids.object_id]["body"]["keyCredentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["keyId"].clone())
            .collect::<Vec<_>>()
    };
    assert_ne!(key_ids(&before), key_ids(&after));
    let mut unchanged = after["applications"].clone();
    unchanged[&ids.object_id]["body"]["keyCredentials"][0]["keyId"] =
        before["applications"][&ids.object_id]["body"]["keyCredentials"][0]["keyId"].clone();
    assert_eq!(before["applications"], unchanged, "nothing else changed");
    assert_eq!(before["role_assignments"], after["role_assignments"]);

    // The connection record: IDs and dates, never the key.
    let record = ConnectionRecord::from_progress(
        RecordDetails {
            name: "Backup Azure SA".into(),
            cloud: env.cloud(),
            tenant_id: env.tenant_id(),
            auth: AuthMethod::certificate(
                &entra_wizard::core::certificate::Certificate::from_der(&der).unwrap(),
            )
            .unwrap(),
            profile: "azure-backup".into(),
            subscription: Some(production()),
            portal_address: None,
        },
        &progress,
        env.now(),
    )
    .unwrap();
    assert_eq!(record.app_id, ids.app_id);
    assert!(
        matches!(&record.auth, AuthMethod::Certificate { thumbprint, .. }
        if *thumbprint == entra_wizard::core::thumbprint::sha1_hex(&der))
    );
    assert_eq!(record.object_ids.len(), 3, "the three role assignments");
    let json = connection::export(std::slice::from_ref(&record));
    assert!(!json.contains(&Base64::encode_string(&der)[..40]));
    assert_eq!(connection::import(&json).unwrap(), vec![record]);

    // No request carried the private key.
    let pkcs8 = key().to_pkcs8_der();
    let b64 = Base64::encode_string(&pkcs8);
    for r in http.log.lock().unwrap().iter() {
        let body = String::from_utf8_lossy(&r.body);
        assert!(!body.contains(&b64[40..120]), "{} {}", r.method, r.url);
        assert!(!r.body.windows(64).any(|w| w == &pkcs8[100..164]));
    }
    env.stop().await;
}

#[tokio::test]
async fn f1_grants_graph_permissions_and_consent() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let (input, der) = input("Backup with Graph", backup_with_graph(), env.now());
    let plan = new_app::plan(&input, env.now(), &mut rand_core::OsRng).unwrap();
    let mut progress = plan.start();
    apply_all(&api, &plan, &mut progress).await;

    let state = env.state().await;
    let (app, sp) = assert_single_connection(&state, "Backup with Graph", &der);
    let sp_id = sp["id"].as_str().unwrap();
    let graph_sp = env.seed["microsoft"]["graphServicePrincipalId"]
        .as_str()
        .unwrap();
    // requiredResourceAccess resolved from Graph's service principal.
    let rra = &app["requiredResourceAccess"][0];
    assert_eq!(rra["resourceAppId"], GRAPH_APP_ID);
    assert_eq!(rra["resourceAccess"].as_array().unwrap().len(), 2);
    let assignments: Vec<&Value> = state["app_role_assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["principalId"] == sp_id)
        .collect();
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0]["resourceId"], graph_sp);
    assert_eq!(
        assignments[0]["appRoleId"], "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        "Application.Read.All"
    );
    let grants = grants_of(&state, sp_id);
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0]["scope"], "User.Read");
    assert_eq!(grants[0]["consentType"], "AllPrincipals");
    env.stop().await;
}

#[tokio::test]
async fn f1_with_throttling_and_replication_delay_has_no_duplicates() {
    let env = Env::start(FaultConfig {
        random429: 0.2,
        random503: 0.05,
        replication_ms: 3000,
        seed: 11,
        ..FaultConfig::default()
    })
    .await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let (input, der) = input("Throttled Backup", backup_with_graph(), env.now());
    let plan = new_app::plan(&input, env.now(), &mut rand_core::OsRng).unwrap();
    let mut progress = plan.start();
    let events = apply_all(&api, &plan, &mut progress).await;

    let retries: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Retrying { notice, .. } => Some(notice.clone()),
            _ => None,
        })
        .collect();
    use entra_wizard::http::RetryReason;
    assert!(
        retries
            .iter()
            .any(|n| n.reason == RetryReason::Throttled && n.wait_ms == 2000),
        "429s waited for Retry-After: {retries:?}"
    );
    assert!(
        retries.iter().any(|n| n.reason == RetryReason::Replication),
        "the replication delay was retried: {retries:?}"
    );
    assert_eq!(sleeper.delays.borrow().len(), retries.len());

    let state = env.state().await;
    let (_, sp) = assert_single_connection(&state, "Throttled Backup", &der);
    let sp_id = sp["id"].as_str().unwrap();
    assert_eq!(grants_of(&state, sp_id).len(), 1);
    let assignments = state["app_role_assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["principalId"] == sp_id)
        .count();
    assert_eq!(assignments, 1);
    env.stop().await;
}

#[tokio::test]
async fn interrupted_apply_resumes_from_saved_progress() {
    let env = Env::start(FaultConfig {
        replication_ms: 2000,
        ..FaultConfig::default()
    })
    .await;
    let http = Native::default();
    let (input, der) = input("Resumed Backup", backup_with_graph(), env.now());
    let plan = new_app::plan(&input, env.now(), &mut rand_core::OsRng).unwrap();
    // The page saves plan and progress as JSON (sessionStorage).
    let saved_plan = serde_json::to_string(&plan).unwrap();
    let mut saved_progress = String::new();
    {
        let sleeper = env.sleeper();
        let api = env.api(&http, &sleeper, "admin").await;
        let mut progress = plan.start();
        let finish = plan::apply(&api, &plan, &mut progress, &mut |e, p| {
            saved_progress = serde_json::to_string(p).unwrap();
            match e {
                Event::Done { index: 3, .. } => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        })
        .await
        .unwrap();
        assert_eq!(finish, Finish::Stopped { next_step: 4 });
        assert_eq!(progress.done_count(), 4);
    } // the page reloads: executor and client are gone

    let plan: Plan = serde_json::from_str(&saved_plan).unwrap();
    let mut progress: Progress = serde_json::from_str(&saved_progress).unwrap();
    assert_eq!(progress.next_step(), Some(4));
    assert!(!saved_progress.contains(&Base64::encode_string(&der)[..60]));
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    apply_all(&api, &plan, &mut progress).await;

    let state = env.state().await;
    let (_, sp) = assert_single_connection(&state, "Resumed Backup", &der);
    assert_eq!(grants_of(&state, sp["id"].as_str().unwrap()).len(), 1);
    env.stop().await;
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_again() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    // Another application with the same name existed before: not ours.
    let (other, _) = input(
        "Lost Answer",
        profiles::by_id("azure-backup").unwrap(),
        env.now(),
    );
    let other_plan = new_app::plan(&other, env.now(), &mut rand_core::OsRng).unwrap();
    let mut p = other_plan.start();
    plan::apply(&api, &other_plan, &mut p, &mut |e, _| match e {
        Event::Done { index: 0, .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .await
    .unwrap();

    let (input, der) = input(
        "Lost Answer",
        profiles::by_id("azure-backup").unwrap(),
        env.now(),
    );
    let plan = new_app::plan(&input, env.now(), &mut rand_core::OsRng).unwrap();
    let mut progress = plan.start();
    // The application and its service principal are created, but the page
    // never saved the progress (the answers were lost).
    plan::apply(&api, &plan, &mut progress, &mut |e, _| match e {
        Event::Done { index: 1, .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .await
    .unwrap();
    let created = progress.application.clone().unwrap();

    let mut fresh = plan.start();
    let events = apply_all(&api, &plan, &mut fresh).await;
    assert_eq!(fresh.application, Some(created.clone()));
    let first = events
        .iter()
        .find_map(|e| match e {
            Event::Done { index: 0, record } => Some(record.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(first.outcome, Some(Outcome::AlreadyDone));
    assert_eq!(first.note.as_deref(), Some("created by an earlier attempt"));

    let state = env.state().await;
    assert_eq!(
        apps_named(&state, "Lost Answer").len(),
        2,
        "ours and the older one"
    );
    assert_eq!(sps_for(&state, &created.app_id).len(), 1);
    let ours = &state["applications"][&created.object_id]["body"];
    assert_eq!(
        Base64::decode_vec(ours["keyCredentials"][0]["key"].as_str().unwrap()).unwrap(),
        der
    );
    env.stop().await;
}

/// A service principal this plan created is written to without reading
/// first; when the answers of its grants and assignments were lost (the
/// progress never heard of them), running those steps again finds them
/// through Microsoft's "already exists" and creates nothing twice.
#[tokio::test]
async fn lost_answers_after_the_service_principal_create_nothing_twice() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let (input, der) = input("Lost Grants", backup_with_graph(), env.now());
    let plan = new_app::plan(&input, env.now(), &mut rand_core::OsRng).unwrap();
    let mut progress = plan.start();
    apply_all(&api, &plan, &mut progress).await;
    assert!(progress.service_principal_created);

    // Forget every step after the certificate, as if their answers never came.
    for record in &mut progress.steps[3..] {
        *record = Default::default();
    }
    let before = env.state().await;
    let events = apply_all(&api, &plan, &mut progress).await;
    let redone: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            Event::Done { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(redone, (3..plan.steps.len()).collect::<Vec<_>>());

    let after = env.state().await;
    let (_, sp) = assert_single_connection(&after, "Lost Grants", &der);
    let sp_id = sp["id"].as_str().unwrap();
    assert_eq!(grants_of(&after, sp_id).len(), 1);
    let assignments = |s: &Value| {
        s["app_role_assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["principalId"] == sp_id)
            .count()
    };
    assert_eq!(assignments(&after), 1);
    assert_eq!(before["role_assignments"], after["role_assignments"]);
    assert_eq!(
        before["oauth2_permission_grants"],
        after["oauth2_permission_grants"]
    );
    env.stop().await;
}
