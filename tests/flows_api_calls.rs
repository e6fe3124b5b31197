//! The typed Graph and ARM calls the plans do not exercise, against the
//! emulator: client secrets (addPassword / removePassword), deleting an
//! application, role definitions by name and ID, and error envelopes.

mod flows_support;

use entra_wizard::api_error::{ApiError, Service};
use entra_wizard::arm::{self, builtin};
use entra_wizard::{graph, http::Method};
use flows_support::*;
use serde_json::json;

#[tokio::test]
async fn secrets_and_deletion() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let app = graph::create_application(
        &api,
        &json!({"displayName": "Secret holder", "signInAudience": "AzureADMyOrg"}),
    )
    .await
    .unwrap();
    let found = graph::find_application_by_app_id(&api, &app.app_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, app.id);

    let end = env.now().plus_days(90);
    let secret = graph::add_password(&api, &app.id, "backup", Some(end))
        .await
        .unwrap();
    assert_eq!(secret.hint.as_deref(), Some(&secret.secret_text[..3]));
    assert_eq!(secret.end_date_time, Some(end));
    assert!(!format!("{secret:?}").contains(&secret.secret_text));
    let read = graph::get_application(&api, &app.id).await.unwrap();
    assert_eq!(read.password_credentials.len(), 1);
    assert_eq!(read.password_credentials[0].key_id, secret.key_id);

    graph::remove_password(&api, &app.id, &secret.key_id)
        .await
        .unwrap();
    let read = graph::get_application(&api, &app.id).await.unwrap();
    assert!(read.password_credentials.is_empty());

    graph::delete_application(&api, &app.id).await.unwrap();
    let err = graph::get_application(&api, &app.id).await.unwrap_err();
    let ApiError::Service(e) = &err else {
        panic!("{err}")
    };
    assert_eq!(e.service, Service::Graph);
    assert_eq!(e.status, 404);
    assert_eq!(e.code, "Request_ResourceNotFound");
    assert!(e.request_id.is_some(), "Graph's request-id is kept");
    assert!(
        graph::find_application_by_app_id(&api, &app.app_id)
            .await
            .unwrap()
            .is_none()
    );
    env.stop().await;
}

#[tokio::test]
async fn role_definitions_and_arm_errors() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let by_name = arm::find_role_definition_by_name(&api, PRODUCTION, "Key Vault Crypto User")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_name.name, builtin::KEY_VAULT_CRYPTO_USER);
    assert_eq!(by_name.properties.kind, "BuiltInRole");
    let by_id = arm::get_role_definition(&api, PRODUCTION, builtin::CONTRIBUTOR)
        .await
        .unwrap();
    assert_eq!(by_id.properties.role_name, "Contributor");
    assert!(
        arm::find_role_definition_by_name(&api, PRODUCTION, "No Such Role")
            .await
            .unwrap()
            .is_none()
    );
    let perms = arm::my_permissions(&api, PRODUCTION).await.unwrap();
    assert!(arm::allows(&perms, arm::ROLE_ASSIGNMENTS_WRITE));

    // ARM's envelope, and a missing api-version named as such.
    let err = api
        .arm(Method::Get, "/subscriptions", None)
        .await
        .unwrap_err();
    assert!(err.has_code("MissingApiVersionParameter"), "{err}");
    let err =
        arm::get_role_definition(&api, "00000000-0000-0000-0000-000000000000", builtin::OWNER)
            .await
            .unwrap_err();
    assert!(err.has_code("SubscriptionNotFound"));
    assert!(err.advice().contains("subscription"));

    // Without a token for ARM nothing is sent.
    let bare = entra_wizard::client::ApiClient::new(
        &http,
        &sleeper,
        env.endpoints(),
        Default::default(),
        1,
        env.now(),
    );
    let before = http.log.lock().unwrap().len();
    assert_eq!(
        arm::list_subscriptions(&bare).await.unwrap_err(),
        ApiError::NotSignedIn(Service::Arm)
    );
    assert_eq!(http.log.lock().unwrap().len(), before);
    env.stop().await;
}
