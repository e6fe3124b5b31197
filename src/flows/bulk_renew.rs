//! Bulk renewal from the dashboard: the rows an admin selected become one
//! plan — one new client secret per application replacing its selected
//! secrets, one new certificate per application replacing its selected
//! certificates — checked against the tenant's app management policy, then
//! applied through Graph JSON batching ([`crate::graph::batch`]), 20
//! requests a round trip.
//!
//! The plan ([`plan`]) reads the policies once, batched ([`read_policies`]):
//! a lifetime the policy does not allow is shortened with the policy's note,
//! a credential type it forbids is refused with its message. Certificates
//! are made by the page's crypto worker from [`BulkPlan::certificates_needed`]
//! and handed back with [`BulkPlan::attach_certificate`] (public DER only).
//!
//! The runner ([`apply`]) sends the items in batches and reads each item's
//! own answer:
//! - a 429 waits for that item's `Retry-After` while other items go on; the
//!   writes of the next batch are paced to what the tenant accepted in the
//!   last one, so the run keeps Graph's write quota busy without piling up
//!   429s;
//! - `addPassword` is not idempotent: after a 5xx or a lost answer the item
//!   is looked up (the plan's marker in the secret's displayName, as
//!   `plan::steps::add_password` does) before anything is sent again; a
//!   secret found there has a value nobody holds, so it is removed and one
//!   new secret made. A certificate is looked up by thumbprint: registering
//!   reads `keyCredentials` and PATCHes the whole collection with the new key
//!   added (`addKey` needs a proof signed by a valid key, which an expired
//!   application no longer has; see `plan::steps::remove_key_credential`);
//! - pause and cancel take effect between batches, never with a request in
//!   flight; [`RunState`] (no secret values) is saved by the page after every
//!   [`Event`], and a reloaded page calls [`apply`] again with it: an item
//!   whose answer was in flight is looked up, and secrets made before the
//!   reload whose values were never exported are reported
//!   ([`RunState::unseen_secrets`]) so the page can replace them.
//!
//! New secret values stay in memory ([`NewSecrets`], zeroized on drop) until
//! the admin downloads them as CSV. The old credentials are removed only by a
//! second plan, [`removal_plan`], built from a finished run and applied by
//! the same runner after the admin's second confirmation.
//!
//! Service principals' own credentials are left out: they are mostly SAML
//! token-signing certificates (made with `addTokenSigningCertificate`, their
//! passwords paired with them), which a relying party trusts by its
//! federation metadata — a new one means updating the other side too, not
//! something to do in bulk.
// https://learn.microsoft.com/en-us/graph/json-batching
// https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits
// https://learn.microsoft.com/en-us/graph/api/application-addpassword
// https://learn.microsoft.com/en-us/graph/api/application-removepassword
// https://learn.microsoft.com/en-us/graph/api/application-update (keyCredentials replaced whole)
// https://learn.microsoft.com/en-us/graph/api/serviceprincipal-addtokensigningcertificate

use core::fmt;
use std::collections::HashMap;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use super::certificate::months_within;
use super::dashboard::{Kind, OwnerKind, Table, csv_cell};
use super::policy::{self, CredentialKind, PolicyView};
use crate::api_error::{ApiError, Service};
use crate::client::{ApiClient, ApiRequest, Page};
use crate::core::certificate::{Certificate, CertificateRequest};
use crate::core::generate::{GenerateRequest, MAX_MONTHS, MIN_MONTHS};
use crate::core::key_credential::{self, KeyCredential};
use crate::core::time::{DAY, UnixTime};
use crate::graph::batch::{self, Answers, Batch, BatchError, ItemAnswer, MAX_REQUESTS};
use crate::graph::policies::{self as graph_policies, AppManagementPolicy, Restrictions};
use crate::graph::{NewPassword, PasswordCredential, request};
use crate::http::{Backoff, HttpClient, RetryPolicy, Sleeper};
use crate::plan::steps::add_password::{NewSecret, made_by, tagged_name};
use crate::plan::steps::remove_key_credential::RemoveKeyError;

/// Format of a saved [`BulkPlan`] and [`RunState`].
pub const FORMAT: u32 = 1;
/// Attempts of one item after a 5xx or a lost answer before it fails.
const MAX_ATTEMPTS: u32 = 10;
/// 429s one item takes before it fails (Graph's throttling passes; this
/// only stops a run that can never get through).
const MAX_THROTTLED: u32 = 100;
/// Longest single sleep between looks at pause and cancel.
const TICK_MS: u64 = 1000;

/// What the admin chose for the new credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    /// The new secrets' name ("Renewed 2026-11-30"); the plan's marker is
    /// added to it.
    pub secret_name: String,
    /// How long new secrets last (the policy may shorten it).
    pub secret_days: u64,
    /// How long new certificates last, 1–24 months (the policy may
    /// shorten it).
    #[serde(default = "default_months")]
    pub certificate_months: u32,
}

fn default_months() -> u32 {
    super::certificate::LIFETIME_MONTHS
}

impl Options {
    /// "Renewed {date}", 180 days (Microsoft recommends less than 12 months).
    pub fn default_at(now: UnixTime) -> Options {
        Options {
            secret_name: format!("Renewed {}", &now.to_rfc3339()[..10]),
            secret_days: 180,
            certificate_months: default_months(),
        }
    }
}

/// The application an item changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemOwner {
    pub object_id: String,
    pub app_id: String,
    pub name: String,
}

/// A credential the item replaces or removes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OldCredential {
    pub key_id: String,
    /// A secret's hint, a certificate's SHA-1 thumbprint.
    pub detail: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub end: Option<UnixTime>,
}

/// The certificate the page generated for an item (public part only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCertificate {
    /// Standard base64 of the DER.
    pub der_base64: String,
    pub thumbprint: String,
    pub not_after: UnixTime,
}

/// What an item does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// `addPassword`, named with the plan's marker.
    AddSecret { end: UnixTime },
    /// Read `keyCredentials`, PATCH them back with the new certificate.
    AddCertificate {
        common_name: String,
        validity_months: u32,
        /// The policy's longest lifetime, when it sets one.
        #[serde(default)]
        max_lifetime_secs: Option<u64>,
        #[serde(default)]
        certificate: Option<NewCertificate>,
    },
    /// `removePassword` of one old secret.
    RemoveSecret { key_id: String },
    /// Read `keyCredentials`, PATCH them back without the old certificates,
    /// once the new one (`replaced_by`, a thumbprint) is there.
    RemoveCertificates { replaced_by: String },
}

impl Action {
    fn is_secret(&self) -> bool {
        matches!(self, Action::AddSecret { .. } | Action::RemoveSecret { .. })
    }
}

/// One thing the run does to one application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub owner: ItemOwner,
    pub action: Action,
    /// The selected credentials it replaces (renewal) or removes (removal).
    pub replaces: Vec<OldCredential>,
    /// The policy's note (a shortened lifetime, a policy that could not be read).
    #[serde(default)]
    pub note: Option<String>,
    /// Why the policy refuses it: the item is not sent.
    #[serde(default)]
    pub refused: Option<String>,
}

impl Item {
    /// One sentence for the collapsed per-application view.
    pub fn sentence(&self, secret_name: &str) -> String {
        let list = |f: &dyn Fn(&OldCredential) -> String| {
            self.replaces.iter().map(f).collect::<Vec<_>>().join(", ")
        };
        let n = self.replaces.len();
        match &self.action {
            Action::AddSecret { end } => format!(
                "Create client secret '{}', valid until {end}, to replace {n} secret{} ({}); \
                 the old ones stay until you remove them",
                secret_name.trim(),
                plural(n),
                list(&|o| format!("{}…", o.detail))
            ),
            Action::AddCertificate {
                common_name,
                validity_months,
                certificate,
                ..
            } => {
                let thumb = certificate
                    .as_ref()
                    .map(|c| format!(" (thumbprint {})", c.thumbprint))
                    .unwrap_or_default();
                format!(
                    "Register a new certificate CN={common_name}{thumb} for {validity_months} \
                     months, keeping the existing ones, to replace {n} certificate{} \
                     (thumbprint {})",
                    plural(n),
                    list(&|o| o.detail.clone())
                )
            }
            Action::RemoveSecret { key_id } => format!(
                "Remove the old client secret {}… (key ID {key_id})",
                self.replaces
                    .first()
                    .map(|o| o.detail.as_str())
                    .unwrap_or("")
            ),
            Action::RemoveCertificates { replaced_by } => format!(
                "Remove {n} old certificate{} (thumbprint {}), keeping the new one ({replaced_by}) \
                 and the other keys",
                plural(n),
                list(&|o| o.detail.clone())
            ),
        }
    }
}

/// Renewal, or removal of the old credentials after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Purpose {
    Renewal,
    Removal,
}

/// Selected rows the plan leaves out, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub name: String,
    pub app_id: String,
    pub credentials: usize,
    pub why: String,
}

