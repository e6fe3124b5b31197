//! F4 — Azure roles, and pre-flight: which roles the application has and
//! misses, whether the admin may assign them (naming Owner / User Access
//! Administrator), assignment with "already exists" counted as done, the
//! m365-archiver custom role; reader@ refused at pre-flight; appadmin@'s
//! Microsoft Graph app-role refusal explained.

mod flows_support;

use core::ops::ControlFlow;

use entra_wizard::arm::builtin;
use entra_wizard::flows::new_app::{self, NewApplication};
use entra_wizard::flows::roles;
use entra_wizard::plan::execute::{ApplyError, StepError};
use entra_wizard::plan::step::{AssignRole, FindApplication};
use entra_wizard::plan::{self, Event, Finish, Outcome, RoleRef, Step, preflight};
use entra_wizard::profiles;
use flows_support::*;

/// The demo tenant's "Contoso Restore": Contributor only on Production.
const MISSING_ROLES_APP: &str = "d8b0490d-823f-46df-8680-25017029384a";

#[tokio::test]
async fn lists_the_subscriptions_the_admin_sees() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let mut names: Vec<String> = roles::subscriptions(&api)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.display_name)
        .collect();
    names.sort();
    assert_eq!(names, ["Development", "Production"]);
    let reader = env.api(&http, &sleeper, "reader").await;
    assert!(roles::subscriptions(&reader).await.unwrap().is_empty());
    env.stop().await;
}

