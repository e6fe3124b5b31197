//! The review shows, for every step, the requests behind it: this checks
//! against the in-process emulator that what the emulator logged for each
//! step is exactly that step's preview (method, path and query, body, with
//! secrets and key bytes redacted on both sides by `http::redact`), for
//! plans that cover every step kind. A preview that drifts from the request
//! its step sends fails here.

mod flows_support;

use core::ops::ControlFlow;
use std::collections::BTreeSet;

use entra_wizard::flows::new_app::{self, NewApplication};
use entra_wizard::flows::renew;
use entra_wizard::flows::restore_portal::{self, PortalApplication, RestorePortal};
use entra_wizard::flows::roles;
use entra_wizard::graph;
use entra_wizard::http::{HttpClient, RequestPreview, preview_matches};
use entra_wizard::plan::{self, Event, Finish, Outcome, Plan, Progress};
use entra_wizard::profiles::{self, Profile};
use flows_support::*;
use serde_json::json;

/// Every kind of step there is (`Step::kind`).
const KINDS: [&str; 12] = [
    "createApplication",
    "findApplication",
    "addRequiredPermissions",
    "createServicePrincipal",
    "registerCertificate",
    "addSpaRedirectUri",
    "exposeApi",
    "grantAppRoles",
    "grantDelegated",
    "ensureCustomRole",
    "assignRole",
    "removeKeyCredential",
];

/// Applies `plan` in one go and compares, step by step, the requests the
/// emulator logged with the step's preview made from the progress the step
/// started with. A step that changed something sent exactly its preview; a
/// step that found its effect already made sent the first of them, in
/// order. Returns the kinds whose preview was matched request for request.
async fn sent_is_previewed<C: HttpClient>(
    env: &Env,
    http: &Native,
    api: &entra_wizard::client::ApiClient<'_, C, ClockSleeper<'_>>,
    plan: &Plan,
) -> BTreeSet<&'static str> {
    env.clear_requests().await;
    let first = http.log.lock().unwrap().len();
    let mut starts: Vec<(usize, usize, Progress)> = Vec::new();
    let mut outcomes = vec![None; plan.steps.len()];
    let mut progress = plan.start();
    let finish = plan::apply(api, plan, &mut progress, &mut |e, p| {
        match e {
            Event::Started { index, .. } => {
                starts.push((*index, http.log.lock().unwrap().len() - first, p.clone()))
            }
            Event::Done { index, record } => outcomes[*index] = record.outcome,
            _ => {}
        }
        ControlFlow::Continue(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(finish, Finish::Completed);
    let logged = env.logged_requests().await;
    assert_eq!(
        logged.len(),
        http.log.lock().unwrap().len() - first,
        "the emulator logged each request once (no retries in this world)"
    );
    let mut exact = BTreeSet::new();
    for (n, (index, from, before)) in starts.iter().enumerate() {
        let to = starts.get(n + 1).map_or(logged.len(), |s| s.1);
        let sent = &logged[*from..to];
        let step = &plan.steps[*index];
        let preview = plan.preview(*index, &env.endpoints(), Some(before));
        let context = || {
            format!(
                "step {index} ({}): sent {sent:#?}\npreviewed {preview:#?}",
                step.sentence()
            )
        };
        let matched = |p: &[RequestPreview]| {
            p.len() == sent.len() && p.iter().zip(sent).all(|(p, s)| preview_matches(p, s))
        };
        if outcomes[*index] == Some(Outcome::Changed) || sent.len() == preview.len() {
            assert!(matched(&preview), "{}", context());
            exact.insert(step.kind());
        } else {
            assert_eq!(
                outcomes[*index],
                Some(Outcome::AlreadyDone),
                "{}",
                context()
            );
            assert!(matched(&preview[..sent.len()]), "{}", context());
        }
    }
    exact
}

/// A profile with every part: Graph app role and delegated permission, an
/// exposed scope, a spa redirect, a custom role and a built-in role.
fn everything() -> Profile {
    let mut p = profiles::load_custom(&format!(
        r#"{{"id": "everything", "displayName": "Everything",
            "resources": [{{"resourceAppId": "{GRAPH_APP_ID}", "displayName": "Microsoft Graph",
              "applicationPermissions": ["Application.Read.All"],
              "delegatedPermissions": ["User.Read"]}}],
            "azureRoles": ["Contributor"], "exposeScope": "access_as_user", "spaRedirect": true}}"#
    ))
    .unwrap()
    .remove(0);
    p.custom_role = profiles::by_id("m365-archiver").unwrap().custom_role;
    p
}

#[tokio::test]
async fn every_step_sends_what_its_preview_shows() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let rng = &mut rand_core::OsRng;
    let mut covered = BTreeSet::new();

    // F1 with every part: a new application and what it is given.
    let f1 = new_app::plan(
        &NewApplication {
            display_name: "Preview O'Brien".into(),
            description: Some("Checks previews".into()),
            profile: everything(),
            certificate_der: certificate("Preview", env.now()).der().to_vec(),
            redirect_uri: Some("https://portal.contoso.com:4443".into()),
            subscription: Some(production()),
        },
        env.now(),
        rng,
    )
    .unwrap();
    covered.extend(sent_is_previewed(&env, &http, &api, &f1).await);

    // F5 on an existing bare application (no service principal, nothing
    // granted): the steps that read and PATCH whole collections.
    let bare = graph::create_application(
        &api,
        &json!({"displayName": "Bare portal", "signInAudience": "AzureADMyOrg"}),
    )
    .await
    .unwrap();
    let (f5, _) = restore_portal::plan(
        &RestorePortal {
            application: PortalApplication::Existing {
                app_id: bare.app_id.clone(),
            },
            certificate_der: certificate("Portal", env.now()).der().to_vec(),
            portal_address: "https://portal.contoso.com:4443".into(),
        },
        env.now(),
        rng,
    )
    .unwrap();
    covered.extend(sent_is_previewed(&env, &http, &api, &f5).await);

    // F4 on the demo application missing two roles: an existing service
    // principal, its role list read once for the three roles.
    let f4 = roles::plan(
        "d8b0490d-823f-46df-8680-25017029384a",
        &profiles::by_id("azure-backup").unwrap(),
        &production(),
        rng,
    )
    .unwrap();
    covered.extend(sent_is_previewed(&env, &http, &api, &f4).await);

    // F6 on the demo application whose certificate expired: the new
    // certificate registered, then the expired key removed (a
    // whole-collection PATCH each).
    let expired = env.seed["serviceApps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["scenario"] == "expired-certificate")
        .unwrap()["thumbprint"]
        .as_str()
        .unwrap()
        .to_string();
    let target = renew::read(&expired).unwrap();
    let found = match renew::find(&api, &target, &env.tenant_id(), &[])
        .await
        .unwrap()
    {
        renew::Search::Found(mut f) => f.remove(0),
        renew::Search::NotFound(n) => panic!("{n}"),
    };
    let renewed = certificate("Renewed", env.now());
    let f6 = renew::renew_plan(
        &found,
        &renewed,
        &renew::read_policy(&api, &found).await,
        env.now(),
        rng,
    )
    .unwrap();
    covered.extend(sent_is_previewed(&env, &http, &api, &f6).await);
    let removal = renew::removal_plan(&found, Some(&renewed.info().unwrap().sha1), rng).unwrap();
    covered.extend(sent_is_previewed(&env, &http, &api, &removal).await);

    let missing: Vec<&str> = KINDS.into_iter().filter(|k| !covered.contains(k)).collect();
    assert!(missing.is_empty(), "step kinds never checked: {missing:?}");
    env.stop().await;
}
