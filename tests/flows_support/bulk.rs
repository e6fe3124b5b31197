//! Bulk renewal as the page drives it, shared by tests/flows_bulk_renew.rs
//! and the bench (`examples/bulk.rs`): a large tenant, the dashboard's
//! table, a plan under the tenant's policies, a run saved after every event,
//! and what the emulator's state and throttling buckets say afterwards.

use std::time::Instant;

use entra_emulator::faults::FaultConfig;
use entra_emulator::lock;
use entra_wizard::client::ApiClient;
use entra_wizard::flows::bulk_renew::{
    self, BulkPlan, Control, Event, Finish, NewSecrets, Options, RunState, Stage,
};
use entra_wizard::flows::dashboard::{self, Kind, Table};
use serde_json::Value;

use super::{ClockSleeper, Env, Native};

pub type Api<'a> = ApiClient<'a, Native, ClockSleeper<'a>>;

/// The demo tenant plus `large:N`'s "Bulk app" applications.
pub async fn large(n: usize) -> Env {
    let env = Env::demo().await;
    env.emulator
        .emulator
        .reseed(&format!("large:{n}"))
        .expect("seed");
    env
}

pub fn set_faults(env: &Env, spec: &str) {
    let config = FaultConfig::default().apply_spec(spec).expect("fault spec");
    lock(&env.emulator.emulator.faults).set(config);
}

/// The dashboard's table of the tenant's applications.
pub async fn table(api: &Api<'_>, env: &Env) -> Table {
    let mut t = Table::new(&env.tenant_id(), &[], env.now());
    dashboard::load(api, false, |kind, page| t.add(kind, page))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    t
}

/// Rows of `kind` of the applications whose name starts with `prefix`.
pub fn rows(t: &Table, kind: Kind, prefix: &str) -> Vec<u32> {
    (0..t.rows.len() as u32)
        .filter(|&i| {
            let r = &t.rows[i as usize];
            r.kind == kind && t.owner(r).name.starts_with(prefix)
        })
        .collect()
}

pub fn clock(env: &Env) -> impl Fn() -> u64 + '_ {
    || env.emulator.emulator.clock.now_ms() as u64
}

/// Applies `plan` to its end as the page does: the state saved (and read
/// back) after every event. Returns how it finished and the saved state.
pub async fn run(
    api: &Api<'_>,
    env: &Env,
    plan: &BulkPlan,
    state: RunState,
    secrets: &mut NewSecrets,
    mut control: impl FnMut(&Event, &RunState) -> Control,
) -> (Finish, RunState) {
    let sleeper = env.sleeper();
    let mut state = state;
    let mut saved = serde_json::to_string(&state).unwrap();
    let finish = bulk_renew::apply(
        api,
        &sleeper,
        &clock(env),
        plan,
        &mut state,
        secrets,
        &mut |e, s| {
            saved = serde_json::to_string(s).unwrap();
            assert!(!saved.contains("secretText"));
            control(e, s)
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let back: RunState = serde_json::from_str(&saved).unwrap();
    assert_eq!(back.items, state.items, "the last save is the state");
    (finish, state)
}

pub fn go(_: &Event, _: &RunState) -> Control {
    Control::Continue
}

/// The application's body in the emulator's state.
pub fn app<'s>(state: &'s Value, object_id: &str) -> &'s Value {
    &state["applications"][object_id]["body"]
}