/// A bulk renewal (or removal), reviewed before it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkPlan {
    pub format: u32,
    /// Random; the new secrets carry its marker (`entra-wizard:plan:{id}`).
    pub id: String,
    pub purpose: Purpose,
    pub secret_name: String,
    pub items: Vec<Item>,
    #[serde(default)]
    pub skipped: Vec<Skipped>,
}

/// The plan's headline numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    pub purpose: Purpose,
    /// Selected (or old) secrets and certificates the items replace or remove.
    pub secrets: usize,
    pub certificates: usize,
    /// Applications with at least one item that is not refused.
    pub applications: usize,
    /// Items the policy refuses (their credentials are not renewed).
    pub refused: usize,
    /// Selected credentials left out (service principals' own).
    pub skipped: usize,
}

impl fmt::Display for Summary {
    /// "Renew 37 secrets and 12 certificates in 41 applications", then what
    /// is refused or skipped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |n: usize, what: &str| format!("{n} {what}{}", plural(n));
        let mut parts = Vec::new();
        if self.secrets > 0 {
            parts.push(count(self.secrets, "secret"));
        }
        if self.certificates > 0 {
            parts.push(count(self.certificates, "certificate"));
        }
        let what = match parts.is_empty() {
            true => "nothing".to_string(),
            false => parts.join(" and "),
        };
        let (verb, prep) = match self.purpose {
            Purpose::Renewal => ("Renew", "in"),
            Purpose::Removal => ("Remove", "from"),
        };
        write!(
            f,
            "{verb} {what} {prep} {}",
            count(self.applications, "application")
        )?;
        if self.refused > 0 {
            write!(
                f,
                "; {} refused by the tenant's app management policy",
                count(self.refused, "renewal")
            )?;
        }
        if self.skipped > 0 {
            let why = match self.purpose {
                Purpose::Renewal => "of service principals left out",
                Purpose::Removal => "kept: not renewed",
            };
            write!(f, "; {} {why}", count(self.skipped, "credential"))?;
        }
        Ok(())
    }
}

/// One application's part of the plan, for the collapsed view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationSteps {
    pub name: String,
    pub app_id: String,
    pub object_id: String,
    /// Item indices.
    pub items: Vec<usize>,
    pub steps: Vec<String>,
    pub refused: Vec<String>,
    pub notes: Vec<String>,
}

/// A certificate the page must generate before the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateNeed {
    pub item: usize,
    pub application: String,
    pub app_id: String,
    pub common_name: String,
    pub validity_months: u32,
}

impl CertificateNeed {
    /// What the crypto worker makes (RSA 2048, the compatible PFX).
    pub fn generate_request(&self) -> GenerateRequest {
        GenerateRequest {
            subject: CertificateRequest::new(self.common_name.clone()),
            validity_months: self.validity_months,
            ..GenerateRequest::default()
        }
    }
}

/// What goes wrong, said so the admin can act on it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BulkError {
    #[error(
        "Generate the new certificates first: {} still need{} one ({}).",
        count_text(.0.len(), "application"),
        if .0.len() == 1 { "s" } else { "" },
        .0.join(", ")
    )]
    CertificatesMissing(Vec<String>),
    #[error("Item {0} of the plan does not register a certificate.")]
    NotACertificateItem(usize),
    #[error("The certificate for {application} cannot be used: {reason}")]
    Certificate { application: String, reason: String },
    #[error(
        "The certificate for {application} lasts {days} days; the tenant's app management \
         policy allows at most {max_days}. Generate it again with the plan's validity."
    )]
    LifetimeTooLong {
        application: String,
        days: u64,
        max_days: u64,
    },
    #[error(
        "This saved progress belongs to another bulk plan; review the selection again and \
         start a new run."
    )]
    OtherPlan,
    #[error(
        "The renewal is still running ({0} items not finished): finish or cancel it before \
         removing old credentials."
    )]
    NotFinished(usize),
    #[error("Nothing to remove: no renewal of this run finished.")]
    NothingToRemove,
    #[error("Microsoft Graph refused the batch: {0} {advice}", advice = .0.advice())]
    Refused(ApiError),
}

fn count_text(n: usize, what: &str) -> String {
    format!("{n} {what}{}", plural(n))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The tenant's app management policies as read for a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policies {
    default: PolicyView,
    /// Per application object ID: its assigned policy's view (`None`: no
    /// enabled policy assigned, the default decides).
    assigned: HashMap<String, Option<PolicyView>>,
    /// Creation dates read where a restriction depends on them.
    created: HashMap<String, UnixTime>,
    /// `POST /$batch` requests sent to read them (fallback reads aside).
    pub batches: u32,
}

impl Policies {
    /// Policies known without reading (the tenant's default only).
    pub fn new(default: PolicyView) -> Policies {
        Policies {
            default,
            assigned: HashMap::new(),
            created: HashMap::new(),
            batches: 0,
        }
    }

    /// Records the view of the policy assigned to `object_id`.
    pub fn assign(&mut self, object_id: &str, view: Option<PolicyView>) {
        self.assigned.insert(object_id.to_string(), view);
    }

    /// What decides for the application `object_id`.
    pub fn view(&self, object_id: &str) -> PolicyView {
        match self.assigned.get(object_id) {
            Some(Some(view)) => view.clone(),
            _ => self.default.clone(),
        }
    }

    pub fn created(&self, object_id: &str) -> Option<UnixTime> {
        self.created.get(object_id).copied()
    }
}

fn dated(r: &Restrictions) -> bool {
    [&r.password_credentials, &r.key_credentials]
        .into_iter()
        .flatten()
        .flatten()
        .any(|x| x.restrict_for_apps_created_after_date_time.is_some())
}

/// Reads the tenant's default policy and the policy assigned to each
/// application of `rows`, 20 reads a batch, then the creation date of the
/// applications whose deciding policy restricts only applications created
/// after a date. Never fails: what cannot be read is
/// [`PolicyView::Unreadable`] (the plan says so and does not clamp).
pub async fn read_policies<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    table: &Table,
    rows: &[u32],
) -> Policies {
    let mut owners: Vec<String> = Vec::new();
    for &r in rows {
        let Some(row) = table.rows.get(r as usize) else {
            continue;
        };
        let owner = table.owner(row);
        if owner.kind == OwnerKind::Application && !owners.contains(&owner.object_id) {
            owners.push(owner.object_id.clone());
        }
    }
    let mut reads: Vec<(String, ApiRequest)> = vec![(
        "default".into(),
        graph_policies::request::get_default_policy(),
    )];
    reads.extend(owners.iter().map(|id| {
        (
            id.clone(),
            graph_policies::request::list_application_policies(id),
        )
    }));
    let mut policies = Policies::new(PolicyView::Read(None));
    let answers = read_batched(api, &reads, &mut policies.batches).await;
    for ((id, _), answer) in reads.iter().zip(answers) {
        if id == "default" {
            policies.default = match answer {
                Ok(a) => a
                    .decode("the default app management policy")
                    .map(policy::default_view)
                    .unwrap_or_else(|e| policy::unreadable(&e)),
                Err(e) => policy::unreadable(&e),
            };
            continue;
        }
        let view = match answer {
            Ok(a) => match a.decode::<Page<AppManagementPolicy>>("the application's policies") {
                Ok(page) => policy::assigned_view(page.value),
                Err(e) => Some(policy::unreadable(&e)),
            },
            Err(e) => Some(policy::unreadable(&e)),
        };
        policies.assigned.insert(id.clone(), view);
    }
    // Creation dates, only where a restriction depends on one.
    let need: Vec<(String, ApiRequest)> = owners
        .iter()
        .filter(|id| matches!(policies.view(id), PolicyView::Read(Some((_, r))) if dated(&r)))
        .map(|id| (id.clone(), request::get_application(id)))
        .collect();
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Created {
        created_date_time: Option<UnixTime>,
    }
    let answers = read_batched(api, &need, &mut policies.batches).await;
    for ((id, _), answer) in need.iter().zip(answers) {
        if let Some(t) = answer
            .ok()
            .and_then(|a| a.decode::<Created>("an application").ok())
            .and_then(|c| c.created_date_time)
        {
            policies.created.insert(id.clone(), t);
        }
    }
    policies
}

/// Sends GETs batched; an item Graph did not answer with success for a
/// reason worth retrying (429, 5xx, no answer) is read again on its own
/// through the client, whose policy retries it.
async fn read_batched<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    reads: &[(String, ApiRequest)],
    batches: &mut u32,
) -> Vec<Result<ItemAnswer, ApiError>> {
    let mut out = Vec::with_capacity(reads.len());
    for chunk in reads.chunks(MAX_REQUESTS) {
        let mut b = Batch::new();
        for (n, (_, r)) in chunk.iter().enumerate() {
            // At most MAX_REQUESTS relative Graph GETs with distinct ids.
            let _ = b.push(n.to_string(), r.clone());
        }
        *batches += 1;
        let mut answers = batch::send(api, &b).await.unwrap_or_default();
        for (n, (_, r)) in chunk.iter().enumerate() {
            let answer = match answers.take(&n.to_string()) {
                Some(a) if a.is_success() => Ok(a),
                Some(a) if a.status != 429 && a.status < 500 => Err(ApiError::Service(a.error())),
                _ => alone(api, r, n).await,
            };
            out.push(answer);
        }
    }
    out
}

