//! Identity platform: discovery, keys, ROPC, client credentials (secret and
//! certificate), authorization code + PKCE with the sign-in and consent
//! pages, refresh for another resource, device code, CORS rules and errors.

mod common;

use common::*;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn discovery_and_keys_by_id_and_domain() {
    let env = env().await;
    for t in [env.tenant(), "contoso.onmicrosoft.com".to_string()] {
        let (s, cfg) = split(
            env.http
                .get(format!(
                    "{}/{t}/v2.0/.well-known/openid-configuration",
                    env.emu.login_url
                ))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(cfg["token_endpoint"], env.token_url());
        assert_eq!(
            cfg["issuer"],
            format!("{}/{}/v2.0", env.emu.login_url, env.tenant())
        );
        let (s, keys) = split(
            env.http
                .get(cfg["jwks_uri"].as_str().unwrap())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(keys["keys"][0]["kty"], "RSA");
        assert!(keys["keys"][0]["x5c"][0].as_str().unwrap().len() > 500);
    }
    let (s, err) = split(
        env.http
            .get(format!(
                "{}/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration",
                env.emu.login_url
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(aadsts(&err), 90002);
    env.emu.stop().await;
}

#[tokio::test]
async fn ropc_issues_signed_graph_token_with_roles_and_errors() {
    let env = env().await;
    let token = env.graph_token("admin").await;
    let c = claims(&token);
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["tid"], env.tenant().as_str());
    assert_eq!(c["oid"], env.user_id("admin").as_str());
    assert_eq!(c["upn"], env.upn("admin").as_str());
    assert!(
        c["scp"]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|s| s == "Application.ReadWrite.All")
    );
    assert!(
        c["wids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == "62e90394-69f5-4237-9190-012177145e10")
    );
    // Signed with a key from the JWKS.
    let keys: Value = env
        .http
        .get(format!(
            "{}/{}/discovery/v2.0/keys",
            env.emu.login_url,
            env.tenant()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let k = &keys["keys"][0];
    let dk = jsonwebtoken::DecodingKey::from_rsa_components(
        k["n"].as_str().unwrap(),
        k["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(Algorithm::RS256);
    v.set_audience(&["https://graph.microsoft.com"]);
    jsonwebtoken::decode::<Value>(&token, &dk, &v).expect("token verifies against JWKS");
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
        k["kid"].as_str()
    );

    let client = env.client_id();
    let upn = env.upn("admin");
    let (s, e) = split(
        env.token_form(&[
            ("grant_type", "password"),
            ("client_id", &client),
            ("username", &upn),
            ("password", "wrong"),
            ("scope", "User.Read"),
        ])
        .await,
    )
    .await;
    assert_eq!(
        (s, aadsts(&e), e["error"].as_str()),
        (StatusCode::BAD_REQUEST, 50126, Some("invalid_grant"))
    );
    for key in [
        "error_description",
        "timestamp",
        "trace_id",
        "correlation_id",
    ] {
        assert!(e[key].is_string(), "{key} in {e}");
    }
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS50126: ")
    );
    let (s, e) = split(
        env.token_form(&[
            ("grant_type", "password"),
            ("client_id", "11111111-2222-3333-4444-555555555555"),
            ("username", &upn),
            ("password", "x"),
        ])
        .await,
    )
    .await;
    assert_eq!((s, aadsts(&e)), (StatusCode::BAD_REQUEST, 700016));
    let r = env
        .http
        .post(format!(
            "{}/fabrikam.example/oauth2/v2.0/token",
            env.emu.login_url
        ))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(aadsts(&r.json::<Value>().await.unwrap()), 90002);
    // Consent missing for a scope the client never got.
    let (s, e) = split(
        env.token_form(&[
            ("grant_type", "password"),
            ("client_id", &client),
            ("username", &upn),
            ("password", "Demo-Passw0rd!"),
            ("scope", "User.Read.All"),
        ])
        .await,
    )
    .await;
    assert_eq!((s, aadsts(&e)), (StatusCode::BAD_REQUEST, 65001));
    let (s, e) = split(
        env.token_form(&[
            ("grant_type", "password"),
            ("client_id", &client),
            ("username", &upn),
            ("password", "Demo-Passw0rd!"),
            ("scope", "Nonsense.Scope"),
        ])
        .await,
    )
    .await;
    assert_eq!(
        (s, aadsts(&e), e["error"].as_str()),
        (StatusCode::BAD_REQUEST, 70011, Some("invalid_scope"))
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn client_secret_valid_invalid_expired_and_cross_origin() {
    let env = env().await;
    let app = env.service_app("expiring-secret");
    let app_id = app["appId"].as_str().unwrap();
    let secret = app["secretText"].as_str().unwrap();
    let ok_form = [
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("scope", "https://graph.microsoft.com/.default"),
        ("client_secret", secret),
    ];
    let (s, t) = split(env.token_form(&ok_form).await).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(c["roles"][0], "Application.Read.All");
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["oid"], app["servicePrincipalId"]);

    // client_secret_basic works too.
    let basic = <base64ct::Base64 as base64ct::Encoding>::encode_string(
        format!("{app_id}:{}", percent_encode(secret)).as_bytes(),
    );
    let r = env
        .http
        .post(env.token_url())
        .header("Authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let bad = [
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("scope", "https://graph.microsoft.com/.default"),
        ("client_secret", "nope"),
    ];
    let (s, e) = split(env.token_form(&bad).await).await;
    assert_eq!(
        (s, aadsts(&e), e["error"].as_str()),
        (StatusCode::UNAUTHORIZED, 7000215, Some("invalid_client"))
    );

    let no_default = [
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("scope", "User.Read"),
        ("client_secret", secret),
    ];
    assert_eq!(
        aadsts(&split(env.token_form(&no_default).await).await.1),
        1002012
    );

    let r = env
        .http
        .post(env.token_url())
        .header("Origin", "http://localhost:8080")
        .form(&ok_form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers().get("access-control-allow-origin").unwrap(),
        "http://localhost:8080"
    );
    let (s, e) = split(r).await;
    assert_eq!((s, aadsts(&e)), (StatusCode::BAD_REQUEST, 9002326));
    assert!(e["error_description"].as_str().unwrap().contains("Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type"));

    env.advance(11 * 86_400).await;
    let (s, e) = split(env.token_form(&ok_form).await).await;
    assert_eq!((s, aadsts(&e)), (StatusCode::UNAUTHORIZED, 7000222));
    assert!(e["error_description"].as_str().unwrap().contains(&format!(
        "The provided client secret keys for app '{app_id}' are expired"
    )));
    env.emu.stop().await;
}

#[tokio::test]
async fn client_assertion_expired_key_not_found_bad_signature_audience() {
    let env = env().await;
    let now = now(&env).await;
    let app = env.service_app("expired-certificate");
    let app_id = app["appId"].as_str().unwrap();
    let key_pem = app["privateKeyPem"].as_str().unwrap();
    // Read the registered certificate through Graph ($select returns the key).
    let admin = env.graph_token("admin").await;
    let (_, body) = env
        .get(
            &env.graph(&format!(
                "applications(appId='{app_id}')?$select=id,keyCredentials"
            )),
            &admin,
        )
        .await;
    let cert_der: Vec<u8> = <base64ct::Base64 as base64ct::Encoding>::decode_vec(
        body["keyCredentials"][0]["key"].as_str().unwrap(),
    )
    .unwrap();
    let send = |a: String| {
        let form = vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("client_id".to_string(), app_id.to_string()),
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
    let a = assertion(
        key_pem,
        &cert_der,
        app_id,
        &env.token_url(),
        Algorithm::RS256,
        now,
    );
    let (s, e) = split(send(a).await.unwrap()).await;
    assert_eq!((s, aadsts(&e)), (StatusCode::UNAUTHORIZED, 700027));
    let d = e["error_description"].as_str().unwrap();
    assert!(d.starts_with("AADSTS700027: Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '"), "{d}");
    assert!(d.contains(app["thumbprint"].as_str().unwrap()));
    assert!(d.contains("Found key 'Start="));

    // A certificate that is not registered.
    let other_key = entra_emulator::certs::private_key(entra_emulator::certs::TEST_CLIENT_KEY_PEM);
    let other =
        entra_emulator::certs::self_signed(&other_key, "unregistered", now - 60, now + 86_400, 9);
    let a = assertion(
        entra_emulator::certs::TEST_CLIENT_KEY_PEM,
        &other,
        app_id,
        &env.token_url(),
        Algorithm::RS256,
        now,
    );
    let (_, e) = split(send(a).await.unwrap()).await;
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("[Reason - The key was not found., Thumbprint of key used by client: '")
    );

    // The roles app has a valid certificate: wrong signer, wrong audience, then success.
    let roles = env.service_app("missing-roles");
    let roles_id = roles["appId"].as_str().unwrap();
    let (_, body) = env
        .get(
            &env.graph(&format!(
                "applications(appId='{roles_id}')?$select=keyCredentials"
            )),
            &admin,
        )
        .await;
    let roles_cert: Vec<u8> = <base64ct::Base64 as base64ct::Encoding>::decode_vec(
        body["keyCredentials"][0]["key"].as_str().unwrap(),
    )
    .unwrap();
    let send2 = |a: String, scope: &str| {
        let form = vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("client_id".to_string(), roles_id.to_string()),
            ("scope".to_string(), scope.to_string()),
            (
                "client_assertion_type".to_string(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
            ),
            ("client_assertion".to_string(), a),
        ];
        env.http.post(env.token_url()).form(&form).send()
    };
    let forged = assertion(
        entra_emulator::certs::TEST_CLIENT_KEY_PEM,
        &roles_cert,
        roles_id,
        &env.token_url(),
        Algorithm::RS256,
        now,
    );
    let (_, e) = split(
        send2(forged, "https://graph.microsoft.com/.default")
            .await
            .unwrap(),
    )
    .await;
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("Key was found, but use of the key to verify the signature failed.")
    );
    let wrong_aud = assertion(
        roles["privateKeyPem"].as_str().unwrap(),
        &roles_cert,
        roles_id,
        "https://example.com/token",
        Algorithm::RS256,
        now,
    );
    assert_eq!(
        aadsts(
            &split(
                send2(wrong_aud, "https://graph.microsoft.com/.default")
                    .await
                    .unwrap()
            )
            .await
            .1
        ),
        700023
    );
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let good = assertion(
            roles["privateKeyPem"].as_str().unwrap(),
            &roles_cert,
            roles_id,
            &env.token_url(),
            alg,
            now,
        );
        let (s, t) = split(
            send2(good, "https://management.azure.com/.default")
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{alg:?}: {t}");
        assert_eq!(
            claims(t["access_token"].as_str().unwrap())["aud"],
            "https://management.azure.com"
        );
    }
    // An assertion that has itself expired.
    let stale = assertion(
        roles["privateKeyPem"].as_str().unwrap(),
        &roles_cert,
        roles_id,
        &env.token_url(),
        Algorithm::RS256,
        now - 3600,
    );
    assert_eq!(
        aadsts(
            &split(
                send2(stale, "https://graph.microsoft.com/.default")
                    .await
                    .unwrap()
            )
            .await
            .1
        ),
        700024
    );
    env.emu.stop().await;
}

fn location_param(loc: &str, key: &str) -> Option<String> {
    let q = loc.split_once('?').map(|x| x.1).unwrap_or("");
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[tokio::test]
async fn authorization_code_pkce_consent_refresh_for_arm() {
    let env = env().await;
    let client = env.client_id();
    let authorize = format!(
        "{}/{}/oauth2/v2.0/authorize",
        env.emu.login_url,
        env.tenant()
    );
    let (verifier, challenge) = pkce();
    let redirect = "http://localhost:8080/";
    let params = vec![
        ("client_id", client.as_str()),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        (
            "scope",
            "https://graph.microsoft.com/User.Read https://graph.microsoft.com/User.Read.All openid offline_access",
        ),
        ("state", "xyz 1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    // The sign-in page lists the seeded users; no CORS headers (like Entra).
    let r = env
        .http
        .get(&authorize)
        .query(&params)
        .header("Origin", "http://localhost:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains(&env.upn("reader")) && html.contains(&env.user_id("admin")));
    assert!(html.contains("id=\"pick-admin\""));

    // User.Read.All is not consented for the seeded client: reader is asked to consent and cannot (admin-only).
    let mut form: Vec<(&str, &str)> = params.clone();
    let reader = env.user_id("reader");
    form.push(("user", &reader));
    let r = env.http.post(&authorize).form(&form).send().await.unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Permissions requested") && html.contains("User.Read.All"),
        "{html}"
    );
    let mut accept = form.clone();
    accept.push(("consent", "accept"));
    let r = env
        .http
        .post(&authorize)
        .form(&accept)
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("AADSTS90094"));

    // The admin consents; the redirect carries the code and the state.
    let admin = env.user_id("admin");
    let mut accept: Vec<(&str, &str)> = params.clone();
    accept.push(("user", &admin));
    accept.push(("consent", "accept"));
    let r = env
        .http
        .post(&authorize)
        .form(&accept)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with(redirect));
    assert_eq!(location_param(&loc, "state").as_deref(), Some("xyz 1"));
    let code = location_param(&loc, "code").unwrap();

    let redeem = |code: String, verifier: String, origin: Option<&'static str>| {
        let form = vec![
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("client_id".to_string(), client.clone()),
            ("code".to_string(), code),
            ("redirect_uri".to_string(), redirect.to_string()),
            ("code_verifier".to_string(), verifier),
        ];
        let mut req = env.http.post(env.token_url()).form(&form);
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        req.send()
    };
    // Without Origin: AADSTS9002327; wrong verifier: AADSTS501481.
    assert_eq!(
        aadsts(
            &split(redeem(code.clone(), verifier.clone(), None).await.unwrap())
                .await
                .1
        ),
        9002327
    );
    assert_eq!(
        aadsts(
            &split(
                redeem(code.clone(), "wrong".into(), Some("http://localhost:8080"))
                    .await
                    .unwrap()
            )
            .await
            .1
        ),
        501481
    );
    let (s, t) = split(
        redeem(
            code.clone(),
            verifier.clone(),
            Some("http://localhost:8080"),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert!(
        claims(t["access_token"].as_str().unwrap())["scp"]
            .as_str()
            .unwrap()
            .contains("User.Read.All")
    );
    assert!(t["id_token"].is_string());
    assert_eq!(
        aadsts(
            &split(
                redeem(code, verifier, Some("http://localhost:8080"))
                    .await
                    .unwrap()
            )
            .await
            .1
        ),
        54005
    );

    // The refresh token (SPA: cross-origin only) gets an ARM token.
    let rt = t["refresh_token"].as_str().unwrap().to_string();
    let refresh = |origin: Option<&'static str>| {
        let form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", client.as_str()),
            ("refresh_token", rt.as_str()),
            (
                "scope",
                "https://management.azure.com/user_impersonation offline_access",
            ),
        ];
        let mut req = env.http.post(env.token_url()).form(&form);
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        req.send()
    };
    assert_eq!(
        aadsts(&split(refresh(None).await.unwrap()).await.1),
        9002327
    );
    let (s, t) = split(refresh(Some("http://localhost:8080")).await.unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], "https://management.azure.com");
    assert_eq!(c["scp"], "user_impersonation");
    // SPA refresh tokens live 24 hours.
    env.advance(25 * 3600).await;
    assert_eq!(
        aadsts(
            &split(refresh(Some("http://localhost:8080")).await.unwrap())
                .await
                .1
        ),
        700084
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn authorize_rejects_unregistered_redirect_and_missing_pkce() {
    let env = env().await;
    let client = env.client_id();
    let authorize = format!(
        "{}/{}/oauth2/v2.0/authorize",
        env.emu.login_url,
        env.tenant()
    );
    let r = env
        .http
        .get(&authorize)
        .query(&[
            ("client_id", client.as_str()),
            ("response_type", "code"),
            ("redirect_uri", "http://evil.example/"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("AADSTS50011"));
    let r = env
        .http
        .get(&authorize)
        .query(&[
            ("client_id", client.as_str()),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost:8080"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("AADSTS9002325"));
    env.emu.stop().await;
}

#[tokio::test]
async fn device_code_flow_has_no_cors_and_works() {
    let env = env().await;
    let client = env.client_id();
    let url = format!(
        "{}/{}/oauth2/v2.0/devicecode",
        env.emu.login_url,
        env.tenant()
    );
    let pre = env
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "http://localhost:8080")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(pre.headers().get("access-control-allow-origin").is_none());
    let r = env
        .http
        .post(&url)
        .header("Origin", "http://localhost:8080")
        .form(&[
            ("client_id", client.as_str()),
            ("scope", "User.Read offline_access"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let dc: Value = r.json().await.unwrap();
    let device_code = dc["device_code"].as_str().unwrap();
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", client.as_str()),
        ("device_code", device_code),
    ];
    let (_, e) = split(env.token_form(&poll).await).await;
    assert_eq!(
        (e["error"].as_str(), aadsts(&e)),
        (Some("authorization_pending"), 70016)
    );
    let admin = env.user_id("admin");
    let r = env
        .http
        .post(dc["verification_uri"].as_str().unwrap())
        .form(&[
            ("user_code", dc["user_code"].as_str().unwrap()),
            ("user", admin.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (s, t) = split(env.token_form(&poll).await).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert!(t["refresh_token"].is_string());
    env.emu.stop().await;
}

#[tokio::test]
async fn token_endpoint_preflight_is_answered_with_cors() {
    let env = env().await;
    let r = env
        .http
        .request(reqwest::Method::OPTIONS, env.token_url())
        .header("Origin", "http://localhost:8080")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://localhost:8080"
    );
    assert!(
        r.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn userinfo_and_logout() {
    let env = env().await;
    let token = env.graph_token("appadmin").await;
    let (s, info) = env
        .get(&format!("{}/oidc/userinfo", env.emu.graph_url), &token)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(info["sub"], env.user_id("appadmin").as_str());
    assert_eq!(info["email"], env.upn("appadmin").as_str());
    let logout = format!("{}/{}/oauth2/v2.0/logout", env.emu.login_url, env.tenant());
    let r = env
        .http
        .get(&logout)
        .query(&[("post_logout_redirect_uri", "http://localhost:8080/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "http://localhost:8080/");
    env.emu.stop().await;
}

#[tokio::test]
async fn confidential_client_rules_and_missing_service_principal() {
    let env = env().await;
    // ROPC with a confidential (non-public) client and no credential.
    let restore = env.service_app("missing-roles");
    let upn = env.upn("admin");
    let (s, e) = split(
        env.token_form(&[
            ("grant_type", "password"),
            ("client_id", restore["appId"].as_str().unwrap()),
            ("username", &upn),
            ("password", "Demo-Passw0rd!"),
            ("scope", "User.Read"),
        ])
        .await,
    )
    .await;
    assert_eq!((s, aadsts(&e)), (StatusCode::UNAUTHORIZED, 7000218));
    // An application without a service principal cannot get app-only tokens.
    let admin = env.graph_token("admin").await;
    let app = env
        .create_app(&admin, serde_json::json!({"displayName": "No SP"}))
        .await;
    let (_, cred) = env
        .post(
            &env.graph(&format!(
                "applications/{}/addPassword",
                app["id"].as_str().unwrap()
            )),
            &admin,
            serde_json::json!({}),
        )
        .await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app["appId"].as_str().unwrap()),
        ("scope", "https://graph.microsoft.com/.default"),
        ("client_secret", cred["secretText"].as_str().unwrap()),
    ];
    let (s, e) = split(env.token_form(&form).await).await;
    assert_eq!((s, aadsts(&e)), (StatusCode::BAD_REQUEST, 7000229));
    // Unsupported grant and missing grant_type.
    assert_eq!(
        aadsts(
            &split(
                env.token_form(&[
                    ("grant_type", "magic"),
                    ("client_id", env.client_id().as_str())
                ])
                .await
            )
            .await
            .1
        ),
        70003
    );
    assert_eq!(
        aadsts(&split(env.token_form(&[("client_id", "x")]).await).await.1),
        900144
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn new_application_is_unknown_to_the_token_endpoint_until_replicated() {
    let env = env_with("demo", "replication=10s").await;
    let admin = env.graph_token("admin").await;
    let app = env
        .create_app(&admin, serde_json::json!({"displayName": "Young"}))
        .await;
    let app_id = app["appId"].as_str().unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("scope", "https://graph.microsoft.com/.default"),
        ("client_secret", "x"),
    ];
    assert_eq!(aadsts(&split(env.token_form(&form).await).await.1), 700016);
    env.advance(11).await;
    assert_eq!(aadsts(&split(env.token_form(&form).await).await.1), 7000215);
    env.emu.stop().await;
}

#[tokio::test]
async fn latency_is_added_to_token_and_api_responses() {
    let env = env_with("demo", "latency=300ms").await;
    let started = std::time::Instant::now();
    let token = env.graph_token("admin").await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    assert_eq!(env.get(&env.graph("me"), &token).await.0, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    env.emu.stop().await;
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn fragment_response_mode_and_declined_consent() {
    let env = env().await;
    let client = env.client_id();
    let authorize = format!(
        "{}/{}/oauth2/v2.0/authorize",
        env.emu.login_url,
        env.tenant()
    );
    let (_, challenge) = pkce();
    let reader = env.user_id("reader");
    // Scopes already consented for the organisation: no consent page, straight to the redirect.
    let form = [
        ("client_id", client.as_str()),
        ("response_type", "code"),
        ("redirect_uri", "http://127.0.0.1:8080"),
        ("scope", "User.Read email openid"),
        ("response_mode", "fragment"),
        ("state", "s1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("user", reader.as_str()),
    ];
    let r = env.http.post(&authorize).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("http://127.0.0.1:8080#code="), "{loc}");
    assert!(loc.contains("&state=s1"));
    // Declining consent redirects with access_denied.
    let mut deny: Vec<(&str, &str)> = form.to_vec();
    deny[3] = ("scope", "https://graph.microsoft.com/User.Read.All");
    deny.push(("consent", "deny"));
    let r = env.http.post(&authorize).form(&deny).send().await.unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        loc.contains("error=access_denied") && loc.contains("AADSTS65004"),
        "{loc}"
    );
    env.emu.stop().await;
}

#[tokio::test]
async fn a_user_consents_for_themselves_to_a_new_client() {
    let env = env().await;
    let admin = env.graph_token("admin").await;
    let app = env.create_app(&admin, serde_json::json!({"displayName": "New SPA", "spa": {"redirectUris": ["http://localhost:3000"]}})).await;
    let client = app["appId"].as_str().unwrap().to_string();
    let authorize = format!(
        "{}/{}/oauth2/v2.0/authorize",
        env.emu.login_url,
        env.tenant()
    );
    let (verifier, challenge) = pkce();
    let reader = env.user_id("reader");
    let mut form = vec![
        ("client_id", client.as_str()),
        ("response_type", "code"),
        ("redirect_uri", "http://localhost:3000"),
        ("scope", "User.Read openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("user", reader.as_str()),
    ];
    let html = env
        .http
        .post(&authorize)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"consent-accept\"") && html.contains("User.Read"),
        "{html}"
    );
    form.push(("consent", "accept"));
    let r = env.http.post(&authorize).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let code = location_param(&loc, "code").unwrap();
    let r = env
        .http
        .post(env.token_url())
        .header("Origin", "http://localhost:3000")
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", "http://localhost:3000"),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let (s, t) = split(r).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(
        claims(t["access_token"].as_str().unwrap())["scp"],
        "User.Read"
    );
    // The consent is the reader's own (consentType Principal); the client got a service principal.
    let (_, sp) = env
        .get(
            &env.graph(&format!("servicePrincipals(appId='{client}')")),
            &admin,
        )
        .await;
    let (_, grants) = env
        .get(
            &env.graph(&format!(
                "oauth2PermissionGrants?$filter=clientId eq '{}'",
                sp["id"].as_str().unwrap()
            )),
            &admin,
        )
        .await;
    assert_eq!(grants["value"][0]["consentType"], "Principal");
    assert_eq!(grants["value"][0]["principalId"], reader.as_str());
    // Another user has not consented: the consent page again.
    let appadmin = env.user_id("appadmin");
    form.pop();
    form.pop();
    form.push(("user", appadmin.as_str()));
    let html = env
        .http
        .post(&authorize)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"consent-accept\""), "{html}");
    env.emu.stop().await;
}
