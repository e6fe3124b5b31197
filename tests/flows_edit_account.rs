//! F3 — edit a service account, against the emulator's demo tenant: the
//! live state and its one status line; renewing the secret (exactly one new
//! secret, shown once through the step's channel and nowhere in saved
//! progress; the old one removed only by the confirm plan; a lost answer
//! still ends with one; an orphan remembered and removable); a pasted
//! secret; a renewed certificate; a re-created application; another
//! application.

mod flows_support;

use core::cell::Cell;
use core::ops::ControlFlow;

use entra_wizard::arm::builtin;
use entra_wizard::client::ApiClient;
use entra_wizard::cloud::Cloud;
use entra_wizard::core::time::UnixTime;
use entra_wizard::flows::connection::{AuthMethod, ConnectionRecord, RecordDetails};
use entra_wizard::flows::edit_account::{
    self, Action, CredentialKind, Edit, EditChange, EditError, NewCredential, SecretFacts, Status,
};
use entra_wizard::flows::existing_app::{CheckedAuth, LocalCheck};
use entra_wizard::flows::policy::{Decider, PolicyView};
use entra_wizard::graph::policies::{CredentialRestriction, Restrictions};
use entra_wizard::http::{HttpClient, HttpRequest, HttpResponse, Method, TransportError};
use entra_wizard::plan::{self, Finish, Plan, Progress};
use entra_wizard::profiles;
use flows_support::*;
use serde_json::Value;

/// No app management policy enforced.
const NO_POLICY: PolicyView = PolicyView::Read(None);

/// The demo's service application of `scenario`.
fn demo_app<'s>(env: &'s Env, scenario: &str) -> &'s Value {
    env.seed["serviceApps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["scenario"] == scenario)
        .unwrap_or_else(|| panic!("the demo has no {scenario}"))
}

fn iso(v: &Value) -> UnixTime {
    UnixTime::parse_rfc3339(v.as_str().unwrap()).unwrap()
}

/// The record a wizard would have saved for the demo app `scenario`.
fn record(env: &Env, scenario: &str, profile: &str) -> ConnectionRecord {
    let app = demo_app(env, scenario);
    let auth = match app["secretText"].as_str() {
        Some(secret) => AuthMethod::ClientSecret {
            hint: secret[..3].to_string(),
            end: Some(iso(&app["secretEnd"])),
        },
        None => AuthMethod::Certificate {
            thumbprint: app["thumbprint"].as_str().unwrap().to_string(),
            subject: format!("CN={}", app["displayName"].as_str().unwrap()),
            not_before: UnixTime(0),
            not_after: iso(&app["certificateEnd"]),
        },
    };
    let mut r = ConnectionRecord::local(
        RecordDetails {
            name: app["displayName"].as_str().unwrap().to_string(),
            cloud: env.cloud(),
            tenant_id: env.tenant_id(),
            auth,
            profile: profile.into(),
            subscription: Some(production()),
            portal_address: None,
        },
        app["appId"].as_str().unwrap(),
        env.now(),
    );
    r.application_object_id = app["objectId"].as_str().map(str::to_string);
    r
}

async fn apply<C: HttpClient>(api: &ApiClient<'_, C, ClockSleeper<'_>>, plan: &Plan) -> Progress {
    let mut progress = plan.start();
    let finish = plan::apply(api, plan, &mut progress, &mut |_, _| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(finish, Finish::Completed);
    progress
}

/// Applies an edit that shows no secret, and the record it leaves.
async fn apply_edit<C: HttpClient>(
    api: &ApiClient<'_, C, ClockSleeper<'_>>,
    record: &ConnectionRecord,
    edit: &Edit,
    now: UnixTime,
) -> ConnectionRecord {
    let progress = apply(api, &edit.plan).await;
    edit_account::complete(
        record,
        &edit.plan,
        &edit.change,
        &progress,
        SecretFacts::default(),
        now,
    )
}

/// The application's secrets in the emulator's state.
fn secrets(state: &Value, app_id: &str) -> Vec<Value> {
    state["applications"]
        .as_object()
        .unwrap()
        .values()
        .map(|a| &a["body"])
        .find(|b| b["appId"] == app_id)
        .map(|b| b["passwordCredentials"].as_array().unwrap().clone())
        .unwrap_or_default()
}

fn marked<'v>(list: &'v [Value], plan: &Plan) -> Vec<&'v Value> {
    list.iter()
        .filter(|s| {
            s["displayName"]
                .as_str()
                .is_some_and(|n| n.contains(&plan.marker()))
        })
        .collect()
}

