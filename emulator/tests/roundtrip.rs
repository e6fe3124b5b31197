//! The whole service-credential story through the APIs alone, signed with the
//! page's own core (`entra_wizard::core::certificate::self_signed`,
//! `entra_wizard::core::jwt::client_assertion` and `key_proof`): register an
//! application and its certificate through Graph, get a token with a client
//! assertion, roll the certificate with addKey/removeKey, and watch the
//! certificate expire by moving the clock.

mod common;

use common::*;
use entra_emulator::certs;
use entra_wizard::core::certificate::{self, CertificateRequest};
use entra_wizard::core::jwt::{self, AssertionAlg, AssertionParams};
use entra_wizard::core::key::RsaKey;
use entra_wizard::core::time::UnixTime;
use reqwest::StatusCode;
use serde_json::json;

/// A certificate made by the page's core for one of the fixture keys.
fn make_cert(key_pem: &str, name: &str, not_before: i64, not_after: i64) -> (RsaKey, Vec<u8>) {
    let key = RsaKey::from(certs::private_key(key_pem));
    let mut serial = [0u8; 10];
    serial.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..10]);
    let cert = certificate::self_signed(
        &key,
        &CertificateRequest::new(name),
        serial,
        UnixTime(not_before as u64),
        UnixTime(not_after as u64),
    )
    .expect("core builds the certificate");
    (key, cert.der().to_vec())
}

#[tokio::test]
async fn client_credentials_with_a_certificate_registered_through_graph() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let now = now(&env).await;
    // The core signs for Microsoft's https token endpoint; the emulator accepts it as the audience.
    let audience = format!(
        "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
        env.tenant()
    );

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
    let (key, cert) = make_cert(
        certs::TEST_CLIENT_KEY_PEM,
        "round-trip",
        now - 60,
        now + 30 * 86_400,
    );
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

    let get_token = |key: &RsaKey, cert: &[u8], alg: AssertionAlg, now: i64| {
        let params = AssertionParams {
            alg,
            client_id: &app_id,
            token_endpoint: &audience,
            now: UnixTime(now as u64),
            lifetime_secs: 600,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let assertion = jwt::client_assertion(key.rsa(), cert, &params, &mut rand::rngs::OsRng)
            .expect("core signs the assertion");
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
            ("client_assertion".to_string(), assertion),
        ];
        env.http.post(env.token_url()).form(&form).send()
    };
    for alg in [AssertionAlg::Rs256, AssertionAlg::Ps256] {
        let (s, t) = split(get_token(&key, &cert, alg, now).await.unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{alg:?}: {t}");
    }
    let (_, t) = split(
        get_token(&key, &cert, AssertionAlg::Rs256, now)
            .await
            .unwrap(),
    )
    .await;
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
    let thumbprint = list["value"][0]["keyCredentials"][0]["customKeyIdentifier"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        thumbprint,
        certificate::Certificate::from_der(&cert)
            .unwrap()
            .sha1_hex()
            .to_ascii_uppercase()
    );

    // The app rolls its own certificate: addKey with a proof signed by the current key,
    // using its own app-only token (no extra permission needed).
    let (key2, cert2) = make_cert(
        certs::APP_SECRET_KEY_PEM,
        "round-trip-2",
        now - 60,
        now + 365 * 86_400,
    );
    let p =
        jwt::key_proof(key.rsa(), &cert, &id, UnixTime(now as u64)).expect("core signs the proof");
    let (s, added) = env.post(&format!("{url}/addKey"), &token, json!({"keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify", "key": b64(&cert2)}, "passwordCredential": null, "proof": p})).await;
    assert_eq!(s, StatusCode::OK, "{added}");

    // 31 days later the first certificate has expired; the second still works.
    env.advance(31 * 86_400).await;
    let later = now + 31 * 86_400;
    let (s, e) = split(
        get_token(&key, &cert, AssertionAlg::Rs256, later)
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
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains(&thumbprint)
    );
    let (s, _) = split(
        get_token(&key2, &cert2, AssertionAlg::Rs256, later)
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
    let p = jwt::key_proof(key2.rsa(), &cert2, &id, UnixTime(later as u64)).unwrap();
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
        get_token(&key, &cert, AssertionAlg::Rs256, later)
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
