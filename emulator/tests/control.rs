//! The control API: seed description, clock, faults, request log, reset,
//! reseed, state snapshot and the state file.

mod common;

use common::*;
use entra_emulator::{Config, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn seed_describes_the_demo_tenant() {
    let env = env().await;
    let s = &env.seed;
    assert_eq!(&env.emu.seed(), s);
    assert_eq!(s["tenant"]["domain"], "contoso.onmicrosoft.com");
    assert_eq!(s["tenant"]["displayName"], "Contoso");
    assert_eq!(s["password"], "Demo-Passw0rd!");
    let users = s["users"].as_array().unwrap();
    assert_eq!(users.len(), 3);
    let admin = users
        .iter()
        .find(|u| u["userPrincipalName"] == "admin@contoso.onmicrosoft.com")
        .unwrap();
    assert_eq!(
        admin["directoryRoles"][0]["roleTemplateId"],
        "62e90394-69f5-4237-9190-012177145e10"
    );
    assert_eq!(
        admin["azureRoles"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["roleName"] == "Owner")
            .count(),
        2
    );
    let appadmin = users
        .iter()
        .find(|u| u["userPrincipalName"] == "appadmin@contoso.onmicrosoft.com")
        .unwrap();
    assert_eq!(
        appadmin["directoryRoles"][0]["displayName"],
        "Application Administrator"
    );
    assert_eq!(appadmin["azureRoles"][0]["roleName"], "Contributor");
    let reader = users
        .iter()
        .find(|u| u["userPrincipalName"] == "reader@contoso.onmicrosoft.com")
        .unwrap();
    assert_eq!(reader["directoryRoles"], json!([]));
    assert_eq!(s["client"]["redirectUris"].as_array().unwrap().len(), 4);
    assert_eq!(s["subscriptions"].as_array().unwrap().len(), 2);
    let scenarios: Vec<&str> = s["serviceApps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(
        scenarios,
        [
            "expired-certificate",
            "expiring-secret",
            "missing-roles",
            "deleted-application",
            "secrets-forbidden"
        ]
    );
    assert_eq!(s["urls"]["graph"], env.emu.graph_url.as_str());
    assert_eq!(
        s["microsoft"]["graphAppId"],
        "00000003-0000-0000-c000-000000000000"
    );
    // The same IDs and demo secret on every start.
    let again = env_with("demo", "").await;
    for (a, b) in again.seed["serviceApps"]
        .as_array()
        .unwrap()
        .iter()
        .zip(s["serviceApps"].as_array().unwrap())
    {
        for k in ["appId", "objectId", "servicePrincipalId", "secretText"] {
            assert_eq!(a[k], b[k], "{k}");
        }
    }
    assert_eq!(again.seed["microsoft"], s["microsoft"]);
    again.emu.stop().await;
    env.emu.stop().await;
}

#[tokio::test]
async fn clock_faults_log_reset_and_reseed() {
    let env = env().await;
    let base = env.emu.base_url.clone();
    let before = now(&env).await;
    let c = env
        .control("clock", json!({"advance_seconds": 86_400}))
        .await;
    assert!((c["unix"].as_i64().unwrap() - before - 86_400).abs() <= 2);
    let c = env
        .control("clock", json!({"now": "2030-01-01T00:00:00Z"}))
        .await;
    assert!((c["unix"].as_i64().unwrap() - 1_893_456_000).abs() <= 2);
    let r = env
        .http
        .post(format!("{base}/_emulator/clock"))
        .json(&json!({"now": "yesterday"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let f = env
        .control("faults", json!({"spec": "latency=1ms,replication=2s"}))
        .await;
    assert_eq!(
        (f["latencyMs"].as_u64(), f["replicationMs"].as_u64()),
        (Some(1), Some(2000))
    );
    let f = env
        .control("faults", json!({"random429": 0.0, "throttle": 0.5}))
        .await;
    assert_eq!(f["throttle"], 0.5);
    let r = env
        .http
        .post(format!("{base}/_emulator/faults"))
        .json(&json!({"spec": "random429=7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The request log keeps bodies, so tests can look for private key material.
    let token = env.graph_token("admin").await;
    env.post(
        &env.graph("applications"),
        &token,
        json!({"displayName": "Logged app"}),
    )
    .await;
    let log: Value = env
        .http
        .get(format!("{base}/_emulator/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = log["value"].as_array().unwrap();
    let post = entries
        .iter()
        .find(|e| e["method"] == "POST" && e["path"] == "/graph/v1.0/applications")
        .unwrap();
    assert_eq!(post["status"], 201);
    assert!(post["requestBody"].as_str().unwrap().contains("Logged app"));
    assert!(entries.iter().any(|e| {
        e["requestBody"]
            .as_str()
            .unwrap()
            .contains("grant_type=password")
    }));
    assert!(!entries.iter().any(|e| {
        e["requestBody"]
            .as_str()
            .unwrap()
            .contains("BEGIN PRIVATE KEY")
    }));
    assert_eq!(
        env.http
            .delete(format!("{base}/_emulator/requests"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );

    // Snapshot, reset, reseed.
    let state: Value = env
        .http
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        state["applications"]
            .as_object()
            .unwrap()
            .values()
            .any(|a| a["body"]["displayName"] == "Logged app")
    );
    let reset = env.control("reset", json!({})).await;
    assert_eq!(reset["tenant"]["id"], env.tenant().as_str());
    let state: Value = env
        .http
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !state["applications"]
            .as_object()
            .unwrap()
            .values()
            .any(|a| a["body"]["displayName"] == "Logged app")
    );
    assert!(
        (now(&env).await - before).abs() <= 2,
        "reset puts the clock back"
    );
    let empty = env.control("seed", json!({"seed": "empty"})).await;
    assert_eq!(empty["serviceApps"], json!([]));
    assert_eq!(empty["users"].as_array().unwrap().len(), 3);
    let r = env
        .http
        .post(format!("{base}/_emulator/seed"))
        .json(&json!({"seed": "bogus"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    env.emu.stop().await;
}

#[tokio::test]
async fn state_file_is_saved_on_change_and_loaded_on_start() {
    let dir = std::env::temp_dir().join(format!("entra-emulator-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let config = Config {
        state_file: Some(file.clone()),
        ..Config::default()
    };
    let emu = start(config.clone()).await.unwrap();
    let http = reqwest::Client::new();
    let seed: Value = http
        .get(format!("{}/_emulator/seed", emu.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token_url = seed["urls"]["tokenEndpoint"].as_str().unwrap().to_string();
    let client = seed["client"]["appId"].as_str().unwrap().to_string();
    let t: Value = http
        .post(&token_url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", client.as_str()),
            ("username", "admin@contoso.onmicrosoft.com"),
            ("password", "Demo-Passw0rd!"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = t["access_token"].as_str().unwrap();
    let r = http
        .post(format!("{}/v1.0/applications", emu.graph_url))
        .bearer_auth(token)
        .json(&json!({"displayName": "Persisted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    emu.stop().await;
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("Persisted")
    );

    let emu = start(config).await.unwrap();
    let seed2: Value = http
        .get(format!("{}/_emulator/seed", emu.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        seed2["serviceApps"][0]["appId"],
        seed["serviceApps"][0]["appId"]
    );
    let state: Value = http
        .get(format!("{}/_emulator/state", emu.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(state["applications"][created["id"].as_str().unwrap()].is_object());
    emu.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn graph_and_arm_send_cors_and_request_ids() {
    let env = env().await;
    let pre = env
        .http
        .request(reqwest::Method::OPTIONS, env.graph("applications"))
        .header("Origin", "http://127.0.0.1:8080")
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), StatusCode::OK);
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    assert!(
        pre.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PATCH")
    );
    assert_eq!(
        pre.headers()["access-control-allow-headers"],
        "authorization,content-type"
    );
    let token = env.graph_token("admin").await;
    let r = env
        .http
        .get(env.graph("me"))
        .bearer_auth(&token)
        .header("Origin", "http://127.0.0.1:8080")
        .header("client-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    assert!(
        r.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("request-id")
    );
    assert!(r.headers().get("request-id").is_some());
    assert_eq!(r.headers()["client-request-id"], "abc-123");
    let pre = env
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/_emulator/requests", env.emu.base_url),
        )
        .header("Origin", "http://127.0.0.1:8080")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    let arm = env.arm_token("admin").await;
    let r = env
        .http
        .get(env.arm("subscriptions?api-version=2022-12-01"))
        .bearer_auth(&arm)
        .header("Origin", "http://127.0.0.1:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    assert!(r.headers().get("x-ms-request-id").is_some());
    env.emu.stop().await;
}