#[tokio::test]
async fn status_lines_name_what_is_wrong_and_what_fixes_it() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let now = env.now();
    let backup = profiles::by_id("azure-backup").unwrap();

    // The secret that expires in 10 days.
    let archiver = record(&env, "expiring-secret", "azure-backup");
    let state = edit_account::read(&api, &archiver, None, now)
        .await
        .unwrap();
    assert!(
        matches!(state.status, Status::ExpiresSoon { days: 9 | 10 }),
        "{:?}",
        state.status
    );
    let used = state.in_use().unwrap();
    assert_eq!(used.kind, CredentialKind::Secret);
    assert!(used.label.starts_with(&archiver_hint(&archiver)));
    assert!(state.service_principal_id.is_some());
    assert!(
        state
            .status
            .line(&archiver.auth)
            .contains(" days: renew it")
    );
    assert_eq!(
        state.status.actions(&archiver.auth),
        [
            Action::RenewSecret,
            Action::PasteSecret,
            Action::SwitchToCertificate
        ]
    );
    // No policy forbids secrets there: the state offers the same.
    assert_eq!(
        state.actions(&archiver.auth, now),
        state.status.actions(&archiver.auth)
    );

    // The certificate that expired.
    let backup_rec = record(&env, "expired-certificate", "azure-backup");
    let state = edit_account::read(&api, &backup_rec, Some(&backup), now)
        .await
        .unwrap();
    assert!(matches!(state.status, Status::Expired { days_ago } if days_ago > 0));
    assert_eq!(
        state.status.actions(&backup_rec.auth),
        [Action::RenewCertificate]
    );

    // Valid certificate, two of the profile's three roles missing.
    let restore = record(&env, "missing-roles", "azure-backup");
    let state = edit_account::read(&api, &restore, Some(&backup), now)
        .await
        .unwrap();
    let Status::RolesMissing { missing } = &state.status else {
        panic!("{:?}", state.status)
    };
    assert_eq!(
        missing,
        &[
            "Azure role Key Vault Crypto User",
            "Azure role Storage Queue Data Contributor"
        ]
    );
    assert_eq!(state.status.actions(&restore.auth)[0], Action::AssignRoles);
    assert_eq!(state.roles.as_ref().unwrap().missing_roles().len(), 2);

    // The same application for the restore-portal profile: Graph's
    // delegated User.Read was never consented.
    let mut portal = restore.clone();
    portal.profile = "restore-portal".into();
    portal.subscription = None;
    let portal_profile = profiles::by_id("restore-portal").unwrap();
    let state = edit_account::read(&api, &portal, Some(&portal_profile), now)
        .await
        .unwrap();
    assert_eq!(
        state.status,
        Status::PermissionsMissing {
            missing: vec!["Microsoft Graph delegated permission User.Read".into()]
        }
    );
    assert_eq!(
        state.status.actions(&portal.auth)[0],
        Action::GrantPermissions
    );

    // A record whose secret is no longer registered.
    let mut gone = archiver.clone();
    gone.auth = AuthMethod::ClientSecret {
        hint: "zz~".into(),
        end: None,
    };
    let state = edit_account::read(&api, &gone, None, now).await.unwrap();
    assert_eq!(state.status, Status::CredentialNotRegistered);
    assert!(state.in_use().is_none());

    // An application that no longer exists.
    let mut deleted = restore.clone();
    deleted.app_id = "6c0a4a8e-1f53-4b0e-9d52-3a1e7f0b9c11".into();
    let state = edit_account::read(&api, &deleted, Some(&backup), now)
        .await
        .unwrap();
    assert_eq!(state.status, Status::ApplicationDeleted);
    assert!(
        state
            .status
            .line(&deleted.auth)
            .contains("new application ID")
    );
    assert_eq!(
        state.status.actions(&deleted.auth),
        [Action::Recreate, Action::ProvideAnother]
    );

    // Healthy once the roles are there.
    let f4 = entra_wizard::flows::roles::plan(
        &restore.app_id,
        &backup,
        &production(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    apply(&api, &f4).await;
    let state = edit_account::read(&api, &restore, Some(&backup), now)
        .await
        .unwrap();
    assert!(
        matches!(state.status, Status::Healthy { days } if days > 300),
        "{:?}",
        state.status
    );
    assert!(state.status.line(&restore.auth).starts_with("Healthy"));
    env.stop().await;
}

fn archiver_hint(r: &ConnectionRecord) -> String {
    match &r.auth {
        AuthMethod::ClientSecret { hint, .. } => hint.clone(),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn renewing_the_secret_makes_one_removes_the_old_only_after_confirm() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let now = env.now();
    let rec = record(&env, "expiring-secret", "azure-backup");
    let old = secrets(&env.state().await, &rec.app_id);
    assert_eq!(old.len(), 1);
    let old_key = old[0]["keyId"].as_str().unwrap().to_string();

    let edit = edit_account::renew_secret(
        &rec,
        "Archiver 2027",
        180,
        &NO_POLICY,
        now,
        &mut rand_core::OsRng,
    )
    .unwrap();
    assert_eq!(
        edit.plan.sentences()[1],
        format!(
            "Create client secret 'Archiver 2027', valid until {} (its value is shown once, then only the service has it)",
            now.plus_days(180)
        )
    );
    let progress = apply(&api, &edit.plan).await;

    // One new secret, tagged with the plan, next to the old one.
    let after = secrets(&env.state().await, &rec.app_id);
    assert_eq!(after.len(), 2);
    let new = marked(&after, &edit.plan);
    assert_eq!(new.len(), 1);
    assert!(
        new[0]["displayName"]
            .as_str()
            .unwrap()
            .starts_with("Archiver 2027 (")
    );

    // The value arrives once, through the channel, and only there.
    let secret = edit
        .channel
        .as_ref()
        .unwrap()
        .take()
        .expect("the new secret");
    assert!(
        edit.channel.as_ref().unwrap().take().is_none(),
        "shown once"
    );
    assert_eq!(secret.key_id, new[0]["keyId"]);
    assert_eq!(secret.hint.as_deref(), Some(&secret.value[..3]));
    let saved = serde_json::to_string(&(&edit.plan, &progress, &edit.change)).unwrap();
    assert!(
        !saved.contains(secret.value.as_str()),
        "saved progress holds no secret"
    );
    assert!(!format!("{secret:?}").contains(secret.value.as_str()));

    // The record keeps the old secret in use, the new one pending.
    let facts = SecretFacts {
        hint: secret.hint.clone(),
        end: secret.end,
    };
    let pending = edit_account::complete(&rec, &edit.plan, &edit.change, &progress, facts, now);
    assert_eq!(pending.auth, rec.auth);
    let p = pending.pending.clone().unwrap();
    assert_eq!(p.key_id.as_deref(), Some(secret.key_id.as_str()));
    assert!(matches!(&p.auth, AuthMethod::ClientSecret { hint, .. } if hint == &secret.value[..3]));
    drop(secret);

    // Before the confirmation nothing is removed; the state shows both.
    let state = edit_account::read(&api, &pending, None, now).await.unwrap();
    assert!(state.pending_registered);
    assert_eq!(
        state.in_use().unwrap().key_id.as_deref(),
        Some(old_key.as_str())
    );

    // Confirm: its own plan removes the old secret.
    let confirm = edit_account::confirm(&pending, &state, &mut rand_core::OsRng).unwrap();
    assert!(confirm.plan.sentences()[1].starts_with("Remove the old secret"));
    let done = apply(&api, &confirm.plan).await;
    let left = secrets(&env.state().await, &rec.app_id);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["keyId"], p.key_id.clone().unwrap());
    let confirmed = edit_account::complete(
        &pending,
        &confirm.plan,
        &confirm.change,
        &done,
        SecretFacts::default(),
        now,
    );
    assert!(confirmed.pending.is_none());
    assert_eq!(confirmed.key_id, p.key_id);
    assert_eq!(confirmed.auth, p.auth);
    let state = edit_account::read(&api, &confirmed, None, now)
        .await
        .unwrap();
    assert_eq!(state.status, Status::Healthy { days: 180 });

    // Applying the confirm plan again changes nothing.
    apply(&api, &confirm.plan).await;
    assert_eq!(secrets(&env.state().await, &rec.app_id).len(), 1);
    env.stop().await;
}

/// Sends every request; the answer to the first `lose` POSTs whose URL
/// ends with `suffix` is lost after the change was made.
struct LosesAnswers {
    inner: Native,
    suffix: &'static str,
    lose: Cell<u32>,
}

impl HttpClient for LosesAnswers {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let hit = request.method == Method::Post && request.url.ends_with(self.suffix);
        let url = request.url.clone();
        let answer = self.inner.send(request).await?;
        if hit && self.lose.get() > 0 {
            self.lose.set(self.lose.get() - 1);
            return Err(TransportError {
                url,
                detail: "the connection closed before the answer".into(),
            });
        }
        Ok(answer)
    }
}

