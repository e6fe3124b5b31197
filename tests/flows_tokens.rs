//! A long apply survives its token (issue 11 §5), against the emulator:
//! tokens taken per request from one shared cache and renewed through the
//! refresh token before they expire, a 401 renewed once and the request
//! sent again, one renewal however many callers ask at once, and
//! `Retry-After` honoured as Microsoft sends it (up to 10 minutes) and shown
//! while the page waits.

mod flows_support;

use core::cell::Cell;
use core::ops::ControlFlow;

use entra_emulator::faults::FaultConfig;
use entra_wizard::api_error::{ApiError, Service};
use entra_wizard::auth::source::SharedTokens;
use entra_wizard::flows::new_app::{self, NewApplication};
use entra_wizard::http::{
    HttpClient, HttpRequest, HttpResponse, Method, RetryReason, TransportError,
};
use entra_wizard::plan::execute::ApplyError;
use entra_wizard::plan::{self, Event, Finish, Plan, StepError};
use entra_wizard::{arm, graph, profiles};
use flows_support::*;

/// Tokens last an hour; past this, every token issued before has expired.
const PAST_EXPIRY: i64 = 3700;

/// An F1 plan (azure-backup: an application, its service principal, three
/// roles on Production).
fn f1(env: &Env, name: &str) -> Plan {
    let input = NewApplication {
        display_name: name.into(),
        description: None,
        profile: profiles::by_id("azure-backup").unwrap(),
        certificate_der: certificate(name, env.now()).der().to_vec(),
        redirect_uri: None,
        subscription: Some(production()),
    };
    new_app::plan(&input, env.now(), &mut rand_core::OsRng).unwrap()
}

/// Applies `plan`, calling `during` on every event; the events and how it
/// ended.
async fn apply<C: HttpClient>(
    api: &entra_wizard::client::ApiClient<'_, C, ClockSleeper<'_>>,
    plan: &Plan,
    during: &mut dyn FnMut(&Event),
) -> (Vec<Event>, Result<Finish, ApplyError>) {
    let mut progress = plan.start();
    let mut events = Vec::new();
    let out = plan::apply(api, plan, &mut progress, &mut |e, _| {
        during(e);
        events.push(e.clone());
        ControlFlow::Continue(())
    })
    .await;
    (events, out)
}

fn statuses(log: &[serde_json::Value], method: &str, path_part: &str) -> Vec<u64> {
    log.iter()
        .filter(|e| e["method"] == method && e["path"].as_str().unwrap().contains(path_part))
        .map(|e| e["status"].as_u64().unwrap())
        .collect()
}

/// The roles assigned to the service principal of the one application
/// called `name`.
fn connection_roles(state: &serde_json::Value, name: &str) -> Vec<String> {
    let apps = apps_named(state, name);
    assert_eq!(apps.len(), 1, "exactly one application '{name}'");
    let sps = sps_for(state, apps[0]["appId"].as_str().unwrap());
    assert_eq!(sps.len(), 1, "exactly one service principal");
    role_ids_of(state, sps[0]["id"].as_str().unwrap())
}

#[tokio::test]
async fn an_apply_outlives_its_token_renewing_it_once_per_api() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let tokens = SharedTokens::new(env.signed_in("admin").await);
    let source = env.token_source(&http, &sleeper, &tokens, || env.now());
    let api = env.api_with(&http, &sleeper, &source);
    let plan = f1(&env, "Long Apply");
    env.clear_requests().await;

    // The hour passes after the first step (the application is created):
    // every token the page holds has expired at Microsoft.
    let (events, finish) = apply(&api, &plan, &mut |e| {
        if let Event::Done { index: 0, .. } = e {
            env.emulator.emulator.clock.advance(PAST_EXPIRY);
        }
    })
    .await;
    assert_eq!(finish.unwrap_or_else(|e| panic!("{e}")), Finish::Completed);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Done { .. }))
            .count(),
        plan.steps.len()
    );

    // Renewed before sending, never refused: one refresh for Graph (its
    // token expired) and one for ARM (first needed after the hour).
    let log = env.log().await;
    assert!(
        log.iter().all(|e| e["status"] != 401),
        "no request went out with an expired token"
    );
    let e = env.endpoints();
    assert_eq!(
        env.refreshes().await,
        [
            format!("{} offline_access", e.graph_default_scope()),
            format!("{} offline_access", e.arm_user_impersonation()),
        ]
    );
    assert_eq!(tokens.refreshes(), 2);
    let state = env.state().await;
    assert_eq!(
        connection_roles(&state, "Long Apply").len(),
        3,
        "every role assigned after the renewal"
    );
    env.stop().await;
}

