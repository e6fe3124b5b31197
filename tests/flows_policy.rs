//! §3 — the tenant's app management policy, read before planning a
//! credential: the demo's secret-forbidding policy named before anything is
//! sent, the tenant default's maximum lifetime clamping a secret, the
//! assigned policy winning over the default, an admin without
//! Policy.Read.All told the policy could not be read (and Graph's refusal
//! then typed, with its next step).

mod flows_support;

use entra_wizard::api_error::{DEFAULT_POLICY_ID, PolicyRefusal};
use entra_wizard::core::time::{DAY, UnixTime};
use entra_wizard::flows::policy::{
    self, CredentialKind, Decider, PolicyError, PolicyView, read_for_application,
};
use entra_wizard::graph;
use flows_support::*;
use serde_json::{Value, json};

const TWO_YEARS: u64 = 730 * DAY;

fn service_app(env: &Env, scenario: &str) -> Value {
    env.seed["serviceApps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["scenario"] == scenario)
        .unwrap()
        .clone()
}

/// Sets the tenant's default policy in the emulator's state (what an
/// administrator's `PATCH /policies/defaultAppManagementPolicy` does; the
/// emulator's own tests cover that request).
fn set_default_policy(env: &Env, policy: Value) {
    entra_emulator::lock(&env.emulator.emulator.dir).default_app_management_policy =
        Some(serde_json::from_value(policy).unwrap());
}

#[tokio::test]
async fn the_secret_forbidding_policy_is_named_before_anything_is_sent() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let reports = service_app(&env, "secrets-forbidden");
    let object_id = reports["objectId"].as_str().unwrap();

    let view = read_for_application(&api, Some(object_id)).await;
    let PolicyView::Read(Some((Decider::Assigned { display_name, .. }, _))) = &view else {
        panic!("the assigned policy decides: {view:?}");
    };
    assert_eq!(display_name, "Contoso: certificates only");
    let err = view
        .evaluate(CredentialKind::Secret, 180 * DAY, None, env.now())
        .unwrap_err();
    assert!(matches!(err, PolicyError::TypeNotAllowed { .. }));
    let text = err.to_string();
    assert!(
        text.contains("'Contoso: certificates only'") && text.contains("Use a certificate"),
        "{text}"
    );
    // Certificates are allowed, for at most a year (P365D): a two-year one is shortened.
    let allowed = view
        .evaluate(CredentialKind::Certificate, TWO_YEARS, None, env.now())
        .unwrap();
    assert_eq!(allowed.lifetime_secs, 365 * DAY);
    assert_eq!(allowed.clamped_from, Some(TWO_YEARS));
    assert!(
        allowed
            .note()
            .unwrap()
            .contains("Shortened from 730 to 365 days")
    );
    // A PFX the admin brings cannot be shortened: too long is an error naming the policy.
    let err = view
        .check_fixed(CredentialKind::Certificate, 400 * DAY, None, env.now())
        .unwrap_err();
    assert_eq!(
        err,
        PolicyError::LifetimeTooLong {
            kind: CredentialKind::Certificate,
            decider: allowed.decided_by.clone().unwrap(),
            max_days: 365,
            requested_days: 400,
        }
    );

    // Only reads were sent: nothing was created or changed.
    assert!(
        http.log
            .lock()
            .unwrap()
            .iter()
            .all(|r| r.method == entra_wizard::http::Method::Get)
    );
    let state = env.state().await;
    assert_eq!(
        state["applications"][object_id]["body"]["passwordCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.stop().await;
}

#[tokio::test]
async fn the_tenant_default_clamps_a_secret_and_graph_accepts_the_clamped_one() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let archiver = service_app(&env, "expiring-secret");
    let object_id = archiver["objectId"].as_str().unwrap();

    // No policy enforced yet: nothing is shortened.
    let view = read_for_application(&api, Some(object_id)).await;
    assert_eq!(view, PolicyView::Read(None));
    let allowed = view
        .evaluate(CredentialKind::Secret, TWO_YEARS, None, env.now())
        .unwrap();
    assert_eq!((allowed.lifetime_secs, allowed.note()), (TWO_YEARS, None));

    set_default_policy(
        &env,
        json!({"isEnabled": true, "applicationRestrictions": {"passwordCredentials": [
            {"restrictionType": "passwordLifetime", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": null}
        ], "keyCredentials": []}}),
    );
    let view = read_for_application(&api, Some(object_id)).await;
    let allowed = view
        .evaluate(CredentialKind::Secret, TWO_YEARS, None, env.now())
        .unwrap();
    assert_eq!(allowed.lifetime_secs, 90 * DAY);
    assert_eq!(allowed.decided_by, Some(Decider::TenantDefault));
    assert!(
        allowed
            .note()
            .unwrap()
            .contains("the tenant's default app management policy allows no more")
    );
    // A new application (the plan creates it) follows the default too.
    let new_app = read_for_application(&api, None).await;
    assert_eq!(
        new_app
            .evaluate(CredentialKind::Secret, TWO_YEARS, None, env.now())
            .unwrap()
            .lifetime_secs,
        90 * DAY
    );

    // Graph refuses the unclamped secret with the default's ID...
    let err = graph::add_password(
        &api,
        object_id,
        "renewed",
        Some(UnixTime(env.now().0 + TWO_YEARS)),
    )
    .await
    .unwrap_err();
    assert_eq!(
        policy::refusal(&err),
        Some(PolicyRefusal::LifetimeTooLong {
            policy_id: Some(DEFAULT_POLICY_ID.into())
        })
    );
    let service = err.service().unwrap();
    let explained = view.explain_refusal(service).unwrap();
    assert!(
        explained
            .contains("Credential lifetime exceeds the max value allowed as per assigned policy")
            && explained.contains("the tenant's default app management policy")
            && explained.contains("Choose a shorter lifetime"),
        "{explained}"
    );
    assert!(err.advice().contains("Choose a shorter lifetime"));
    // ...and accepts the clamped one: exactly one new secret.
    let before = env.state().await["applications"][object_id]["body"]["passwordCredentials"]
        .as_array()
        .unwrap()
        .len();
    let new = graph::add_password(
        &api,
        object_id,
        "renewed",
        Some(UnixTime(env.now().0 + allowed.lifetime_secs)),
    )
    .await
    .unwrap();
    assert!(!new.secret_text.is_empty());
    let after = env.state().await["applications"][object_id]["body"]["passwordCredentials"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before + 1);

    // The secret-forbidding policy assigned to Contoso Reports still wins over the default.
    let reports = service_app(&env, "secrets-forbidden");
    let view = read_for_application(&api, reports["objectId"].as_str()).await;
    assert!(matches!(
        view.evaluate(CredentialKind::Secret, 30 * DAY, None, env.now()),
        Err(PolicyError::TypeNotAllowed {
            decider: Decider::Assigned { .. },
            ..
        })
    ));
    env.stop().await;
}

#[tokio::test]
async fn without_policy_read_all_the_page_says_so_and_graphs_refusal_is_typed() {
    let env = Env::demo().await;
    // This tenant's consent for the page does not include Policy.Read.All.
    {
        let mut dir = entra_emulator::lock(&env.emulator.emulator.dir);
        for grant in dir.oauth2_permission_grants.iter_mut() {
            if let Some(scope) = grant["scope"].as_str() {
                let kept: Vec<&str> = scope
                    .split(' ')
                    .filter(|s| *s != "Policy.Read.All")
                    .collect();
                grant["scope"] = json!(kept.join(" "));
            }
        }
    }
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let reports = service_app(&env, "secrets-forbidden");
    let object_id = reports["objectId"].as_str().unwrap();

    let view = read_for_application(&api, Some(object_id)).await;
    let PolicyView::Unreadable { why } = &view else {
        panic!("expected unreadable, got {view:?}");
    };
    assert!(why.contains("Policy.Read.All"), "{why}");
    // Planning goes on, unclamped, and says the policy was not read.
    let allowed = view
        .evaluate(CredentialKind::Secret, TWO_YEARS, None, env.now())
        .unwrap();
    assert_eq!(allowed.lifetime_secs, TWO_YEARS);
    assert!(
        allowed
            .note()
            .unwrap()
            .starts_with("Could not read the tenant's app management policy")
    );

    // Graph refuses: the typed refusal names the policy by its ID and says what to do.
    let err = graph::add_password(&api, object_id, "renewed", None)
        .await
        .unwrap_err();
    let refusal = policy::refusal(&err).unwrap();
    assert!(matches!(
        refusal,
        PolicyRefusal::CredentialTypeNotAllowed { policy_id: Some(_) }
    ));
    let explained = view.explain_refusal(err.service().unwrap()).unwrap();
    assert!(
        explained.contains("Credential type not allowed as per assigned policy")
            && explained.contains("Use a certificate instead"),
        "{explained}"
    );
    // Nothing was added.
    let state = env.state().await;
    assert_eq!(
        state["applications"][object_id]["body"]["passwordCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.stop().await;
}

// F1: a new application is restricted only by the tenant's default. A
// certificate made in the page is made for what the default allows; one the
// admin brings that lasts longer is refused by the plan, naming the policy,
// before anything is sent — Graph would refuse the create.
#[tokio::test]
async fn a_new_applications_certificate_follows_the_tenant_default() {
    use entra_wizard::core::certificate::{self, CertificateRequest};
    use entra_wizard::flows::InputError;
    use entra_wizard::flows::certificate::generated_months;
    use entra_wizard::flows::new_app::{self, NewApplication};

    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let now = env.now();
    set_default_policy(
        &env,
        json!({"isEnabled": true, "applicationRestrictions": {"passwordCredentials": [], "keyCredentials": [
            {"restrictionType": "asymmetricKeyLifetime", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": null}
        ]}}),
    );
    let view = read_for_application(&api, None).await;
    let (months, note) = generated_months(&view, None, now).unwrap();
    assert_eq!(months, 2, "12 months shortened to what fits 90 days");
    assert!(
        note.as_deref()
            .is_some_and(|n| n.contains("2 months instead of 12")
                && n.contains("the tenant's default app management policy")),
        "{note:?}"
    );

    let made = |cn: &str, days: u64| {
        certificate::self_signed(
            key(),
            &CertificateRequest::new(cn),
            [7; 10],
            UnixTime(now.0 - 300),
            UnixTime(now.0 + days * DAY),
        )
        .unwrap()
        .der()
        .to_vec()
    };
    let input = |name: &str, der: Vec<u8>| NewApplication {
        display_name: name.into(),
        description: None,
        profile: entra_wizard::profiles::by_id("azure-backup").unwrap(),
        certificate_der: der,
        redirect_uri: None,
        subscription: Some(production()),
    };
    // A year-long PFX: refused before anything is sent, naming the default.
    let long = input("Policy F1 long", made("Policy F1 long", 365));
    let refused = new_app::plan_under_policy(&long, &view, now, &mut rand_core::OsRng).unwrap_err();
    let InputError::Policy(PolicyError::LifetimeTooLong { max_days, .. }) = &refused else {
        panic!("{refused:?}")
    };
    assert_eq!(*max_days, 90);
    assert!(
        refused
            .to_string()
            .contains("the tenant's default app management policy"),
        "{refused}"
    );
    // Graph itself refuses that create: the check is not the page's invention.
    let plan = new_app::plan(&long, now, &mut rand_core::OsRng).unwrap();
    let mut progress = plan.start();
    let err = entra_wizard::plan::apply(&api, &plan, &mut progress, &mut |_, _| {
        core::ops::ControlFlow::Continue(())
    })
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("Credential lifetime exceeds"),
        "{err}"
    );
    assert!(apps_named(&env.state().await, "Policy F1 long").is_empty());

    // Within the limit: planned and applied, one application with its key.
    let short = input("Policy F1 short", made("Policy F1 short", 60));
    let plan = new_app::plan_under_policy(&short, &view, now, &mut rand_core::OsRng).unwrap();
    let mut progress = plan.start();
    entra_wizard::plan::apply(&api, &plan, &mut progress, &mut |_, _| {
        core::ops::ControlFlow::Continue(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let state = env.state().await;
    let apps = apps_named(&state, "Policy F1 short");
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0]["keyCredentials"].as_array().unwrap().len(), 1);
    env.stop().await;
}
