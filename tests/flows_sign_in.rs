//! Sign-in against the emulator as the page does it: authorize URL with
//! PKCE, the redirect back (state), the code redeemed with the page's
//! `Origin`, the nonce, an ARM token through the refresh token, and the
//! tokens used for Graph and ARM.

mod flows_support;

use entra_wizard::auth::pkce::RANDOM_BYTES;
use entra_wizard::auth::tokens::{self, Audience, TokenCache, TokenError};
use entra_wizard::auth::{SignInConfig, SignInError, begin};
use entra_wizard::client::ApiClient;
use entra_wizard::http::RetryPolicy;
use entra_wizard::plan::step;
use entra_wizard::{arm, graph};
use flows_support::*;

const PAGE: &str = "http://127.0.0.1:8080";

/// Plays the admin in the emulator's sign-in page: picks the user, answers
/// with the redirect URL (code in the fragment).
async fn sign_in_page(authorize_url: &str, user_id: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(&format!("value=\"{user_id}\""))
    );
    let url = url::Url::parse(authorize_url).unwrap();
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.push(("user".into(), user_id.into()));
    let mut post_url = url.clone();
    post_url.set_query(None);
    let answer = client
        .post(post_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    answer.headers()["location"].to_str().unwrap().to_string()
}

fn user_id(env: &Env, upn_local: &str) -> String {
    env.seed["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            u["userPrincipalName"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{upn_local}@"))
        })
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn sign_in_with_pkce_then_graph_and_arm_tokens() {
    let env = Env::demo().await;
    let config = SignInConfig {
        cloud: env.cloud(),
        tenant: env.tenant_id(),
        client_id: env.client_id(),
        redirect_uri: PAGE.into(),
    };
    let e = env.endpoints();
    let scopes = vec![
        "openid".to_string(),
        "profile".into(),
        "offline_access".into(),
        e.graph_default_scope(),
    ];
    let mut random = [0u8; RANDOM_BYTES];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut random);
    let (url, pending) = begin(&config, &scopes, &random).unwrap();
    // The page keeps `pending` in sessionStorage across the redirect.
    let pending: entra_wizard::auth::PendingSignIn =
        serde_json::from_str(&serde_json::to_string(&pending).unwrap()).unwrap();
    let redirect = sign_in_page(&url, &user_id(&env, "admin")).await;
    assert!(redirect.starts_with(&format!("{PAGE}#code=")), "{redirect}");

    let http = Native::default();
    let sleeper = env.sleeper();
    let anonymous = ApiClient::new(
        &http,
        &sleeper,
        e.clone(),
        RetryPolicy::default(),
        3,
        env.now(),
    );

    // A redirect that is not ours is refused before any request.
    let forged = redirect.replace("state=", "state=forged");
    let mut cache = TokenCache::default();
    let err = tokens::redeem(
        &anonymous,
        &mut cache,
        &pending,
        &forged,
        Audience::Graph,
        PAGE,
        env.now(),
    )
    .await
    .unwrap_err();
    assert_eq!(err, TokenError::SignIn(SignInError::StateMismatch));
    assert!(http.log.lock().unwrap().is_empty());

    let account = tokens::redeem(
        &anonymous,
        &mut cache,
        &pending,
        &redirect,
        Audience::Graph,
        PAGE,
        env.now(),
    )
    .await
    .unwrap();
    assert!(account.username.starts_with("admin@"));
    assert_eq!(account.tenant_id, env.tenant_id());
    let token_call = http.log.lock().unwrap()[0].clone();
    let body = String::from_utf8(token_call.body).unwrap();
    assert!(body.contains("grant_type=authorization_code"));
    assert!(body.contains("code_verifier="));

    // The code is single-use: Entra's AADSTS error comes back explained.
    let mut other = TokenCache::default();
    let err = tokens::redeem(
        &anonymous,
        &mut other,
        &pending,
        &redirect,
        Audience::Graph,
        PAGE,
        env.now(),
    )
    .await
    .unwrap_err();
    let TokenError::Refused(refused) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(refused.code, "invalid_grant");
    assert!(
        refused.message.contains("AADSTS54005"),
        "{}",
        refused.message
    );

    // ARM through the refresh token; both tokens work.
    let graph_token = tokens::acquire(
        &anonymous,
        &mut cache,
        &config,
        Audience::Graph,
        PAGE,
        env.now(),
    )
    .await
    .unwrap();
    let arm_token = tokens::acquire(
        &anonymous,
        &mut cache,
        &config,
        Audience::Arm,
        PAGE,
        env.now(),
    )
    .await
    .unwrap();
    assert_ne!(graph_token, arm_token);
    assert!(
        cache
            .missing_scopes(Audience::Graph, &["Application.ReadWrite.All"])
            .is_empty()
    );
    assert_eq!(
        cache.missing_scopes(Audience::Graph, &["Mail.Read"]),
        ["Mail.Read"],
        "not consented for the page: incremental consent needed"
    );
    // A plan that grants app roles, consent and Azure roles needs nothing
    // more than the page was consented for.
    let plan = entra_wizard::plan::Plan::new(
        "p",
        "t",
        vec![
            entra_wizard::plan::Step::CreateServicePrincipal,
            entra_wizard::plan::Step::GrantAppRoles(step::GrantAppRoles {
                resource_app_id: GRAPH_APP_ID.into(),
                resource_name: "Microsoft Graph".into(),
                permissions: vec!["User.Read.All".into()],
            }),
            entra_wizard::plan::Step::GrantDelegated(step::GrantDelegated {
                resource: entra_wizard::plan::GrantResource::ThisApplication,
                scopes: vec!["access_as_user".into()],
            }),
            entra_wizard::plan::Step::AssignRole(step::AssignRole {
                subscription_id: PRODUCTION.into(),
                subscription_name: "Production".into(),
                role: entra_wizard::plan::RoleRef::BuiltIn {
                    name: "Contributor".into(),
                    id: arm::builtin::CONTRIBUTOR.into(),
                },
                assignment_name: "n".into(),
            }),
        ],
    );
    for (audience, scopes) in entra_wizard::plan::preflight::delegated_scopes(&plan) {
        assert!(
            cache.missing_scopes(audience, &scopes).is_empty(),
            "{audience:?}"
        );
    }
    let api = ApiClient::new(&http, &sleeper, e, RetryPolicy::default(), 3, env.now())
        .with_graph_token(graph_token)
        .with_arm_token(arm_token);
    let me = graph::me(&api).await.unwrap();
    assert_eq!(me.id, account.object_id);
    let org = graph::organization(&api).await.unwrap();
    assert_eq!(org.id, env.tenant_id());
    let roles = graph::my_directory_roles(&api).await.unwrap();
    assert_eq!(
        roles[0].display_name.as_deref(),
        Some("Global Administrator")
    );
    assert_eq!(arm::list_subscriptions(&api).await.unwrap().len(), 2);

    // Expired tokens are renewed from the refresh token.
    let later = entra_wizard::core::time::UnixTime(env.now().0 + 3500);
    assert!(cache.access_token(Audience::Arm, later).is_none());
    env.emulator.emulator.clock.advance(3500);
    let renewed = tokens::acquire(&anonymous, &mut cache, &config, Audience::Arm, PAGE, later)
        .await
        .unwrap();
    assert_eq!(
        cache.access_token(Audience::Arm, later),
        Some(renewed.as_str())
    );
    cache.clear();
    assert!(matches!(
        tokens::acquire(&anonymous, &mut cache, &config, Audience::Arm, PAGE, later).await,
        Err(TokenError::NotSignedIn)
    ));
    env.stop().await;
}