/// The create of an application: its upsert by uniqueName.
const CREATE: &str = "/v1.0/applications(uniqueName=";

/// Moves the emulator's clock past every token's expiry just before each
/// of the first `times` creates of an application (the page's clock does not
/// move: to the page the token is still valid).
struct ExpireBeforeCreate<'e> {
    inner: &'e Native,
    env: &'e Env,
    times: Cell<u32>,
}

impl HttpClient for ExpireBeforeCreate<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if request.method == Method::Patch && request.url.contains(CREATE) && self.times.get() > 0 {
            self.times.set(self.times.get() - 1);
            self.env.emulator.emulator.clock.advance(PAST_EXPIRY);
        }
        self.inner.send(request).await
    }
}

/// Applies F1 `name` as admin while Microsoft refuses the page's Graph
/// token at each of the first `times` creates; the page's clock stands
/// still, so only the 401 tells it. The request log starts with the apply.
async fn apply_refused(env: &Env, name: &str, times: u32) -> Result<Finish, ApplyError> {
    let native = Native::default();
    let http = ExpireBeforeCreate {
        inner: &native,
        env,
        times: Cell::new(times),
    };
    let sleeper = env.sleeper();
    let tokens = SharedTokens::new(env.signed_in("admin").await);
    let page_clock = env.now();
    let source = env.token_source(&http, &sleeper, &tokens, move || page_clock);
    let api = env.api_with(&http, &sleeper, &source);
    let plan = f1(env, name);
    env.clear_requests().await;
    apply(&api, &plan, &mut |_| {}).await.1
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_create_sent_again_without_a_duplicate() {
    let env = Env::demo().await;
    let finish = apply_refused(&env, "Refused Once", 1).await;
    assert_eq!(finish.unwrap_or_else(|e| panic!("{e}")), Finish::Completed);

    let log = env.log().await;
    let creates = statuses(&log, "PATCH", CREATE);
    assert_eq!(creates, [401, 201], "refused, renewed, sent again once");
    let refused = log.iter().find(|e| e["status"] == 401).unwrap()["requestBody"].clone();
    let again = log
        .iter()
        .rfind(|e| e["method"] == "PATCH" && e["path"].as_str().unwrap().contains(CREATE))
        .unwrap()["requestBody"]
        .clone();
    assert_eq!(refused, again, "the same request");
    assert_eq!(env.refreshes().await.len(), 2, "Graph once, ARM once");
    assert_eq!(
        env.refreshes().await[0],
        format!("{} offline_access", env.endpoints().graph_default_scope())
    );
    let state = env.state().await;
    assert_eq!(connection_roles(&state, "Refused Once").len(), 3);
    env.stop().await;
}

#[tokio::test]
async fn a_second_401_stops_the_step_and_says_sign_in_again() {
    let env = Env::demo().await;
    let finish = apply_refused(&env, "Refused Twice", 2).await;
    let Err(ApplyError::Step(failure)) = finish else {
        panic!("{finish:?}")
    };
    let StepError::Api(ApiError::Service(refusal)) = &failure.error else {
        panic!("{:?}", failure.error)
    };
    assert_eq!(
        (refusal.status, refusal.code.as_str()),
        (401, "InvalidAuthenticationToken")
    );
    assert!(
        failure.what_to_do.contains("Sign in again"),
        "{}",
        failure.what_to_do
    );
    let log = env.log().await;
    assert_eq!(statuses(&log, "PATCH", CREATE), [401, 401]);
    assert_eq!(
        env.refreshes().await.len(),
        1,
        "renewed once, not in a loop"
    );
    assert!(apps_named(&env.state().await, "Refused Twice").is_empty());
    env.stop().await;
}

#[tokio::test]
async fn the_subscriptions_loader_and_an_apply_share_one_renewal() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let tokens = SharedTokens::new(env.signed_in("admin").await);
    // Two clients over one cache, as the subscription field and the apply
    // hold them.
    let loader_source = env.token_source(&http, &sleeper, &tokens, || env.now());
    let loader = env.api_with(&http, &sleeper, &loader_source);
    let applying_source = env.token_source(&http, &sleeper, &tokens, || env.now());
    let applying = env.api_with(&http, &sleeper, &applying_source);
    env.emulator.emulator.clock.advance(PAST_EXPIRY);
    env.clear_requests().await;

    let (subscriptions, also, me) = tokio::join!(
        arm::list_subscriptions(&loader),
        arm::list_subscriptions(&applying),
        graph::me(&applying),
    );
    assert_eq!(subscriptions.unwrap().len(), 2);
    assert_eq!(also.unwrap().len(), 2);
    assert!(
        me.unwrap()
            .user_principal_name
            .is_some_and(|upn| upn.starts_with("admin@"))
    );
    let e = env.endpoints();
    let mut refreshes = env.refreshes().await;
    refreshes.sort();
    assert_eq!(
        refreshes,
        [
            format!("{} offline_access", e.graph_default_scope()),
            format!("{} offline_access", e.arm_user_impersonation()),
        ],
        "one renewal per API for three callers"
    );
    // Both still read the same, renewed cache: no further renewal.
    env.clear_requests().await;
    graph::organization(&loader).await.unwrap();
    assert!(env.refreshes().await.is_empty());
    assert_eq!(tokens.refreshes(), 2);
    env.stop().await;
}

