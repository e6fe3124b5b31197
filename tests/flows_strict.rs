//! The page against an emulator as strict as Graph (emulator/tests/strict.rs):
//! what the page's own calls meet where Entra and Graph refuse more than a
//! lenient emulator would.

mod flows_support;

use entra_emulator::lock;
use entra_emulator::state::Group;

use entra_wizard::api_error::{ApiError, Service};
use entra_wizard::core::key_credential::{self, KeyCredential};
use entra_wizard::flows::new_app;
use entra_wizard::graph;
use entra_wizard::http::{
    HttpClient, HttpRequest, HttpResponse, Method, RetryReason, TransportError,
};
use entra_wizard::plan::{Plan, preflight};
use flows_support::{
    Env, GRAPH_APP_ID, Native, apply_hearing_retries, apps_named, certificate, grants_of,
    role_ids_of, sps_for,
};

/// What `fetch` in the page gives: requests carry the page's `Origin`, and a
/// response without `Access-Control-Allow-Origin` is a network error (a
/// `TypeError`), its status unseen (https://fetch.spec.whatwg.org/#cors-check).
#[derive(Default)]
struct BrowserFetch {
    inner: Native,
}

/// The headers a cross-origin page can read: the CORS-safelisted ones and
/// those in `Access-Control-Expose-Headers`
/// (https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name).
fn exposed_only(mut response: HttpResponse) -> HttpResponse {
    let exposed: Vec<String> = response
        .header("Access-Control-Expose-Headers")
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    const SAFELISTED: [&str; 7] = [
        "cache-control",
        "content-language",
        "content-length",
        "content-type",
        "expires",
        "last-modified",
        "pragma",
    ];
    response.headers.retain(|(k, _)| {
        let k = k.to_ascii_lowercase();
        SAFELISTED.contains(&k.as_str()) || exposed.contains(&k)
    });
    response
}

impl HttpClient for BrowserFetch {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = request.url.clone();
        let response = self
            .inner
            .send(request.header("Origin", "http://localhost:8080"))
            .await?;
        match response.header("Access-Control-Allow-Origin") {
            Some(_) => Ok(exposed_only(response)),
            None => Err(TransportError {
                url,
                detail: "TypeError: Failed to fetch".into(),
            }),
        }
    }
}

/// Narrows what the page's sign-in client is consented to on Graph.
fn consent_only(env: &Env, scope: &str) {
    let mut dir = lock(&env.emulator.emulator.dir);
    let graph = dir.sp_by_app_id(GRAPH_APP_ID).unwrap().body["id"]
        .as_str()
        .unwrap()
        .to_string();
    for g in dir.oauth2_permission_grants.iter_mut() {
        if g["resourceId"] == graph.as_str() {
            g["scope"] = serde_json::json!(scope);
        }
    }
}

// https://learn.microsoft.com/en-us/graph/api/user-list-memberof#permissions
// (User.Read suffices, but a directoryRole then comes back with only
// `@odata.type` and `id`).
#[tokio::test]
async fn pre_flight_with_only_user_read_stops_rather_than_concluding_no_role() {
    let env = Env::demo().await;
    consent_only(&env, "User.Read offline_access openid profile");
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "appadmin").await;
    // /me still answers with User.Read.
    assert_eq!(
        graph::me(&api)
            .await
            .unwrap()
            .user_principal_name
            .as_deref(),
        Some("appadmin@contoso.onmicrosoft.com")
    );
    // The roles come limited: the page does not read "no role" into it
    // (which would block the admin with a wrong reason) but stops, saying
    // which consent its sign-in lacks.
    let err = preflight::fetch_rights(&api, &[]).await.unwrap_err();
    assert!(
        matches!(
            &err,
            ApiError::ConsentNeeded {
                service: Service::Graph,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("the page's sign-in needs Directory.Read.All consented"),
        "{message}"
    );
    // Without User.Read even /me is refused, as Graph refuses it.
    consent_only(&env, "offline_access openid profile");
    let api = env.api(&http, &sleeper, "appadmin").await;
    let err = graph::me(&api).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err:?}");
    env.stop().await;
}