#[tokio::test]
async fn a_lost_add_password_answer_still_ends_with_exactly_one_new_secret() {
    let env = Env::demo().await;
    let http = LosesAnswers {
        inner: Native::default(),
        suffix: "/addPassword",
        lose: Cell::new(1),
    };
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let now = env.now();
    let rec = record(&env, "expiring-secret", "azure-backup");
    let edit =
        edit_account::renew_secret(&rec, "Renewed", 90, &NO_POLICY, now, &mut rand_core::OsRng)
            .unwrap();
    let progress = apply(&api, &edit.plan).await;
    assert_eq!(http.lose.get(), 0, "an answer was lost");

    let after = secrets(&env.state().await, &rec.app_id);
    let new = marked(&after, &edit.plan);
    assert_eq!(new.len(), 1, "{after:#?}");
    assert_eq!(after.len(), 2);
    // The page holds the value of the one that is registered.
    let secret = edit.channel.unwrap().take().unwrap();
    assert_eq!(new[0]["keyId"], secret.key_id);
    assert_eq!(progress.steps[1].ids, std::slice::from_ref(&secret.key_id));
    assert!(
        progress.steps[1]
            .note
            .as_deref()
            .unwrap()
            .contains("removed 1 secret an earlier attempt made")
    );
    // Two addPassword requests reached Graph, and one removePassword.
    let log = env.log().await;
    let count = |suffix: &str| {
        log.iter()
            .filter(|e| e["path"].as_str().unwrap().ends_with(suffix))
            .count()
    };
    assert_eq!(count("/addPassword"), 2);
    assert_eq!(count("/removePassword"), 1);
    env.stop().await;
}