/// A demo tenant whose first Graph or ARM request is throttled with a
/// `Retry-After` of `retry_after_ms`.
async fn throttled_once(retry_after_ms: u64) -> Env {
    Env::start(FaultConfig {
        next429: 1,
        retry_after_ms: Some(retry_after_ms),
        ..FaultConfig::default()
    })
    .await
}

#[tokio::test]
async fn a_two_minute_retry_after_is_waited_as_sent_and_shown_while_waiting() {
    let env = throttled_once(120_000).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let tokens = SharedTokens::new(env.signed_in("admin").await);
    let source = env.token_source(&http, &sleeper, &tokens, || env.now());
    let api = env.api_with(&http, &sleeper, &source);
    let plan = f1(&env, "Throttled Long");
    let waits_seen = Cell::new(None);
    let (events, finish) = apply(&api, &plan, &mut |e| {
        if let Event::Retrying { .. } = e {
            waits_seen.set(Some(sleeper.delays.borrow().len()));
        }
    })
    .await;
    assert_eq!(finish.unwrap_or_else(|e| panic!("{e}")), Finish::Completed);

    assert_eq!(*sleeper.delays.borrow(), [120_000], "not capped at 30 s");
    let notices: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Retrying { index, notice } => Some((*index, notice.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(notices.len(), 1);
    let (index, notice) = &notices[0];
    assert_eq!(*index, 0);
    assert_eq!(
        (
            notice.reason,
            notice.status,
            notice.wait_ms,
            notice.service.as_deref(),
            notice.retry_after
        ),
        (
            RetryReason::Throttled,
            429,
            120_000,
            Some("Microsoft Graph"),
            true
        )
    );
    assert_eq!(
        notice.to_string(),
        "waiting 2 min (throttled by Microsoft Graph)"
    );
    // Reported as the wait started, before the step was done.
    assert_eq!(waits_seen.get(), Some(1));
    let retrying = events
        .iter()
        .position(|e| matches!(e, Event::Retrying { .. }))
        .unwrap();
    let done = events
        .iter()
        .position(|e| matches!(e, Event::Done { index: 0, .. }))
        .unwrap();
    assert!(retrying < done);
    assert_eq!(
        connection_roles(&env.state().await, "Throttled Long").len(),
        3
    );
    env.stop().await;
}

#[tokio::test]
async fn a_retry_after_beyond_ten_minutes_stops_the_step_saying_when_to_resume() {
    let env = throttled_once(15 * 60_000).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let tokens = SharedTokens::new(env.signed_in("admin").await);
    let source = env.token_source(&http, &sleeper, &tokens, || env.now());
    let api = env.api_with(&http, &sleeper, &source);
    let plan = f1(&env, "Throttled Too Long");
    let (_, finish) = apply(&api, &plan, &mut |_| {}).await;
    let Err(ApplyError::Step(failure)) = finish else {
        panic!("{finish:?}")
    };
    let StepError::Api(ApiError::WaitTooLong {
        service,
        wait_ms,
        resume_at,
        ..
    }) = &failure.error
    else {
        panic!("{:?}", failure.error)
    };
    assert_eq!((*service, *wait_ms), (Service::Graph, 900_000));
    // The response's Date (the server's clock) plus 15 minutes.
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        (real_now + 890..=real_now + 910).contains(&resume_at.0),
        "{resume_at:?}"
    );
    let when = resume_at
        .to_rfc3339()
        .replace('T', " ")
        .replace('Z', " UTC");
    assert_eq!(
        failure.to_string(),
        format!(
            "Step 1 failed — {}: Microsoft Graph asked to wait 15 min before the next request \
             (Retry-After), longer than the 10 min this page waits. Apply again after {when}: \
             completed steps are not repeated.",
            failure.sentence
        )
    );
    assert!(
        failure
            .what_to_do
            .contains(&format!("Apply again after {when}"))
    );
    assert!(sleeper.delays.borrow().is_empty(), "the page did not wait");
    assert!(apps_named(&env.state().await, "Throttled Too Long").is_empty());
    env.stop().await;
}
