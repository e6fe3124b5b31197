//! Bulk renewal (issue 10 §3, §6) against the in-process emulator: secrets
//! renewed through `$batch` under random 429s, 503s, 5xx after the change
//! and lost answers end with exactly one new secret per application, then
//! the removal plan removes the old ones; a policy that forbids secrets
//! refuses those items by name; certificates are registered once each,
//! the other keys kept; pause, cancel and resume from a saved RunState,
//! including a reload while a batch was in flight; the requests a run
//! sends are what batching allows; a throttled run keeps the tenant's write
//! quota busy.

mod flows_support;

use entra_wizard::core::certificate::{self, CertificateRequest};
use entra_wizard::core::key_credential::{self, KeyCredential};
use entra_wizard::core::time::UnixTime;
use entra_wizard::flows::bulk_renew::{
    self, Action, BulkPlan, Control, Event, Finish, NewSecrets, Options, Purpose, RunState, Stage,
};
use entra_wizard::flows::dashboard::Kind;
use entra_wizard::graph;
use flows_support::bulk::*;
use flows_support::*;
use serde_json::Value;

fn keys_of(state: &Value, object_id: &str) -> Vec<KeyCredential> {
    serde_json::from_value(app(state, object_id)["keyCredentials"].clone()).unwrap()
}

/// Requests the emulator logged, by method and path, within the run.
async fn posts_to_batch(env: &Env) -> usize {
    env.log()
        .await
        .iter()
        .filter(|e| e["method"] == "POST" && e["path"].as_str().unwrap().ends_with("batch"))
        .count()
}

/// Checks the tenant after a renewal of secrets: each renewed application
/// holds exactly one secret with the plan's marker, the one whose value the
/// page holds, next to its old ones.
fn one_new_secret_each(plan: &BulkPlan, state: &RunState, tenant: &Value, secrets: &NewSecrets) {
    let marker = plan.marker();
    for (item, r) in plan.items.iter().zip(&state.items) {
        if r.stage == Stage::Refused {
            continue;
        }
        let Stage::Done {
            key_id: Some(new), ..
        } = &r.stage
        else {
            panic!("{} not done: {:?}", item.owner.name, r.stage);
        };
        let all = secrets_of(tenant, &item.owner.object_id);
        let made: Vec<String> = all
            .iter()
            .filter(|s| s["displayName"].as_str().unwrap_or("").contains(&marker))
            .map(key_id)
            .collect();
        assert_eq!(made, std::slice::from_ref(new), "{}", item.owner.name);
        assert!(secrets.holds(new), "the page holds {new}'s value");
        for old in &item.replaces {
            assert!(all.iter().any(|s| key_id(s) == old.key_id), "old kept");
        }
    }
}

/// After the removal plan: each renewed application holds only its new secret.
fn only_the_new_secrets_left(plan: &BulkPlan, state: &RunState, tenant: &Value) {
    for (item, r) in plan.items.iter().zip(&state.items) {
        if let Stage::Done {
            key_id: Some(new), ..
        } = &r.stage
        {
            let left: Vec<String> = secrets_of(tenant, &item.owner.object_id)
                .iter()
                .map(key_id)
                .collect();
            assert_eq!(left, std::slice::from_ref(new), "{}", item.owner.name);
        }
    }
}

/// The second confirmation: runs the removal plan of `plan`'s finished run
/// to its end; every removal is done.
async fn remove_old(api: &Api<'_>, env: &Env, plan: &BulkPlan, state: &RunState) -> RunState {
    let removal = bulk_renew::removal_plan(plan, state).unwrap();
    assert_eq!(removal.purpose, Purpose::Removal);
    let (finish, removed) = run(
        api,
        env,
        &removal,
        removal.start(),
        &mut NewSecrets::default(),
        go,
    )
    .await;
    assert_eq!(finish, Finish::Completed);
    assert!(
        removed
            .items
            .iter()
            .all(|i| matches!(i.stage, Stage::Done { .. }))
    );
    removed
}

