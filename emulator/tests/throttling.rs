//! Graph's identity-and-access throttling
//! (https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits):
//! resource units and writes in token buckets per application and tenant, the
//! headers of a throttled and of a regular answer, per-item throttling in a
//! `$batch`, and the report a bench reads.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

async fn throttle_report(env: &Env) -> Value {
    env.control_get("throttle").await
}

fn bucket<'a>(report: &'a Value, scope: &str) -> &'a Value {
    report["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["scope"] == scope)
        .unwrap_or_else(|| panic!("no bucket {scope} in {report}"))
}

async fn add_password(env: &Env, token: &str, object_id: &str) -> reqwest::Response {
    env.http
        .post(env.graph(&format!("applications/{object_id}/addPassword")))
        .bearer_auth(token)
        .json(&json!({"passwordCredential": {"displayName": "quota"}}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn answers_carry_their_cost_and_a_throttled_read_says_which_quota() {
    // 10 resource units per 10 s.
    let env = env_with("demo", &format!("throttle={}", 10.0 / 3500.0)).await;
    let admin = env.graph_token("admin").await;
    let client = env.client_id();
    let tenant = env.tenant();
    // Listing applications costs 2, 1 with $select; a single read 1.
    let get = |path: String| {
        let url = env.graph(&path);
        let http = env.http.clone();
        let token = admin.clone();
        async move { http.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let r = get("applications".into()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-ms-resource-unit").as_deref(), Some("2"));
    assert_eq!(header(&r, "x-ms-throttle-limit-percentage"), None);
    let r = get("applications?$select=id,displayName&$top=999".into()).await;
    assert_eq!(header(&r, "x-ms-resource-unit").as_deref(), Some("1"));
    let mut used = 3;
    let mut last = None;
    while used < 10 {
        let r = get("me".into()).await;
        assert_eq!(r.status(), StatusCode::OK);
        used += 1;
        last = Some(r);
    }
    // Above 0.8 of the quota the answer says so.
    let pct: f64 = header(last.as_ref().unwrap(), "x-ms-throttle-limit-percentage")
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.9..=1.0).contains(&pct), "{pct}");
    let r = get("me".into()).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // 1 RU at 1 RU a second.
    assert_eq!(header(&r, "retry-after").as_deref(), Some("1"));
    assert_eq!(
        header(&r, "x-ms-throttle-scope").unwrap(),
        format!("Tenant_Application/ReadWrite/{client}/{tenant}")
    );
    assert_eq!(
        header(&r, "x-ms-throttle-information").as_deref(),
        Some("ResourceUnitLimitExceeded")
    );
    assert!(header(&r, "x-ms-resource-unit").is_none());
    let (_, e) = split(r).await;
    assert_eq!(e["error"]["code"], "TooManyRequests");
    assert!(e["error"]["innerError"]["request-id"].is_string());
    // The bucket refills continuously: one second later one more read passes.
    env.advance(1).await;
    assert_eq!(get("me".into()).await.status(), StatusCode::OK);
    assert_eq!(
        get("me".into()).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn writes_are_throttled_by_the_write_quota_and_reported() {
    // 30 writes per 150 s (0.2 a second); 35 resource units per 10 s.
    let env = env_with("demo", "throttle=0.01").await;
    let admin = env.graph_token("admin").await;
    let (client, tenant) = (env.client_id(), env.tenant());
    let archiver = env.service_object_id("expiring-secret");
    for i in 0..30 {
        let r = add_password(&env, &admin, &archiver).await;
        assert_eq!(r.status(), StatusCode::OK, "write {i}");
        assert_eq!(header(&r, "x-ms-resource-unit").as_deref(), Some("1"));
    }
    let r = add_password(&env, &admin, &archiver).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        header(&r, "x-ms-throttle-scope").unwrap(),
        format!("Tenant_Application/Write/{client}/{tenant}")
    );
    assert_eq!(
        header(&r, "x-ms-throttle-information").as_deref(),
        Some("WriteLimitExceeded")
    );
    let retry: i64 = header(&r, "retry-after").unwrap().parse().unwrap();
    // One write refills in 5 s (less what the test's own time gave back).
    assert!((4..=5).contains(&retry), "{retry}");
    // Reads still pass while writes are throttled.
    assert_eq!(env.get(&env.graph("me"), &admin).await.0, StatusCode::OK);
    let report = throttle_report(&env).await;
    assert_eq!(report["tenantSize"], "S");
    let writes = bucket(
        &report,
        &format!("Tenant_Application/Write/{client}/{tenant}"),
    );
    assert_eq!(writes["capacity"], 30.0);
    assert!((writes["refillPerSecond"].as_f64().unwrap() - 0.2).abs() < 1e-9);
    assert_eq!(writes["accepted"], 30);
    assert_eq!(writes["throttled"], 1);
    // The ceiling since the first write: 30 + 0.2 × the seconds since.
    let elapsed = writes["elapsedSeconds"].as_f64().unwrap();
    assert!((writes["ceiling"].as_f64().unwrap() - (30.0 + 0.2 * elapsed)).abs() < 1e-6);
    let tenant_writes = bucket(&report, &format!("Tenant/Write/{tenant}"));
    assert_eq!(tenant_writes["capacity"], 180.0);
    assert_eq!(tenant_writes["accepted"], 30);
    // After Retry-After, a write passes.
    env.advance(retry).await;
    assert_eq!(
        add_password(&env, &admin, &archiver).await.status(),
        StatusCode::OK
    );
    // DELETE refills every bucket.
    let r = env
        .http
        .delete(format!("{}/_emulator/throttle", env.emu.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(throttle_report(&env).await["buckets"], json!([]));
    env.emu.stop().await;
}

#[tokio::test]
async fn each_item_of_a_batch_is_charged_and_throttled_on_its_own() {
    // 10 writes per 150 s.
    let env = env_with("demo", &format!("throttle={}", 10.0 / 3000.0)).await;
    let admin = env.graph_token("admin").await;
    let (client, tenant) = (env.client_id(), env.tenant());
    let archiver = env.service_object_id("expiring-secret");
    let requests: Vec<Value> = (0..12)
        .map(|i| {
            json!({
                "id": i.to_string(),
                "method": "POST",
                "url": format!("/applications/{archiver}/addPassword"),
                "headers": {"Content-Type": "application/json"},
                "body": {"passwordCredential": {"displayName": format!("item {i}")}},
            })
        })
        .collect();
    let (s, v) = env
        .post(
            &env.graph("$batch"),
            &admin,
            json!({ "requests": requests }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let responses = v["responses"].as_array().unwrap();
    let ok: Vec<&Value> = responses.iter().filter(|r| r["status"] == 200).collect();
    let throttled: Vec<&Value> = responses.iter().filter(|r| r["status"] == 429).collect();
    assert_eq!((ok.len(), throttled.len()), (10, 2), "{v}");
    for r in &ok {
        assert_eq!(r["headers"]["x-ms-resource-unit"], "1");
    }
    for r in &throttled {
        // 1 write at 10 per 150 s: 15 s.
        assert_eq!(r["headers"]["Retry-After"], "15");
        assert_eq!(
            r["headers"]["x-ms-throttle-scope"],
            format!("Tenant_Application/Write/{client}/{tenant}")
        );
        assert_eq!(
            r["headers"]["x-ms-throttle-information"],
            "WriteLimitExceeded"
        );
    }
    // The batch POST itself is not charged: only the items count.
    let report = throttle_report(&env).await;
    let writes = bucket(
        &report,
        &format!("Tenant_Application/Write/{client}/{tenant}"),
    );
    assert_eq!(
        (writes["accepted"].clone(), writes["throttled"].clone()),
        (json!(10), json!(2))
    );
    let ru = bucket(
        &report,
        &format!("Tenant_Application/ReadWrite/{client}/{tenant}"),
    );
    assert_eq!(ru["accepted"], 10);
    env.emu.stop().await;
}

#[tokio::test]
async fn throttle_off_refuses_nothing() {
    let env = env_with("demo", "throttle=off").await;
    let admin = env.graph_token("admin").await;
    for _ in 0..50 {
        let r = env
            .http
            .get(env.graph("users"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "x-ms-resource-unit").as_deref(), Some("2"));
    }
    assert_eq!(throttle_report(&env).await["buckets"], json!([]));
    env.emu.stop().await;
}