#[tokio::test]
async fn an_unconfirmed_secret_whose_page_was_closed_is_remembered_and_removed() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let now = env.now();
    let rec = record(&env, "expiring-secret", "azure-backup");
    let edit = edit_account::renew_secret(&rec, "Lost", 30, &NO_POLICY, now, &mut rand_core::OsRng)
        .unwrap();
    let progress = apply(&api, &edit.plan).await;
    // The page closes: the channel (memory only) is gone, the saved plan
    // reads back without it.
    let saved: Plan = serde_json::from_str(&serde_json::to_string(&edit.plan).unwrap()).unwrap();
    drop(edit.channel);
    let reloaded = match &saved.steps[1] {
        entra_wizard::plan::Step::AddPassword(a) => a.channel.take(),
        other => panic!("{other:?}"),
    };
    assert!(reloaded.is_none(), "a saved plan carries no secret");

    let with_orphan = edit_account::complete(
        &rec,
        &saved,
        &edit.change,
        &progress,
        SecretFacts::default(),
        now,
    );
    let orphan_key = with_orphan
        .pending
        .as_ref()
        .unwrap()
        .key_id
        .clone()
        .unwrap();
    // The record survives a save and a reload with the orphan's keyId.
    let back: ConnectionRecord =
        serde_json::from_str(&serde_json::to_string(&with_orphan).unwrap()).unwrap();
    assert_eq!(
        back.pending.as_ref().unwrap().key_id.as_deref(),
        Some(orphan_key.as_str())
    );

    let state = edit_account::read(&api, &back, None, now).await.unwrap();
    assert!(state.pending_registered);
    let remove = edit_account::remove_orphan(&back, &mut rand_core::OsRng).unwrap();
    assert!(remove.plan.sentences()[1].contains("whose value nobody has"));
    let done = apply(&api, &remove.plan).await;
    let left = secrets(&env.state().await, &rec.app_id);
    assert_eq!(left.len(), 1);
    assert_ne!(left[0]["keyId"], orphan_key);
    let cleaned = edit_account::complete(
        &back,
        &remove.plan,
        &remove.change,
        &done,
        SecretFacts::default(),
        now,
    );
    assert!(cleaned.pending.is_none());
    assert_eq!(
        cleaned.auth, rec.auth,
        "the old secret is still the one in use"
    );
    assert!(matches!(
        edit_account::remove_orphan(&cleaned, &mut rand_core::OsRng),
        Err(EditError::NothingPending)
    ));
    env.stop().await;
}