/// The thumbprint of the certificate a renewal item registers.
fn new_thumbprint(item: &bulk_renew::Item) -> &str {
    match &item.action {
        Action::AddCertificate {
            certificate: Some(c),
            ..
        } => &c.thumbprint,
        other => panic!("not a certificate renewal: {other:?}"),
    }
}

#[tokio::test]
async fn secrets_under_random_faults_and_lost_answers_end_with_one_new_each_then_the_old_removed() {
    let env = large(30).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let Planned {
        plan,
        policy_batches,
        ..
    } = plan_for(&api, &env, Kind::Secret, "Bulk app", |o| Options {
        secret_days: 365,
        ..o
    })
    .await;
    assert_eq!(
        policy_batches, 2,
        "31 reads: the default and 30 applications"
    );
    let now = env.now();
    // Bulk apps 5 and 25 are under the seed's secret-forbidding policy,
    // 15 under its 180-day one.
    assert_eq!(
        plan.summary().to_string(),
        "Renew 28 secrets in 28 applications; 2 renewals refused by the tenant's app \
         management policy"
    );
    let item = |name: &str| plan.items.iter().find(|i| i.owner.name == name).unwrap();
    for refused in ["Bulk app 00005", "Bulk app 00025"] {
        let why = item(refused).refused.as_deref().unwrap();
        assert!(why.contains("'Bulk: certificates only'"), "{why}");
    }
    let short = item("Bulk app 00015");
    assert_eq!(
        short.action,
        Action::AddSecret {
            end: now.plus_days(180)
        }
    );
    assert!(
        short
            .note
            .as_deref()
            .unwrap()
            .contains("Shortened from 365 to 180 days: the app management policy 'Bulk: credentials for 180 days at most'")
    );
    let before = env.state().await;
    set_faults(
        &env,
        "random429=0.15,random503=0.1,seed=11,retryafter=3s,\
         commitlost=POST:/graph/v1.0/applications/*/addPassword@2,\
         commit5xx=POST:/graph/v1.0/applications/*/addPassword@2,commitstatus=503",
    );
    let mut secrets = NewSecrets::default();
    let mut lost = 0;
    let mut throttled = 0;
    let (finish, state) = run(&api, &env, &plan, plan.start(), &mut secrets, |e, _| {
        if let Event::Answered {
            lost: l,
            throttled: t,
            ..
        } = e
        {
            lost += usize::from(*l);
            throttled += t;
        }
        Control::Continue
    })
    .await;
    assert_eq!(finish, Finish::Completed);
    assert!(lost >= 1, "a batch answer was lost");
    assert!(throttled >= 1, "some items were throttled");
    let tenant = env.state().await;
    one_new_secret_each(&plan, &state, &tenant, &secrets);
    for refused in ["Bulk app 00005", "Bulk app 00025"] {
        let id = &item(refused).owner.object_id;
        assert_eq!(secrets_of(&tenant, id), secrets_of(&before, id));
    }
    assert_eq!(secrets.list().len(), 28);
    let csv = secrets.csv();
    assert_eq!(csv.lines().count(), 29);
    assert!(csv.starts_with("Application,Application (client) ID,Key ID,Name,Value,Expires"));

    // The second confirmation: the old secrets go, the new ones stay.
    let mut state = state;
    state.mark_exported(&secrets);
    assert!(
        state
            .unseen_secrets(&plan, &NewSecrets::default())
            .is_empty()
    );
    assert_eq!(
        bulk_renew::removal_plan(&plan, &state)
            .unwrap()
            .summary()
            .to_string(),
        "Remove 28 secrets from 28 applications; 2 credentials kept: not renewed"
    );
    // Someone removed one old secret meanwhile: Graph refuses to remove it
    // again (400), a look-up finds it gone, and that counts as done.
    let gone = plan.items.iter().find(|i| i.refused.is_none()).unwrap();
    // (Someone else's request, without the run's faults.)
    set_faults(&env, "random429=0,random503=0");
    graph::remove_password(&api, &gone.owner.object_id, &gone.replaces[0].key_id)
        .await
        .unwrap();
    set_faults(
        &env,
        "random429=0.15,random503=0.1,seed=12,\
         commitlost=POST:/graph/v1.0/applications/*/removePassword@1",
    );
    let removed = remove_old(&api, &env, &plan, &state).await;
    assert_eq!(
        removed.items[0].stage,
        Stage::Done {
            key_id: None,
            note: Some("already removed".into()),
            exported: false
        }
    );
    only_the_new_secrets_left(&plan, &state, &env.state().await);
    env.stop().await;
}

