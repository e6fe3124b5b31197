//! Where Entra and Graph are strict, the emulator is too: scopes on `/me` and
//! the membership lists, roles held through role-assignable groups, SPA
//! redemption from a real (not `null`) origin, and keyCredentials sent back
//! without their key.

mod common;

use common::*;
use entra_emulator::lock;
use entra_emulator::state::Group;
use reqwest::StatusCode;
use serde_json::{Value, json};

const APPLICATION_ADMINISTRATOR: &str = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3";

/// Narrows what the page's client is consented to on Graph (for every user).
fn consent_only(env: &Env, scope: &str) {
    let graph_sp = entra_emulator::known::GRAPH_APP_ID;
    let mut dir = lock(&env.emu.emulator.dir);
    let graph_sp_id = dir.sp_by_app_id(graph_sp).unwrap().body["id"]
        .as_str()
        .unwrap()
        .to_string();
    for g in dir.oauth2_permission_grants.iter_mut() {
        if g["resourceId"] == graph_sp_id.as_str() {
            g["scope"] = json!(scope);
        }
    }
}

fn denied(s: StatusCode, e: &Value) {
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(e["error"]["code"], "Authorization_RequestDenied");
    assert_eq!(
        e["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
}

// https://learn.microsoft.com/en-us/graph/api/user-get#permissions
// https://learn.microsoft.com/en-us/graph/api/user-list-memberof#permissions
#[tokio::test]
async fn me_and_member_of_need_user_read_and_roles_need_directory_read() {
    let env = env().await;
    // A token with no Graph permission that reads users (only offline_access).
    consent_only(&env, "offline_access openid profile");
    let t = env.graph_token("admin").await;
    assert_eq!(claims(&t)["scp"], "offline_access openid profile");
    for path in ["me", "me/memberOf", "me/transitiveMemberOf"] {
        let (s, e) = env.get(&env.graph(path), &t).await;
        denied(s, &e);
    }

    // User.Read alone: /me, and the memberships with limited information:
    // a role is only its type and id, roleTemplateId null.
    consent_only(&env, "User.Read offline_access openid profile");
    let t = env.graph_token("appadmin").await;
    let (s, me) = env.get(&env.graph("me"), &t).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    let (s, list) = env.get(&env.graph("me/memberOf"), &t).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let role = &list["value"][0];
    assert_eq!(role["@odata.type"], "#microsoft.graph.directoryRole");
    assert!(role["id"].is_string());
    assert!(role["roleTemplateId"].is_null() && role["displayName"].is_null());

    // With Directory.Read.All the role is whole.
    consent_only(&env, "User.Read Directory.Read.All offline_access openid");
    let t = env.graph_token("appadmin").await;
    let (_, list) = env.get(&env.graph("me/memberOf"), &t).await;
    assert_eq!(
        list["value"][0]["roleTemplateId"],
        APPLICATION_ADMINISTRATOR
    );
}

// https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof
// https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/groups-concept
#[tokio::test]
async fn a_role_held_through_a_group_is_in_transitive_member_of_only_and_it_is_enforced() {
    let env = env().await;
    let reader = env.user_id("reader");
    let group = "6c1f0e2d-5a4b-4c3d-9e8f-7a6b5c4d3e21";
    lock(&env.emu.emulator.dir).groups.push(Group {
        id: group.into(),
        display_name: "App administrators".into(),
        is_assignable_to_role: true,
        members: vec![reader.clone()],
        directory_roles: vec![APPLICATION_ADMINISTRATOR.into()],
    });
    let t = env.graph_token("reader").await;
    assert!(
        claims(&t)["wids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == APPLICATION_ADMINISTRATOR),
        "the group's role is in wids"
    );

    // memberOf: the group, not the role; transitiveMemberOf: both.
    let (_, direct) = env.get(&env.graph("me/memberOf"), &t).await;
    let types = |v: &Value| -> Vec<String> {
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["@odata.type"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(types(&direct), ["#microsoft.graph.group"]);
    assert_eq!(direct["value"][0]["id"], group);
    assert_eq!(direct["value"][0]["isAssignableToRole"], true);
    let (_, all) = env.get(&env.graph("me/transitiveMemberOf"), &t).await;
    assert_eq!(
        types(&all),
        ["#microsoft.graph.group", "#microsoft.graph.directoryRole"]
    );
    assert_eq!(all["value"][1]["roleTemplateId"], APPLICATION_ADMINISTRATOR);

    // The role works: the reader may now register an application.
    let (s, app) = env
        .post(
            &env.graph("applications"),
            &t,
            json!({"displayName": "Through a group"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{app}");
}

/// A code for the page's client and its spa redirect URI, with the verifier.
async fn spa_code(env: &Env) -> (String, String) {
    let (verifier, challenge) = pkce();
    let client = env.client_id();
    let admin = env.user_id("admin");
    let authorize = format!(
        "{}/{}/oauth2/v2.0/authorize",
        env.emu.login_url,
        env.tenant()
    );
    let r = env
        .http
        .post(&authorize)
        .form(&[
            ("client_id", client.as_str()),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost:8080/"),
            ("scope", "https://graph.microsoft.com/User.Read openid"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("user", admin.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let query = loc.split_once('?').unwrap().1;
    let code = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1;
    (code, verifier)
}

// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#redirect-uris-for-single-page-apps-spas
// https://github.com/AzureAD/microsoft-authentication-library-for-python/issues/641
#[tokio::test]
async fn a_spa_code_needs_a_real_origin_not_the_opaque_null_one() {
    let env = env().await;
    let redeem = |code: String, verifier: String, origin: &'static str| {
        env.http
            .post(env.token_url())
            .header("Origin", origin)
            .form(&[
                ("grant_type", "authorization_code".to_string()),
                ("client_id", env.client_id()),
                ("code", code),
                ("redirect_uri", "http://localhost:8080/".into()),
                ("code_verifier", verifier),
            ])
            .send()
    };
    let (code, verifier) = spa_code(&env).await;
    let (s, e) = split(
        redeem(code.clone(), verifier.clone(), "null")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, aadsts(&e)), (StatusCode::BAD_REQUEST, 9002327), "{e}");
    // Entra asks for an Origin header, not for the redirect URI's origin:
    // another origin redeems the same code.
    let (s, t) = split(
        redeem(code, verifier, "http://127.0.0.1:8080")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
}

/// `(object id, keyCredentials as GET returns them, the certificate)` of the
/// seeded app with a valid certificate.
async fn app_keys(env: &Env, token: &str) -> (String, Value, String) {
    let app_id = env.service_app("missing-roles")["appId"]
        .as_str()
        .unwrap()
        .to_string();
    let url = env.graph(&format!("applications(appId='{app_id}')"));
    let (_, app) = env.get(&url, token).await;
    let (_, with_key) = env
        .get(&format!("{url}?$select=id,keyCredentials"), token)
        .await;
    (
        app["id"].as_str().unwrap().to_string(),
        app["keyCredentials"].clone(),
        with_key["keyCredentials"][0]["key"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

// https://learn.microsoft.com/en-us/graph/api/application-update
// https://github.com/microsoftgraph/microsoft-graph-docs/issues/3579
// https://github.com/Azure/azure-powershell/issues/6784
#[tokio::test]
async fn key_credentials_sent_back_without_key_are_kept_unchanged_or_refused() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let (id, keys, cert) = app_keys(&env, &admin).await;
    assert!(keys[0]["key"].is_null(), "GET returns no key: {keys}");
    let url = env.graph(&format!("applications/{id}"));

    // Sent back as GET returned it: kept, key included.
    let (s, e) = env
        .patch(&url, &admin, json!({"keyCredentials": keys}))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let (_, again, kept) = app_keys(&env, &admin).await;
    assert_eq!(again, keys);
    assert_eq!(kept, cert);

    // Without a key, a changed property is an update Graph refuses.
    let mut changed = keys.clone();
    changed[0]["endDateTime"] = json!("2020-01-01T00:00:00Z");
    let (s, e) = env
        .patch(&url, &admin, json!({"keyCredentials": changed}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["code"], "Request_BadRequest");
    let kid = keys[0]["keyId"].as_str().unwrap();
    assert_eq!(
        e["error"]["message"],
        format!("Update to existing credential with KeyId '{kid}' is not allowed.")
    );
    // An unknown keyId without a key, and an entry with neither, are refused.
    let mut unknown = keys.clone();
    unknown[0]["keyId"] = json!("00000000-0000-4000-8000-000000000001");
    let (s, _) = env
        .patch(&url, &admin, json!({"keyCredentials": unknown}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = env
        .patch(
            &url,
            &admin,
            json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Nothing was lost on the way.
    assert_eq!(app_keys(&env, &admin).await.1, keys);
}

// A gateway in front of Graph or ARM answers 502/503/504 itself, with an
// HTML page and no Access-Control-Allow-Origin
// (https://github.com/microsoftgraph/microsoft-graph-explorer-v4/issues/4022):
// a browser's fetch then rejects with a TypeError, a network error with no
// status (https://fetch.spec.whatwg.org/#cors-check). Native clients see the
// status; this checks what the browser would be given.
#[tokio::test]
async fn a_gateway_error_carries_no_cors_headers() {
    let env = env().await;
    let graph = env.graph_token("admin").await;
    let arm = env.arm_token("admin").await;
    for (status, url, t) in [
        ("504", env.graph("me"), &graph),
        ("502", env.arm("subscriptions?api-version=2022-12-01"), &arm),
    ] {
        env.control(
            "faults",
            json!({"spec": format!("gateway=1,gatewaystatus={status}")}),
        )
        .await;
        let send = || {
            env.http
                .get(&url)
                .bearer_auth(t)
                .header("Origin", "http://localhost:8080")
                .send()
        };
        let r = send().await.unwrap();
        assert_eq!(r.status().as_str(), status);
        assert!(r.headers().get("access-control-allow-origin").is_none());
        assert!(r.headers().get("request-id").is_none());
        assert!(r.headers().get("x-ms-request-id").is_none());
        assert_eq!(r.headers()["content-type"], "text/html");
        assert!(r.text().await.unwrap().contains("Reference"));
        // The next request reaches the service, with CORS.
        let r = send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "http://localhost:8080"
        );
    }
}

// https://learn.microsoft.com/en-us/rest/api/authorization/role-definitions/create-or-update
// https://github.com/Azure/terraform-azurerm-caf-enterprise-scale/wiki/Troubleshooting
// (RoleDefinitionDoesNotExist "is a transient error which may occur when the
// Resource Provider in ARM is yet to complete replication of the newly created
// Role Definition")
#[tokio::test]
async fn a_new_custom_role_is_not_found_until_it_has_replicated() {
    let env = env_with("demo", "replication=3s").await;
    let arm = env.arm_token("admin").await;
    let sub = env.subscription("Production");
    let role = "7d3c1b2a-9e8f-4a6b-8c5d-4e3f2a1b0c9d";
    let def_url = env.arm(&format!(
        "subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}?api-version=2022-04-01"
    ));
    let (s, def) = env
        .put(
            &def_url,
            &arm,
            json!({"properties": {"roleName": "Backup reader", "type": "CustomRole",
                "assignableScopes": [format!("/subscriptions/{sub}")],
                "permissions": [{"actions": ["Microsoft.Storage/storageAccounts/read"]}]}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{def}");
    let assign = |n: &str| {
        env.arm(&format!(
            "subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments/{n}?api-version=2022-04-01"
        ))
    };
    let body = json!({"properties": {
        "roleDefinitionId": def["id"],
        "principalId": env.service_app("missing-roles")["servicePrincipalId"],
        "principalType": "ServicePrincipal"}});
    let first = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    let (s, e) = env.put(&assign(first), &arm, body.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["code"], "RoleDefinitionDoesNotExist");
    assert_eq!(
        e["error"]["message"],
        format!("The specified role definition with ID '{role}' does not exist.")
    );
    let (s, e) = env.get(&def_url, &arm).await;
    assert_eq!(
        (s, &e["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("RoleDefinitionDoesNotExist"))
    );

    // Once replicated, the same requests succeed.
    env.advance(4).await;
    assert_eq!(env.get(&def_url, &arm).await.0, StatusCode::OK);
    let (s, a) = env.put(&assign(first), &arm, body).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
}

// Graph sends the Retry-After it needs, minutes included (a 315 s one in
// https://learn.microsoft.com/en-us/answers/questions/648796/retry-after-header-upper-limit-or-range;
// https://learn.microsoft.com/en-us/graph/throttling), but does not expose it
// to a cross-origin page (https://github.com/microsoftgraph/microsoft-graph-docs/issues/17488):
// in a browser the page cannot read it and must back off on its own.
#[tokio::test]
async fn a_long_retry_after_is_sent_as_is_and_graph_does_not_expose_it_to_browsers() {
    let env = env_with("demo", "next429=2,retryafter=315s").await;
    let graph = env.graph_token("admin").await;
    let arm = env.arm_token("admin").await;
    for (url, t) in [
        (env.graph("me"), &graph),
        (env.arm("subscriptions?api-version=2022-12-01"), &arm),
    ] {
        let r = env
            .http
            .get(&url)
            .bearer_auth(t)
            .header("Origin", "http://localhost:8080")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "315");
        let exposed = r.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        let graph_call = url.contains("/graph/");
        assert_eq!(!exposed.contains("retry-after"), graph_call, "{exposed}");
        assert!(exposed.contains("request-id"));
    }
}