#[test]
fn secret_lifetimes_and_names_are_checked() {
    let rec = ConnectionRecord::local(
        RecordDetails {
            name: "x".into(),
            cloud: Cloud::Global,
            tenant_id: "t".into(),
            auth: AuthMethod::ClientSecret {
                hint: "abc".into(),
                end: None,
            },
            profile: "azure-backup".into(),
            subscription: None,
            portal_address: None,
        },
        "a",
        UnixTime(1_790_000_000),
    );
    let now = UnixTime(1_790_000_000);
    let rng = &mut rand_core::OsRng;
    assert_eq!(
        edit_account::renew_secret(&rec, "  ", 30, &NO_POLICY, now, rng).unwrap_err(),
        EditError::SecretNameEmpty
    );
    assert!(matches!(
        edit_account::renew_secret(&rec, "n", 0, &NO_POLICY, now, rng),
        Err(EditError::Lifetime { .. })
    ));
    assert!(matches!(
        edit_account::renew_secret(&rec, "n", 731, &NO_POLICY, now, rng),
        Err(EditError::Lifetime { .. })
    ));
    let capped = PolicyView::Read(Some((
        Decider::TenantDefault,
        Restrictions {
            password_credentials: Some(vec![CredentialRestriction {
                restriction_type: "passwordLifetime".into(),
                state: Some("enabled".into()),
                max_lifetime: Some("P90D".into()),
                restrict_for_apps_created_after_date_time: None,
            }]),
            key_credentials: None,
        },
    )));
    let edit = edit_account::renew_secret(&rec, "n", 365, &capped, now, rng).unwrap();
    assert_eq!(
        edit.change,
        EditChange::SecretCreated {
            end: now.plus_days(90)
        }
    );
    assert_eq!(
        edit.notices,
        [
            "Shortened from 365 to 90 days: the tenant's default app management policy allows no more."
        ]
    );
}

#[test]
fn a_pasted_secret_updates_the_record_and_warns_about_an_id() {
    let now = UnixTime(1_790_000_000);
    let rec = ConnectionRecord::local(
        RecordDetails {
            name: "x".into(),
            cloud: Cloud::Global,
            tenant_id: "t".into(),
            auth: AuthMethod::ClientSecret {
                hint: "abc".into(),
                end: Some(now.plus_days(3)),
            },
            profile: "azure-backup".into(),
            subscription: None,
            portal_address: None,
        },
        "a",
        now,
    );
    let end = now.plus_days(365);
    let (r, warnings) = edit_account::paste_secret(
        &rec,
        "Xy78Q~UpQGsvDxBcF8cHGBwsAtF-r0mXNik-Mbk7",
        Some(end),
        None,
        now,
    )
    .unwrap();
    assert!(warnings.is_empty());
    assert_eq!(
        r.auth,
        AuthMethod::ClientSecret {
            hint: "Xy7".into(),
            end: Some(end)
        }
    );
    assert!(!serde_json::to_string(&r).unwrap().contains("UpQGsv"));
    let (_, warnings) = edit_account::paste_secret(
        &rec,
        "0b7f2a1c-3d4e-4f5a-8b6c-7d8e9f0a1b2c",
        None,
        None,
        now,
    )
    .unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("secret's ID"), "{warnings:?}");
    assert!(matches!(
        edit_account::paste_secret(&rec, "  ", None, None, now),
        Err(EditError::Secret(_))
    ));
}

#[tokio::test]
async fn renewing_the_certificate_keeps_the_old_one_until_confirmed() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let now = env.now();
    let rec = record(&env, "missing-roles", "azure-backup");
    let cert = certificate("Contoso Restore 2027", now);
    let new_thumb = cert.info().unwrap().sha1;
    let edit =
        edit_account::renew_certificate(&rec, cert.der(), &NO_POLICY, now, &mut rand_core::OsRng)
            .unwrap();
    let pending = apply_edit(&api, &rec, &edit, now).await;
    let state = edit_account::read(&api, &pending, None, now).await.unwrap();
    let certs: Vec<_> = state
        .credentials
        .iter()
        .filter(|c| c.kind == CredentialKind::Certificate)
        .collect();
    assert_eq!(certs.len(), 2, "the old certificate is kept");
    assert!(
        certs
            .iter()
            .any(|c| c.pending && c.label.eq_ignore_ascii_case(&new_thumb))
    );
    assert!(certs.iter().any(|c| c.in_use && !c.pending));

    let confirm = edit_account::confirm(&pending, &state, &mut rand_core::OsRng).unwrap();
    let confirmed = apply_edit(&api, &pending, &confirm, now).await;
    assert!(
        matches!(&confirmed.auth, AuthMethod::Certificate { thumbprint, .. } if thumbprint.eq_ignore_ascii_case(&new_thumb))
    );
    let state = edit_account::read(&api, &confirmed, None, now)
        .await
        .unwrap();
    let certs: Vec<_> = state
        .credentials
        .iter()
        .filter(|c| c.kind == CredentialKind::Certificate)
        .collect();
    assert_eq!(certs.len(), 1);
    assert!(certs[0].in_use);
    assert!(matches!(state.status, Status::Healthy { .. }));
    env.stop().await;
}

