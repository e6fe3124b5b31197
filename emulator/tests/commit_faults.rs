//! The faults that prove "nothing twice": a change carried out whose answer
//! is then lost or replaced by a 5xx, and collections lagging behind single
//! reads.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn apps_named(env: &Env, token: &str, name: &str) -> Vec<Value> {
    let (s, list) = env
        .get(
            &env.graph(&format!("applications?$filter=displayName eq '{name}'")),
            token,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    list["value"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_was_carried_out_once() {
    let env = env_with("demo", "commitlost=POST:/graph/v1.0/applications").await;
    let admin = env.graph_token("admin").await;
    // Other requests pass.
    let (s, _) = env.get(&env.graph("applications"), &admin).await;
    assert_eq!(s, StatusCode::OK);
    let sent = env
        .http
        .post(env.graph("applications"))
        .bearer_auth(&admin)
        .json(&json!({"displayName": "Lost answer"}))
        .send()
        .await;
    // No answer can be read: the connection broke.
    let read = match sent {
        Ok(r) => r.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(read.is_err(), "the answer should be lost");
    // The application was created, once; the fault was used up.
    assert_eq!(apps_named(&env, &admin, "Lost answer").await.len(), 1);
    env.create_app(&admin, json!({"displayName": "Lost answer"}))
        .await;
    assert_eq!(apps_named(&env, &admin, "Lost answer").await.len(), 2);
    // The state file (and the request log) saw the change.
    let log = env
        .http
        .get(format!("{}/_emulator/requests", env.emu.base_url))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(log["value"].as_array().unwrap().iter().any(|e| {
        e["method"] == "POST" && e["path"] == "/graph/v1.0/applications" && e["status"] == 201
    }));
}

#[tokio::test]
async fn a_committed_change_answered_with_a_5xx_is_there() {
    let env = env_with(
        "demo",
        "commit5xx=POST:/graph/v1.0/applications*@2,commitstatus=503",
    )
    .await;
    let admin = env.graph_token("admin").await;
    let (s, e) = env
        .post(
            &env.graph("applications"),
            &admin,
            json!({"displayName": "Half failed"}),
        )
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(e["error"]["code"], "serviceNotAvailable");
    assert!(e["error"]["innerError"]["request-id"].is_string());
    let apps = apps_named(&env, &admin, "Half failed").await;
    assert_eq!(apps.len(), 1);
    // addPassword matches the pattern too: the secret exists although the answer was a 503.
    let id = apps[0]["id"].as_str().unwrap();
    let (s, _) = env
        .post(
            &env.graph(&format!("applications/{id}/addPassword")),
            &admin,
            json!({"passwordCredential": {"displayName": "x"}}),
        )
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    let (_, app) = env
        .get(&env.graph(&format!("applications/{id}")), &admin)
        .await;
    assert_eq!(app["passwordCredentials"].as_array().unwrap().len(), 1);
    // A refused request does not use the fault up: the third matching one passes.
    let (s, _) = env
        .post(
            &env.graph("applications"),
            &admin,
            json!({"displayName": "  "}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    env.create_app(&admin, json!({"displayName": "Fine"})).await;
}

#[tokio::test]
async fn lists_lag_behind_single_reads() {
    let env = env_with("demo", "listlag=10s").await;
    let admin = env.graph_token("admin").await;
    let app = env
        .create_app(&admin, json!({"displayName": "Lagging"}))
        .await;
    let id = app["id"].as_str().unwrap();
    let (s, _) = env
        .get(&env.graph(&format!("applications/{id}")), &admin)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(apps_named(&env, &admin, "Lagging").await.is_empty());
    let (s, sp) = env
        .post(
            &env.graph("servicePrincipals"),
            &admin,
            json!({"appId": app["appId"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sp}");
    let (_, sps) = env
        .get(
            &env.graph(&format!(
                "servicePrincipals?$filter=appId eq '{}'",
                app["appId"].as_str().unwrap()
            )),
            &admin,
        )
        .await;
    assert_eq!(sps["value"], json!([]));
    env.advance(10).await;
    assert_eq!(apps_named(&env, &admin, "Lagging").await.len(), 1);
    let (_, sps) = env
        .get(
            &env.graph(&format!(
                "servicePrincipals?$filter=appId eq '{}'",
                app["appId"].as_str().unwrap()
            )),
            &admin,
        )
        .await;
    assert_eq!(sps["value"].as_array().unwrap().len(), 1);
    // Seeded objects are old: they are listed at once.
    assert!(!apps_named(&env, &admin, "Contoso Backup").await.is_empty());
}

#[tokio::test]
async fn commit_faults_are_set_through_the_control_api() {
    let env = env().await;
    let c = env
        .control(
            "faults",
            json!({"spec": "commitlost=PUT:/arm/*/roleAssignments/*@3,listlag=5s"}),
        )
        .await;
    assert_eq!(c["commitLost"][0]["method"], "PUT");
    assert_eq!(c["commitLost"][0]["remaining"], 3);
    assert_eq!(c["listLagMs"], 5000);
    let r = env
        .http
        .post(format!("{}/_emulator/faults", env.emu.base_url))
        .json(&json!({"spec": "commitlost=POST"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
