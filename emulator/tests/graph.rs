//! Microsoft Graph: applications, credentials, service principals, grants,
//! directory reads, authorization, envelopes, replication delay, throttling.

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

#[tokio::test]
async fn application_lifecycle_filter_select_patch_delete() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let (s, app) = env.post(&env.graph("applications"), &admin, json!({"displayName": "Fabrikam Backup", "spa": {"redirectUris": ["https://portal.fabrikam.example:4443"]}})).await;
    assert_eq!(s, StatusCode::CREATED, "{app}");
    let id = app["id"].as_str().unwrap().to_string();
    let app_id = app["appId"].as_str().unwrap().to_string();
    assert_eq!(app["keyCredentials"], json!([]));
    assert_eq!(app["publisherDomain"], "contoso.onmicrosoft.com");

    let (s, list) = env
        .get(
            &env.graph(&format!(
                "applications?$filter=appId eq '{app_id}'&$select=id,displayName"
            )),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        list["value"],
        json!([{"id": id, "displayName": "Fabrikam Backup"}])
    );
    let (_, list) = env
        .get(
            &env.graph("applications?$filter=startswith(displayName,'fabrikam')"),
            &admin,
        )
        .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let (_, list) = env
        .get(
            &env.graph("applications?$filter=displayName eq 'Contoso Backup'"),
            &admin,
        )
        .await;
    assert_eq!(list["value"][0]["displayName"], "Contoso Backup");
    let (s, e) = env
        .get(&env.graph("applications?$filter=appId ne 'x'"), &admin)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_envelope(&e, "Request_UnsupportedQuery");

    // Addressing by appId, PATCH replaces whole collections and merges complex properties.
    let by_app = env.graph(&format!("applications(appId='{app_id}')"));
    let (s, _) = env.patch(&by_app, &admin, json!({"identifierUris": [format!("api://{app_id}")], "web": {"redirectUris": ["https://a.example/cb"]}, "spa": {"redirectUris": ["https://b.example"]}})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, got) = env.get(&by_app, &admin).await;
    assert_eq!(got["identifierUris"], json!([format!("api://{app_id}")]));
    assert_eq!(got["spa"]["redirectUris"], json!(["https://b.example"]));
    assert_eq!(got["web"]["redirectUris"], json!(["https://a.example/cb"]));
    assert_eq!(
        got["web"]["implicitGrantSettings"]["enableIdTokenIssuance"],
        false
    );
    let (s, e) = env
        .patch(
            &by_app,
            &admin,
            json!({"web": {"redirectUris": ["http://plain.example/cb"]}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_envelope(&e, "Request_BadRequest");

    // Scopes: an enabled scope cannot be removed until disabled.
    let scope_id = uuid::Uuid::new_v4().to_string();
    let scope = json!({"id": scope_id, "value": "access_as_user", "type": "User", "isEnabled": true, "adminConsentDisplayName": "Access", "adminConsentDescription": "Access"});
    assert_eq!(
        env.patch(
            &by_app,
            &admin,
            json!({"api": {"oauth2PermissionScopes": [scope]}})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (s, e) = env
        .patch(
            &by_app,
            &admin,
            json!({"api": {"oauth2PermissionScopes": []}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_envelope(&e, "CannotDeleteOrUpdateEnabledEntitlement");
    let mut disabled = scope.clone();
    disabled["isEnabled"] = json!(false);
    assert_eq!(
        env.patch(
            &by_app,
            &admin,
            json!({"api": {"oauth2PermissionScopes": [disabled]}})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(env.patch(&by_app, &admin, json!({"api": {"oauth2PermissionScopes": []}, "requiredResourceAccess": [{"resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": [{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}]}]})).await.0, StatusCode::NO_CONTENT);
    let (_, got) = env
        .get(
            &env.graph(&format!(
                "applications/{id}?$select=api,requiredResourceAccess"
            )),
            &admin,
        )
        .await;
    assert_eq!(got["api"]["oauth2PermissionScopes"], json!([]));
    assert_eq!(
        got["requiredResourceAccess"][0]["resourceAccess"][0]["id"],
        "e1fe6dd8-ba31-4d61-89e7-88639da4683d"
    );

    let (s, e) = env
        .post(
            &env.graph("applications"),
            &admin,
            json!({"description": "no name"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_envelope(&e, "Request_BadRequest");

    assert_eq!(
        env.delete(&env.graph(&format!("applications/{id}")), &admin)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (s, e) = env
        .get(&env.graph(&format!("applications/{id}")), &admin)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_envelope(&e, "Request_ResourceNotFound");
    env.emu.stop().await;
}

// https://learn.microsoft.com/en-us/graph/api/application-upsert
#[tokio::test]
async fn an_upsert_by_unique_name_creates_once_then_updates() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let url = env.graph("applications(uniqueName='fabrikam-sync-1')");
    let upsert = |name: &'static str| {
        env.http
            .patch(&url)
            .bearer_auth(&admin)
            .header("Prefer", "create-if-missing")
            .json(&json!({"displayName": name, "tags": ["t"]}))
            .send()
    };
    // Without Prefer, a PATCH by a key nobody holds is an update: 404.
    let (s, e) = env
        .patch(&url, &admin, json!({"displayName": "Nobody"}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_envelope(&e, "Request_ResourceNotFound");

    let r = upsert("Fabrikam Sync").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let app: Value = r.json().await.unwrap();
    assert_eq!(app["uniqueName"], "fabrikam-sync-1");
    assert_eq!(app["displayName"], "Fabrikam Sync");
    // Sent again (a lost answer, a browser's resend): the same application, updated.
    let r = upsert("Fabrikam Sync 2").await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, got) = env.get(&url, &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (&got["id"], &got["displayName"]),
        (&app["id"], &json!("Fabrikam Sync 2"))
    );
    let (_, list) = env
        .get(
            &env.graph("applications?$filter=startswith(displayName,'Fabrikam Sync')"),
            &admin,
        )
        .await;
    assert_eq!(
        list["value"].as_array().unwrap().len(),
        1,
        "one application"
    );
    // The key is the client's and immutable; others have none.
    let (_, other) = env
        .get(
            &env.graph("applications?$filter=displayName eq 'Contoso Backup'"),
            &admin,
        )
        .await;
    assert_eq!(other["value"][0]["uniqueName"], Value::Null);
    // A reader may not upsert.
    let reader = env.graph_token("reader").await;
    let r = env
        .http
        .patch(env.graph("applications(uniqueName='fabrikam-sync-2')"))
        .bearer_auth(&reader)
        .header("Prefer", "create-if-missing")
        .json(&json!({"displayName": "Not allowed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (s, _) = env.delete(&url, &admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn passwords_are_shown_once_and_removed() {
    let env = env().await;
    let admin = env.graph_token("appadmin").await;
    let app = env.service_app("expiring-secret");
    let url = env.graph(&format!(
        "applications/{}",
        app["objectId"].as_str().unwrap()
    ));
    let (s, cred) = env.post(&format!("{url}/addPassword"), &admin, json!({"passwordCredential": {"displayName": "renewed", "endDateTime": "2099-01-01T00:00:00Z"}})).await;
    assert_eq!(s, StatusCode::OK, "{cred}");
    let secret = cred["secretText"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 40);
    assert_eq!(cred["hint"], &secret[..3]);
    assert_eq!(cred["endDateTime"], "2099-01-01T00:00:00Z");
    let (_, got) = env.get(&url, &admin).await;
    let creds = got["passwordCredentials"].as_array().unwrap();
    assert_eq!(creds.len(), 2);
    assert!(creds.iter().all(|c| c["secretText"].is_null()));

    // The new secret works even after the old one expires.
    env.advance(30 * 86_400).await;
    let app_id = app["appId"].as_str().unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("scope", "https://graph.microsoft.com/.default"),
        ("client_secret", secret.as_str()),
    ];
    let (s, _) = split(env.token_form(&form).await).await;
    assert_eq!(s, StatusCode::OK);
    let admin = env.graph_token("appadmin").await;
    let (s, _) = env
        .post(
            &format!("{url}/removePassword"),
            &admin,
            json!({"keyId": cred["keyId"]}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(aadsts(&split(env.token_form(&form).await).await.1), 7000215);
    let (s, e) = env
        .post(
            &format!("{url}/removePassword"),
            &admin,
            json!({"keyId": cred["keyId"]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_envelope(&e, "Request_BadRequest");
    env.emu.stop().await;
}

#[tokio::test]
async fn certificate_registered_with_patch_then_add_and_remove_key_with_proof() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let now = now(&env).await;
    let app = env
        .create_app(&admin, json!({"displayName": "Cert app"}))
        .await;
    let id = app["id"].as_str().unwrap().to_string();
    let app_id = app["appId"].as_str().unwrap().to_string();
    let key_a = entra_emulator::certs::private_key(entra_emulator::certs::TEST_CLIENT_KEY_PEM);
    let cert_a =
        entra_emulator::certs::self_signed(&key_a, "cert-a", now - 60, now + 365 * 86_400, 1);
    let url = env.graph(&format!("applications/{id}"));
    let (s, _) = env.patch(&url, &admin, json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": b64(&cert_a)}]})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, got) = env.get(&url, &admin).await;
    assert!(
        got["keyCredentials"][0]["key"].is_null(),
        "keys only with $select"
    );
    let key_a_id = got["keyCredentials"][0]["keyId"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, got) = env
        .get(&format!("{url}?$select=keyCredentials"), &admin)
        .await;
    assert_eq!(got["keyCredentials"][0]["key"], b64(&cert_a));
    assert_eq!(got["keyCredentials"][0]["displayName"], "CN=cert-a");

    // addKey needs a proof signed by a currently valid key.
    let key_b = entra_emulator::certs::private_key(entra_emulator::certs::APP_SECRET_KEY_PEM);
    let cert_b =
        entra_emulator::certs::self_signed(&key_b, "cert-b", now - 60, now + 730 * 86_400, 2);
    let body = |proof: String| json!({"keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify", "key": b64(&cert_b)}, "passwordCredential": null, "proof": proof});
    let bad_proof = proof(entra_emulator::certs::APP_SECRET_KEY_PEM, &cert_b, &id, now);
    let (s, e) = env
        .post(&format!("{url}/addKey"), &admin, body(bad_proof))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_envelope(&e, "Request_BadRequest");
    let wrong_iss = proof(
        entra_emulator::certs::TEST_CLIENT_KEY_PEM,
        &cert_a,
        &app_id,
        now,
    );
    assert_eq!(
        env.post(&format!("{url}/addKey"), &admin, body(wrong_iss))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let good = proof(
        entra_emulator::certs::TEST_CLIENT_KEY_PEM,
        &cert_a,
        &id,
        now,
    );
    let (s, added) = env.post(&format!("{url}/addKey"), &admin, body(good)).await;
    assert_eq!(s, StatusCode::OK, "{added}");
    assert_eq!(added["type"], "AsymmetricX509Cert");
    let (_, got) = env.get(&url, &admin).await;
    assert_eq!(got["keyCredentials"].as_array().unwrap().len(), 2);

    // PATCH keeps existing keys sent back without their value (as GET returns them).
    let existing: Vec<Value> = got["keyCredentials"].as_array().unwrap().clone();
    assert_eq!(
        env.patch(&url, &admin, json!({"keyCredentials": existing}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, got) = env
        .get(&format!("{url}?$select=keyCredentials"), &admin)
        .await;
    assert!(
        got["keyCredentials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["key"].is_string())
    );

    // removeKey with a proof from the new key.
    let p = proof(entra_emulator::certs::APP_SECRET_KEY_PEM, &cert_b, &id, now);
    assert_eq!(
        env.post(
            &format!("{url}/removeKey"),
            &admin,
            json!({"keyId": key_a_id, "proof": p})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, got) = env.get(&url, &admin).await;
    assert_eq!(got["keyCredentials"].as_array().unwrap().len(), 1);
    assert_eq!(got["keyCredentials"][0]["keyId"], added["keyId"]);
    env.emu.stop().await;
}

#[tokio::test]
async fn service_principals_grants_and_assignments() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let app = env
        .create_app(&admin, json!({"displayName": "Grant target"}))
        .await;
    let app_id = app["appId"].as_str().unwrap().to_string();
    let (s, sp) = env
        .post(
            &env.graph("servicePrincipals"),
            &admin,
            json!({"appId": app_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sp}");
    let sp_id = sp["id"].as_str().unwrap().to_string();
    let (s, e) = env
        .post(
            &env.graph("servicePrincipals"),
            &admin,
            json!({"appId": app_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_envelope(&e, "Request_MultipleObjectsWithSameKeyValue");
    let (_, got) = env
        .get(
            &env.graph(&format!("servicePrincipals(appId='{app_id}')")),
            &admin,
        )
        .await;
    assert_eq!(got["id"], sp_id.as_str());
    let (_, list) = env
        .get(
            &env.graph(&format!("servicePrincipals?$filter=appId eq '{app_id}'")),
            &admin,
        )
        .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);

    // Microsoft Graph's service principal carries Microsoft's real IDs.
    let (_, graph_sp) = env.get(&env.graph("servicePrincipals(appId='00000003-0000-0000-c000-000000000000')?$select=id,appRoles,oauth2PermissionScopes"), &admin).await;
    let graph_sp_id = graph_sp["id"].as_str().unwrap().to_string();
    let role = graph_sp["appRoles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == "Application.ReadWrite.All")
        .unwrap();
    assert_eq!(role["id"], "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9");
    let user_read = graph_sp["oauth2PermissionScopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == "User.Read")
        .unwrap();
    assert_eq!(user_read["id"], "e1fe6dd8-ba31-4d61-89e7-88639da4683d");

    // App role assignment to Graph: Global Administrator may, Application Administrator may not.
    let body = json!({"principalId": sp_id, "resourceId": graph_sp_id, "appRoleId": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9"});
    let appadmin = env.graph_token("appadmin").await;
    let (s, e) = env
        .post(
            &env.graph(&format!("servicePrincipals/{sp_id}/appRoleAssignments")),
            &appadmin,
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_envelope(&e, "Authorization_RequestDenied");
    let (s, a) = env
        .post(
            &env.graph(&format!("servicePrincipals/{sp_id}/appRoleAssignments")),
            &admin,
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["resourceDisplayName"], "Microsoft Graph");
    let (s, _) = env
        .post(
            &env.graph(&format!(
                "servicePrincipals/{graph_sp_id}/appRoleAssignedTo"
            )),
            &admin,
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "duplicate assignment");
    let (_, list) = env
        .get(
            &env.graph(&format!(
                "servicePrincipals/{graph_sp_id}/appRoleAssignedTo"
            )),
            &admin,
        )
        .await;
    assert!(
        list["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == a["id"])
    );
    let (_, list) = env
        .get(
            &env.graph(&format!("servicePrincipals/{sp_id}/appRoleAssignments")),
            &admin,
        )
        .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let bogus = json!({"principalId": sp_id, "resourceId": graph_sp_id, "appRoleId": uuid::Uuid::new_v4().to_string()});
    assert_eq!(
        env.post(
            &env.graph(&format!("servicePrincipals/{sp_id}/appRoleAssignments")),
            &admin,
            bogus
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        env.delete(
            &env.graph(&format!(
                "servicePrincipals/{sp_id}/appRoleAssignments/{}",
                a["id"].as_str().unwrap()
            )),
            &admin
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );

    // Delegated grants: POST, $filter, PATCH, DELETE. Application Administrator may grant these.
    let grant = json!({"clientId": sp_id, "consentType": "AllPrincipals", "resourceId": graph_sp_id, "scope": "User.Read"});
    let (s, g) = env
        .post(
            &env.graph("oauth2PermissionGrants"),
            &appadmin,
            grant.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let (s, e) = env
        .post(&env.graph("oauth2PermissionGrants"), &appadmin, grant)
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_envelope(&e, "Request_MultipleObjectsWithSameKeyValue");
    let gid = g["id"].as_str().unwrap();
    assert_eq!(
        env.patch(
            &env.graph(&format!("oauth2PermissionGrants/{gid}")),
            &admin,
            json!({"scope": "User.Read Directory.Read.All"})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        env.patch(
            &env.graph(&format!("oauth2PermissionGrants/{gid}")),
            &admin,
            json!({"scope": "Not.AScope"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let (_, list) = env.get(&env.graph(&format!("oauth2PermissionGrants?$filter=clientId eq '{sp_id}' and resourceId eq '{graph_sp_id}'")), &admin).await;
    assert_eq!(list["value"][0]["scope"], "User.Read Directory.Read.All");
    assert_eq!(
        env.delete(&env.graph(&format!("oauth2PermissionGrants/{gid}")), &admin)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, list) = env
        .get(
            &env.graph(&format!(
                "oauth2PermissionGrants?$filter=clientId eq '{sp_id}'"
            )),
            &admin,
        )
        .await;
    assert_eq!(list["value"], json!([]));

    // Deleting the application deletes its service principal.
    let other = env
        .create_app(&admin, json!({"displayName": "Cascade"}))
        .await;
    let (_, other_sp) = env
        .post(
            &env.graph("servicePrincipals"),
            &admin,
            json!({"appId": other["appId"]}),
        )
        .await;
    assert_eq!(
        env.delete(
            &env.graph(&format!("applications/{}", other["id"].as_str().unwrap())),
            &admin
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        env.get(
            &env.graph(&format!(
                "servicePrincipals/{}",
                other_sp["id"].as_str().unwrap()
            )),
            &admin
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        env.delete(&env.graph(&format!("servicePrincipals/{sp_id}")), &admin)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        env.get(&env.graph(&format!("servicePrincipals/{sp_id}")), &admin)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn me_member_of_organization_and_authorization() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let (s, me) = env.get(&env.graph("me"), &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["userPrincipalName"], env.upn("admin").as_str());
    let (_, roles) = env.get(&env.graph("me/memberOf"), &admin).await;
    assert_eq!(
        roles["value"][0]["@odata.type"],
        "#microsoft.graph.directoryRole"
    );
    assert_eq!(
        roles["value"][0]["roleTemplateId"],
        "62e90394-69f5-4237-9190-012177145e10"
    );
    let appadmin = env.graph_token("appadmin").await;
    let (_, roles) = env.get(&env.graph("me/memberOf"), &appadmin).await;
    assert_eq!(
        roles["value"][0]["roleTemplateId"],
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
    );
    let (_, org) = env.get(&env.graph("organization"), &admin).await;
    assert_eq!(org["value"][0]["id"], env.tenant().as_str());
    assert_eq!(
        org["value"][0]["verifiedDomains"][0]["name"],
        "contoso.onmicrosoft.com"
    );

    // Users by ID or UPN, and a filtered list.
    let (s, u) = env
        .get(&env.graph(&format!("users/{}", env.upn("reader"))), &admin)
        .await;
    assert_eq!(
        (s, u["id"].as_str()),
        (StatusCode::OK, Some(env.user_id("reader").as_str()))
    );
    let (_, list) = env
        .get(
            &env.graph("users?$filter=startswith(displayName,'Alex')&$select=id,userPrincipalName"),
            &admin,
        )
        .await;
    assert_eq!(
        list["value"],
        json!([{"id": env.user_id("appadmin"), "userPrincipalName": env.upn("appadmin")}])
    );
    assert_eq!(
        env.get(&env.graph("users/nobody@contoso.onmicrosoft.com"), &admin)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // A user with no role reads /me but creates nothing.
    let reader = env.graph_token("reader").await;
    assert_eq!(env.get(&env.graph("me"), &reader).await.0, StatusCode::OK);
    let (_, roles) = env.get(&env.graph("me/memberOf"), &reader).await;
    assert_eq!(roles["value"], json!([]));
    let (s, e) = env
        .post(
            &env.graph("applications"),
            &reader,
            json!({"displayName": "nope"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_envelope(&e, "Authorization_RequestDenied");
    // Application Administrator manages applications.
    assert_eq!(
        env.post(
            &env.graph("applications"),
            &appadmin,
            json!({"displayName": "by appadmin"})
        )
        .await
        .0,
        StatusCode::CREATED
    );

    // 401s: no token, bad signature, wrong audience (an ARM token), expired.
    let r = env.http.get(env.graph("me")).send().await.unwrap();
    let (s, e) = split(r).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_envelope(&e, "InvalidAuthenticationToken");
    let mut forged = admin.clone();
    forged.pop();
    assert_eq!(
        env.get(&env.graph("me"), &forged).await.0,
        StatusCode::UNAUTHORIZED
    );
    let arm = env.arm_token("admin").await;
    let (s, e) = env.get(&env.graph("me"), &arm).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid audience")
    );
    env.advance(3601).await;
    let (s, e) = env.get(&env.graph("me"), &admin).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_envelope(&e, "InvalidAuthenticationToken");

    // App-only tokens: /me is delegated only; roles gate the calls.
    let app = env.service_app("expiring-secret");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app["appId"].as_str().unwrap()),
        ("scope", "https://graph.microsoft.com/.default"),
        ("client_secret", app["secretText"].as_str().unwrap()),
    ];
    let t = split(env.token_form(&form).await).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        env.get(&env.graph("me"), &t).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        env.get(&env.graph("applications?$top=1"), &t).await.0,
        StatusCode::OK
    );
    assert_eq!(
        env.post(&env.graph("applications"), &t, json!({"displayName": "x"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn replication_delay_hides_new_objects() {
    let env = env_with("demo", "replication=3s").await;
    let admin = env.graph_token("admin").await;
    let app = env
        .create_app(&admin, json!({"displayName": "Fresh"}))
        .await;
    let app_id = app["appId"].as_str().unwrap().to_string();
    let (s, e) = env
        .post(
            &env.graph("servicePrincipals"),
            &admin,
            json!({"appId": app_id}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        e["error"]["details"][0]["code"],
        "NoBackingApplicationObject"
    );
    let (s, e) = env
        .get(
            &env.graph(&format!("applications/{}", app["id"].as_str().unwrap())),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_envelope(&e, "Request_ResourceNotFound");
    env.advance(4).await;
    let (s, sp) = env
        .post(
            &env.graph("servicePrincipals"),
            &admin,
            json!({"appId": app_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sp}");
    env.emu.stop().await;
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after_per_app() {
    // 3 resource units per 10 s.
    let env = env_with("demo", &format!("throttle={}", 3.0 / 3500.0)).await;
    let admin = env.graph_token("admin").await;
    for _ in 0..3 {
        assert_eq!(env.get(&env.graph("me"), &admin).await.0, StatusCode::OK);
    }
    let r = env
        .http
        .get(env.graph("me"))
        .bearer_auth(&admin)
        .header("Origin", "http://localhost:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry));
    // Graph does not expose Retry-After to a cross-origin page
    // (https://github.com/microsoftgraph/microsoft-graph-docs/issues/17488).
    assert!(
        !r.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("Retry-After")
    );
    let (_, e) = split(r).await;
    assert_envelope(&e, "TooManyRequests");
    // Another application has its own quota.
    let app = env.service_app("expiring-secret");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app["appId"].as_str().unwrap()),
        ("scope", "https://graph.microsoft.com/.default"),
        ("client_secret", app["secretText"].as_str().unwrap()),
    ];
    let t = split(env.token_form(&form).await).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        env.get(&env.graph("applications?$top=1"), &t).await.0,
        StatusCode::OK
    );
    env.advance(retry).await;
    assert_eq!(env.get(&env.graph("me"), &admin).await.0, StatusCode::OK);
    env.emu.stop().await;
}

#[tokio::test]
async fn random_faults_are_seeded_and_deterministic() {
    async fn statuses() -> Vec<u16> {
        let env = env_with("demo", "random429=0.3,random503=0.2,seed=7").await;
        let admin = env.graph_token("admin").await;
        let mut out = Vec::new();
        for _ in 0..30 {
            let r = env
                .http
                .get(env.graph("me"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            if r.status() != StatusCode::OK {
                assert!(r.headers().get("retry-after").is_some());
            }
            out.push(r.status().as_u16());
        }
        env.emu.stop().await;
        out
    }
    let a = statuses().await;
    assert_eq!(a, statuses().await);
    assert!(
        a.contains(&429) && a.contains(&503) && a.contains(&200),
        "{a:?}"
    );
}

#[tokio::test]
async fn paging_over_ten_thousand_applications() {
    let env = env_with("large:10000", "throttle=off").await;
    let admin = env.graph_token("admin").await;
    let (s, e) = env.get(&env.graph("applications?$top=1000"), &admin).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_envelope(&e, "Request_BadRequest");
    let mut url = env.graph("applications?$top=999&$select=id,appId,passwordCredentials");
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        let (s, page) = env.get(&url, &admin).await;
        assert_eq!(s, StatusCode::OK);
        pages += 1;
        for a in page["value"].as_array().unwrap() {
            assert!(
                seen.insert(a["id"].as_str().unwrap().to_string()),
                "duplicate across pages"
            );
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    // 10,000 bulk apps + the page's client + 3 seeded service apps.
    assert_eq!(seen.len(), 10_004);
    assert_eq!(pages, 11);
    // Default page size is 100.
    let (_, page) = env.get(&env.graph("applications"), &admin).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 100);
    assert!(page["@odata.nextLink"].is_string());
    env.emu.stop().await;
}

#[tokio::test]
async fn restore_portal_exposes_its_own_scope_and_grants_it() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let app = env
        .create_app(&admin, json!({"displayName": "Restore Portal"}))
        .await;
    let (id, app_id) = (
        app["id"].as_str().unwrap().to_string(),
        app["appId"].as_str().unwrap().to_string(),
    );
    let (_, sp) = env
        .post(
            &env.graph("servicePrincipals"),
            &admin,
            json!({"appId": app_id}),
        )
        .await;
    let sp_id = sp["id"].as_str().unwrap().to_string();
    let scope_id = uuid::Uuid::new_v4().to_string();
    let patch = json!({
        "identifierUris": [format!("api://{app_id}")],
        "web": {"redirectUris": ["https://10.0.0.5:4443/signin-oidc"]},
        "api": {"oauth2PermissionScopes": [{"id": scope_id, "value": "access_as_user", "type": "User", "isEnabled": true,
            "adminConsentDisplayName": "Access the portal", "adminConsentDescription": "Access the portal as the signed-in user"}]},
        "requiredResourceAccess": [{"resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": [{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}]}],
    });
    assert_eq!(
        env.patch(&env.graph(&format!("applications/{id}")), &admin, patch)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    // The service principal follows the application.
    let (_, sp) = env
        .get(&env.graph(&format!("servicePrincipals/{sp_id}")), &admin)
        .await;
    assert_eq!(sp["oauth2PermissionScopes"][0]["value"], "access_as_user");
    assert!(
        sp["servicePrincipalNames"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == &json!(format!("api://{app_id}")))
    );
    assert_eq!(
        sp["replyUrls"],
        json!(["https://10.0.0.5:4443/signin-oidc"])
    );
    // Admin consent for Graph User.Read and for its own scope.
    let (_, graph_sp) = env
        .get(
            &env.graph(
                "servicePrincipals(appId='00000003-0000-0000-c000-000000000000')?$select=id",
            ),
            &admin,
        )
        .await;
    for (resource, scope) in [
        (graph_sp["id"].as_str().unwrap(), "User.Read"),
        (sp_id.as_str(), "access_as_user"),
    ] {
        let (s, g) = env.post(&env.graph("oauth2PermissionGrants"), &admin, json!({"clientId": sp_id, "consentType": "AllPrincipals", "resourceId": resource, "scope": scope})).await;
        assert_eq!(s, StatusCode::CREATED, "{g}");
    }
    env.emu.stop().await;
}