// https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof
// https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/groups-concept
// A directory role held through a role-assignable group is listed in
// /me/transitiveMemberOf, not in /me/memberOf; it counts all the same.
#[tokio::test]
async fn a_role_held_through_a_role_assignable_group_passes_pre_flight() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let profile = entra_wizard::profiles::by_id("restore-portal").unwrap();
    let input = entra_wizard::flows::new_app::NewApplication {
        display_name: "Restore portal".into(),
        description: None,
        profile,
        certificate_der: certificate("Restore portal", env.now()).der().to_vec(),
        redirect_uri: None,
        subscription: None,
    };
    let plan =
        entra_wizard::flows::new_app::plan(&input, env.now(), &mut rand_core::OsRng).unwrap();
    let needs_app_admin = |missing: &[preflight::Missing]| {
        missing
            .iter()
            .any(|m| m.message.contains("Application Administrator"))
    };

    // Without a role, the reader is stopped for the missing role.
    let api = env.api(&http, &sleeper, "reader").await;
    let missing = preflight::run(&api, &plan).await.unwrap();
    assert!(needs_app_admin(&missing), "{missing:?}");

    // In a role-assignable group holding Application Administrator.
    lock(&env.emulator.emulator.dir).groups.push(Group {
        id: "6c1f0e2d-5a4b-4c3d-9e8f-7a6b5c4d3e21".into(),
        display_name: "App administrators".into(),
        is_assignable_to_role: true,
        members: vec![entra_emulator::seed::READER_ID.into()],
        directory_roles: vec![preflight::directory_roles::APPLICATION_ADMINISTRATOR.into()],
    });
    let api = env.api(&http, &sleeper, "reader").await;
    let rights = preflight::fetch_rights(&api, &[]).await.unwrap();
    assert_eq!(
        rights.directory_roles,
        [preflight::directory_roles::APPLICATION_ADMINISTRATOR]
    );
    let missing = preflight::run(&api, &plan).await.unwrap();
    assert!(missing.is_empty(), "{missing:?}");
    env.stop().await;
}

// https://learn.microsoft.com/en-us/graph/api/application-update
// https://github.com/Azure/azure-powershell/issues/6784 (KeyNotUpdatable)
#[tokio::test]
async fn renewal_sends_every_kept_certificate_with_its_key_so_graph_keeps_it() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let app = env.seed["serviceApps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["scenario"] == "missing-roles")
        .unwrap();
    let object_id = app["objectId"].as_str().unwrap();
    let existing = graph::get_key_credentials(&api, object_id).await.unwrap();
    assert_eq!(existing.len(), 1);
    assert!(
        existing[0].key.is_some(),
        "read with $select=keyCredentials"
    );

    // Add a certificate, keep the old one: the whole collection goes back.
    let cert = certificate("renewed", env.now());
    let new = KeyCredential::for_certificate(&cert).unwrap();
    let keys = key_credential::merge(&existing, new, &[]).unwrap();
    http.log.lock().unwrap().clear();
    graph::set_key_credentials(&api, object_id, &keys)
        .await
        .unwrap();
    let sent: serde_json::Value =
        serde_json::from_slice(&http.log.lock().unwrap()[0].body).unwrap();
    let sent = sent["keyCredentials"].as_array().unwrap();
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter().all(|k| k["key"].is_string()),
        "never a key-less entry, whose changes Graph refuses: {sent:?}"
    );
    let after = graph::get_key_credentials(&api, object_id).await.unwrap();
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].key_id, existing[0].key_id);
    assert_eq!(after[0].key, existing[0].key);
    env.stop().await;
}

// A 502/503/504 from a gateway in front of Graph has no CORS headers
// (emulator fault `gateway=N`), so the page's fetch sees a transport error,
// not the status its retry policy classifies; the same request sent again
// succeeds. The page sends a read again after a transport error, with the
// 5xx backoff (src/client.rs), and reports the wait.
#[tokio::test]
async fn a_gateway_error_reaches_the_page_as_a_transport_error_and_a_resend_succeeds() {
    let env = Env::demo().await;
    let http = BrowserFetch::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    assert!(graph::me(&api).await.is_ok(), "CORS passes normally");
    env.emulator.emulator.faults.lock().unwrap().config.gateway = 1;
    // What the page's fetch sees: no status, a TypeError.
    let direct = http
        .send(HttpRequest::get(format!(
            "{}/me",
            env.endpoints().graph_v1()
        )))
        .await
        .unwrap_err();
    assert!(direct.detail.contains("TypeError"), "{direct:?}");
    // Through the client: sent again after the backoff, and it succeeds.
    env.emulator.emulator.faults.lock().unwrap().config.gateway = 1;
    api.take_retries();
    assert!(
        graph::me(&api).await.is_ok(),
        "retried after a transport error"
    );
    let retries = api.take_retries();
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(
        (retries[0].reason, retries[0].status),
        (RetryReason::Network, 0)
    );
    assert!(
        retries[0]
            .to_string()
            .contains("network error or a gateway answer"),
        "{}",
        retries[0]
    );
    // A POST is not sent again by the client (it may have been carried
    // out): the error goes to the caller, which looks up before creating.
    env.emulator.emulator.faults.lock().unwrap().config.gateway = 1;
    let err = graph::create_service_principal(&api, "00000000-0000-0000-0000-00000000beef")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::Transport(t) if t.detail.contains("TypeError")),
        "{err:?}"
    );
    assert_eq!(api.take_unanswered_post(), Some(Service::Graph));
    assert!(graph::me(&api).await.is_ok());
    env.stop().await;
}