#[tokio::test]
async fn a_policy_that_forbids_secrets_refuses_its_items_by_name() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    // Half the reads throttled: a policy read Graph throttles inside the
    // batch is read again on its own, so every application's policy counts.
    set_faults(&env, "random429=0.5,seed=3");
    let Planned { plan, .. } = plan_for(&api, &env, Kind::Secret, "", |o| o).await;
    set_faults(&env, "");
    let alone = env
        .log()
        .await
        .iter()
        .filter(|e| {
            e["path"].as_str().unwrap().contains("ppManagementPolic")
                && e["status"] == 200
                && e["batch"].is_null()
        })
        .count();
    assert!(
        alone > 0,
        "throttled policy reads were read again on their own"
    );
    let reports = plan
        .items
        .iter()
        .position(|i| i.owner.name == "Contoso Reports")
        .expect("the demo's secret-forbidding application is planned");
    let why = plan.items[reports].refused.as_deref().unwrap();
    assert!(why.contains("'Contoso: certificates only'"), "{why}");
    assert!(why.contains("Use a certificate instead"), "{why}");
    let summary = plan.summary();
    assert_eq!(summary.refused, 1);
    assert!(
        summary
            .to_string()
            .contains("1 renewal refused by the tenant's app management policy")
    );
    let steps = plan.applications();
    let shown = steps.iter().find(|a| a.name == "Contoso Reports").unwrap();
    assert!(shown.steps.is_empty() && shown.refused.len() == 1);

    let before = env.state().await;
    let mut secrets = NewSecrets::default();
    let (finish, state) = run(&api, &env, &plan, plan.start(), &mut secrets, go).await;
    assert_eq!(finish, Finish::Completed);
    assert_eq!(state.items[reports].stage, Stage::Refused);
    let after = env.state().await;
    let object = &plan.items[reports].owner.object_id;
    assert_eq!(
        secrets_of(&after, object),
        secrets_of(&before, object),
        "nothing sent for the refused application"
    );
    assert_eq!(secrets.list().len(), plan.items.len() - 1);
    assert_eq!(
        state.batches, 2,
        "the others in one batch, then one batch checking them for copies"
    );
    env.stop().await;
}

/// A certificate for `need`, made by the core as the page's worker makes
/// it: its own RSA key's public part is all the plan takes.
fn make_certificate(need: &bulk_renew::CertificateNeed, now: UnixTime) -> Vec<u8> {
    let mut serial = [0u8; 10];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut serial);
    certificate::self_signed(
        key(),
        &CertificateRequest::new(need.common_name.clone()),
        serial,
        now,
        now.plus_months(need.validity_months),
    )
    .unwrap()
    .der()
    .to_vec()
}

