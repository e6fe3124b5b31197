//! The whole service-credential story through the APIs alone: register an
//! application and its certificate through Graph, get a token with a client
//! assertion, roll the certificate with addKey/removeKey, and watch the
//! certificate expire by moving the clock.

mod common;

use common::*;
use entra_emulator::certs;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn client_credentials_with_a_certificate_registered_through_graph() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let now = now(&env).await;

    let (s, app) = env
        .post(
            &env.graph("applications"),
            &admin,
            json!({"displayName": "Round trip"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (id, app_id) = (
        app["id"].as_str().unwrap().to_string(),
        app["appId"].as_str().unwrap().to_string(),
    );
    let (s, sp) = env
        .post(
            &env.graph("servicePrincipals"),
            &admin,
            json!({"appId": app_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let sp_id = sp["id"].as_str().unwrap().to_string();

    // Certificate valid for 30 days, registered with PATCH.
    let key = certs::private_key(certs::TEST_CLIENT_KEY_PEM);
    let cert = certs::self_signed(&key, "round-trip", now - 60, now + 30 * 86_400, 42);
    let url = env.graph(&format!("applications/{id}"));
    assert_eq!(env.patch(&url, &admin, json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": b64(&cert)}]})).await.0, StatusCode::NO_CONTENT);

    // Grant Application.Read.All (app role) so the token carries a role.
    let (_, graph_sp) = env
        .get(
            &env.graph(
                "servicePrincipals(appId='00000003-0000-0000-c000-000000000000')?$select=id",
            ),
            &admin,
        )
        .await;
    let body = json!({"principalId": sp_id, "resourceId": graph_sp["id"], "appRoleId": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"});
    assert_eq!(
        env.post(
            &env.graph(&format!("servicePrincipals/{sp_id}/appRoleAssignments")),
            &admin,
            body
        )
        .await
        .0,
        StatusCode::CREATED
    );

    let get_token = |pem: &'static str, cert: Vec<u8>, now: i64| {
        let a = assertion(pem, &cert, &app_id, &env.token_url(), Algorithm::RS256, now);
        let form = vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("client_id".to_string(), app_id.clone()),
            (
                "scope".to_string(),
                "https://graph.microsoft.com/.default".to_string(),
            ),
            (
                "client_assertion_type".to_string(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
            ),
            ("client_assertion".to_string(), a),
        ];
        env.http.post(env.token_url()).form(&form).send()
    };
    let (s, t) = split(
        get_token(certs::TEST_CLIENT_KEY_PEM, cert.clone(), now)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let token = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&token)["roles"], json!(["Application.Read.All"]));
    let (s, list) = env
        .get(
            &env.graph(&format!(
                "applications?$filter=appId eq '{app_id}'&$select=id,keyCredentials"
            )),
            &token,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["value"][0]["id"], id.as_str());
    assert!(
        list["value"][0]["keyCredentials"][0]["key"].is_null(),
        "no key values in lists"
    );
    assert_eq!(
        list["value"][0]["keyCredentials"][0]["customKeyIdentifier"]
            .as_str()
            .unwrap()
            .len(),
        40
    );

    // The app rolls its own certificate: addKey with a proof signed by the current key,
    // using its own app-only token (no extra permission needed).
    let key2 = certs::private_key(certs::APP_SECRET_KEY_PEM);
    let cert2 = certs::self_signed(&key2, "round-trip-2", now - 60, now + 365 * 86_400, 43);
    let p = proof(certs::TEST_CLIENT_KEY_PEM, &cert, &id, now);
    let (s, added) = env.post(&format!("{url}/addKey"), &token, json!({"keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify", "key": b64(&cert2)}, "passwordCredential": null, "proof": p})).await;
    assert_eq!(s, StatusCode::OK, "{added}");

    // 31 days later the first certificate has expired; the second still works.
    env.advance(31 * 86_400).await;
    let later = now + 31 * 86_400;
    let (s, e) = split(
        get_token(certs::TEST_CLIENT_KEY_PEM, cert.clone(), later)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, aadsts(&e)), (StatusCode::UNAUTHORIZED, 700027));
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("The key used is expired.")
    );
    let (s, _) = split(
        get_token(certs::APP_SECRET_KEY_PEM, cert2.clone(), later)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // Remove the expired key (proof from the valid one); the old thumbprint is now unknown.
    let admin = env.graph_token("admin").await;
    let (_, got) = env.get(&url, &admin).await;
    let old_id = got["keyCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["keyId"] != added["keyId"])
        .unwrap()["keyId"]
        .clone();
    let p = proof(certs::APP_SECRET_KEY_PEM, &cert2, &id, later);
    assert_eq!(
        env.post(
            &format!("{url}/removeKey"),
            &admin,
            json!({"keyId": old_id, "proof": p})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, e) = split(
        get_token(certs::TEST_CLIENT_KEY_PEM, cert, later)
            .await
            .unwrap(),
    )
    .await;
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("The key was not found.")
    );
    env.emu.stop().await;
}