#[tokio::test]
async fn a_deleted_application_is_recreated_with_new_ids_history_and_roles() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let now = env.now();
    let backup = profiles::by_id("azure-backup").unwrap();
    // The demo's "Contoso Sync": deleted two days ago (in deletedItems).
    let rec = record(&env, "deleted-application", "azure-backup");
    let old_app_id = rec.app_id.clone();
    let state = edit_account::read(&api, &rec, Some(&backup), now)
        .await
        .unwrap();
    assert_eq!(state.status, Status::ApplicationDeleted);

    let cert = certificate("Contoso Sync", now);
    let edit = edit_account::recreate(
        &rec,
        &backup,
        NewCredential::Certificate(cert.der().to_vec()),
        &NO_POLICY,
        now,
        &mut rand_core::OsRng,
    )
    .unwrap();
    assert!(edit.notices[0].contains("must be given"));
    let progress = apply(&api, &edit.plan).await;
    let new = edit_account::complete(
        &rec,
        &edit.plan,
        &edit.change,
        &progress,
        SecretFacts::default(),
        now,
    );
    assert_ne!(new.app_id, old_app_id);
    assert_eq!(new.history.len(), 1);
    assert_eq!(new.history[0].app_id, old_app_id);
    let st = env.state().await;
    let apps = apps_named(&st, "Contoso Sync");
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0]["appId"], new.app_id);
    assert_eq!(new.application_object_id.as_deref(), apps[0]["id"].as_str());
    let sp = new.service_principal_id.clone().unwrap();
    assert_eq!(sps_for(&st, &new.app_id).len(), 1);
    let mut want = vec![
        builtin::CONTRIBUTOR.to_string(),
        builtin::KEY_VAULT_CRYPTO_USER.to_string(),
        builtin::STORAGE_QUEUE_DATA_CONTRIBUTOR.to_string(),
    ];
    want.sort();
    assert_eq!(role_ids_of(&st, &sp), want);
    let state = edit_account::read(&api, &new, Some(&backup), now)
        .await
        .unwrap();
    assert!(
        matches!(state.status, Status::Healthy { .. }),
        "{:?}",
        state.status
    );

    // A service account that signs in with a secret gets a new secret,
    // exactly one, whose value arrives once.
    // (Here for the restore-portal profile: its grants come back too.)
    let portal = profiles::by_id("restore-portal").unwrap();
    let mut secret_rec = record(&env, "expiring-secret", "restore-portal");
    secret_rec.name = "Contoso Archiver Again".into();
    secret_rec.app_id = "7d1b5b9f-2a64-4c1f-8e63-4b2f8a1cad22".into();
    secret_rec.subscription = None;
    let edit = edit_account::recreate(
        &secret_rec,
        &portal,
        NewCredential::Secret {
            name: "Archiver".into(),
            days: 365,
        },
        &NO_POLICY,
        now,
        &mut rand_core::OsRng,
    )
    .unwrap();
    let progress = apply(&api, &edit.plan).await;
    let secret = edit.channel.as_ref().unwrap().take().unwrap();
    let new = edit_account::complete(
        &secret_rec,
        &edit.plan,
        &edit.change,
        &progress,
        SecretFacts {
            hint: secret.hint.clone(),
            end: secret.end,
        },
        now,
    );
    let st = env.state().await;
    let list = secrets(&st, &new.app_id);
    assert_eq!(list.len(), 1);
    assert_eq!(new.key_id.as_deref(), list[0]["keyId"].as_str());
    assert_eq!(new.history[0].app_id, secret_rec.app_id);
    let state = edit_account::read(&api, &new, Some(&portal), now)
        .await
        .unwrap();
    assert!(
        matches!(state.status, Status::Healthy { .. }),
        "{:?}",
        state.status
    );
    assert!(
        matches!(&new.auth, AuthMethod::ClientSecret { hint, .. } if hint == &secret.value[..3])
    );
    env.stop().await;
}