#[tokio::test]
async fn certificates_are_registered_once_each_and_the_other_keys_kept() {
    let env = large(16).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let Planned { mut plan, .. } = plan_for(&api, &env, Kind::Certificate, "Bulk app", |o| o).await;
    let now = env.now();
    // One application holds a second certificate nobody selected.
    let first = plan.items[0].owner.object_id.clone();
    let extra = certificate("Unselected", now);
    let keys = graph::get_key_credentials(&api, &first).await.unwrap();
    let all =
        key_credential::merge(&keys, KeyCredential::for_certificate(&extra).unwrap(), &[]).unwrap();
    graph::set_key_credentials(&api, &first, &all)
        .await
        .unwrap();
    assert_eq!(
        plan.summary().to_string(),
        "Renew 16 certificates in 16 applications"
    );
    let needs = plan.certificates_needed();
    assert_eq!(needs.len(), 16);
    // Bulk app 15's policy allows 180 days: 5 months, said so.
    let short = needs
        .iter()
        .find(|n| n.application == "Bulk app 00015")
        .unwrap();
    assert_eq!(short.validity_months, 5);
    let note = plan.items[short.item].note.as_deref().unwrap();
    assert!(note.contains("made for 5 months instead of 12"), "{note}");
    let too_long = bulk_renew::CertificateNeed {
        validity_months: 12,
        ..short.clone()
    };
    assert!(matches!(
        plan.attach_certificate(short.item, &make_certificate(&too_long, now)),
        Err(bulk_renew::BulkError::LifetimeTooLong { max_days: 180, .. })
    ));
    let mut fresh = plan.start();
    assert!(matches!(
        bulk_renew::apply(
            &api,
            &sleeper,
            &clock(&env),
            &plan,
            &mut fresh,
            &mut NewSecrets::default(),
            &mut go
        )
        .await,
        Err(bulk_renew::BulkError::CertificatesMissing(m)) if m.len() == 16
    ));
    for need in &needs {
        plan.attach_certificate(need.item, &make_certificate(need, now))
            .unwrap();
    }
    assert!(plan.is_ready());
    env.clear_requests().await;
    // Lost answers to two PATCHes (carried out) and a 5xx on a third.
    set_faults(
        &env,
        "commitlost=PATCH:/graph/v1.0/applications/*@2,\
         commit5xx=PATCH:/graph/v1.0/applications/*,commitstatus=503",
    );
    let (finish, state) = run(
        &api,
        &env,
        &plan,
        plan.start(),
        &mut NewSecrets::default(),
        go,
    )
    .await;
    assert_eq!(finish, Finish::Completed);
    let tenant = env.state().await;
    for (item, r) in plan.items.iter().zip(&state.items) {
        assert!(matches!(r.stage, Stage::Done { .. }), "{:?}", r.stage);
        let keys = keys_of(&tenant, &item.owner.object_id);
        assert_eq!(
            keys.iter()
                .filter(|k| k.has_thumbprint(new_thumbprint(item)))
                .count(),
            1,
            "{} registered once",
            item.owner.name
        );
        for old in &item.replaces {
            assert!(
                keys.iter().any(|k| k.has_thumbprint(&old.detail)),
                "old kept"
            );
        }
    }
    let extra_thumb = extra.sha1_hex();
    assert!(
        keys_of(&tenant, &first)
            .iter()
            .any(|k| k.has_thumbprint(&extra_thumb))
    );

    // Removal: the old certificates go; the new and the unselected stay.
    set_faults(&env, "commitlost=PATCH:/graph/v1.0/applications/*@1");
    remove_old(&api, &env, &plan, &state).await;
    let tenant = env.state().await;
    for item in &plan.items {
        let keys = keys_of(&tenant, &item.owner.object_id);
        assert!(keys.iter().any(|k| k.has_thumbprint(new_thumbprint(item))));
        for old in &item.replaces {
            assert!(
                !keys.iter().any(|k| k.has_thumbprint(&old.detail)),
                "old removed"
            );
        }
    }
    assert!(
        keys_of(&tenant, &first)
            .iter()
            .any(|k| k.has_thumbprint(&extra_thumb)),
        "the unselected certificate is kept"
    );
    env.stop().await;
}

#[tokio::test]
async fn requests_are_what_batching_allows() {
    let env = large(45).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let Planned { table, plan, .. } = plan_for(&api, &env, Kind::Secret, "Bulk app", |o| o).await;
    assert_eq!(rows(&table, Kind::Secret, "Bulk app").len(), 45);
    env.clear_requests().await;
    let sent = http.log.lock().unwrap().len();
    let mut secrets = NewSecrets::default();
    let (finish, state) = run(&api, &env, &plan, plan.start(), &mut secrets, go).await;
    assert_eq!(finish, Finish::Completed);
    // 43 addPassword (Bulk apps 5 and 25 refused by policy) and 43 reads
    // checking for a copy a resent batch made: ceil(86 / 20) = 5 batches,
    // nothing else.
    assert_eq!(state.batches, 5);
    assert_eq!(http.log.lock().unwrap().len() - sent, 5);
    assert_eq!(posts_to_batch(&env).await, 5);
    let removed = remove_old(&api, &env, &plan, &state).await;
    assert_eq!(removed.batches, 3, "43 removePassword");
    env.stop().await;
}

