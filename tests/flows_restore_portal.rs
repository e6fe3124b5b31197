//! F5 — the Restore Portal application, new and existing: spa redirect URI
//! from the portal address, `access_as_user` under `api://{appId}`, admin
//! consent for User.Read and that scope, the certificate; an existing
//! application gets only what it misses.

mod flows_support;

use core::ops::ControlFlow;

use base64ct::{Base64, Encoding};
use entra_wizard::flows::InputError;
use entra_wizard::flows::restore_portal::{self, PortalApplication, RestorePortal};
use entra_wizard::plan::{self, Finish, Outcome};
use flows_support::*;
use serde_json::Value;

/// The demo tenant's "Contoso Restore".
const CONTOSO_RESTORE: &str = "d8b0490d-823f-46df-8680-25017029384a";

fn check_portal_app(state: &Value, app: &Value, redirect: &str) {
    let app_id = app["appId"].as_str().unwrap();
    assert!(
        app["spa"]["redirectUris"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == redirect),
        "{}",
        app["spa"]
    );
    assert_eq!(
        app["identifierUris"],
        serde_json::json!([format!("api://{app_id}")])
    );
    let scopes = app["api"]["oauth2PermissionScopes"].as_array().unwrap();
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0]["value"], "access_as_user");
    assert_eq!(scopes[0]["isEnabled"], true);
    let sps = sps_for(state, app_id);
    assert_eq!(sps.len(), 1);
    let sp_id = sps[0]["id"].as_str().unwrap();
    let graph_sp = state["service_principals"]
        .as_object()
        .unwrap()
        .values()
        .find(|s| s["body"]["appId"] == GRAPH_APP_ID)
        .unwrap()["body"]["id"]
        .clone();
    let grants = grants_of(state, sp_id);
    assert_eq!(grants.len(), 2, "{grants:#?}");
    let graph = grants.iter().find(|g| g["resourceId"] == graph_sp).unwrap();
    assert_eq!(graph["scope"], "User.Read");
    assert_eq!(graph["consentType"], "AllPrincipals");
    let own = grants.iter().find(|g| g["resourceId"] == sp_id).unwrap();
    assert_eq!(own["scope"], "access_as_user");
}

#[tokio::test]
async fn new_restore_portal_application() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let cert = certificate("Restore Portal", env.now());
    let input = RestorePortal {
        application: PortalApplication::New {
            display_name: "Restore Portal".into(),
        },
        certificate_der: cert.der().to_vec(),
        portal_address: "https://Restore.Contoso.com:4443".into(),
    };
    let (plan, redirect) = restore_portal::plan(&input, env.now(), &mut rand_core::OsRng).unwrap();
    assert_eq!(redirect, "https://restore.contoso.com:4443");
    assert!(plan::preflight::run(&api, &plan).await.unwrap().is_empty());
    let mut progress = plan.start();
    let finish = plan::apply(&api, &plan, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert_eq!(finish, Finish::Completed);

    let state = env.state().await;
    let apps = apps_named(&state, "Restore Portal");
    assert_eq!(apps.len(), 1);
    check_portal_app(&state, apps[0], &redirect);
    let key = apps[0]["keyCredentials"][0]["key"].as_str().unwrap();
    assert_eq!(Base64::decode_vec(key).unwrap(), cert.der());
    let rra = apps[0]["requiredResourceAccess"].as_array().unwrap();
    assert_eq!(rra.len(), 1);
    assert_eq!(rra[0]["resourceAppId"], GRAPH_APP_ID);
    assert_eq!(
        rra[0]["resourceAccess"][0],
        serde_json::json!({"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"})
    );
    env.stop().await;
}

#[tokio::test]
async fn existing_application_gets_only_what_it_misses() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let before = env.state().await;
    let old_key = apps_named(&before, "Contoso Restore")[0]["keyCredentials"][0].clone();
    let cert = certificate("Contoso Restore Portal", env.now());
    let input = RestorePortal {
        application: PortalApplication::Existing {
            app_id: CONTOSO_RESTORE.into(),
        },
        certificate_der: cert.der().to_vec(),
        portal_address: "https://172.16.0.10:4443/".into(),
    };
    let (plan, redirect) = restore_portal::plan(&input, env.now(), &mut rand_core::OsRng).unwrap();
    assert_eq!(redirect, "https://172.16.0.10:4443/");
    let mut progress = plan.start();
    plan::apply(&api, &plan, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    let state = env.state().await;
    let apps = apps_named(&state, "Contoso Restore");
    assert_eq!(apps.len(), 1);
    check_portal_app(&state, apps[0], &redirect);
    let keys = apps[0]["keyCredentials"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["keyId"], old_key["keyId"]);
    assert_eq!(
        Base64::decode_vec(keys[1]["key"].as_str().unwrap()).unwrap(),
        cert.der()
    );

    // Run again with another plan: everything is already there.
    let (again, _) = restore_portal::plan(&input, env.now(), &mut rand_core::OsRng).unwrap();
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
            .all(|s| s.outcome == Some(Outcome::AlreadyDone)),
        "{:?}",
        progress.steps
    );
    let after = env.state().await;
    assert_eq!(after["applications"], state["applications"]);
    assert_eq!(
        after["oauth2_permission_grants"],
        state["oauth2_permission_grants"]
    );
    env.stop().await;
}

#[test]
fn the_portal_address_is_validated() {
    let now = entra_wizard::core::time::UnixTime(1_790_000_000);
    let cert = certificate("Portal", now);
    let mut input = RestorePortal {
        application: PortalApplication::New {
            display_name: "Portal".into(),
        },
        certificate_der: cert.der().to_vec(),
        portal_address: "http://restore.contoso.com:4443".into(),
    };
    let err = restore_portal::plan(&input, now, &mut rand_core::OsRng).unwrap_err();
    assert!(matches!(err, InputError::PortalAddress(_)), "{err}");
    input.portal_address = "https://restore.contoso.com:4443".into();
    input.application = PortalApplication::Existing {
        app_id: "Contoso Restore".into(),
    };
    let err = restore_portal::plan(&input, now, &mut rand_core::OsRng).unwrap_err();
    assert!(matches!(err, InputError::ApplicationId(_)), "{err}");
    assert!(restore_portal::MANUAL_SETTINGS_NOTE.contains("multi-tenant"));
    assert!(restore_portal::ADDRESS_HELP.contains("4443"));
}