#[tokio::test]
async fn appadmin_is_told_which_role_they_lack() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "appadmin").await;
    let profile = profiles::by_id("azure-backup").unwrap();
    let report = roles::check(&api, MISSING_ROLES_APP, &profile, &production())
        .await
        .unwrap();
    let status: Vec<(&str, bool)> = report
        .roles
        .iter()
        .map(|r| (r.role.name(), r.assigned))
        .collect();
    assert_eq!(
        status,
        [
            ("Contributor", true),
            ("Key Vault Crypto User", false),
            ("Storage Queue Data Contributor", false)
        ]
    );
    assert_eq!(report.admin_missing.len(), 1);
    let message = &report.admin_missing[0].message;
    assert!(
        message.contains("Owner or User Access Administrator"),
        "{message}"
    );
    assert!(message.contains("Production"), "{message}");

    // Applying anyway stops at the first new assignment with the reason.
    let plan = roles::plan(
        MISSING_ROLES_APP,
        &profile,
        &production(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    let mut progress = plan.start();
    let err = plan::apply(&api, &plan, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap_err();
    let ApplyError::Step(failure) = err else {
        panic!("{err}")
    };
    assert_eq!(
        failure.sentence,
        "Assign Key Vault Crypto User on subscription Production"
    );
    assert!(failure.error.to_string().contains("AuthorizationFailed"));
    assert!(failure.what_to_do.contains("Owner or User Access"));
    assert_eq!(
        progress.done_count(),
        3,
        "find, service principal, Contributor (already there)"
    );
    env.stop().await;
}

#[tokio::test]
async fn admin_assigns_the_missing_roles_once() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let profile = profiles::by_id("azure-backup").unwrap();
    let report = roles::check(&api, MISSING_ROLES_APP, &profile, &production())
        .await
        .unwrap();
    assert!(report.admin_missing.is_empty());
    assert_eq!(report.missing_roles().len(), 2);

    let plan = roles::plan(
        MISSING_ROLES_APP,
        &profile,
        &production(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    for _ in 0..2 {
        let mut progress = plan.start();
        assert_eq!(
            plan::apply(&api, &plan, &mut progress, &mut |_, _| {
                ControlFlow::Continue(())
            })
            .await
            .unwrap(),
            Finish::Completed
        );
    }
    let report = roles::check(&api, MISSING_ROLES_APP, &profile, &production())
        .await
        .unwrap();
    assert!(report.complete());
    let state = env.state().await;
    assert_eq!(
        role_ids_of(&state, report.service_principal_id.as_deref().unwrap()).len(),
        3,
        "each role assigned once"
    );

    // Microsoft's "already exists" counts as done: the same assignment
    // under another name.
    let step = Step::AssignRole(AssignRole {
        subscription_id: PRODUCTION.into(),
        subscription_name: "Production".into(),
        role: RoleRef::BuiltIn {
            name: "Contributor".into(),
            id: builtin::CONTRIBUTOR.into(),
        },
        assignment_name: entra_wizard::plan::new_guid(&mut rand_core::OsRng),
    });
    let sp = report.service_principal_id.clone().unwrap();
    let direct = entra_wizard::arm::put_role_assignment(
        &api,
        PRODUCTION,
        &entra_wizard::plan::new_guid(&mut rand_core::OsRng),
        builtin::CONTRIBUTOR,
        &sp,
    )
    .await
    .unwrap_err();
    assert!(direct.has_code("RoleAssignmentExists"));
    let one = entra_wizard::plan::Plan::new(
        "one",
        "one",
        vec![
            Step::FindApplication(FindApplication {
                app_id: MISSING_ROLES_APP.into(),
            }),
            Step::CreateServicePrincipal,
            step,
        ],
    );
    let mut progress = one.start();
    plan::apply(&api, &one, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert_eq!(progress.steps[2].outcome, Some(Outcome::AlreadyDone));
    env.stop().await;
}

#[tokio::test]
async fn m365_archiver_creates_its_custom_role_then_assigns_it() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let profile = profiles::by_id("m365-archiver").unwrap();
    let report = roles::check(&api, MISSING_ROLES_APP, &profile, &production())
        .await
        .unwrap();
    assert_eq!(report.roles.len(), 1);
    assert_eq!(report.roles[0].role_definition_id, None, "not created yet");

    let plan = roles::plan(
        MISSING_ROLES_APP,
        &profile,
        &production(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    assert_eq!(
        plan.sentences()[2],
        "Create custom role 'Microsoft 365 Archiver Appliance' on subscription Production (if missing)"
    );
    let mut progress = plan.start();
    plan::apply(&api, &plan, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    let report = roles::check(&api, MISSING_ROLES_APP, &profile, &production())
        .await
        .unwrap();
    assert!(report.complete());
    let role_id = report.roles[0].role_definition_id.clone().unwrap();

    let state = env.state().await;
    let customs = state["custom_roles"].as_array().unwrap();
    assert_eq!(customs.len(), 1);
    assert_eq!(customs[0]["name"], role_id.as_str());
    let actions = customs[0]["properties"]["permissions"][0]["actions"]
        .as_array()
        .unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a == "Microsoft.Compute/disks/delete")
    );
    assert_eq!(
        customs[0]["properties"]["assignableScopes"][0],
        format!("/subscriptions/{PRODUCTION}")
    );

    // A second plan (new GUIDs) finds the role by name and creates nothing.
    let again = roles::plan(
        MISSING_ROLES_APP,
        &profile,
        &production(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    let mut progress = again.start();
    plan::apply(&api, &again, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert!(
        progress
            .steps
            .iter()
            .all(|s| s.outcome == Some(Outcome::AlreadyDone))
    );
    assert_eq!(
        env.state().await["custom_roles"].as_array().unwrap().len(),
        1
    );

    // The archiver's admin needs Owner: appadmin (Contributor) is told.
    let appadmin = env.api(&http, &sleeper, "appadmin").await;
    let other = roles::plan(
        MISSING_ROLES_APP,
        &profile,
        &entra_wizard::flows::SubscriptionChoice {
            subscription_id: "5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b52".into(),
            display_name: "Development".into(),
        },
        &mut rand_core::OsRng,
    )
    .unwrap();
    let missing = preflight::run(&appadmin, &other).await.unwrap();
    assert_eq!(missing.len(), 2);
    assert!(
        missing[0]
            .message
            .contains("create the custom role on subscription Development")
    );
    env.stop().await;
}

fn f1_with_graph_app_role(now: entra_wizard::core::time::UnixTime) -> entra_wizard::plan::Plan {
    let mut profile = profiles::load_custom(&format!(
        r#"{{"id": "archiver-graph", "displayName": "Archiver",
            "resources": [{{"resourceAppId": "{GRAPH_APP_ID}", "displayName": "Microsoft Graph",
              "applicationPermissions": ["Application.Read.All"]}}]}}"#
    ))
    .unwrap()
    .remove(0);
    profile.azure_roles = vec!["Contributor".into()];
    let input = NewApplication {
        display_name: "Archiver".into(),
        description: None,
        profile,
        certificate_der: certificate("Archiver", now).der().to_vec(),
        redirect_uri: None,
        subscription: Some(production()),
    };
    new_app::plan(&input, now, &mut rand_core::OsRng).unwrap()
}

#[tokio::test]
async fn reader_is_refused_at_pre_flight() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "reader").await;
    let plan = f1_with_graph_app_role(env.now());
    let missing = preflight::run(&api, &plan).await.unwrap();
    let messages: Vec<&str> = missing.iter().map(|m| m.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(messages[0].contains("Application Administrator, Cloud Application Administrator"));
    assert!(messages[0].contains("it has no directory role"));
    assert!(messages[1].contains("Global Administrator or Privileged Role Administrator"));
    assert!(messages[2].contains("Owner or User Access Administrator"));
    assert!(messages[2].contains("no access to this subscription"));
    // Pre-flight only reads.
    assert!(
        http.log
            .lock()
            .unwrap()
            .iter()
            .all(|r| r.method == entra_wizard::http::Method::Get || r.url.contains("/oauth2/"))
    );
    assert!(apps_named(&env.state().await, "Archiver").is_empty());
    env.stop().await;
}

#[tokio::test]
async fn appadmin_gets_the_graph_app_role_refusal_explained() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "appadmin").await;
    let plan = f1_with_graph_app_role(env.now());
    let missing = preflight::run(&api, &plan).await.unwrap();
    assert_eq!(missing.len(), 2);
    assert!(missing[0].message.contains(
        "To grant Microsoft Graph application permissions your account needs the Global Administrator or Privileged Role Administrator role"
    ), "{}", missing[0].message);
    assert!(
        missing[0]
            .message
            .contains("it has Application Administrator")
    );

    // Applied anyway: the application is made, the Graph grant is refused
    // and explained, and nothing after it runs.
    let mut progress = plan.start();
    let mut done = Vec::new();
    let err = plan::apply(&api, &plan, &mut progress, &mut |e, _| {
        if let Event::Done { index, .. } = e {
            done.push(*index);
        }
        ControlFlow::Continue(())
    })
    .await
    .unwrap_err();
    let ApplyError::Step(failure) = err else {
        panic!("{err}")
    };
    assert_eq!(done, [0, 1, 2]);
    assert_eq!(
        failure.sentence,
        "Grant Microsoft Graph application permission Application.Read.All"
    );
    let StepError::Api(api_error) = &failure.error else {
        panic!("{:?}", failure.error)
    };
    assert!(api_error.has_code("Authorization_RequestDenied"));
    assert!(failure.to_string().contains("Insufficient privileges"));
    assert!(failure.what_to_do.contains(
        "Application Administrator and Cloud Application Administrator may not grant them"
    ));
    assert!(failure.what_to_do.contains("not repeated"));

    // A Global Administrator signs in and applies again from the saved
    // progress: the application made by appadmin is kept, nothing doubles.
    let saved = serde_json::to_string(&progress).unwrap();
    let admin = env.api(&http, &sleeper, "admin").await;
    let mut progress: entra_wizard::plan::Progress = serde_json::from_str(&saved).unwrap();
    let finish = plan::apply(&admin, &plan, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert_eq!(finish, Finish::Completed);
    let state = env.state().await;
    assert_eq!(apps_named(&state, "Archiver").len(), 1);
    let app_id = progress.application.as_ref().unwrap().app_id.clone();
    assert_eq!(sps_for(&state, &app_id).len(), 1);
    let sp = progress.service_principal_id.clone().unwrap();
    assert_eq!(role_ids_of(&state, &sp), [builtin::CONTRIBUTOR]);
    assert_eq!(
        state["app_role_assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["principalId"] == sp.as_str())
            .count(),
        1
    );
    env.stop().await;
}

#[tokio::test]
async fn roles_of_an_application_without_service_principal_or_not_in_the_tenant() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let profile = profiles::by_id("azure-backup").unwrap();
    let err = roles::check(
        &api,
        "11111111-2222-4333-8444-555555555555",
        &profile,
        &production(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StepError::ApplicationNotInTenant { .. }),
        "{err}"
    );

    let app = entra_wizard::graph::create_application(
        &api,
        &serde_json::json!({"displayName": "No principal yet"}),
    )
    .await
    .unwrap();
    let report = roles::check(&api, &app.app_id, &profile, &production())
        .await
        .unwrap();
    assert_eq!(report.service_principal_id, None);
    assert_eq!(report.missing_roles().len(), 3);
    assert!(report.admin_missing.is_empty());
    let plan = roles::plan(&app.app_id, &profile, &production(), &mut rand_core::OsRng).unwrap();
    let mut progress = plan.start();
    plan::apply(&api, &plan, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert_eq!(
        progress.steps[1].outcome,
        Some(Outcome::Changed),
        "service principal created"
    );
    let report = roles::check(&api, &app.app_id, &profile, &production())
        .await
        .unwrap();
    assert!(report.complete());
    env.stop().await;
}