/// One read sent on its own, its answer as a batch item's.
async fn alone<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    r: &ApiRequest,
    n: usize,
) -> Result<ItemAnswer, ApiError> {
    let response = api.call(r).await?;
    Ok(ItemAnswer::from_response(n.to_string(), response))
}

/// The plan for the selected `rows` of `table`: per application, one new
/// secret replacing its selected secrets and one new certificate replacing
/// its selected certificates, each checked against `policies`.
pub fn plan(
    table: &Table,
    rows: &[u32],
    options: &Options,
    policies: &Policies,
    now: UnixTime,
    rng: &mut impl rand_core::RngCore,
) -> BulkPlan {
    // Owners in the order of their first selected row (soonest end first).
    let mut order: Vec<u32> = Vec::new();
    let mut picked: HashMap<(u32, bool), Vec<OldCredential>> = HashMap::new();
    for &r in rows {
        let Some(row) = table.rows.get(r as usize) else {
            continue;
        };
        if !order.contains(&row.owner) {
            order.push(row.owner);
        }
        let list = picked
            .entry((row.owner, row.kind == Kind::Secret))
            .or_default();
        if !list.iter().any(|o| o.key_id == row.key_id) {
            list.push(OldCredential {
                key_id: row.key_id.clone(),
                detail: row.detail.clone(),
                name: row.name.clone(),
                end: row.end,
            });
        }
    }
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    for o in order {
        let owner = &table.owners[o as usize];
        let secrets = picked.remove(&(o, true)).unwrap_or_default();
        let certificates = picked.remove(&(o, false)).unwrap_or_default();
        if owner.kind == OwnerKind::ServicePrincipal {
            skipped.push(Skipped {
                name: owner.name.clone(),
                app_id: owner.app_id.clone(),
                credentials: secrets.len() + certificates.len(),
                why: "A service principal's own credentials are mostly SAML token-signing \
                      certificates, which the other side of the federation trusts by its \
                      metadata: renew them on the enterprise application's single sign-on \
                      page and update the relying party."
                    .into(),
            });
            continue;
        }
        let who = ItemOwner {
            object_id: owner.object_id.clone(),
            app_id: owner.app_id.clone(),
            name: owner.name.clone(),
        };
        let view = policies.view(&owner.object_id);
        let created = policies.created(&owner.object_id);
        if !secrets.is_empty() {
            let (action, note, refused) = match view.evaluate(
                CredentialKind::Secret,
                options.secret_days.saturating_mul(DAY),
                created,
                now,
            ) {
                Ok(allowed) => (
                    Action::AddSecret {
                        end: UnixTime(now.0 + allowed.lifetime_secs),
                    },
                    allowed.note(),
                    None,
                ),
                Err(e) => (Action::AddSecret { end: now }, None, Some(e.to_string())),
            };
            items.push(Item {
                owner: who.clone(),
                action,
                replaces: secrets,
                note,
                refused,
            });
        }
        if !certificates.is_empty() {
            let max_lifetime_secs = view
                .evaluate(CredentialKind::Certificate, u64::MAX / 2, created, now)
                .ok()
                .filter(|a| a.decided_by.is_some())
                .map(|a| a.lifetime_secs);
            let (validity_months, note, refused) = match months_within(
                &view,
                options.certificate_months.clamp(MIN_MONTHS, MAX_MONTHS),
                created,
                now,
            ) {
                Ok((months, note)) => (months, note, None),
                Err(e) => (0, None, Some(e.to_string())),
            };
            items.push(Item {
                owner: who,
                action: Action::AddCertificate {
                    common_name: owner.name.clone(),
                    validity_months,
                    max_lifetime_secs,
                    certificate: None,
                },
                replaces: certificates,
                note,
                refused,
            });
        }
    }
    BulkPlan {
        format: FORMAT,
        id: crate::plan::new_guid(rng),
        purpose: Purpose::Renewal,
        secret_name: options.secret_name.clone(),
        items,
        skipped,
    }
}

impl BulkPlan {
    /// The tag of the plan's new secrets.
    pub fn marker(&self) -> String {
        crate::plan::marker(&self.id)
    }

    pub fn summary(&self) -> Summary {
        let live = || self.items.iter().filter(|i| i.refused.is_none());
        let count = |secret: bool| {
            live()
                .filter(|i| i.action.is_secret() == secret)
                .map(|i| i.replaces.len())
                .sum()
        };
        let mut apps: Vec<&str> = live().map(|i| i.owner.object_id.as_str()).collect();
        apps.sort_unstable();
        apps.dedup();
        Summary {
            purpose: self.purpose,
            secrets: count(true),
            certificates: count(false),
            applications: apps.len(),
            refused: self.items.iter().filter(|i| i.refused.is_some()).count(),
            skipped: self.skipped.iter().map(|s| s.credentials).sum(),
        }
    }

    /// Each application's items as sentences, in plan order.
    pub fn applications(&self) -> Vec<ApplicationSteps> {
        let mut out: Vec<ApplicationSteps> = Vec::new();
        for (n, item) in self.items.iter().enumerate() {
            let pos = match out.iter().position(|a| a.object_id == item.owner.object_id) {
                Some(p) => p,
                None => {
                    out.push(ApplicationSteps {
                        name: item.owner.name.clone(),
                        app_id: item.owner.app_id.clone(),
                        object_id: item.owner.object_id.clone(),
                        items: Vec::new(),
                        steps: Vec::new(),
                        refused: Vec::new(),
                        notes: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let a = &mut out[pos];
            a.items.push(n);
            match &item.refused {
                Some(why) => a.refused.push(why.clone()),
                None => a.steps.push(item.sentence(&self.secret_name)),
            }
            a.notes.extend(item.note.clone());
        }
        out
    }

    /// The certificates the page must still generate.
    pub fn certificates_needed(&self) -> Vec<CertificateNeed> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, i)| i.refused.is_none())
            .filter_map(|(n, i)| match &i.action {
                Action::AddCertificate {
                    common_name,
                    validity_months,
                    certificate: None,
                    ..
                } => Some(CertificateNeed {
                    item: n,
                    application: i.owner.name.clone(),
                    app_id: i.owner.app_id.clone(),
                    common_name: common_name.clone(),
                    validity_months: *validity_months,
                }),
                _ => None,
            })
            .collect()
    }

    /// Hands the plan the public certificate (DER) generated for `item`:
    /// an RSA certificate within the policy's lifetime.
    pub fn attach_certificate(&mut self, item: usize, der: &[u8]) -> Result<(), BulkError> {
        let Some(it) = self.items.get_mut(item) else {
            return Err(BulkError::NotACertificateItem(item));
        };
        let application = it.owner.name.clone();
        let Action::AddCertificate {
            max_lifetime_secs,
            certificate,
            ..
        } = &mut it.action
        else {
            return Err(BulkError::NotACertificateItem(item));
        };
        let bad = |reason: String| BulkError::Certificate {
            application: application.clone(),
            reason,
        };
        let cert = Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
        KeyCredential::for_certificate(&cert).map_err(|e| bad(e.to_string()))?;
        let info = cert.info().map_err(|e| bad(e.to_string()))?;
        let lifetime = info.not_after.0.saturating_sub(info.not_before.0);
        if let Some(max) = *max_lifetime_secs
            && lifetime > max
        {
            return Err(BulkError::LifetimeTooLong {
                application,
                days: lifetime.div_ceil(DAY),
                max_days: max / DAY,
            });
        }
        *certificate = Some(NewCertificate {
            der_base64: Base64::encode_string(der),
            thumbprint: info.sha1,
            not_after: info.not_after,
        });
        Ok(())
    }

    /// Whether every certificate the run registers is attached.
    pub fn is_ready(&self) -> bool {
        self.certificates_needed().is_empty()
    }

    /// A fresh run of this plan.
    pub fn start(&self) -> RunState {
        RunState {
            format: FORMAT,
            plan_id: self.id.clone(),
            items: self
                .items
                .iter()
                .map(|i| ItemRun {
                    stage: match i.refused {
                        Some(_) => Stage::Refused,
                        None => Stage::Pending,
                    },
                    ..ItemRun::default()
                })
                .collect(),
            cancelled: false,
            batches: 0,
            rate: None,
        }
    }
}

/// Where an item stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged, and not flattened into `ItemRun`: serde then needs no
// buffering of the whole object (4.7 KB gzip less in the page).
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// To send (again): nothing of it is in the tenant that the run does not know of.
    #[default]
    Pending,
    /// Sent, its answer not read yet. Read back after a reload, it is
    /// looked up: the change may have been made.
    Sent,
    /// To look up before anything is sent again (a 5xx or a lost answer).
    LookUp,
    /// Secrets of this item whose values nobody holds: removed, then one
    /// new secret made.
    Replace {
        remove: Vec<String>,
    },
    /// A new secret made, its value held: the application's secrets are
    /// read once more, because a copy may exist that nobody holds — a
    /// browser sends a POST again on its own when the connection broke
    /// before any byte of the answer came (Chromium's retry of a request
    /// on a reused connection), and Graph then made the secret twice.
    #[serde(rename_all = "camelCase")]
    Verify {
        key_id: String,
        #[serde(default)]
        exported: bool,
    },
    /// Copies of the plan's secret found by [`Stage::Verify`]: removed, the
    /// new one kept.
    #[serde(rename_all = "camelCase")]
    Prune {
        key_id: String,
        #[serde(default)]
        exported: bool,
        remove: Vec<String>,
    },
    #[serde(rename_all = "camelCase")]
    Done {
        #[serde(default)]
        key_id: Option<String>,
        #[serde(default)]
        note: Option<String>,
        /// A new secret's value was exported (downloaded or copied).
        #[serde(default)]
        exported: bool,
    },
    Failed {
        message: String,
    },
    /// Refused by the policy; never sent.
    Refused,
    /// Not sent: the run was cancelled.
    Cancelled,
}

