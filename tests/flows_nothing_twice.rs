//! §4 — nothing twice, nothing lost: the emulator carries a change out and
//! then loses its answer (`commitlost`) or answers a 5xx (`commit5xx`),
//! while lists lag behind single reads (`listlag`). Every apply still ends
//! with exactly one application, one service principal, one key and one
//! assignment of each role.

mod flows_support;

use entra_emulator::faults::FaultConfig;
use entra_emulator::lock;
use entra_wizard::core::pfx::{self, ExportMode};
use entra_wizard::flows::existing_app::{self, Credential, ExistingApplication, Next};
use entra_wizard::flows::new_app;
use entra_wizard::http::{HttpClient, RetryReason};
use entra_wizard::plan::Plan;
use entra_wizard::profiles;
use flows_support::*;
use zeroize::Zeroizing;

/// The demo tenant's "Contoso Restore" (valid certificate, Contributor only).
const CONTOSO_RESTORE: &str = "d8b0490d-823f-46df-8680-25017029384a";

fn faults(spec: &str) -> FaultConfig {
    FaultConfig::default().apply_spec(spec).unwrap()
}

fn f1(name: &str, env: &Env) -> Plan {
    let input = new_app::NewApplication {
        display_name: name.into(),
        description: None,
        profile: profiles::by_id("azure-backup").unwrap(),
        certificate_der: certificate(name, env.now()).der().to_vec(),
        redirect_uri: None,
        subscription: Some(production()),
    };
    new_app::plan(&input, env.now(), &mut rand_core::OsRng).unwrap()
}

/// One application `name`, one service principal, the three Azure roles once each.
async fn assert_one_connection(env: &Env, name: &str) {
    let state = env.state().await;
    let apps = apps_named(&state, name);
    assert_eq!(apps.len(), 1, "exactly one application '{name}'");
    let app_id = apps[0]["appId"].as_str().unwrap();
    let sps = sps_for(&state, app_id);
    assert_eq!(sps.len(), 1, "exactly one service principal");
    let mut roles = role_ids_of(&state, sps[0]["id"].as_str().unwrap());
    let n = roles.len();
    roles.dedup();
    assert_eq!((n, roles.len()), (3, 3), "each Azure role once: {roles:?}");
    assert_eq!(
        apps[0]["keyCredentials"].as_array().unwrap().len(),
        1,
        "one key"
    );
}

/// Whether the emulator's request log holds `method path` answered `status`.
async fn logged(env: &Env, method: &str, path: &str, status: u64) -> usize {
    env.log()
        .await
        .iter()
        .filter(|e| e["method"] == method && e["path"] == path && e["status"] == status)
        .count()
}

/// How many upserts of an application (`PATCH
/// /applications(uniqueName=…)`) the emulator answered with `status`.
async fn logged_upserts(env: &Env, status: u16) -> usize {
    env.log()
        .await
        .iter()
        .filter(|e| {
            e["method"] == "PATCH"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with(UPSERT_PATH))
                && e["prefer"] == "create-if-missing"
                && e["status"] == status
        })
        .count()
}

const UPSERT_PATH: &str = "/graph/v1.0/applications(uniqueName=";

// The create is carried out, its answer lost, while lists lag: the upsert
// is sent again as is (it is idempotent), updates what the first made and
// reads it by its key — no lookup in the lagging lists, no second
// application.
#[tokio::test]
async fn a_lost_create_answer_while_lists_lag_makes_one_application() {
    let env = Env::start(faults(&format!(
        "commitlost=PATCH:{UPSERT_PATH}*,listlag=10s"
    )))
    .await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let plan = f1("Lost while lagging", &env);
    let retries = apply_hearing_retries(&api, &plan).await;
    assert_one_connection(&env, "Lost while lagging").await;
    assert_eq!(logged_upserts(&env, 201).await, 1, "created once");
    assert_eq!(logged_upserts(&env, 204).await, 1, "then updated");
    assert!(
        !retries.iter().any(|n| n.reason == RetryReason::Replication),
        "no wait for the lists: {retries:?}"
    );
    env.stop().await;
}

// Carried out, then a 503 with Graph's envelope: the upsert is sent again
// and finds the application the first one made.
#[tokio::test]
async fn a_5xx_after_the_create_was_carried_out_makes_one_application() {
    let env = Env::start(faults(&format!(
        "commit5xx=PATCH:{UPSERT_PATH}*,commitstatus=503,listlag=10s"
    )))
    .await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let plan = f1("Failed after commit", &env);
    apply_hearing_retries(&api, &plan).await;
    assert_one_connection(&env, "Failed after commit").await;
    assert_eq!(logged_upserts(&env, 503).await, 1);
    assert_eq!(logged_upserts(&env, 201).await, 0);
    assert_eq!(logged_upserts(&env, 204).await, 1);
    env.stop().await;
}

// A 5xx answered before the create was carried out (the service was
// unavailable): the upsert is sent again and creates, once.
#[tokio::test]
async fn a_5xx_before_the_create_sends_it_again_and_creates_once() {
    let env = Env::demo().await;
    let native = Native::default();
    // The first create is refused with 503 at the door (not carried out).
    let http = RefuseFirstCreate {
        inner: &native,
        env: &env,
        armed: std::sync::atomic::AtomicBool::new(true),
    };
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let plan = f1("Unavailable first", &env);
    apply_hearing_retries(&api, &plan).await;
    assert_one_connection(&env, "Unavailable first").await;
    assert_eq!(logged_upserts(&env, 503).await, 1);
    assert_eq!(logged_upserts(&env, 201).await, 1);
    env.stop().await;
}