#[test]
fn another_application_replaces_the_records_keeping_its_history() {
    let now = UnixTime(1_790_000_000);
    let tenant = "8f3a6c2e-4b1d-4e7a-9c5f-2d8b6a1e0c47";
    let rec = ConnectionRecord::local(
        RecordDetails {
            name: "Backup".into(),
            cloud: Cloud::Global,
            tenant_id: tenant.into(),
            auth: AuthMethod::ClientSecret {
                hint: "abc".into(),
                end: None,
            },
            profile: "azure-backup".into(),
            subscription: None,
            portal_address: None,
        },
        "d8b0490d-823f-46df-8680-25017029384a",
        now,
    );
    let check = LocalCheck {
        tenant: tenant.into(),
        app_id: "0c74fb13-03e3-4fc8-9e1f-61862656ca5e".into(),
        auth: CheckedAuth::Secret { hint: "Qw8".into() },
        warnings: vec![],
    };
    let r = edit_account::switch_application(&rec, &check, now).unwrap();
    assert_eq!(r.app_id, check.app_id);
    assert_eq!(r.history[0].app_id, rec.app_id);
    assert_eq!(r.name, "Backup");
    let other = LocalCheck {
        tenant: "11111111-2222-3333-4444-555555555555".into(),
        ..check
    };
    assert!(matches!(
        edit_account::switch_application(&rec, &other, now),
        Err(EditError::OtherTenant { .. })
    ));
}

#[tokio::test]
async fn a_policy_that_forbids_secrets_is_named_before_anything_is_sent() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let now = env.now();
    let rec = record(&env, "secrets-forbidden", "azure-backup");
    let state = edit_account::read(&api, &rec, None, now).await.unwrap();
    // Whole days left: 19 once a second of the emulator's clock has passed.
    assert!(
        matches!(state.status, Status::ExpiresSoon { days: 19 | 20 }),
        "{:?}",
        state.status
    );
    env.clear_requests().await;
    let refused =
        edit_account::renew_secret(&rec, "n", 180, &state.policy, now, &mut rand_core::OsRng)
            .unwrap_err();
    assert!(matches!(refused, EditError::Policy(_)));
    let said = refused.to_string();
    assert!(said.contains("Contoso: certificates only"), "{said}");
    assert!(said.contains("Use a certificate instead"), "{said}");
    assert!(env.log().await.is_empty(), "nothing was sent");
    // The same policy caps certificates at a year: a two-year one is refused.
    let two_years = entra_wizard::core::certificate::self_signed(
        key(),
        &entra_wizard::core::certificate::CertificateRequest::new("Reports"),
        [7; 10],
        now,
        now.plus_days(730),
    )
    .unwrap();
    let refused = edit_account::renew_certificate(
        &rec,
        two_years.der(),
        &state.policy,
        now,
        &mut rand_core::OsRng,
    )
    .unwrap_err();
    assert!(
        refused.to_string().contains("at most 365 days"),
        "{refused}"
    );
    // Measured as registered, notBefore to notAfter, as Graph checks it: a
    // year and a day is refused, a year from now is allowed.
    assert!(
        edit_account::renew_certificate(
            &rec,
            certificate("Reports", now).der(),
            &state.policy,
            now,
            &mut rand_core::OsRng
        )
        .is_err()
    );
    let a_year = |cn: &str| {
        entra_wizard::core::certificate::self_signed(
            key(),
            &entra_wizard::core::certificate::CertificateRequest::new(cn),
            [8; 10],
            now,
            now.plus_days(365),
        )
        .unwrap()
    };
    assert!(
        edit_account::renew_certificate(
            &rec,
            a_year("Reports").der(),
            &state.policy,
            now,
            &mut rand_core::OsRng
        )
        .is_ok()
    );

    // What the page offers: the policy named, the certificate first, no
    // new secret.
    let named = state.secrets_forbidden(now).unwrap().to_string();
    assert!(named.contains("Contoso: certificates only"), "{named}");
    assert_eq!(
        state.actions(&rec.auth, now),
        [Action::SwitchToCertificate, Action::PasteSecret]
    );
    // The way out: the service moves to a certificate; on confirm the
    // secret made before the policy is removed.
    let cert = a_year("Contoso Reports");
    let thumb = cert.info().unwrap().sha1;
    let edit = edit_account::renew_certificate(
        &rec,
        cert.der(),
        &state.policy,
        now,
        &mut rand_core::OsRng,
    )
    .unwrap();
    assert!(
        edit.plan.title.contains("to a certificate"),
        "{}",
        edit.plan.title
    );
    let pending = apply_edit(&api, &rec, &edit, now).await;
    let state = edit_account::read(&api, &pending, None, now).await.unwrap();
    assert_eq!(
        secrets(&env.state().await, &rec.app_id).len(),
        1,
        "kept until confirmed"
    );
    let confirm = edit_account::confirm(&pending, &state, &mut rand_core::OsRng).unwrap();
    assert!(
        confirm
            .plan
            .steps
            .iter()
            .any(|s| matches!(s, entra_wizard::plan::Step::RemovePassword(_))),
        "{:?}",
        confirm.plan.steps
    );
    let moved = apply_edit(&api, &pending, &confirm, now).await;
    assert!(
        matches!(&moved.auth, AuthMethod::Certificate { thumbprint, .. } if thumbprint.eq_ignore_ascii_case(&thumb))
    );
    assert!(
        secrets(&env.state().await, &rec.app_id).is_empty(),
        "the secret is gone"
    );
    let state = edit_account::read(&api, &moved, None, now).await.unwrap();
    assert!(
        matches!(state.status, Status::Healthy { .. }),
        "{:?}",
        state.status
    );
    env.stop().await;
}