/// One item's run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemRun {
    pub stage: Stage,
    /// Waits until then (milliseconds of the page's clock): its own
    /// `Retry-After`, or a backoff.
    #[serde(default)]
    pub wait_until_ms: Option<u64>,
    /// Sends after a 5xx or a lost answer.
    #[serde(default)]
    pub attempts: u32,
    /// 429s taken.
    #[serde(default)]
    pub throttled: u32,
    /// Graph's refusal of a removal, kept until a look-up tells whether
    /// the credential is gone anyway.
    #[serde(default)]
    pub last_error: Option<String>,
}

impl ItemRun {
    /// The new secret this item made (its keyId, and whether its value was
    /// exported), while it is checked for copies or once done.
    fn new_secret(&self) -> Option<(&String, bool)> {
        match &self.stage {
            Stage::Done {
                key_id: Some(k),
                exported,
                ..
            }
            | Stage::Verify {
                key_id: k,
                exported,
            }
            | Stage::Prune {
                key_id: k,
                exported,
                ..
            } => Some((k, *exported)),
            _ => None,
        }
    }

    fn is_final(&self) -> bool {
        matches!(
            self.stage,
            Stage::Done { .. } | Stage::Failed { .. } | Stage::Refused | Stage::Cancelled
        )
    }
}

/// A run's state: what the page saves after every event (no secret value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunState {
    pub format: u32,
    pub plan_id: String,
    pub items: Vec<ItemRun>,
    #[serde(default)]
    pub cancelled: bool,
    /// `POST /$batch` requests sent.
    #[serde(default)]
    pub batches: u32,
    /// When this apply started and how many items were done then (the
    /// observed rate, for the time left).
    #[serde(skip)]
    rate: Option<(u64, usize)>,
}

/// Counts for the progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    /// Being retried (looked up, replaced, or sent again after a failure).
    pub retrying: usize,
    /// Waiting for their own `Retry-After` (or a backoff).
    pub waiting: usize,
    pub failed: usize,
    pub pending: usize,
    pub refused: usize,
    pub cancelled: usize,
    /// Time left at the rate observed since this apply started.
    pub eta_ms: Option<u64>,
}

/// A secret made by the run whose value the admin never exported and the
/// page no longer holds (a reload): the page offers to replace it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unseen {
    pub item: usize,
    pub application: String,
    pub app_id: String,
    pub key_id: String,
}

impl RunState {
    pub fn progress(&self, now_ms: u64) -> Progress {
        let mut p = Progress {
            total: self.items.len(),
            ..Progress::default()
        };
        for i in &self.items {
            match &i.stage {
                // Made and its value held; only the check for copies is left.
                Stage::Done { .. } | Stage::Verify { .. } => p.done += 1,
                Stage::Failed { .. } => p.failed += 1,
                Stage::Refused => p.refused += 1,
                Stage::Cancelled => p.cancelled += 1,
                _ if i.wait_until_ms.is_some_and(|t| t > now_ms) => p.waiting += 1,
                Stage::LookUp | Stage::Replace { .. } | Stage::Prune { .. } => p.retrying += 1,
                _ if i.attempts + i.throttled > 0 => p.retrying += 1,
                _ => p.pending += 1,
            }
        }
        let left = p.pending + p.retrying + p.waiting;
        if let Some((start, done_then)) = self.rate {
            let done = p.done.saturating_sub(done_then);
            let elapsed = now_ms.saturating_sub(start);
            if done > 0 && elapsed > 0 {
                p.eta_ms = Some((elapsed as u128 * left as u128 / done as u128) as u64);
            }
        }
        if left == 0 {
            p.eta_ms = Some(0);
        }
        p
    }

    /// Nothing left to send.
    pub fn is_finished(&self) -> bool {
        self.items.iter().all(ItemRun::is_final)
    }