// The browser sends the create twice and the page hears only the second
// answer (Chromium resends a request whose reused connection broke before
// any byte of the answer): one application, read by its key.
#[tokio::test]
async fn a_create_the_browser_sent_twice_makes_one_application() {
    let env = Env::demo().await;
    let http = Native::default();
    http.resend_next(
        entra_wizard::http::Method::Patch,
        "/applications(uniqueName=",
        1,
    );
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let plan = f1("Sent twice", &env);
    apply_hearing_retries(&api, &plan).await;
    assert_one_connection(&env, "Sent twice").await;
    assert_eq!(logged_upserts(&env, 201).await, 1);
    assert_eq!(logged_upserts(&env, 204).await, 1);
    env.stop().await;
}

/// Arms the emulator's `random503` for the first create only.
struct RefuseFirstCreate<'e> {
    inner: &'e Native,
    env: &'e Env,
    armed: std::sync::atomic::AtomicBool,
}

impl HttpClient for RefuseFirstCreate<'_> {
    async fn send(
        &self,
        request: entra_wizard::http::HttpRequest,
    ) -> Result<entra_wizard::http::HttpResponse, entra_wizard::http::TransportError> {
        let create = request.method == entra_wizard::http::Method::Patch
            && request.url.contains("/v1.0/applications(uniqueName=");
        let arm = create && self.armed.swap(false, std::sync::atomic::Ordering::SeqCst);
        if arm {
            lock(&self.env.emulator.emulator.faults).config.random503 = 1.0;
        }
        let answer = self.inner.send(request).await;
        if arm {
            lock(&self.env.emulator.emulator.faults).config.random503 = 0.0;
        }
        answer
    }
}

// F2 on the demo's Contoso Restore: the certificate update (whole-collection
// PATCH) and each role assignment (PUT by name) lose their answer once after
// being carried out. Both are safe to repeat and are repeated: one new key,
// each role once.
#[tokio::test]
async fn lost_answers_to_a_key_update_and_role_assignments_make_one_of_each() {
    let env = Env::start(faults(
        "commitlost=PATCH:/graph/v1.0/applications/*,commitlost=PUT:/arm/*/roleAssignments/*@2",
    ))
    .await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let cert = certificate("Restore renewed", env.now());
    let pfx = pfx::export(
        key(),
        &cert,
        &[],
        Some("Restore renewed"),
        "Pfx-Passw0rd",
        ExportMode::Compatible,
        &mut rand_core::OsRng,
    )
    .unwrap();
    let input = ExistingApplication {
        tenant: env.tenant_id(),
        app_id: CONTOSO_RESTORE.into(),
        credential: Credential::Pfx {
            data: Zeroizing::new(pfx),
            password: Some(Zeroizing::new("Pfx-Passw0rd".into())),
        },
        grant_and_register: true,
        profile: profiles::by_id("azure-backup").unwrap(),
        subscription: Some(production()),
    };
    let Next::Review { plan, .. } =
        existing_app::run(&api, &input, env.now(), &mut rand_core::OsRng)
            .await
            .unwrap()
    else {
        panic!("expected a plan");
    };
    let keys_before = {
        let dir = lock(&env.emulator.emulator.dir);
        dir.app_by_app_id(CONTOSO_RESTORE).unwrap().body["keyCredentials"]
            .as_array()
            .unwrap()
            .len()
    };
    let retries = apply_hearing_retries(&api, &plan).await;
    assert!(
        retries.iter().any(|n| n.reason == RetryReason::Network),
        "{retries:?}"
    );
    let state = env.state().await;
    let app = apps_named(&state, "Contoso Restore")[0];
    let keys = app["keyCredentials"].as_array().unwrap();
    assert_eq!(keys.len(), keys_before + 1, "one new key");
    let thumbprint = cert.sha1_hex();
    assert_eq!(
        keys.iter()
            .filter(|k| k["customKeyIdentifier"] == thumbprint.as_str())
            .count(),
        1
    );
    let sp = sps_for(&state, CONTOSO_RESTORE)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut roles = role_ids_of(&state, &sp);
    let n = roles.len();
    roles.dedup();
    assert_eq!((n, roles.len()), (3, 3), "each role once: {roles:?}");
    env.stop().await;
}

// The service principal's create is carried out and its answer lost while
// lists lag: sent again, Graph answers 409 (it exists), and the step looks
// for it until the lists show it.
#[tokio::test]
async fn a_lost_service_principal_answer_while_lists_lag_finds_the_one_made() {
    let env = Env::start(faults(
        "commitlost=POST:/graph/v1.0/servicePrincipals,listlag=10s",
    ))
    .await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let plan = f1("Principal lost while lagging", &env);
    apply_hearing_retries(&api, &plan).await;
    assert_one_connection(&env, "Principal lost while lagging").await;
    assert_eq!(
        logged(&env, "POST", "/graph/v1.0/servicePrincipals", 201).await,
        1
    );
    env.stop().await;
}
