//! Azure Resource Manager: subscriptions, role definitions, custom roles,
//! role assignments, permissions, authorization and envelopes.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const API: &str = "api-version=2022-04-01";

fn assert_arm_error(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string());
}

#[tokio::test]
async fn subscriptions_list_with_next_link_and_api_version() {
    let env = env().await;
    let admin = env.arm_token("admin").await;
    let (s, list) = env
        .get(&env.arm("subscriptions?api-version=2022-12-01"), &admin)
        .await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Production", "Development"]);
    assert_eq!(list["value"][0]["tenantId"], env.tenant().as_str());
    let (_, page) = env
        .get(
            &env.arm("subscriptions?api-version=2022-12-01&$top=1"),
            &admin,
        )
        .await;
    assert_eq!(page["value"].as_array().unwrap().len(), 1);
    let next = page["nextLink"].as_str().unwrap().to_string();
    let (_, page2) = env.get(&next, &admin).await;
    assert_eq!(page2["value"][0]["displayName"], "Development");
    assert!(page2["nextLink"].is_null());
    let sub = env.subscription("Production");
    let (s, one) = env
        .get(
            &env.arm(&format!("subscriptions/{sub}?api-version=2022-12-01")),
            &admin,
        )
        .await;
    assert_eq!(
        (s, one["subscriptionId"].as_str()),
        (StatusCode::OK, Some(sub.as_str()))
    );

    let (s, e) = env
        .get(
            &env.arm(&format!(
                "subscriptions/{}?api-version=2022-12-01",
                uuid::Uuid::new_v4()
            )),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_arm_error(&e, "SubscriptionNotFound");
    let (s, e) = env.get(&env.arm("subscriptions"), &admin).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_arm_error(&e, "MissingApiVersionParameter");
    // The reader has no Azure role: no subscriptions.
    let reader = env.arm_token("reader").await;
    let (_, list) = env
        .get(&env.arm("subscriptions?api-version=2022-12-01"), &reader)
        .await;
    assert_eq!(list["value"], json!([]));
    // 401s: missing header, Graph token, expired.
    let (s, e) = split(
        env.http
            .get(env.arm("subscriptions?api-version=2022-12-01"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_arm_error(&e, "AuthenticationFailed");
    let graph = env.graph_token("admin").await;
    let (s, e) = env
        .get(&env.arm("subscriptions?api-version=2022-12-01"), &graph)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_arm_error(&e, "InvalidAuthenticationTokenAudience");
    let mut forged = admin.clone();
    forged.pop();
    assert_arm_error(
        &env.get(&env.arm("subscriptions?api-version=2022-12-01"), &forged)
            .await
            .1,
        "InvalidAuthenticationToken",
    );
    env.advance(3601).await;
    assert_arm_error(
        &env.get(&env.arm("subscriptions?api-version=2022-12-01"), &admin)
            .await
            .1,
        "ExpiredAuthenticationToken",
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn built_in_and_custom_role_definitions() {
    let env = env().await;
    let admin = env.arm_token("admin").await;
    let sub = env.subscription("Production");
    let base = env.arm(&format!(
        "subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions"
    ));
    for (name, id) in [
        ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
        ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
        (
            "User Access Administrator",
            "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        ),
        (
            "Key Vault Crypto Officer",
            "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        ),
        (
            "Key Vault Crypto User",
            "12338af0-0e69-4776-bea7-57ae8d297424",
        ),
        (
            "Storage Queue Data Contributor",
            "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        ),
        (
            "Role Based Access Control Administrator",
            "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        ),
        ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    ] {
        let (s, list) = env
            .get(
                &format!("{base}?{API}&$filter=roleName eq '{name}'"),
                &admin,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["value"].as_array().unwrap().len(), 1, "{name}");
        assert_eq!(list["value"][0]["name"], id);
        assert_eq!(list["value"][0]["properties"]["type"], "BuiltInRole");
    }
    let custom_id = uuid::Uuid::new_v4().to_string();
    let body = json!({"properties": {"roleName": "Archiver minimal", "description": "m365-archiver", "assignableScopes": [format!("/subscriptions/{sub}")],
        "permissions": [{"actions": ["Microsoft.Storage/storageAccounts/read", "Microsoft.Resources/subscriptions/resourceGroups/*"], "notActions": [], "dataActions": [], "notDataActions": []}]}});
    let (s, def) = env
        .put(&format!("{base}/{custom_id}?{API}"), &admin, body.clone())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{def}");
    assert_eq!(def["properties"]["type"], "CustomRole");
    let (_, list) = env
        .get(
            &format!("{base}?{API}&$filter=roleName eq 'Archiver minimal'"),
            &admin,
        )
        .await;
    assert_eq!(list["value"][0]["name"], custom_id.as_str());
    let (s, e) = env
        .put(
            &format!("{base}/{}?{API}", uuid::Uuid::new_v4()),
            &admin,
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_arm_error(&e, "RoleDefinitionWithSameNameExists");
    // Contributor cannot write role definitions.
    let appadmin = env.arm_token("appadmin").await;
    let (s, e) = env
        .put(
            &format!("{base}/{}?{API}", uuid::Uuid::new_v4()),
            &appadmin,
            body,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_arm_error(&e, "AuthorizationFailed");
    env.emu.stop().await;
}

#[tokio::test]
async fn role_assignments_put_conflict_principal_not_found_delete_and_authorization() {
    let env = env_with("demo", "replication=5s").await;
    let admin = env.arm_token("admin").await;
    let sub = env.subscription("Production");
    let base = env.arm(&format!(
        "subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments"
    ));
    let missing = env.service_app("missing-roles");
    let sp = missing["servicePrincipalId"].as_str().unwrap();
    let kv_user = format!(
        "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424"
    );

    // The missing-roles app has Contributor only.
    let (_, list) = env
        .get(
            &format!("{base}?{API}&$filter=principalId eq '{sp}'"),
            &admin,
        )
        .await;
    let roles: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["properties"]["roleDefinitionId"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(roles, ["b24988ac-6180-42a0-ab88-20f7382dd24c"]);

    let name = uuid::Uuid::new_v4().to_string();
    let body = json!({"properties": {"roleDefinitionId": kv_user, "principalId": sp}});
    // Contributor (appadmin) may not assign roles.
    let appadmin = env.arm_token("appadmin").await;
    let (s, e) = env
        .put(&format!("{base}/{name}?{API}"), &appadmin, body.clone())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_arm_error(&e, "AuthorizationFailed");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.Authorization/roleAssignments/write")
    );

    let (s, a) = env
        .put(&format!("{base}/{name}?{API}"), &admin, body.clone())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["properties"]["principalType"], "ServicePrincipal");
    assert_eq!(a["properties"]["scope"], format!("/subscriptions/{sub}"));
    let (s, e) = env
        .put(
            &format!("{base}/{}?{API}", uuid::Uuid::new_v4()),
            &admin,
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_arm_error(&e, "RoleAssignmentExists");
    // The application's object ID instead of its service principal's: Azure's classic mistake.
    let wrong =
        json!({"properties": {"roleDefinitionId": kv_user, "principalId": missing["objectId"]}});
    let (s, e) = env
        .put(
            &format!("{base}/{}?{API}", uuid::Uuid::new_v4()),
            &admin,
            wrong,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_arm_error(&e, "PrincipalTypeNotSupported");
    let (s, got) = env.get(&format!("{base}/{name}?{API}"), &admin).await;
    assert_eq!(
        (s, got["name"].as_str()),
        (StatusCode::OK, Some(name.as_str()))
    );
    let (_, all) = env
        .get(&format!("{base}?{API}&$filter=atScope()"), &admin)
        .await;
    assert!(all["value"].as_array().unwrap().len() >= 5);
    let bad_role = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{}", uuid::Uuid::new_v4()), "principalId": sp}});
    assert_arm_error(
        &env.put(
            &format!("{base}/{}?{API}", uuid::Uuid::new_v4()),
            &admin,
            bad_role,
        )
        .await
        .1,
        "RoleDefinitionDoesNotExist",
    );
    let (s, deleted) = env.delete(&format!("{base}/{name}?{API}"), &admin).await;
    assert_eq!(
        (s, deleted["name"].as_str()),
        (StatusCode::OK, Some(name.as_str()))
    );
    assert_eq!(
        env.delete(&format!("{base}/{name}?{API}"), &admin).await.0,
        StatusCode::NO_CONTENT
    );

    // A brand-new service principal: PrincipalNotFound until replicated, unless principalType is given.
    let graph = env.graph_token("admin").await;
    let app = env
        .create_app(&graph, json!({"displayName": "New service"}))
        .await;
    env.advance(6).await;
    let (_, new_sp) = env
        .post(
            &env.graph("servicePrincipals"),
            &graph,
            json!({"appId": app["appId"]}),
        )
        .await;
    let new_sp = new_sp["id"].as_str().unwrap().to_string();
    let admin = env.arm_token("admin").await;
    let contributor = format!(
        "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
    );
    let (s, e) = env
        .put(
            &format!("{base}/{}?{API}", uuid::Uuid::new_v4()),
            &admin,
            json!({"properties": {"roleDefinitionId": contributor, "principalId": new_sp}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_arm_error(&e, "PrincipalNotFound");
    let (s, _) = env.put(&format!("{base}/{}?{API}", uuid::Uuid::new_v4()), &admin, json!({"properties": {"roleDefinitionId": contributor, "principalId": new_sp, "principalType": "ServicePrincipal"}})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, e) = env.put(&format!("{base}/{}?{API}", uuid::Uuid::new_v4()), &admin, json!({"properties": {"roleDefinitionId": contributor, "principalId": uuid::Uuid::new_v4().to_string(), "principalType": "ServicePrincipal"}})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_arm_error(&e, "PrincipalNotFound");
    env.emu.stop().await;
}

#[tokio::test]
async fn permissions_reflect_the_callers_roles() {
    let env = env().await;
    let sub = env.subscription("Development");
    let url = env.arm(&format!(
        "subscriptions/{sub}/providers/Microsoft.Authorization/permissions?{API}"
    ));
    let (_, owner) = env.get(&url, &env.arm_token("admin").await).await;
    assert_eq!(owner["value"][0]["actions"], json!(["*"]));
    assert_eq!(owner["value"][0]["notActions"], json!([]));
    let (_, contributor) = env.get(&url, &env.arm_token("appadmin").await).await;
    assert!(
        contributor["value"][0]["notActions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "Microsoft.Authorization/*/Write")
    );
    let (_, reader) = env.get(&url, &env.arm_token("reader").await).await;
    assert_eq!(reader["value"], json!([]));
    // An app-only ARM token for the missing-roles app (certificate) sees its Contributor role on Production only.
    let app = env.service_app("missing-roles");
    let app_id = app["appId"].as_str().unwrap();
    let graph = env.graph_token("admin").await;
    let (_, keys) = env
        .get(
            &env.graph(&format!(
                "applications(appId='{app_id}')?$select=keyCredentials"
            )),
            &graph,
        )
        .await;
    let cert: Vec<u8> = <base64ct::Base64 as base64ct::Encoding>::decode_vec(
        keys["keyCredentials"][0]["key"].as_str().unwrap(),
    )
    .unwrap();
    let a = assertion(
        app["privateKeyPem"].as_str().unwrap(),
        &cert,
        app_id,
        &env.token_url(),
        jsonwebtoken::Algorithm::RS256,
        now(&env).await,
    );
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("scope", "https://management.azure.com/.default"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", a.as_str()),
    ];
    let (s, t) = split(env.token_form(&form).await).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let app_token = t["access_token"].as_str().unwrap();
    let prod = env.arm(&format!(
        "subscriptions/{}/providers/Microsoft.Authorization/permissions?{API}",
        env.subscription("Production")
    ));
    let (_, p) = env.get(&prod, app_token).await;
    assert_eq!(p["value"].as_array().unwrap().len(), 1);
    assert_eq!(p["value"][0]["actions"], json!(["*"]));
    let (_, p) = env.get(&url, app_token).await;
    assert_eq!(p["value"], json!([]));
    env.emu.stop().await;
}