/// Graph made the secret, then answered 500: the client sends it again.
#[tokio::test]
async fn a_5xx_after_the_secret_was_made_still_ends_with_exactly_one() {
    let faults = entra_emulator::faults::FaultConfig::default()
        .apply_spec("commit5xx=POST:/graph/v1.0/applications/*/addPassword,commitstatus=503")
        .unwrap();
    let env = Env::start(faults).await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let now = env.now();
    let rec = record(&env, "expiring-secret", "azure-backup");
    let edit = edit_account::renew_secret(
        &rec,
        "After 503",
        90,
        &NO_POLICY,
        now,
        &mut rand_core::OsRng,
    )
    .unwrap();
    let progress = apply(&api, &edit.plan).await;
    let after = secrets(&env.state().await, &rec.app_id);
    let new = marked(&after, &edit.plan);
    assert_eq!(new.len(), 1, "{after:#?}");
    assert_eq!(after.len(), 2, "the old secret and one new one");
    let secret = edit.channel.unwrap().take().unwrap();
    assert_eq!(new[0]["keyId"], secret.key_id);
    assert_eq!(progress.steps[1].ids, std::slice::from_ref(&secret.key_id));
    env.stop().await;
}

/// A secret made in the portal (here: straight through Graph) and pasted:
/// the live state gives its keyId and end date.
#[tokio::test]
async fn a_pasted_secret_is_matched_with_the_registered_one() {
    let env = Env::demo().await;
    let http = Native::default();
    let sleeper = env.sleeper();
    let api = env.api(&http, &sleeper, "admin").await;
    let now = env.now();
    let rec = record(&env, "expiring-secret", "azure-backup");
    let object_id = rec.application_object_id.clone().unwrap();
    let made = entra_wizard::graph::add_password(
        &api,
        &object_id,
        "made in the portal",
        Some(now.plus_days(200)),
    )
    .await
    .unwrap();
    let state = edit_account::read(&api, &rec, None, now).await.unwrap();
    let (r, warnings) =
        edit_account::paste_secret(&rec, &made.secret_text, None, Some(&state), now).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(r.key_id.as_deref(), Some(made.key_id.as_str()));
    assert_eq!(
        r.auth,
        AuthMethod::ClientSecret {
            hint: made.secret_text[..3].to_string(),
            end: made.end_date_time,
        }
    );
    let state = edit_account::read(&api, &r, None, now).await.unwrap();
    assert_eq!(
        state.in_use().unwrap().key_id.as_deref(),
        Some(made.key_id.as_str())
    );
    assert_eq!(state.status, Status::Healthy { days: 200 });

    // A value no secret of the application starts with is saved, with a warning.
    let (_, warnings) = edit_account::paste_secret(
        &rec,
        "~~~8Q~UpQGsvDxBcF8cHGBwsAtF-r0mXNik-Mbk7",
        None,
        Some(&state),
        now,
    )
    .unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("starts with '~~~'"), "{warnings:?}");
    env.stop().await;
}