#[tokio::test]
async fn pause_cancel_and_resume_from_a_saved_state_even_after_a_reload_in_flight() {
    let env = large(50).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let Planned { plan, .. } = plan_for(&api, &env, Kind::Secret, "Bulk app", |o| o).await;
    // Bulk apps 5, 25 and 45 are refused by policy.
    assert_eq!(plan.summary().refused, 3);

    // Batch 1 answered, then the admin pauses.
    let mut secrets = NewSecrets::default();
    let (finish, paused) = run(
        &api,
        &env,
        &plan,
        plan.start(),
        &mut secrets,
        |e, _| match e {
            Event::Answered { .. } => Control::Pause,
            _ => Control::Continue,
        },
    )
    .await;
    assert_eq!(finish, Finish::Paused);
    assert_eq!(paused.progress(0).done, 20);

    // Batch 2 is sent; the page saved its state as the batch left, and
    // the answer never reached it (the page reloaded in flight).
    let mut at_sending = None;
    let (_, _) = run(&api, &env, &plan, paused, &mut secrets, |e, s| match e {
        Event::Sending { .. } => {
            at_sending = Some(serde_json::to_string(s).unwrap());
            Control::Continue
        }
        _ => Control::Pause,
    })
    .await;
    let reloaded: RunState = serde_json::from_str(&at_sending.unwrap()).unwrap();
    let in_flight: Vec<usize> = (0..plan.items.len())
        .filter(|&n| reloaded.items[n].stage == Stage::Sent)
        .collect();
    assert_eq!(in_flight.len(), 20);
    // After the reload the page holds no value: the 20 secrets of batch 1
    // were never exported. The admin replaces five of them.
    let mut secrets = NewSecrets::default();
    let unseen = reloaded.unseen_secrets(&plan, &secrets);
    assert_eq!(unseen.len(), 20);
    let replaced: Vec<usize> = unseen.iter().take(5).map(|u| u.item).collect();
    let mut reloaded = reloaded;
    reloaded.replace_unseen(&replaced);

    // Resumed; cancelled once the replacements are made.
    let (finish, cancelled) = run(&api, &env, &plan, reloaded, &mut secrets, |e, s| {
        let replaced_done = replaced
            .iter()
            .all(|&n| matches!(s.items[n].stage, Stage::Done { .. }));
        match e {
            Event::Answered { .. } if replaced_done => Control::Cancel,
            _ => Control::Continue,
        }
    })
    .await;
    assert_eq!(finish, Finish::Cancelled);
    assert!(cancelled.is_finished());
    let p = cancelled.progress(0);
    assert!(p.cancelled > 0 && p.failed == 0, "{p:?}");
    // A cancelled run stays cancelled.
    let (again, _) = run(&api, &env, &plan, cancelled.clone(), &mut secrets, go).await;
    assert_eq!(again, Finish::Cancelled);

    let tenant = env.state().await;
    let marker = plan.marker();
    for (n, (item, r)) in plan.items.iter().zip(&cancelled.items).enumerate() {
        let made: Vec<String> = secrets_of(&tenant, &item.owner.object_id)
            .iter()
            .filter(|s| s["displayName"].as_str().unwrap_or("").contains(&marker))
            .map(key_id)
            .collect();
        match &r.stage {
            Stage::Done {
                key_id: Some(k), ..
            } => {
                assert_eq!(
                    made,
                    std::slice::from_ref(k),
                    "{}: one secret",
                    item.owner.name
                );
                if replaced.contains(&n) {
                    let old = &unseen.iter().find(|u| u.item == n).unwrap().key_id;
                    assert_ne!(k, old, "the unseen secret was replaced");
                    assert!(secrets.holds(k));
                }
            }
            Stage::Cancelled => assert!(made.is_empty(), "{}: nothing made", item.owner.name),
            Stage::Refused => assert!(made.is_empty()),
            other => panic!("{}: {other:?}", item.owner.name),
        }
    }
    // Batch 2's items (in flight at the reload) were looked up: each
    // ended with one secret whose value the page holds, or none.
    for &n in &in_flight {
        match &cancelled.items[n].stage {
            Stage::Done {
                key_id: Some(k), ..
            } => assert!(secrets.holds(k)),
            other => assert_eq!(other, &Stage::Cancelled),
        }
    }
    env.stop().await;
}

