//! `--seed large:N` as Graph shows it: service principals with their own
//! SAML signing credentials, and applications under app management policies
//! that Graph enforces on new credentials.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn app_named(env: &Env, token: &str, name: &str) -> Value {
    let (s, v) = env
        .get(
            &env.graph(&format!("applications?$filter=displayName eq '{name}'")),
            token,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["value"][0].clone()
}

#[tokio::test]
async fn large_seed_has_enterprise_app_credentials_and_policies() {
    let env = env_with("large:200", "throttle=off").await;
    let admin = env.graph_token("admin").await;

    // Service principals: every second bulk application has one, every tenth
    // holds a token-signing certificate of its own.
    let mut url = env.graph(
        "servicePrincipals?$select=id,appId,displayName,keyCredentials,passwordCredentials&$top=999",
    );
    let mut sps = Vec::new();
    loop {
        let (s, page) = env.get(&url, &admin).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        sps.extend(page["value"].as_array().unwrap().iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    let bulk: Vec<&Value> = sps
        .iter()
        .filter(|s| s["displayName"].as_str().unwrap().starts_with("Bulk app "))
        .collect();
    assert_eq!(bulk.len(), 100);
    let saml: Vec<&&Value> = bulk
        .iter()
        .filter(|s| !s["keyCredentials"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(saml.len(), 20);
    let first = saml
        .iter()
        .find(|s| s["displayName"] == "Bulk app 00010")
        .unwrap();
    assert_eq!(first["keyCredentials"].as_array().unwrap().len(), 2);
    assert_eq!(first["passwordCredentials"].as_array().unwrap().len(), 1);
    assert_eq!(
        first["passwordCredentials"][0]["customKeyIdentifier"],
        first["keyCredentials"][0]["customKeyIdentifier"]
    );

    // Applications under the policy that forbids secrets.
    let no_secrets = app_named(&env, &admin, "Bulk app 00005").await;
    let id = no_secrets["id"].as_str().unwrap();
    let (s, policies) = env
        .get(
            &env.graph(&format!("applications/{id}/appManagementPolicies")),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{policies}");
    assert_eq!(
        policies["value"][0]["displayName"],
        "Bulk: certificates only"
    );
    let (s, e) = env
        .post(
            &env.graph(&format!("applications/{id}/addPassword")),
            &admin,
            json!({"passwordCredential": {"displayName": "refused"}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "CredentialTypeNotAllowedAsPerAppPolicy");
    // Its existing secret, made before the policy, stays.
    assert_eq!(
        no_secrets["passwordCredentials"].as_array().unwrap().len(),
        1
    );

    // Under the 180-day policy: Graph's default two-year secret is refused,
    // 90 days pass.
    let short = app_named(&env, &admin, "Bulk app 00015").await;
    let id = short["id"].as_str().unwrap();
    let (s, e) = env
        .post(
            &env.graph(&format!("applications/{id}/addPassword")),
            &admin,
            json!({"passwordCredential": {"displayName": "two years"}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        e["error"]["code"],
        "CredentialInvalidLifetimeAsPerAppPolicy"
    );
    let clock = now(&env).await;
    let end = time::OffsetDateTime::from_unix_timestamp(clock + 90 * 86_400)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (s, v) = env
        .post(
            &env.graph(&format!("applications/{id}/addPassword")),
            &admin,
            json!({"passwordCredential": {"displayName": "ninety days", "endDateTime": end}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // An application under no policy takes the default secret.
    let free = app_named(&env, &admin, "Bulk app 00001").await;
    let (s, _) = env
        .get(
            &env.graph(&format!(
                "applications/{}/appManagementPolicies",
                free["id"].as_str().unwrap()
            )),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = env
        .post(
            &env.graph(&format!(
                "applications/{}/addPassword",
                free["id"].as_str().unwrap()
            )),
            &admin,
            json!({"passwordCredential": {"displayName": "default"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    env.emu.stop().await;
}