pub fn secrets_of(state: &Value, object_id: &str) -> Vec<Value> {
    app(state, object_id)["passwordCredentials"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub fn key_id(v: &Value) -> String {
    v["keyId"].as_str().unwrap().to_string()
}

/// A plan and what reading the policies took.
pub struct Planned {
    pub table: Table,
    pub plan: BulkPlan,
    pub policy_batches: u32,
}

/// Plans the credentials of `kind` of the applications whose name starts
/// with `prefix`, with the default options as `options` changes them.
pub async fn plan_for(
    api: &Api<'_>,
    env: &Env,
    kind: Kind,
    prefix: &str,
    options: impl FnOnce(Options) -> Options,
) -> Planned {
    let table = table(api, env).await;
    let selected = rows(&table, kind, prefix);
    plan_rows(api, env, table, &selected, options).await
}

/// Plans the selected rows of `table`.
pub async fn plan_rows(
    api: &Api<'_>,
    env: &Env,
    table: Table,
    selected: &[u32],
    options: impl FnOnce(Options) -> Options,
) -> Planned {
    let policies = bulk_renew::read_policies(api, &table, selected).await;
    let now = env.now();
    let plan = bulk_renew::plan(
        &table,
        selected,
        &options(Options::default_at(now)),
        &policies,
        now,
        &mut rand_core::OsRng,
    );
    Planned {
        table,
        plan,
        policy_batches: policies.batches,
    }
}

/// What a bulk renewal of secrets under throttling achieved.
#[derive(Debug)]
pub struct Throughput {
    /// Secrets renewed (items the policy allowed).
    pub items: usize,
    /// `POST /$batch` requests the run sent.
    pub batches: usize,
    /// Items Graph answered with 429 inside those batches.
    pub throttled: usize,
    /// Writes the application's write bucket accepted, and the most it
    /// could have accepted over the run (`initial + refill × elapsed`).
    pub accepted: f64,
    pub ceiling: f64,
    pub quota: String,
    /// The emulator's clock from the first write to the end.
    pub elapsed_seconds: f64,
    pub wall_ms: u128,
    /// Secrets made by the plan beyond one per application.
    pub duplicates: usize,
    /// Applications without a new secret whose value the page holds, or a
    /// new secret nobody holds.
    pub lost: usize,
}

impl Throughput {
    pub fn share(&self) -> f64 {
        self.accepted / self.ceiling
    }
}

/// Renews one secret each of the first `secrets` "Bulk app" applications
/// the tenant's policies allow it for, with the emulator's faults set to
/// `spec` once planned; counts from the emulator's state what the run made.
pub async fn secret_renewal_throughput(secrets: usize, spec: &str) -> Throughput {
    // Every twentieth bulk application is under a policy that forbids new
    // secrets: seed enough for `secrets` allowed ones.
    let env = large(secrets + secrets / 10 + 10).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let table = table(&api, &env).await;
    let all = rows(&table, Kind::Secret, "Bulk app");
    let Planned { plan, .. } = plan_rows(&api, &env, table.clone(), &all, |o| o).await;
    // Keep the rows of the first `secrets` items the policies allow.
    let allowed: Vec<&str> = plan
        .items
        .iter()
        .filter(|i| i.refused.is_none())
        .take(secrets)
        .map(|i| i.owner.object_id.as_str())
        .collect();
    assert_eq!(allowed.len(), secrets, "enough applications allow secrets");
    let selected: Vec<u32> = all
        .into_iter()
        .filter(|&r| allowed.contains(&table.owner(&table.rows[r as usize]).object_id.as_str()))
        .collect();
    let Planned { plan, .. } = plan_rows(&api, &env, table, &selected, |o| o).await;
    assert_eq!(plan.items.len(), secrets);

    set_faults(&env, spec);
    let before = env.log().await.len();
    let mut secrets_made = NewSecrets::default();
    let mut throttled = 0;
    let wall = Instant::now();
    let (finish, state) = run(
        &api,
        &env,
        &plan,
        plan.start(),
        &mut secrets_made,
        |e, _| {
            if let Event::Answered { throttled: t, .. } = e {
                throttled += t;
            }
            Control::Continue
        },
    )
    .await;
    let wall_ms = wall.elapsed().as_millis();
    assert_eq!(finish, Finish::Completed);
    let report =
        lock(&env.emulator.emulator.faults).throttle_report(env.emulator.emulator.clock.now_ms());
    let writes = report["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["limit"] == "Write" && !b["appId"].is_null())
        .expect("the application's write bucket")
        .clone();
    let batches = env.log().await[before..]
        .iter()
        .filter(|e| e["method"] == "POST" && e["path"].as_str().unwrap().ends_with("batch"))
        .count();

    // From the tenant: the plan's secrets per application, and whether the
    // page holds the value of each.
    let tenant = env.state().await;
    let marker = plan.marker();
    let (mut duplicates, mut lost) = (0, 0);
    for (item, r) in plan.items.iter().zip(&state.items) {
        let made: Vec<String> = secrets_of(&tenant, &item.owner.object_id)
            .iter()
            .filter(|s| s["displayName"].as_str().unwrap_or("").contains(&marker))
            .map(key_id)
            .collect();
        duplicates += made.len().saturating_sub(1);
        let held = made.iter().filter(|k| secrets_made.holds(k)).count();
        let done = matches!(
            r.stage,
            Stage::Done {
                key_id: Some(_),
                ..
            }
        );
        lost += made.len() - held + usize::from(held == 0 || !done);
    }
    let throughput = Throughput {
        items: plan.items.len(),
        batches,
        throttled,
        accepted: writes["accepted"].as_f64().unwrap(),
        ceiling: writes["ceiling"].as_f64().unwrap(),
        quota: format!(
            "{:.0} writes per {:.0} s, refilled at {:.0} a second",
            writes["capacity"].as_f64().unwrap(),
            writes["windowSeconds"].as_f64().unwrap(),
            writes["refillPerSecond"].as_f64().unwrap()
        ),
        elapsed_seconds: writes["elapsedSeconds"].as_f64().unwrap(),
        wall_ms,
        duplicates,
        lost,
    };
    env.stop().await;
    throughput
}