/// An F1 plan that sends every kind of create: the application, its
/// service principal, a Graph app role, a delegated grant, Azure roles.
fn f1_with_every_create(name: &str, env: &Env) -> Plan {
    let mut profile = entra_wizard::profiles::by_id("azure-backup").unwrap();
    profile
        .resources
        .push(entra_wizard::profiles::ResourcePermissions {
            resource_app_id: GRAPH_APP_ID.into(),
            display_name: "Microsoft Graph".into(),
            application_permissions: vec!["Application.Read.All".into()],
            delegated_permissions: vec!["User.Read".into()],
        });
    let input = new_app::NewApplication {
        display_name: name.into(),
        description: None,
        profile,
        certificate_der: certificate(name, env.now()).der().to_vec(),
        redirect_uri: None,
        subscription: Some(flows_support::production()),
    };
    new_app::plan(&input, env.now(), &mut rand_core::OsRng).unwrap()
}

/// One application named `name`, one service principal, one Graph app role
/// assignment and one delegated grant.
async fn assert_one_of_each(env: &Env, name: &str) {
    let state = &env.state().await;
    let apps = apps_named(state, name);
    assert_eq!(apps.len(), 1, "exactly one application '{name}'");
    let sps = sps_for(state, apps[0]["appId"].as_str().unwrap());
    assert_eq!(sps.len(), 1, "exactly one service principal");
    let sp_id = sps[0]["id"].as_str().unwrap();
    let dir = lock(&env.emulator.emulator.dir);
    let assignments = dir.app_role_assignments.iter();
    assert_eq!(
        assignments.filter(|a| a["principalId"] == sp_id).count(),
        1,
        "one Graph app role assignment"
    );
    assert_eq!(grants_of(state, sp_id).len(), 1, "one delegated grant");
    assert_eq!(role_ids_of(state, sp_id).len(), 3, "the three Azure roles");
}

/// What the page's fetch gives, with the gateway answering the next
/// `faults` Graph or ARM requests from the first POST or PATCH to each
/// address on:
/// the create and what follows it meet 502/503/504s the browser cannot read.
struct GatewayFromEveryPost<'e> {
    inner: BrowserFetch,
    env: &'e Env,
    faults: u32,
    armed: std::sync::Mutex<Vec<String>>,
}

impl HttpClient for GatewayFromEveryPost<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let first_post = {
            let mut armed = self.armed.lock().unwrap();
            // The creates: POSTs, and the application's upsert (a PATCH).
            let first = matches!(request.method, Method::Post | Method::Patch)
                && !request.url.contains("/oauth2/")
                && !armed.contains(&request.url);
            if first {
                armed.push(request.url.clone());
            }
            first
        };
        if first_post {
            self.env
                .emulator
                .emulator
                .faults
                .lock()
                .unwrap()
                .config
                .gateway = self.faults;
        }
        self.inner.send(request).await
    }
}

// An F1 apply through gateway errors: reads are sent again, POSTs are not
// (the step runs again and looks up first), and nothing is made twice.
#[tokio::test]
async fn an_f1_apply_through_gateway_errors_makes_one_application_and_one_service_principal() {
    let env = Env::demo().await;
    let http = GatewayFromEveryPost {
        inner: BrowserFetch::default(),
        env: &env,
        faults: 2,
        armed: Default::default(),
    };
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let plan = f1_with_every_create("Behind a gateway", &env);
    env.emulator.emulator.faults.lock().unwrap().config.gateway = 2;
    let retries = apply_hearing_retries(&api, &plan).await;
    assert_one_of_each(&env, "Behind a gateway").await;
    // Only network retries: the application's create is an upsert, sent
    // again as is, and nothing the gateway stopped was carried out, so no
    // step had to look for an object in lagging lists.
    let (network, other): (Vec<_>, Vec<_>) = retries
        .iter()
        .partition(|n| n.reason == RetryReason::Network && n.status == 0);
    assert!(other.is_empty(), "{retries:?}");
    // The first read and each POST met 2 gateway answers.
    let posts = http.armed.lock().unwrap().len();
    assert_eq!(posts, 4, "application, service principal, app role, grant");
    assert_eq!(network.len(), 2 * (1 + posts), "{retries:?}");
    env.stop().await;
}