    /// New secrets whose values were neither exported nor are held by `secrets`.
    pub fn unseen_secrets(&self, plan: &BulkPlan, secrets: &NewSecrets) -> Vec<Unseen> {
        self.items
            .iter()
            .zip(&plan.items)
            .enumerate()
            .filter_map(|(n, (run, item))| match (run.new_secret(), &item.action) {
                (Some((k, false)), Action::AddSecret { .. }) if !secrets.holds(k) => Some(Unseen {
                    item: n,
                    application: item.owner.name.clone(),
                    app_id: item.owner.app_id.clone(),
                    key_id: k.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Replaces the unseen secrets of `items` on the next [`apply`]: each is
    /// removed and one new secret made.
    pub fn replace_unseen(&mut self, items: &[usize]) {
        for &n in items {
            let Some(run) = self.items.get_mut(n) else {
                continue;
            };
            let mut remove: Vec<String> = run
                .new_secret()
                .map(|(k, _)| k.clone())
                .into_iter()
                .collect();
            if let Stage::Prune { remove: copies, .. } = &run.stage {
                remove.extend(copies.iter().cloned());
            }
            if !remove.is_empty() {
                run.stage = Stage::Replace { remove };
                run.wait_until_ms = None;
            }
        }
    }

    /// Cancels what was never carried out: items not sent, or sent and
    /// throttled (a 429 made nothing). Items half-way — a lost answer to
    /// look up, a lost secret to replace, a certificate whose PATCH may
    /// have been made — stay open: [`apply`] brings them to their end
    /// (sending only their look-ups) and then returns [`Finish::Cancelled`].
    pub fn cancel(&mut self) {
        self.cancelled = true;
        for run in &mut self.items {
            if run.stage == Stage::Pending && run.attempts == 0 {
                run.stage = Stage::Cancelled;
                run.wait_until_ms = None;
            }
        }
    }

    /// Records that the admin copied the value of the secret `key_id`.
    pub fn mark_exported_key(&mut self, key_id: &str) {
        self.mark_exported_where(|k| k.eq_ignore_ascii_case(key_id));
    }

    /// Records that the admin exported the values `secrets` holds.
    pub fn mark_exported(&mut self, secrets: &NewSecrets) {
        self.mark_exported_where(|k| secrets.holds(k));
    }

    fn mark_exported_where(&mut self, exported_key: impl Fn(&str) -> bool) {
        for run in &mut self.items {
            if run.new_secret().is_some_and(|(k, _)| exported_key(k))
                && let Stage::Done { exported, .. }
                | Stage::Verify { exported, .. }
                | Stage::Prune { exported, .. } = &mut run.stage
            {
                *exported = true;
            }
        }
    }
}

/// A secret the run made, with its value (memory only).
#[derive(Debug)]
pub struct CreatedSecret {
    pub item: usize,
    pub application: String,
    pub app_id: String,
    pub name: String,
    pub secret: NewSecret,
}

/// The run's new secrets, shown once and downloaded on request. Values are
/// zeroized when this is dropped; never serialised.
#[derive(Debug, Default)]
pub struct NewSecrets {
    list: Vec<CreatedSecret>,
}

impl NewSecrets {
    pub fn list(&self) -> &[CreatedSecret] {
        &self.list
    }

    pub fn holds(&self, key_id: &str) -> bool {
        self.list
            .iter()
            .any(|c| c.secret.key_id.eq_ignore_ascii_case(key_id))
    }

    /// Drops the values (after the admin saved them).
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// `Application,Application (client) ID,Key ID,Name,Value,Expires`, one
    /// line per secret (RFC 4180, CRLF). Text cells that a spreadsheet would
    /// run as a formula are defused; the value is written exactly as Graph
    /// made it (quoted when needed), since a changed value would not sign in.
    pub fn csv(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::from(
            "Application,Application (client) ID,Key ID,Name,Value,Expires\r\n",
        ));
        for c in &self.list {
            let expires = c.secret.end.map(UnixTime::to_rfc3339).unwrap_or_default();
            for (n, cell) in [&c.application, &c.app_id, &c.secret.key_id, &c.name]
                .into_iter()
                .enumerate()
            {
                if n > 0 {
                    out.push(',');
                }
                csv_cell(&mut out, cell);
            }
            out.push(',');
            let value: &str = &c.secret.value;
            if value.contains([',', '"', '\r', '\n']) {
                out.push('"');
                out.push_str(&value.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(value);
            }
            out.push(',');
            csv_cell(&mut out, &expires);
            out.push_str("\r\n");
        }
        out
    }
}

/// What the page hears from [`apply`]; it saves the [`RunState`] on each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A batch is about to be sent; its writes are marked as sent.
    Sending { requests: usize },
    /// A batch's answers were read (or lost).
    Answered {
        requests: usize,
        throttled: usize,
        lost: bool,
    },
    /// Nothing can be sent for `ms` (every item left waits for its
    /// `Retry-After`).
    Waiting { ms: u64 },
    /// Every item is final; the state is the run's last.
    Finished(Finish),
}

/// The page's answer to an event: go on, or stop between batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// Stop; [`apply`] with the same state goes on later.
    Pause,
    /// Stop for good: what was not sent is cancelled.
    Cancel,
}

/// How [`apply`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Every item is done, failed or refused.
    Completed,
    Paused,
    Cancelled,
}

/// The request an item sends next, and whether it changes anything.
struct Send {
    id: String,
    request: ApiRequest,
    write: bool,
}

/// How many writes the next batch may carry: what the tenant accepted in
/// the last throttled batch, growing again while nothing is throttled.
struct Pace {
    window: usize,
    not_before_ms: u64,
}

/// Runs `plan` from `state` until every item is final, or the page pauses
/// or cancels. `clock` is the page's clock in milliseconds; `sleeper`
/// waits. Call it again with the saved state to resume (after a pause or a
/// reload). `Err` only when Graph refuses a batch as a whole (sign-in,
/// permission): nothing of that batch was carried out.
pub async fn apply<C: HttpClient, S: Sleeper, Z: Sleeper>(
    api: &ApiClient<'_, C, S>,
    sleeper: &Z,
    clock: &dyn Fn() -> u64,
    plan: &BulkPlan,
    state: &mut RunState,
    secrets: &mut NewSecrets,
    on_event: &mut dyn FnMut(&Event, &RunState) -> Control,
) -> Result<Finish, BulkError> {
    if state.plan_id != plan.id || state.items.len() != plan.items.len() {
        return Err(BulkError::OtherPlan);
    }
    let missing: Vec<String> = plan
        .certificates_needed()
        .into_iter()
        .filter(|n| !state.items[n.item].is_final())
        .map(|n| n.application)
        .collect();
    if !missing.is_empty() {
        return Err(BulkError::CertificatesMissing(missing));
    }
    // An answer in flight when the page went away: look it up. It may
    // have been carried out, so a cancel does not drop it unlooked.
    for (run, item) in state.items.iter_mut().zip(&plan.items) {
        if run.stage == Stage::Sent {
            run.stage = resumed(&item.action);
            run.attempts += 1;
        }
    }
    let done = state
        .items
        .iter()
        .filter(|i| matches!(i.stage, Stage::Done { .. }))
        .count();
    state.rate = Some((clock(), done));
    let mut run = Runner {
        plan,
        marker: plan.marker(),
        keys: HashMap::new(),
        backoff: Backoff::new(RetryPolicy::default(), seed(&plan.id)),
        pace: Pace {
            window: MAX_REQUESTS,
            not_before_ms: 0,
        },
    };
    loop {
        let now = clock();
        if state.cancelled {
            // Winding down: an item back at Pending has nothing in the
            // tenant (a secret looked up, a certificate whose keys were
            // read since): cancel it instead of creating it now.
            for (n, (r, item)) in state.items.iter_mut().zip(&plan.items).enumerate() {
                let known = item.action.is_secret() || r.attempts == 0 || run.keys.contains_key(&n);
                if r.stage == Stage::Pending && known {
                    r.stage = Stage::Cancelled;
                    r.wait_until_ms = None;
                }
            }
        }
        let writes_allowed = match now >= run.pace.not_before_ms {
            true => run.pace.window,
            false => 0,
        };
        let mut ready: Vec<usize> = (0..plan.items.len())
            .filter(|&n| {
                let i = &state.items[n];
                !i.is_final() && i.wait_until_ms.is_none_or(|t| t <= now)
            })
            .collect();
        // Items whose own wait is over go first, longest waiting first;
        // the checks of secrets already made last, filling what the writes
        // leave of a batch (reads do not count against the write quota).
        ready.sort_by_key(|&n| {
            let i = &state.items[n];
            let check = matches!(i.stage, Stage::Verify { .. });
            (
                i.wait_until_ms.is_none(),
                i.wait_until_ms.unwrap_or(0),
                check,
                n,
            )
        });
        let mut batch = Batch::new();
        let mut sent: Vec<(usize, Vec<Send>, Stage)> = Vec::new();
        let mut writes = 0;
        for n in ready {
            let sends = run.next_requests(n, &state.items[n]);
            let w = sends.iter().filter(|s| s.write).count();
            // The first write of a batch goes even when it alone exceeds
            // the window (a replacement removing two secrets).
            let over =
                w > 0 && (writes_allowed == 0 || (writes > 0 && writes + w > writes_allowed));
            if sends.is_empty() || batch.len() + sends.len() > MAX_REQUESTS || over {
                continue;
            }
            for s in &sends {
                // Ids are unique per item and request; the size was checked.
                let _ = batch.push(s.id.clone(), s.request.clone());
            }
            writes += w;
            let before = state.items[n].stage.clone();
            if w > 0 {
                state.items[n].stage = Stage::Sent;
            }
            sent.push((n, sends, before));
        }
        if batch.is_empty() {
            let next = state
                .items
                .iter()
                .filter(|i| !i.is_final())
                .filter_map(|i| i.wait_until_ms)
                .chain((run.pace.not_before_ms > now).then_some(run.pace.not_before_ms))
                .min();
            let Some(until) = next else {
                let finish = match state.cancelled {
                    true => Finish::Cancelled,
                    false => Finish::Completed,
                };
                on_event(&Event::Finished(finish), state);
                return Ok(finish);
            };
            let ms = until.saturating_sub(now).max(1);
            match on_event(&Event::Waiting { ms }, state) {
                Control::Continue => {}
                Control::Pause => return Ok(Finish::Paused),
                Control::Cancel if !state.cancelled => state.cancel(),
                Control::Cancel => {}
            }
            sleeper.sleep(ms.min(TICK_MS)).await;
            continue;
        }
        let requests = batch.len();
        on_event(&Event::Sending { requests }, state);
        state.batches += 1;
        let (mut answers, lost) = match batch::send(api, &batch).await {
            Ok(a) => (a, false),
            Err(BatchError::AnswerLost { .. }) => (Answers::default(), true),
            Err(e) => {
                // Refused as a whole: nothing of it was carried out.
                for (n, _, before) in sent {
                    state.items[n].stage = before;
                }
                return Err(match e {
                    BatchError::Refused(e) => BulkError::Refused(e),
                    other => BulkError::Refused(ApiError::Unexpected {
                        service: Service::Graph,
                        what: "a batch".into(),
                        detail: other.to_string(),
                    }),
                });
            }
        };
        let now = clock();
        let mut throttled = 0;
        let mut accepted = 0;
        let mut wait_ms: Option<u64> = None;
        for (n, sends, before) in sent {
            let got: Vec<Option<ItemAnswer>> = sends.iter().map(|s| answers.take(&s.id)).collect();
            let writes: Vec<bool> = sends.iter().map(|s| s.write).collect();
            for (a, w) in got.iter().zip(&writes) {
                if *w {
                    match a {
                        Some(a) if a.status == 429 => {
                            throttled += 1;
                            let after = a.retry_after_ms(UnixTime(now / 1000)).unwrap_or(TICK_MS);
                            wait_ms = Some(wait_ms.map_or(after, |w| w.min(after)));
                        }
                        Some(a) if a.is_success() => accepted += 1,
                        _ => {}
                    }
                }
            }
            state.items[n].stage = before;
            run.settle(n, &mut state.items[n], got, now, secrets);
        }
        run.pace.after(accepted, throttled, wait_ms, now);
        let event = Event::Answered {
            requests,
            throttled,
            lost,
        };
        match on_event(&event, state) {
            Control::Continue => {}
            Control::Pause => return Ok(Finish::Paused),
            Control::Cancel if !state.cancelled => state.cancel(),
            Control::Cancel => {}
        }
    }
}

impl Pace {
    fn after(&mut self, accepted: usize, throttled: usize, wait_ms: Option<u64>, now: u64) {
        if throttled > 0 {
            // The tenant took `accepted` writes: send about that many once
            // its Retry-After has passed, so the quota refills into work.
            self.window = accepted.max(1);
            self.not_before_ms = now + wait_ms.unwrap_or(TICK_MS);
        } else if accepted >= self.window {
            self.window = (self.window * 2).min(MAX_REQUESTS);
        }
    }
}

/// What a write whose answer never came becomes after a reload.
fn resumed(action: &Action) -> Stage {
    match action {
        Action::AddSecret { .. } | Action::RemoveSecret { .. } => Stage::LookUp,
        // A certificate item reads the keys first anyway.
        Action::AddCertificate { .. } | Action::RemoveCertificates { .. } => Stage::Pending,
    }
}

/// The keyCredential of an attached certificate.
fn new_key(c: &NewCertificate) -> Result<KeyCredential, String> {
    let der = Base64::decode_vec(&c.der_base64).map_err(|e| e.to_string())?;
    let cert = Certificate::from_der(&der).map_err(|e| e.to_string())?;
    KeyCredential::for_certificate(&cert).map_err(|e| e.to_string())
}

fn seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// `passwordCredentials` of one application.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Secrets {
    #[serde(default)]
    password_credentials: Vec<PasswordCredential>,
}

/// `keyCredentials` of one application, with each key.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Keys {
    #[serde(default)]
    key_credentials: Vec<KeyCredential>,
}

