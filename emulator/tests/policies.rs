//! App management policies: the tenant's default and custom policies
//! assigned to one application, their permissions, and their enforcement on
//! addPassword, addKey-free certificate updates and creates; deletedItems;
//! the demo tenant's service-account records.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DEFAULT_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Consents `Policy.ReadWrite.ApplicationConfiguration` for the page's
/// client (as an admin would on its consent screen) and returns a new admin
/// Graph token carrying it.
async fn policy_writer(env: &Env) -> String {
    let admin = env.graph_token("admin").await;
    let client_sp = env.seed["client"]["servicePrincipalId"].as_str().unwrap();
    let graph_sp = env.seed["microsoft"]["graphServicePrincipalId"]
        .as_str()
        .unwrap();
    let (s, grants) = env
        .get(
            &env.graph(&format!(
                "oauth2PermissionGrants?$filter=clientId eq '{client_sp}'"
            )),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{grants}");
    let grant = grants["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["resourceId"] == graph_sp)
        .unwrap()
        .clone();
    let scope = format!(
        "{} Policy.ReadWrite.ApplicationConfiguration",
        grant["scope"].as_str().unwrap()
    );
    let (s, body) = env
        .patch(
            &env.graph(&format!(
                "oauth2PermissionGrants/{}",
                grant["id"].as_str().unwrap()
            )),
            &admin,
            json!({ "scope": scope }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    env.graph_token("admin").await
}

fn secret_for_days(now: i64, days: i64) -> Value {
    json!({"passwordCredential": {
        "displayName": "test",
        "startDateTime": entra_emulator::clock::iso(now),
        "endDateTime": entra_emulator::clock::iso(now + days * 86_400),
    }})
}

fn cert(now: i64, days: i64, serial: u32) -> Vec<u8> {
    let key = entra_emulator::certs::private_key(entra_emulator::certs::TEST_CLIENT_KEY_PEM);
    entra_emulator::certs::self_signed(&key, "policy-test", now - 60, now + days * 86_400, serial)
}

#[tokio::test]
async fn default_policy_reads_and_updates_with_documented_permissions() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let url = env.graph("policies/defaultAppManagementPolicy");
    let (s, p) = env.get(&url, &admin).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["id"], DEFAULT_ID);
    assert_eq!(p["displayName"], "Default app management tenant policy");
    assert_eq!(p["isEnabled"], false);
    assert_eq!(
        p["applicationRestrictions"]["passwordCredentials"],
        json!([])
    );

    // Policy.Read.All lets the admin read but not write.
    let (s, e) = env.patch(&url, &admin, json!({"isEnabled": true})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(e["error"]["code"], "Authorization_RequestDenied");

    let writer = policy_writer(&env).await;
    // A restriction needing a duration without one is refused.
    let (s, e) = env
        .patch(
            &url,
            &writer,
            json!({"isEnabled": true, "applicationRestrictions": {"passwordCredentials": [{"restrictionType": "passwordLifetime", "maxLifetime": "ninety days"}]}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, _) = env
        .patch(
            &url,
            &writer,
            json!({"isEnabled": true, "applicationRestrictions": {"passwordCredentials": [{"restrictionType": "passwordLifetime", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": null}], "keyCredentials": []}}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, p) = env.get(&url, &admin).await;
    assert_eq!(p["isEnabled"], true);
    assert_eq!(
        p["applicationRestrictions"]["passwordCredentials"][0]["maxLifetime"],
        "P90D"
    );

    // The Application Administrator may not change the tenant's default.
    let appadmin = env.graph_token("appadmin").await;
    let (s, _) = env
        .patch(&url, &appadmin, json!({"isEnabled": false}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn policies_are_enforced_with_microsofts_codes_and_the_assigned_policy_wins() {
    let env = env().await;
    let writer = policy_writer(&env).await;
    let now = now(&env).await;
    // Tenant default: secrets at most 90 days, certificates at most 180.
    let (s, _) = env
        .patch(
            &env.graph("policies/defaultAppManagementPolicy"),
            &writer,
            json!({"isEnabled": true, "applicationRestrictions": {
                "passwordCredentials": [{"restrictionType": "passwordLifetime", "maxLifetime": "P90D"}],
                "keyCredentials": [{"restrictionType": "asymmetricKeyLifetime", "maxLifetime": "P180D"}]}}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let app = env
        .create_app(&writer, json!({"displayName": "Policy target"}))
        .await;
    let id = app["id"].as_str().unwrap().to_string();
    let add_password = env.graph(&format!("applications/{id}/addPassword"));

    // Graph's default lifetime (two years) exceeds the default policy.
    let (s, e) = env.post(&add_password, &writer, json!({})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(
        e["error"]["code"],
        "CredentialInvalidLifetimeAsPerAppPolicy"
    );
    assert_eq!(
        e["error"]["message"],
        format!(
            "Credential lifetime exceeds the max value allowed as per assigned policy '{DEFAULT_ID}'."
        )
    );
    let (s, e) = env
        .post(&add_password, &writer, secret_for_days(now, 91))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, p) = env
        .post(&add_password, &writer, secret_for_days(now, 90))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert!(p["secretText"].as_str().is_some());

    // A one-year certificate in a create or a PATCH is refused; nothing changes.
    let (s, e) = env
        .post(
            &env.graph("applications"),
            &writer,
            json!({"displayName": "Too long", "keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": b64(&cert(now, 365, 7))}]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(
        e["error"]["code"],
        "CredentialInvalidLifetimeAsPerAppPolicy"
    );
    let url = env.graph(&format!("applications/{id}"));
    let (s, e) = env
        .patch(
            &url,
            &writer,
            json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": b64(&cert(now, 365, 8))}]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (_, got) = env.get(&url, &writer).await;
    assert_eq!(got["keyCredentials"], json!([]));
    let (s, e) = env
        .patch(
            &url,
            &writer,
            json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": b64(&cert(now, 100, 9))}]}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");

    // A custom policy forbidding secrets, assigned to the application, decides instead.
    let (s, policy) = env
        .post(
            &env.graph("policies/appManagementPolicies"),
            &writer,
            json!({"displayName": "No secrets", "description": "Certificates only", "isEnabled": true,
                   "restrictions": {"passwordCredentials": [{"restrictionType": "passwordAddition", "maxLifetime": null}], "keyCredentials": []}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{policy}");
    let policy_id = policy["id"].as_str().unwrap().to_string();
    let (s, e) = env
        .post(
            &env.graph(&format!("applications/{id}/appManagementPolicies/$ref")),
            &writer,
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/policies/appManagementPolicies/{policy_id}")}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let (s, list) = env
        .get(
            &env.graph(&format!("applications/{id}/appManagementPolicies")),
            &writer,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["value"][0]["displayName"], "No secrets");
    let (s, e) = env
        .post(&add_password, &writer, secret_for_days(now, 30))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["code"], "CredentialTypeNotAllowedAsPerAppPolicy");
    assert_eq!(
        e["error"]["message"],
        format!("Credential type not allowed as per assigned policy '{policy_id}'.")
    );
    // The assigned policy has no certificate restriction: the default's 180 days no longer apply.
    let (s, e) = env
        .patch(
            &url,
            &writer,
            json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": b64(&cert(now, 365, 10))}]}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");

    // A restriction for applications created after a future date does not apply.
    let (s, _) = env
        .patch(
            &env.graph(&format!("policies/appManagementPolicies/{policy_id}")),
            &writer,
            json!({"restrictions": {"passwordCredentials": [{"restrictionType": "passwordAddition", "restrictForAppsCreatedAfterDateTime": entra_emulator::clock::iso(now + 86_400)}]}}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, e) = env
        .post(&add_password, &writer, secret_for_days(now, 365))
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");

    // Unassigning gives the tenant default back.
    let (s, _) = env
        .delete(
            &env.graph(&format!(
                "applications/{id}/appManagementPolicies/{policy_id}/$ref"
            )),
            &writer,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = env
        .post(&add_password, &writer, secret_for_days(now, 365))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Reading an application's policies needs a policy permission: the
    // reader's token (Policy.Read.All consented for everyone) may, a token
    // without it may not.
    let reader = env.graph_token("reader").await;
    let (s, _) = env
        .get(
            &env.graph(&format!("applications/{id}/appManagementPolicies")),
            &reader,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn demo_tenant_forbids_secrets_for_contoso_reports_and_keeps_contoso_sync_deleted() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let reports = env.service_app("secrets-forbidden");
    let id = reports["objectId"].as_str().unwrap();
    let (s, e) = env
        .post(
            &env.graph(&format!("applications/{id}/addPassword")),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["code"], "CredentialTypeNotAllowedAsPerAppPolicy");
    let (_, list) = env
        .get(
            &env.graph(&format!("applications/{id}/appManagementPolicies")),
            &admin,
        )
        .await;
    assert_eq!(
        list["value"][0]["displayName"],
        "Contoso: certificates only"
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains(list["value"][0]["id"].as_str().unwrap())
    );

    // The deleted application: not found, but in deletedItems, restorable.
    let sync = env.service_app("deleted-application");
    let sync_id = sync["objectId"].as_str().unwrap();
    let (s, _) = env
        .get(&env.graph(&format!("applications/{sync_id}")), &admin)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, deleted) = env
        .get(
            &env.graph("directory/deletedItems/microsoft.graph.application"),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{deleted}");
    assert!(
        deleted["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == sync_id && a["deletedDateTime"].is_string())
    );
    // Deleting an application keeps it there too.
    let app = env
        .create_app(&admin, json!({"displayName": "Short lived"}))
        .await;
    let new_id = app["id"].as_str().unwrap();
    let (s, _) = env
        .delete(&env.graph(&format!("applications/{new_id}")), &admin)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, restored) = env
        .post(
            &env.graph(&format!("directory/deletedItems/{new_id}/restore")),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{restored}");
    let (s, _) = env
        .get(&env.graph(&format!("applications/{new_id}")), &admin)
        .await;
    assert_eq!(s, StatusCode::OK);

    // The page's one-click import: one record per scenario, CORS for the page.
    let r = env
        .http
        .get(format!(
            "{}/_emulator/demo/service-accounts",
            env.emu.base_url
        ))
        .header("Origin", "http://127.0.0.1:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    let records: Value = r.json().await.unwrap();
    let records = records.as_array().unwrap();
    let scenarios = env.seed["serviceApps"].as_array().unwrap();
    assert_eq!(records.len(), scenarios.len());
    assert_eq!(records.len(), 5);
    for (r, a) in records.iter().zip(scenarios) {
        assert_eq!(r["format"], 1);
        assert_eq!(r["appId"], a["appId"]);
        assert_eq!(r["tenantId"], env.tenant().as_str());
        assert_eq!(r["cloud"]["cloud"], "local");
        // No secret value, no key.
        let text = r.to_string();
        if let Some(secret) = a["secretText"].as_str() {
            assert!(!text.contains(secret));
        }
        assert!(!text.contains("PRIVATE KEY"));
    }
    let reports_record = records
        .iter()
        .find(|r| r["name"] == "Contoso Reports")
        .unwrap();
    assert_eq!(reports_record["auth"]["type"], "clientSecret");
    assert_eq!(reports_record["auth"]["hint"].as_str().unwrap().len(), 3);
}
