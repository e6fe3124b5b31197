//! `flows::review::prepare` — the one path from a wizard's plan to the
//! review the page shows — against the in-process emulator: pre-flight for
//! each demo user, the tenant mismatch, incremental consent, and rights
//! that cannot be read.

mod flows_support;

use entra_wizard::auth::tokens::Audience;
use entra_wizard::client::ApiClient;
use entra_wizard::flows::new_app::{self, NewApplication};
use entra_wizard::flows::review::{self, Review, SignedIn, TenantMismatch};
use entra_wizard::flows::roles;
use entra_wizard::http::{HttpClient, RetryPolicy, Sleeper};
use entra_wizard::plan::Plan;
use entra_wizard::profiles;
use flows_support::*;

/// Every permission the page's sign-in is given in the demo tenant.
const ALL_GRANTED: &[&str] = &[
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "user_impersonation",
];

fn granted(list: &'static [&'static str]) -> impl Fn(Audience, &[&str]) -> Vec<String> {
    move |_, needed: &[&str]| {
        needed
            .iter()
            .filter(|n| !list.contains(n))
            .map(|n| n.to_string())
            .collect()
    }
}

fn f1_plan(env: &Env, profile: &str) -> Plan {
    let now = env.now();
    new_app::plan(
        &NewApplication {
            display_name: "Review test".into(),
            description: None,
            profile: profiles::by_id(profile).unwrap(),
            certificate_der: certificate("Review test", now).der().to_vec(),
            redirect_uri: None,
            subscription: Some(production()),
        },
        now,
        &mut rand_core::OsRng,
    )
    .unwrap()
}

async fn prepare_as(env: &Env, user: &str, plan: Plan, wizard_tenant: Option<&str>) -> Review {
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, user).await;
    prepare_with(env, &api, plan, ALL_GRANTED, wizard_tenant).await
}

/// The review by `api`, for a sign-in granted `scopes`.
async fn prepare_with<C: HttpClient, S: Sleeper>(
    env: &Env,
    api: &ApiClient<'_, C, S>,
    plan: Plan,
    scopes: &'static [&'static str],
    wizard_tenant: Option<&str>,
) -> Review {
    let tenant = env.tenant_id();
    let g = granted(scopes);
    review::prepare(
        api,
        plan,
        &SignedIn {
            tenant_id: &tenant,
            granted: &g,
        },
        wizard_tenant,
    )
    .await
}

#[tokio::test]
async fn admin_may_apply_f1_and_f4() {
    let env = Env::demo().await;
    let plan = f1_plan(&env, "azure-backup");
    let r = prepare_as(&env, "admin", plan.clone(), None).await;
    assert_eq!(r.plan, plan, "the review shows the plan it was given");
    assert_eq!(r.preflight, Ok(vec![]));
    assert_eq!(r.tenant_mismatch, None);
    assert!(r.consent.is_empty());
    assert!(r.may_apply());

    let roles_plan = roles::plan(
        "d8b0490d-823f-46df-8680-25017029384a",
        &profiles::by_id("azure-backup").unwrap(),
        &production(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    // The wizard's tenant typed in another case is the same tenant.
    let tenant = env.tenant_id().to_uppercase();
    let r = prepare_as(&env, "admin", roles_plan, Some(&tenant)).await;
    assert!(r.may_apply(), "{r:?}");
    env.stop().await;
}

#[tokio::test]
async fn preflight_names_what_appadmin_and_reader_lack() {
    let env = Env::demo().await;
    // appadmin@: Application Administrator, Contributor on Production — may
    // create the application but not assign Azure roles.
    let r = prepare_as(&env, "appadmin", f1_plan(&env, "azure-backup"), None).await;
    let missing = r.preflight.clone().unwrap();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(
        missing[0]
            .message
            .contains("Owner or User Access Administrator")
    );
    assert!(missing[0].message.contains("Production"));
    assert!(!r.may_apply());

    // reader@: no directory role at all.
    let r = prepare_as(&env, "reader", f1_plan(&env, "restore-portal"), None).await;
    let missing = r.preflight.clone().unwrap();
    assert!(
        missing
            .iter()
            .any(|m| m.message.contains("Application Administrator")
                && m.message.contains("it has no directory role")),
        "{missing:?}"
    );
    assert!(!r.may_apply());
    env.stop().await;
}

#[tokio::test]
async fn another_tenant_blocks_apply() {
    let env = Env::demo().await;
    let other = "11111111-2222-4333-8444-555555555555";
    let r = prepare_as(&env, "admin", f1_plan(&env, "restore-portal"), Some(other)).await;
    assert_eq!(
        r.tenant_mismatch,
        Some(TenantMismatch {
            signed_in: env.tenant_id(),
            wizard: other.into(),
        })
    );
    assert_eq!(r.preflight, Ok(vec![]), "the admin's own rights are fine");
    assert!(!r.may_apply());
    // A domain cannot be compared without asking Microsoft: no mismatch.
    let r = prepare_as(
        &env,
        "admin",
        f1_plan(&env, "restore-portal"),
        Some("contoso.onmicrosoft.com"),
    )
    .await;
    assert!(r.may_apply());
    env.stop().await;
}

#[tokio::test]
async fn missing_graph_consent_is_listed() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    // The sign-in was not granted DelegatedPermissionGrant.ReadWrite.All,
    // which restore-portal's delegated grants need.
    let scopes = &[
        "Application.ReadWrite.All",
        "AppRoleAssignment.ReadWrite.All",
    ];
    let r = prepare_with(&env, &api, f1_plan(&env, "restore-portal"), scopes, None).await;
    assert_eq!(r.consent, ["DelegatedPermissionGrant.ReadWrite.All"]);
    assert_eq!(r.preflight, Ok(vec![]));
    assert!(!r.may_apply());
    env.stop().await;
}

#[tokio::test]
async fn rights_that_cannot_be_read_block_apply() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    // No token at all: Microsoft answers 401, kept typed in the review.
    let api = ApiClient::new(
        &http,
        &sleeper,
        env.endpoints(),
        RetryPolicy::default(),
        7,
        env.now(),
    )
    .with_graph_token("not-a-token");
    let r = prepare_with(
        &env,
        &api,
        f1_plan(&env, "restore-portal"),
        ALL_GRANTED,
        None,
    )
    .await;
    let e = r.preflight.clone().unwrap_err();
    assert_eq!(e.status(), Some(401), "{e}");
    assert!(!r.may_apply());
    env.stop().await;
}
