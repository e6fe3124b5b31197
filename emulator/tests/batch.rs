//! `POST /graph/v1.0/$batch` (https://learn.microsoft.com/en-us/graph/json-batching):
//! limits, ids, `dependsOn` and 424, each item through the same edge as a
//! direct request (faults, the request log, the state), and a lost answer.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn assert_envelope(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string());
    for k in ["date", "request-id", "client-request-id"] {
        assert!(v["error"]["innerError"][k].is_string(), "{k} in {v}");
    }
}

async fn batch(env: &Env, token: &str, requests: Value) -> (StatusCode, Value) {
    env.post(&env.graph("$batch"), token, json!({ "requests": requests }))
        .await
}

fn add_password(id: &str, object_id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "method": "POST",
        "url": format!("/applications/{object_id}/addPassword"),
        "headers": {"Content-Type": "application/json"},
        "body": {"passwordCredential": {"displayName": name}},
    })
}

fn by_id<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no response {id} in {v}"))
}

async fn secrets_named(env: &Env, token: &str, object_id: &str, name: &str) -> usize {
    let (s, app) = env
        .get(&env.graph(&format!("applications/{object_id}")), token)
        .await;
    assert_eq!(s, StatusCode::OK, "{app}");
    app["passwordCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["displayName"] == name)
        .count()
}

async fn log(env: &Env) -> Vec<Value> {
    env.control_get("requests").await["value"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn items_run_as_direct_requests_and_answer_each_with_its_status() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let backup = env.service_object_id("expired-certificate");
    let archiver = env.service_object_id("expiring-secret");
    let (s, v) = batch(
        &env,
        &admin,
        json!([
            add_password("1", &backup, "batched"),
            add_password("2", &archiver, "batched"),
            {"id": "3", "method": "GET", "url": "applications?$select=id,displayName&$top=2"},
            {"id": "4", "method": "GET", "url": "/applications/00000000-0000-0000-0000-00000000dead"},
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["responses"].as_array().unwrap().len(), 4);
    for id in ["1", "2"] {
        let r = by_id(&v, id);
        assert_eq!(r["status"], 200, "{r}");
        assert!(r["body"]["secretText"].as_str().unwrap().len() >= 40);
        assert!(
            r["headers"]["Content-Type"]
                .as_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert!(r["headers"]["request-id"].is_string());
    }
    assert_eq!(by_id(&v, "3")["status"], 200);
    assert_eq!(by_id(&v, "3")["body"]["value"].as_array().unwrap().len(), 2);
    let missing = by_id(&v, "4");
    assert_eq!(missing["status"], 404);
    assert_eq!(missing["body"]["error"]["code"], "Request_ResourceNotFound");
    // The secrets are in the state, one each.
    assert_eq!(secrets_named(&env, &admin, &backup, "batched").await, 1);
    assert_eq!(secrets_named(&env, &admin, &archiver, "batched").await, 1);
    // The log has each item as the emulator logs a direct request, marked
    // with the batch, and the batch itself.
    let log = log(&env).await;
    let batch_entry = log
        .iter()
        .find(|e| e["path"] == "/graph/v1.0/$batch")
        .unwrap();
    assert_eq!(batch_entry["status"], 200);
    assert!(batch_entry.get("batch").is_none());
    let items: Vec<&Value> = log.iter().filter(|e| e["batch"].is_object()).collect();
    assert_eq!(items.len(), 4);
    let add = items.iter().find(|e| e["batch"]["id"] == "1").unwrap();
    assert_eq!(add["method"], "POST");
    assert_eq!(
        add["path"],
        format!("/graph/v1.0/applications/{backup}/addPassword")
    );
    assert_eq!(add["status"], 200);
    assert!(add["requestBody"].as_str().unwrap().contains("batched"));
    assert!(add["batch"]["requestId"].is_string());
    env.emu.stop().await;
}

#[tokio::test]
async fn the_batch_itself_is_refused_when_malformed() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let me = |id: String| json!({"id": id, "method": "GET", "url": "/me"});
    let (s, e) = batch(
        &env,
        &admin,
        Value::Array((0..21).map(|i| me(i.to_string())).collect()),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_envelope(&e, "BadRequest");
    assert_eq!(
        e["error"]["message"],
        "Number of requests inside batch exceeds the limit."
    );
    let (s, v) = batch(
        &env,
        &admin,
        Value::Array((0..20).map(|i| me(i.to_string())).collect()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["responses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == 200)
    );
    let (s, e) = batch(&env, &admin, json!([me("x".into()), me("X".into())])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        e["error"]["message"],
        "Request Id X has to be unique in a batch."
    );
    let archiver = env.service_object_id("expiring-secret");
    let (s, e) = batch(
        &env,
        &admin,
        json!([{"id": "1", "method": "POST", "url": format!("/applications/{archiver}/addPassword"),
                "body": {"passwordCredential": {"displayName": "no type"}}}]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        e["error"]["message"],
        "Write request id : 1 does not contain Content-Type header or body."
    );
    // Nothing of a refused batch was carried out.
    assert_eq!(secrets_named(&env, &admin, &archiver, "no type").await, 0);
    let (s, e) = env
        .post(&env.graph("$batch"), &admin, json!({"value": []}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["message"], "Invalid batch payload format.");
    // No token: the batch is refused before any item.
    let r = env
        .http
        .post(env.graph("$batch"))
        .json(&json!({"requests": [me("1".into())]}))
        .send()
        .await
        .unwrap();
    let (s, e) = split(r).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_envelope(&e, "InvalidAuthenticationToken");
    env.emu.stop().await;
}

#[tokio::test]
async fn an_item_whose_dependency_failed_answers_424() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let archiver = env.service_object_id("expiring-secret");
    let mut second = add_password("2", &archiver, "after a failure");
    second["dependsOn"] = json!(["1"]);
    let mut third = add_password("3", &archiver, "after a 424");
    third["dependsOn"] = json!(["2"]);
    let mut fine = add_password("5", &archiver, "after a success");
    fine["dependsOn"] = json!(["4"]);
    let (s, v) = batch(
        &env,
        &admin,
        json!([
            {"id": "1", "method": "GET", "url": "/applications/00000000-0000-0000-0000-00000000dead"},
            second,
            third,
            {"id": "4", "method": "GET", "url": format!("/applications/{archiver}")},
            fine,
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(by_id(&v, "1")["status"], 404);
    assert_eq!(by_id(&v, "2")["status"], 424);
    assert_eq!(by_id(&v, "3")["status"], 424);
    assert_eq!(by_id(&v, "4")["status"], 200);
    assert_eq!(by_id(&v, "5")["status"], 200);
    assert_eq!(
        secrets_named(&env, &admin, &archiver, "after a failure").await,
        0
    );
    assert_eq!(
        secrets_named(&env, &admin, &archiver, "after a 424").await,
        0
    );
    assert_eq!(
        secrets_named(&env, &admin, &archiver, "after a success").await,
        1
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn each_item_draws_faults_and_a_429_carries_its_own_retry_after() {
    let env = env_with("demo", "next429=2,retryafter=7s").await;
    let admin = env.graph_token("admin").await;
    let archiver = env.service_object_id("expiring-secret");
    let (s, v) = batch(
        &env,
        &admin,
        json!([
            add_password("a", &archiver, "first"),
            add_password("b", &archiver, "second"),
            add_password("c", &archiver, "third"),
        ]),
    )
    .await;
    // The batch passes; its first two items are throttled, each with its wait.
    assert_eq!(s, StatusCode::OK, "{v}");
    for id in ["a", "b"] {
        let r = by_id(&v, id);
        assert_eq!(r["status"], 429, "{r}");
        assert_eq!(r["headers"]["Retry-After"], "7");
        assert_eq!(r["body"]["error"]["code"], "TooManyRequests");
    }
    assert_eq!(by_id(&v, "c")["status"], 200);
    assert_eq!(secrets_named(&env, &admin, &archiver, "first").await, 0);
    assert_eq!(secrets_named(&env, &admin, &archiver, "third").await, 1);
    env.emu.stop().await;
}

#[tokio::test]
async fn a_lost_item_loses_the_whole_answer_after_every_item_was_carried_out() {
    let env = env_with(
        "demo",
        "commitlost=POST:/graph/v1.0/applications/*/addPassword",
    )
    .await;
    let admin = env.graph_token("admin").await;
    let backup = env.service_object_id("expired-certificate");
    let archiver = env.service_object_id("expiring-secret");
    let sent = env
        .http
        .post(env.graph("$batch"))
        .bearer_auth(&admin)
        .json(&json!({"requests": [
            add_password("1", &backup, "lost with the batch"),
            add_password("2", &archiver, "lost with the batch"),
        ]}))
        .send()
        .await;
    let read = match sent {
        Ok(r) => r.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(read.is_err(), "the batch's answer should be lost");
    // Both items were carried out, once each; the fault is used up.
    assert_eq!(
        secrets_named(&env, &admin, &backup, "lost with the batch").await,
        1
    );
    assert_eq!(
        secrets_named(&env, &admin, &archiver, "lost with the batch").await,
        1
    );
    let (s, v) = batch(&env, &admin, json!([add_password("1", &backup, "next")])).await;
    assert_eq!(
        (s, by_id(&v, "1")["status"].clone()),
        (StatusCode::OK, json!(200))
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn a_committed_item_answered_with_a_5xx_is_there() {
    let env = env_with(
        "demo",
        "commit5xx=POST:/graph/v1.0/applications/*/addPassword,commitstatus=503",
    )
    .await;
    let admin = env.graph_token("admin").await;
    let archiver = env.service_object_id("expiring-secret");
    let (s, v) = batch(
        &env,
        &admin,
        json!([add_password("1", &archiver, "half failed")]),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let r = by_id(&v, "1");
    assert_eq!(r["status"], 503);
    assert_eq!(r["body"]["error"]["code"], "serviceNotAvailable");
    assert_eq!(
        secrets_named(&env, &admin, &archiver, "half failed").await,
        1
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn a_page_can_post_a_batch_cross_origin() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let origin = "http://localhost:8080";
    let pre = env.preflight(&env.graph("$batch"), origin, "POST").await;
    assert_eq!(pre.status(), StatusCode::OK);
    assert_eq!(pre.headers()["access-control-allow-origin"], origin);
    let r = env
        .http
        .post(env.graph("$batch"))
        .bearer_auth(&admin)
        .header("Origin", origin)
        .json(&json!({"requests": [{"id": "1", "method": "GET", "url": "/me"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], origin);
    let (s, v) = split(r).await;
    assert_eq!(s, StatusCode::OK);
    // An item's headers are in the JSON, where the page can read them.
    assert_eq!(by_id(&v, "1")["status"], 200);
    assert!(
        by_id(&v, "1")["headers"]
            .get("access-control-allow-origin")
            .is_none()
    );
    env.emu.stop().await;
}