struct Runner<'p> {
    plan: &'p BulkPlan,
    marker: String,
    /// Keys read for a certificate item, until its PATCH (memory only: read
    /// again after a reload).
    keys: HashMap<usize, Vec<KeyCredential>>,
    backoff: Backoff,
    pace: Pace,
}

/// How the removals of secrets in one batch went.
enum Removed {
    All,
    /// Some throttled: these are left, after the wait.
    Throttled {
        left: Vec<String>,
        wait_ms: u64,
    },
    /// A 5xx, a lost answer or a refusal: look the secrets up again.
    Unsure,
}

/// How an item's answer went.
enum Heard<'a> {
    Ok(&'a ItemAnswer),
    /// 429: not carried out; wait this long.
    Throttled(u64),
    /// 5xx, or no answer: may have been carried out.
    Unsure(Option<u64>),
    /// Refused (4xx): what Graph said, with its advice.
    Refused(String),
}

impl Runner<'_> {
    fn marker_name(&self) -> String {
        tagged_name(&self.plan.secret_name, &self.marker)
    }

    /// The requests item `n` sends next (empty: nothing to send).
    fn next_requests(&self, n: usize, run: &ItemRun) -> Vec<Send> {
        let item = &self.plan.items[n];
        let app = item.owner.object_id.as_str();
        let id = n.to_string();
        let one = |request: ApiRequest, write: bool| {
            vec![Send {
                id: id.clone(),
                request,
                write,
            }]
        };
        match (&run.stage, &item.action) {
            (Stage::Pending, Action::AddSecret { end }) => one(
                request::add_password(app, &self.marker_name(), Some(*end)),
                true,
            ),
            (Stage::Pending, Action::RemoveSecret { key_id }) => {
                one(request::remove_password(app, key_id), true)
            }
            (Stage::LookUp | Stage::Verify { .. }, _) => {
                one(request::get_password_credentials(app), false)
            }
            (Stage::Replace { remove } | Stage::Prune { remove, .. }, _) => remove
                .iter()
                .enumerate()
                .map(|(k, key_id)| Send {
                    id: format!("{n}-{k}"),
                    request: request::remove_password(app, key_id),
                    write: true,
                })
                .collect(),
            (Stage::Pending, Action::AddCertificate { .. } | Action::RemoveCertificates { .. }) => {
                match self.patch(n) {
                    Some(Ok(body)) => one(request::update_application(app, body), true),
                    // A merge that cannot be built fails in settle, after a fresh read.
                    Some(Err(_)) | None => one(request::get_key_credentials(app), false),
                }
            }
            _ => Vec::new(),
        }
    }

    /// The PATCH body of a certificate item whose keys were read.
    fn patch(&self, n: usize) -> Option<Result<serde_json::Value, String>> {
        let keys = self.keys.get(&n)?;
        let item = &self.plan.items[n];
        let all = match &item.action {
            Action::AddCertificate {
                certificate: Some(c),
                ..
            } => new_key(c)
                .and_then(|new| key_credential::merge(keys, new, &[]).map_err(|e| e.to_string())),
            Action::RemoveCertificates { .. } => {
                let ids: Vec<&str> = item.replaces.iter().map(|o| o.key_id.as_str()).collect();
                key_credential::remove(keys, &ids).map_err(|e| e.to_string())
            }
            _ => Err("this item registers no certificate".into()),
        };
        Some(all.map(|k| json!({ "keyCredentials": k })))
    }

    fn hear<'a>(&self, a: &'a Option<ItemAnswer>, now: u64) -> Heard<'a> {
        match a {
            None => Heard::Unsure(None),
            Some(a) if a.is_success() => Heard::Ok(a),
            Some(a) if a.status == 429 => {
                Heard::Throttled(a.retry_after_ms(UnixTime(now / 1000)).unwrap_or(TICK_MS))
            }
            Some(a) if a.status >= 500 => Heard::Unsure(a.retry_after_ms(UnixTime(now / 1000))),
            Some(a) => {
                let e = a.error();
                Heard::Refused(format!("{e} {}", e.advice()))
            }
        }
    }

    /// Reads item `n`'s answers (`None`: lost) and moves it on.
    fn settle(
        &mut self,
        n: usize,
        run: &mut ItemRun,
        answers: Vec<Option<ItemAnswer>>,
        now: u64,
        secrets: &mut NewSecrets,
    ) {
        run.wait_until_ms = None;
        let item = &self.plan.items[n];
        if let Stage::Replace { remove } = &run.stage {
            run.stage = match self.removed(remove, &answers, now) {
                Removed::Unsure => {
                    self.retry(run, now, None);
                    Stage::LookUp
                }
                Removed::All => Stage::Pending,
                Removed::Throttled { left, wait_ms } => {
                    self.throttle(run, now, wait_ms);
                    Stage::Replace { remove: left }
                }
            };
            return;
        }
        if let Stage::Prune {
            key_id,
            exported,
            remove,
        } = &run.stage
        {
            let (key_id, exported) = (key_id.clone(), *exported);
            run.stage = match self.removed(remove, &answers, now) {
                Removed::Unsure => {
                    // Read the secrets again: a refused removal may be one already gone.
                    self.retry(run, now, None);
                    Stage::Verify { key_id, exported }
                }
                Removed::All => Stage::Done {
                    key_id: Some(key_id),
                    note: Some(format!(
                        "removed {} copy of it that a resent request made",
                        remove.len()
                    )),
                    exported,
                },
                Removed::Throttled { left, wait_ms } => {
                    self.throttle(run, now, wait_ms);
                    Stage::Prune {
                        key_id,
                        exported,
                        remove: left,
                    }
                }
            };
            return;
        }
        let Some(answer) = answers.first() else {
            return;
        };
        let heard = self.hear(answer, now);
        let stage = run.stage.clone();
        match (stage, &item.action, heard) {
            (_, _, Heard::Throttled(ms)) => self.throttle(run, now, ms),
            // A certificate item's read or PATCH: read (again) first.
            (
                Stage::Pending,
                Action::AddCertificate { .. } | Action::RemoveCertificates { .. },
                Heard::Unsure(ms),
            ) => {
                self.keys.remove(&n);
                self.retry(run, now, ms);
            }
            (_, _, Heard::Unsure(ms)) => {
                if matches!(
                    item.action,
                    Action::AddSecret { .. } | Action::RemoveSecret { .. }
                ) && run.stage == Stage::Pending
                {
                    run.stage = Stage::LookUp;
                }
                self.retry(run, now, ms);
            }
            // Graph refuses to remove a key that is gone: look before failing.
            (Stage::Pending, Action::RemoveSecret { .. }, Heard::Refused(e)) => {
                run.last_error = Some(e);
                run.stage = Stage::LookUp;
            }
            (_, _, Heard::Refused(e)) => run.stage = Stage::Failed { message: e },
            (Stage::Pending, Action::AddSecret { .. }, Heard::Ok(a)) => {
                match a.decode::<NewPassword>("the new client secret") {
                    Ok(p) => {
                        let key_id = p.key_id.clone();
                        secrets.list.push(CreatedSecret {
                            item: n,
                            application: item.owner.name.clone(),
                            app_id: item.owner.app_id.clone(),
                            name: self.plan.secret_name.trim().to_string(),
                            secret: NewSecret {
                                key_id: key_id.clone(),
                                value: Zeroizing::new(p.secret_text.clone()),
                                hint: p.hint.clone(),
                                end: p.end_date_time,
                            },
                        });
                        run.stage = Stage::Verify {
                            key_id,
                            exported: false,
                        };
                    }
                    // Made, but its value cannot be read: replace it.
                    Err(_) => {
                        run.stage = Stage::LookUp;
                        self.retry(run, now, None);
                    }
                }
            }
            (Stage::Pending, Action::RemoveSecret { .. }, Heard::Ok(_)) => {
                run.stage = Stage::Done {
                    key_id: None,
                    note: None,
                    exported: false,
                }
            }
            (Stage::Verify { key_id, exported }, _, Heard::Ok(a)) => {
                let Ok(s) = a.decode::<Secrets>("the application's passwordCredentials") else {
                    self.retry(run, now, None);
                    return;
                };
                let copies: Vec<String> = s
                    .password_credentials
                    .iter()
                    .filter(|p| made_by(p, &self.marker) && !p.key_id.eq_ignore_ascii_case(&key_id))
                    .map(|p| p.key_id.clone())
                    .collect();
                run.stage = match copies.is_empty() {
                    true => Stage::Done {
                        key_id: Some(key_id),
                        note: None,
                        exported,
                    },
                    false => Stage::Prune {
                        key_id,
                        exported,
                        remove: copies,
                    },
                };
            }
            (Stage::LookUp, action, Heard::Ok(a)) => {
                let Ok(s) = a.decode::<Secrets>("the application's passwordCredentials") else {
                    self.retry(run, now, None);
                    return;
                };
                match action {
                    Action::RemoveSecret { key_id } => {
                        let present = s
                            .password_credentials
                            .iter()
                            .any(|p| p.key_id.eq_ignore_ascii_case(key_id));
                        run.stage = match (present, run.last_error.take()) {
                            (false, _) => Stage::Done {
                                key_id: None,
                                note: Some("already removed".into()),
                                exported: false,
                            },
                            (true, Some(message)) => Stage::Failed { message },
                            (true, None) => Stage::Pending,
                        };
                    }
                    _ => {
                        let lost: Vec<String> = s
                            .password_credentials
                            .iter()
                            .filter(|p| made_by(p, &self.marker))
                            .map(|p| p.key_id.clone())
                            .collect();
                        run.stage = match lost.is_empty() {
                            true => Stage::Pending,
                            false => Stage::Replace { remove: lost },
                        };
                    }
                }
            }
            (Stage::Pending, action, Heard::Ok(a)) => {
                // A certificate item: its keys read, or its PATCH accepted.
                if self.keys.remove(&n).is_some() {
                    run.stage = Stage::Done {
                        key_id: None,
                        note: None,
                        exported: false,
                    };
                    return;
                }
                let Ok(k) = a.decode::<Keys>("the application's keyCredentials") else {
                    self.retry(run, now, None);
                    return;
                };
                let keys = k.key_credentials;
                match action {
                    Action::AddCertificate {
                        certificate: Some(c),
                        ..
                    } => {
                        if let Some(found) =
                            key_credential::find_by_thumbprint(&keys, &c.thumbprint)
                        {
                            run.stage = Stage::Done {
                                key_id: found.key_id.clone(),
                                note: None,
                                exported: false,
                            };
                            return;
                        }
                    }
                    Action::RemoveCertificates { replaced_by } => {
                        if key_credential::find_by_thumbprint(&keys, replaced_by).is_none() {
                            run.stage = Stage::Failed {
                                message: RemoveKeyError::ReplacementMissing {
                                    thumbprint: replaced_by.clone(),
                                }
                                .to_string(),
                            };
                            return;
                        }
                        let mut present = 0;
                        for old in &item.replaces {
                            let Some(k) = keys.iter().find(|k| {
                                k.key_id
                                    .as_deref()
                                    .is_some_and(|id| id.eq_ignore_ascii_case(&old.key_id))
                            }) else {
                                continue;
                            };
                            if !k.has_thumbprint(&old.detail) {
                                run.stage = Stage::Failed {
                                    message: RemoveKeyError::OtherCertificate {
                                        key_id: old.key_id.clone(),
                                        expected: old.detail.clone(),
                                        found: k.thumbprint().unwrap_or_else(|| "unknown".into()),
                                    }
                                    .to_string(),
                                };
                                return;
                            }
                            present += 1;
                        }
                        if present == 0 {
                            run.stage = Stage::Done {
                                key_id: None,
                                note: Some("already removed".into()),
                                exported: false,
                            };
                            return;
                        }
                    }
                    _ => {}
                }
                self.keys.insert(n, keys);
                if let Some(Err(message)) = self.patch(n) {
                    self.keys.remove(&n);
                    run.stage = Stage::Failed { message };
                }
            }
            (stage, _, Heard::Ok(_)) => run.stage = stage,
        }
    }

    /// How the removals of `remove` (one answer each) went.
    fn removed(&self, remove: &[String], answers: &[Option<ItemAnswer>], now: u64) -> Removed {
        let mut left = Vec::new();
        let mut wait_ms = TICK_MS;
        for (key_id, a) in remove.iter().zip(answers) {
            match self.hear(a, now) {
                Heard::Ok(_) => {}
                Heard::Throttled(ms) => {
                    left.push(key_id.clone());
                    wait_ms = ms;
                }
                Heard::Unsure(_) | Heard::Refused(_) => return Removed::Unsure,
            }
        }
        match left.is_empty() {
            true => Removed::All,
            false => Removed::Throttled { left, wait_ms },
        }
    }

    /// A 429: wait the item's own Retry-After.
    fn throttle(&self, run: &mut ItemRun, now: u64, ms: u64) {
        run.throttled += 1;
        if run.throttled > MAX_THROTTLED {
            run.stage = Stage::Failed {
                message: format!(
                    "Microsoft Graph throttled this request {MAX_THROTTLED} times; apply again \
                     later: what is done is not repeated."
                ),
            };
            return;
        }
        run.wait_until_ms = Some(now + ms);
    }

    /// A 5xx or a lost answer: try again after `ms` (the item's
    /// Retry-After) or the backoff, up to [`MAX_ATTEMPTS`].
    fn retry(&mut self, run: &mut ItemRun, now: u64, ms: Option<u64>) {
        run.attempts += 1;
        if run.attempts >= MAX_ATTEMPTS {
            run.stage = Stage::Failed {
                message: format!(
                    "Microsoft Graph did not answer this request after {MAX_ATTEMPTS} attempts; \
                     apply again later: it is looked up first, never made twice."
                ),
            };
            return;
        }
        let wait = ms.unwrap_or_else(|| self.backoff.delay_ms(run.attempts, None));
        run.wait_until_ms = Some(now + wait);
    }
}