#[tokio::test]
async fn a_throttled_run_keeps_the_write_quota_busy() {
    // A tenth of Microsoft's quota (300 writes per 150 s, 2 a second), its
    // buckets empty: the run meets the refill rate at once.
    let t = secret_renewal_throughput(95, "throttle=0.1,throttlefill=0").await;
    assert!(
        t.share() >= 0.9,
        "{:.3} of the quota's ceiling: {t:?}",
        t.share()
    );
    assert_eq!((t.duplicates, t.lost), (0, 0), "{t:?}");
    // Paced to what the tenant accepts: fewer 429s than items.
    assert!(t.throttled < t.items, "{t:?}");
}

#[tokio::test]
async fn one_items_retry_after_does_not_hold_the_others_and_a_gateway_error_is_looked_up() {
    let env = large(10).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let Planned { plan, .. } = plan_for(&api, &env, Kind::Secret, "Bulk app", |o| o).await;
    assert_eq!(plan.items.len() - plan.summary().refused, 9);
    set_faults(&env, "next429=1,retryafter=30s");
    let started = env.emulator.emulator.clock.now_ms() as u64;
    let mut first = None;
    let mut secrets = NewSecrets::default();
    let (finish, state) = run(&api, &env, &plan, plan.start(), &mut secrets, |e, s| {
        if matches!(e, Event::Answered { .. }) && first.is_none() {
            first = Some(s.progress(env.emulator.emulator.clock.now_ms() as u64));
        }
        Control::Continue
    })
    .await;
    assert_eq!(finish, Finish::Completed);
    let first = first.unwrap();
    assert_eq!((first.done, first.waiting), (8, 1), "{first:?}");
    // The eight made and checked in two batches, the throttled one made
    // after its own wait and checked: four.
    assert_eq!(state.batches, 4);
    let waited = env.emulator.emulator.clock.now_ms() as u64 - started;
    assert!(waited >= 30_000, "its own Retry-After: {waited} ms");
    one_new_secret_each(&plan, &state, &env.state().await, &secrets);

    // The edge in front of Graph fails a whole batch (504, no JSON):
    // every item is looked up, then made once.
    set_faults(&env, "gateway=1");
    let removed = remove_old(&api, &env, &plan, &state).await;
    assert_eq!(removed.batches, 3, "lost, looked up, removed");
    only_the_new_secrets_left(&plan, &state, &env.state().await);
    env.stop().await;
}

#[tokio::test]
async fn a_batch_the_browser_sent_twice_leaves_one_secret_each() {
    let env = large(10).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let Planned { plan, .. } = plan_for(&api, &env, Kind::Secret, "Bulk app", |o| o).await;
    let items = plan.items.len() - plan.summary().refused;
    assert_eq!(items, 9);
    // The first batch is carried out twice and answered once: every
    // application got two secrets, the page holds the values of one each.
    http.resend_next(entra_wizard::http::Method::Post, "/$batch", 1);
    let mut secrets = NewSecrets::default();
    let (finish, state) = run(&api, &env, &plan, plan.start(), &mut secrets, go).await;
    assert_eq!(finish, Finish::Completed);
    one_new_secret_each(&plan, &state, &env.state().await, &secrets);
    let pruned = state
        .items
        .iter()
        .filter(|i| {
            matches!(&i.stage, Stage::Done { note: Some(n), .. } if n.contains("copy of it that a resent request made"))
        })
        .count();
    assert_eq!(pruned, items, "each copy nobody holds was removed");
    env.stop().await;
}