/// What the page's fetch gives when the answer of each Graph create (the
/// POSTs, and the application's upsert) is lost once after Graph carried it
/// out (the connection dropped on the way back).
#[derive(Default)]
struct LosePostAnswers {
    inner: BrowserFetch,
    lost: std::sync::Mutex<Vec<String>>,
}

impl HttpClient for LosePostAnswers {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let (url, method) = (request.url.clone(), request.method);
        let response = self.inner.send(request).await?;
        let mut lost = self.lost.lock().unwrap();
        let create = method == Method::Post || url.contains("/applications(uniqueName=");
        if create && url.contains("/v1.0/") && !lost.contains(&url) {
            lost.push(url.clone());
            return Err(TransportError {
                url,
                detail: "TypeError: Failed to fetch".into(),
            });
        }
        Ok(response)
    }
}

// A create carried out whose answer never came: the upsert is sent again
// and updates what the lost one made; the other steps run again and find
// what their lost request made (Graph's "already exists"). Nothing twice.
#[tokio::test]
async fn an_f1_apply_whose_create_answers_are_lost_makes_nothing_twice() {
    let env = Env::demo().await;
    let http = LosePostAnswers::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let plan = f1_with_every_create("Lost on the way back", &env);
    let retries = apply_hearing_retries(&api, &plan).await;
    assert_one_of_each(&env, "Lost on the way back").await;
    assert_eq!(
        http.lost.lock().unwrap().len(),
        4,
        "application, service principal, app role, grant"
    );
    assert_eq!(retries.len(), 4, "{retries:?}");
    env.stop().await;
}

// ARM answers RoleDefinitionDoesNotExist for a custom role that has not
// replicated yet (emulator fault `replication`, emulator/tests/strict.rs);
// the m365-archiver plan creates its role and assigns it at once, so the
// page waits for the role it has just made (src/http.rs `Replicating`).
// https://github.com/Azure/terraform-azurerm-caf-enterprise-scale/wiki/Troubleshooting
#[tokio::test]
async fn a_custom_role_assigned_right_after_its_creation_waits_for_replication() {
    let env = Env::start(entra_emulator::faults::FaultConfig {
        replication_ms: 3000,
        ..Default::default()
    })
    .await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let profile = entra_wizard::profiles::by_id("m365-archiver").unwrap();
    let plan = entra_wizard::flows::roles::plan(
        "d8b0490d-823f-46df-8680-25017029384a",
        &profile,
        &flows_support::production(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    let mut progress = plan.start();
    let mut waits = Vec::new();
    let result = entra_wizard::plan::apply(&api, &plan, &mut progress, &mut |e, _| {
        if let entra_wizard::plan::Event::Retrying { notice, .. } = e {
            waits.push(notice.reason);
        }
        core::ops::ControlFlow::Continue(())
    })
    .await;
    assert_eq!(
        result.unwrap_or_else(|e| panic!("{e}")),
        entra_wizard::plan::Finish::Completed
    );
    assert!(
        waits.contains(&entra_wizard::http::RetryReason::Replication),
        "{waits:?}"
    );
    // One role definition, assigned once.
    let role_name = &profile.custom_role.as_ref().unwrap().role_name;
    {
        let dir = lock(&env.emulator.emulator.dir);
        let definitions: Vec<&serde_json::Value> = dir
            .custom_roles
            .iter()
            .filter(|d| d["properties"]["roleName"] == role_name.as_str())
            .collect();
        assert_eq!(definitions.len(), 1, "{definitions:?}");
        let guid = definitions[0]["name"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase();
        let assignments: Vec<_> = dir
            .role_assignments
            .iter()
            .filter(|a| a.role_definition_id.to_ascii_lowercase().ends_with(&guid))
            .collect();
        assert_eq!(assignments.len(), 1, "{assignments:?}");
    }
    env.stop().await;
}

// Graph sends Retry-After but does not expose it to a cross-origin page
// (https://github.com/microsoftgraph/microsoft-graph-docs/issues/17488): in
// the browser the page's client never sees Graph's two minutes and waits its
// own back-off instead. Finding: the long-Retry-After handling (tests/
// flows_tokens.rs) holds for ARM and native clients, not for Graph in a browser.
#[tokio::test]
async fn in_a_browser_graphs_retry_after_is_unreadable_and_the_page_backs_off_on_its_own() {
    let env = Env::start(entra_emulator::faults::FaultConfig {
        next429: 1,
        retry_after_ms: Some(120_000),
        ..Default::default()
    })
    .await;
    let http = BrowserFetch::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    assert!(graph::me(&api).await.is_ok(), "retried after a 429");
    let waits = sleeper.delays.borrow().clone();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(
        waits[0] < 120_000,
        "Graph's Retry-After was not readable: {waits:?}"
    );
    env.stop().await;
}