#[tokio::test]
async fn a_declined_consent_comes_back_as_an_entra_error() {
    let env = Env::demo().await;
    let config = SignInConfig {
        cloud: env.cloud(),
        tenant: env.tenant_id(),
        client_id: env.client_id(),
        redirect_uri: PAGE.into(),
    };
    let (url, pending) = begin(
        &config,
        &[
            "openid".into(),
            "https://graph.microsoft.com/Mail.Read".into(),
        ],
        &[9u8; RANDOM_BYTES],
    )
    .unwrap();
    // The emulator shows its consent page; decline it.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let parsed = url::Url::parse(&url).unwrap();
    let mut form: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    form.push(("user".into(), user_id(&env, "admin")));
    form.push(("consent".into(), "deny".into()));
    let mut post = parsed.clone();
    post.set_query(None);
    let answer = client
        .post(post)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form).unwrap())
        .send()
        .await
        .unwrap();
    let redirect = answer.headers()["location"].to_str().unwrap().to_string();
    match entra_wizard::auth::complete(&pending, &redirect) {
        Err(SignInError::Entra {
            error, description, ..
        }) => {
            assert_eq!(error, "access_denied");
            assert!(description.contains("AADSTS65004"));
        }
        other => panic!("{other:?}"),
    }
    env.stop().await;
}