/// The second plan: remove the old credentials that a finished run
/// replaced — each old secret by `removePassword`, each application's old
/// certificates by one PATCH of the collection without them (kept until
/// the new one is registered). Only items whose renewal is done.
pub fn removal_plan(plan: &BulkPlan, state: &RunState) -> Result<BulkPlan, BulkError> {
    if state.plan_id != plan.id || state.items.len() != plan.items.len() {
        return Err(BulkError::OtherPlan);
    }
    let open = state.items.iter().filter(|i| !i.is_final()).count();
    if open > 0 {
        return Err(BulkError::NotFinished(open));
    }
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    for (item, run) in plan.items.iter().zip(&state.items) {
        let done = matches!(run.stage, Stage::Done { .. });
        match (&item.action, done) {
            (Action::AddSecret { .. }, true) => {
                items.extend(item.replaces.iter().map(|old| Item {
                    owner: item.owner.clone(),
                    action: Action::RemoveSecret {
                        key_id: old.key_id.clone(),
                    },
                    replaces: vec![old.clone()],
                    note: None,
                    refused: None,
                }))
            }
            (
                Action::AddCertificate {
                    certificate: Some(c),
                    ..
                },
                true,
            ) => items.push(Item {
                owner: item.owner.clone(),
                action: Action::RemoveCertificates {
                    replaced_by: c.thumbprint.clone(),
                },
                replaces: item.replaces.clone(),
                note: None,
                refused: None,
            }),
            (Action::AddSecret { .. } | Action::AddCertificate { .. }, false) => {
                skipped.push(Skipped {
                    name: item.owner.name.clone(),
                    app_id: item.owner.app_id.clone(),
                    credentials: item.replaces.len(),
                    why: match &run.stage {
                        Stage::Refused => "The tenant's app management policy refused its \
                                           renewal, so its old credentials are kept."
                            .into(),
                        _ => "Its renewal did not finish, so its old credentials are kept.".into(),
                    },
                })
            }
            _ => {}
        }
    }
    if items.is_empty() {
        return Err(BulkError::NothingToRemove);
    }
    Ok(BulkPlan {
        format: FORMAT,
        id: format!("{}-removal", plan.id),
        purpose: Purpose::Removal,
        secret_name: plan.secret_name.clone(),
        items,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_error::DEFAULT_POLICY_ID;
    use crate::flows::dashboard::Listed;
    use crate::flows::policy::Decider;
    use crate::graph::policies::CredentialRestriction;

    const NOW: UnixTime = UnixTime(1_750_000_000);

    struct Fixed;
    impl rand_core::RngCore for Fixed {
        fn next_u32(&mut self) -> u32 {
            7
        }
        fn next_u64(&mut self) -> u64 {
            7
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(7);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            dest.fill(7);
            Ok(())
        }
    }

    fn secret(key_id: &str, hint: &str, days: u64) -> PasswordCredential {
        PasswordCredential {
            key_id: key_id.into(),
            display_name: Some("old".into()),
            hint: Some(hint.into()),
            start_date_time: None,
            end_date_time: Some(NOW.plus_days(days)),
        }
    }

    fn listed(id: &str, name: &str, secrets: Vec<PasswordCredential>) -> Listed {
        Listed {
            id: id.into(),
            app_id: format!("app-{id}"),
            display_name: Some(name.into()),
            key_credentials: Vec::new(),
            password_credentials: secrets,
        }
    }

    /// Two applications (one with two secrets), one service principal.
    fn table() -> Table {
        let mut t = Table::new("tenant", &[], NOW);
        t.add(
            OwnerKind::Application,
            vec![
                listed(
                    "o1",
                    "Backup",
                    vec![secret("k1", "abc", 5), secret("k2", "def", 9)],
                ),
                listed("o2", "Reports", vec![secret("k3", "ghi", 20)]),
            ],
        );
        t.add(
            OwnerKind::ServicePrincipal,
            vec![listed("s1", "SAML app", vec![secret("k4", "jkl", 3)])],
        );
        t
    }

    fn all(t: &Table) -> Vec<u32> {
        (0..t.rows.len() as u32).collect()
    }

    /// Every row of [`table`] planned under the tenant's `default` policy.
    fn plan_under(default: PolicyView) -> BulkPlan {
        let t = table();
        plan(
            &t,
            &all(&t),
            &Options::default_at(NOW),
            &Policies::new(default),
            NOW,
            &mut Fixed,
        )
    }

    fn forbids_secrets() -> PolicyView {
        PolicyView::Read(Some((
            Decider::Assigned {
                id: "p1".into(),
                display_name: "Certificates only".into(),
            },
            Restrictions {
                password_credentials: Some(vec![CredentialRestriction {
                    restriction_type: "passwordAddition".into(),
                    ..CredentialRestriction::default()
                }]),
                key_credentials: None,
            },
        )))
    }

    fn secret_lifetime(max: &str) -> PolicyView {
        PolicyView::Read(Some((
            Decider::TenantDefault,
            Restrictions {
                password_credentials: Some(vec![CredentialRestriction {
                    restriction_type: "passwordLifetime".into(),
                    max_lifetime: Some(max.into()),
                    ..CredentialRestriction::default()
                }]),
                key_credentials: None,
            },
        )))
    }

    #[test]
    fn one_secret_per_application_with_the_policy_applied_and_service_principals_left_out() {
        let t = table();
        let mut policies = Policies::new(secret_lifetime("P90D"));
        policies.assign("o2", Some(forbids_secrets()));
        let options = Options::default_at(NOW);
        let p = plan(&t, &all(&t), &options, &policies, NOW, &mut Fixed);
        assert_eq!(p.items.len(), 2);
        let backup = &p.items[0];
        assert_eq!(backup.owner.name, "Backup");
        let keys: Vec<&str> = backup.replaces.iter().map(|o| o.key_id.as_str()).collect();
        assert_eq!(keys, ["k1", "k2"]);
        assert_eq!(
            backup.action,
            Action::AddSecret {
                end: NOW.plus_days(90)
            }
        );
        assert!(
            backup
                .note
                .as_deref()
                .unwrap()
                .contains("Shortened from 180 to 90 days")
        );
        let refused = p.items[1].refused.as_deref().unwrap();
        assert!(refused.contains("'Certificates only'"), "{refused}");
        assert!(refused.contains("Use a certificate instead"), "{refused}");
        assert_eq!(p.skipped.len(), 1);
        assert!(p.skipped[0].why.contains("SAML token-signing"));
        assert_eq!(
            p.summary().to_string(),
            "Renew 2 secrets in 1 application; 1 renewal refused by the tenant's app \
             management policy; 1 credential of service principals left out"
        );
        let apps = p.applications();
        assert_eq!(apps.len(), 2);
        assert!(apps[0].steps[0].starts_with("Create client secret 'Renewed 2025-06-15'"));
        assert_eq!(apps[1].refused.len(), 1);
        // Refused items are never sent.
        let state = p.start();
        assert_eq!(state.items[1].stage, Stage::Refused);
        assert_eq!(state.progress(0).refused, 1);
    }

    #[test]
    fn summaries_read_as_sentences() {
        let s = Summary {
            purpose: Purpose::Renewal,
            secrets: 37,
            certificates: 12,
            applications: 41,
            refused: 0,
            skipped: 0,
        };
        assert_eq!(
            s.to_string(),
            "Renew 37 secrets and 12 certificates in 41 applications"
        );
        let s = Summary {
            purpose: Purpose::Removal,
            secrets: 0,
            certificates: 1,
            applications: 1,
            ..s
        };
        assert_eq!(s.to_string(), "Remove 1 certificate from 1 application");
    }

    #[test]
    fn a_certificate_must_be_one_entra_takes() {
        let mut p = plan_under(PolicyView::Read(None));
        assert_eq!(
            p.attach_certificate(0, b"not a certificate"),
            Err(BulkError::NotACertificateItem(0))
        );
        p.items[0].action = Action::AddCertificate {
            common_name: "Backup".into(),
            validity_months: 12,
            max_lifetime_secs: Some(365 * DAY),
            certificate: None,
        };
        assert_eq!(p.certificates_needed().len(), 1);
        assert_eq!(
            p.certificates_needed()[0]
                .generate_request()
                .validity_months,
            12
        );
        assert!(matches!(
            p.attach_certificate(0, b"not a certificate"),
            Err(BulkError::Certificate { .. })
        ));
        assert!(!p.is_ready());
    }

    #[test]
    fn run_state_round_trips_and_counts_progress() {
        let p = plan_under(PolicyView::Unreadable { why: "403".into() });
        assert!(
            p.items[0]
                .note
                .as_deref()
                .unwrap()
                .contains("Could not read")
        );
        let mut s = p.start();
        s.items[0].stage = Stage::Done {
            key_id: Some("n1".into()),
            note: None,
            exported: false,
        };
        s.items[1].wait_until_ms = Some(5_000);
        s.items[1].throttled = 1;
        s.rate = Some((0, 0));
        let pr = s.progress(1_000);
        assert_eq!((pr.done, pr.waiting, pr.total), (1, 1, 2));
        // One done in 1 s, one left: about 1 s more.
        assert_eq!(pr.eta_ms, Some(1_000));
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains(r#""stage":{"done":{"keyId":"n1""#), "{text}");
        let back: RunState = serde_json::from_str(&text).unwrap();
        assert_eq!(back.items, s.items);
        // After a reload, the secret's value is not held: it is offered
        // for replacement, and replaced by removing it first.
        let unseen = back.unseen_secrets(&p, &NewSecrets::default());
        assert_eq!(unseen.len(), 1);
        assert_eq!(unseen[0].key_id, "n1");
        let mut back = back;
        back.replace_unseen(&[0]);
        assert_eq!(
            back.items[0].stage,
            Stage::Replace {
                remove: vec!["n1".into()]
            }
        );
    }

    #[test]
    fn removal_waits_for_a_finished_run_and_keeps_what_did_not_renew() {
        let p = plan_under(PolicyView::Read(None));
        let mut s = p.start();
        assert_eq!(removal_plan(&p, &s), Err(BulkError::NotFinished(2)));
        s.items[0].stage = Stage::Done {
            key_id: Some("n1".into()),
            note: None,
            exported: true,
        };
        s.items[1].stage = Stage::Failed {
            message: "no".into(),
        };
        let r = removal_plan(&p, &s).unwrap();
        assert_eq!(r.purpose, Purpose::Removal);
        let removed: Vec<&Action> = r.items.iter().map(|i| &i.action).collect();
        assert_eq!(
            removed,
            [
                &Action::RemoveSecret {
                    key_id: "k1".into()
                },
                &Action::RemoveSecret {
                    key_id: "k2".into()
                }
            ]
        );
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(
            r.summary().to_string(),
            "Remove 2 secrets from 1 application; 1 credential kept: not renewed"
        );
        assert!(r.applications()[0].steps[0].starts_with("Remove the old client secret abc…"));
        let other = BulkPlan {
            id: "x".into(),
            ..p.clone()
        };
        assert_eq!(removal_plan(&other, &s), Err(BulkError::OtherPlan));
    }

    #[test]
    fn the_csv_keeps_values_exact_and_defuses_names() {
        let mut secrets = NewSecrets::default();
        secrets.list.push(CreatedSecret {
            item: 0,
            application: "=Backup".into(),
            app_id: "a1".into(),
            name: "Renewed".into(),
            secret: NewSecret {
                key_id: "k".into(),
                value: Zeroizing::new("-a~b.c,d".into()),
                hint: None,
                end: Some(NOW),
            },
        });
        let csv = secrets.csv();
        let line = csv.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "\"'=Backup\",a1,k,Renewed,\"-a~b.c,d\",2025-06-15T15:06:40Z"
        );
        assert!(format!("{secrets:?}").contains("(redacted)"));
        let _ = DEFAULT_POLICY_ID;
    }

    #[test]
    fn the_write_window_follows_what_the_tenant_accepted() {
        let mut pace = Pace {
            window: MAX_REQUESTS,
            not_before_ms: 0,
        };
        pace.after(3, 17, Some(2_000), 10_000);
        assert_eq!((pace.window, pace.not_before_ms), (3, 12_000));
        pace.after(3, 0, None, 12_500);
        assert_eq!(pace.window, 6);
        pace.after(2, 0, None, 13_000);
        assert_eq!(
            pace.window, 6,
            "a batch that did not fill the window keeps it"
        );
        pace.after(0, 5, None, 14_000);
        assert_eq!(pace.window, 1);
    }
}
