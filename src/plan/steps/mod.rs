//! One module per step kind. Each holds the step's data, its sentence, the
//! requests it sends (built once, by the same `graph::request` /
//! `arm::request` builders, for the review's preview and for the run), how
//! it runs, its advice on a known refusal, and what it requires of the
//! signed-in admin. Adding a step is a module here plus a variant of
//! [`Step`](super::Step).
//!
//! Previews are made before the run knows everything. They use these
//! placeholders (see `crate::http::preview_matches`):
//! `{application-object-id}`, `{application-id}`, `{service-principal-id}`
//! (filled from the progress once known), `{resource-service-principal-id}`,
//! `{<permission> app role id}`, `{<permission> scope id}`,
//! `{<role> role id}`, `{description naming the application}` (other
//! values read at run time), and `{...existing <collection>}` for the
//! entries a whole-collection PATCH sends back unchanged.
//!
//! A preview is what the step sends when the plan runs in one go and the
//! step has its change to make. A step that finds its effect already made
//! sends the first of them only; a run resumed after a reload looks up
//! again what an earlier step of the interrupted run had read (a resource's
//! service principal, the role assignments, the application's keys).

pub mod add_password;
pub mod add_required_permissions;
pub mod add_spa_redirect_uri;
pub mod assign_role;
pub mod create_application;
pub mod create_service_principal;
pub mod ensure_custom_role;
pub mod expose_api;
pub mod find_application;
pub mod grant_app_roles;
pub mod grant_delegated;
pub mod register_certificate;
pub mod remove_key_credential;
pub mod remove_password;

use std::collections::BTreeMap;

use crate::arm::{self, RoleAssignment};
use crate::auth::Audience;
use crate::client::{ApiClient, ApiRequest};
use crate::cloud::Endpoints;
use crate::core::key_credential::KeyCredential;
use crate::graph::{self, Application, ServicePrincipal};
use crate::http::{HttpClient, RequestPreview, Sleeper};

use super::execute::StepError;
use super::preflight::Requirement;
use super::{AppIds, Outcome, Plan, Progress, Step, StepRecord};

/// What every step kind provides; [`Step`] dispatches to it.
#[allow(async_fn_in_trait)] // used with static dispatch only
pub trait StepKind {
    /// Its name in saved plans (`createApplication`…).
    const KIND: &'static str;
    /// One sentence for the review and progress lists.
    fn sentence(&self) -> String;
    /// The requests the step sends when it has its change to make, in
    /// order, built by the same builders as the run's.
    fn requests(&self, ctx: &Ctx<'_>) -> Vec<ApiRequest>;
    /// Finds the step's effect or makes it.
    async fn run<C: HttpClient, S: Sleeper>(
        &self,
        run: &mut Run<'_, '_, C, S>,
    ) -> Result<StepRecord, StepError>;
    /// The step's own explanation of a refusal, when it has one.
    fn advice(&self, _error: &StepError) -> Option<String> {
        None
    }
    /// What the signed-in admin must be allowed to do (most steps create
    /// or configure applications).
    fn requirements(&self) -> Vec<Requirement> {
        vec![super::preflight::app_admin()]
    }
    /// The delegated permissions the page's sign-in needs, per API.
    fn scopes(&self) -> &'static [(Audience, &'static str)] {
        &[APPLICATIONS]
    }
    /// appIds of the APIs whose service principal the step reads.
    fn resources(&self) -> Vec<&str> {
        Vec::new()
    }
}

/// [`StepKind::KIND`] of a step's data.
pub(crate) fn kind_of<K: StepKind>(_: &K) -> &'static str {
    K::KIND
}

/// The Graph scope every application step needs.
pub(crate) const APPLICATIONS: (Audience, &str) = (Audience::Graph, "Application.ReadWrite.All");

/// What a preview knows: the plan, the step's place in it and, once
/// applying, the progress so far.
pub struct Ctx<'a> {
    pub endpoints: &'a Endpoints,
    pub plan: &'a Plan,
    pub index: usize,
    pub progress: Option<&'a Progress>,
}

impl Ctx<'_> {
    pub fn app_object_id(&self) -> String {
        self.app()
            .map(|a| a.object_id.clone())
            .unwrap_or_else(|| "{application-object-id}".into())
    }

    pub fn app_id(&self) -> String {
        self.app()
            .map(|a| a.app_id.clone())
            .unwrap_or_else(|| "{application-id}".into())
    }

    pub fn sp_id(&self) -> String {
        self.progress
            .and_then(|p| p.service_principal_id.clone())
            .unwrap_or_else(|| "{service-principal-id}".into())
    }

    fn app(&self) -> Option<&AppIds> {
        self.progress.and_then(|p| p.application.as_ref())
    }

    /// Whether a step before this one matches `f` (its lookups are then
    /// cached for this one, when the plan runs in one go).
    pub fn earlier(&self, f: impl Fn(&Step) -> bool) -> bool {
        self.plan.steps[..self.index].iter().any(f)
    }

    /// The lookup of resource `app_id`'s service principal, unless an
    /// earlier step made it.
    pub fn resource_lookup(&self, app_id: &str) -> Option<ApiRequest> {
        (!self.earlier(|s| s.resources().contains(&app_id)))
            .then(|| graph::request::find_service_principal(app_id))
    }

    pub fn creates_application(&self) -> bool {
        creates_application(self.plan)
    }

    /// Whether the service principal is (or, before it exists, will be)
    /// one this plan created.
    pub fn fresh_principal(&self) -> bool {
        match self.progress {
            Some(p) if p.service_principal_id.is_some() => p.service_principal_created,
            _ => self.creates_application(),
        }
    }

    pub(crate) fn previews(&self, requests: Vec<ApiRequest>) -> Vec<RequestPreview> {
        requests.iter().map(|r| r.preview(self.endpoints)).collect()
    }
}

/// Whether the plan makes its application itself: then its service
/// principal cannot exist before the plan creates it, and is created
/// without a lookup first (a duplicate answers 409, then it is read).
pub fn creates_application(plan: &Plan) -> bool {
    plan.steps
        .iter()
        .any(|s| matches!(s, Step::CreateApplication(_)))
}

/// Lookups one run shares between its steps.
#[derive(Default)]
pub struct Cache {
    /// Resource service principals by appId.
    resources: BTreeMap<String, ServicePrincipal>,
    /// Role assignments by (subscription, principal), read once.
    role_assignments: BTreeMap<(String, String), Vec<RoleAssignment>>,
    /// The application's keyCredentials with their key bytes, as
    /// `FindApplication` read them.
    pub application_keys: Option<Vec<KeyCredential>>,
}

/// A step running: the client, the plan, the progress it records into.
pub struct Run<'r, 'a, C: HttpClient, S: Sleeper> {
    pub api: &'r ApiClient<'a, C, S>,
    pub plan: &'r Plan,
    pub progress: &'r mut Progress,
    pub cache: &'r mut Cache,
}

impl<C: HttpClient, S: Sleeper> Run<'_, '_, C, S> {
    pub fn app(&self) -> Result<AppIds, StepError> {
        self.progress
            .application
            .clone()
            .ok_or(StepError::Prerequisite("the application"))
    }

    pub fn sp(&self) -> Result<String, StepError> {
        self.progress
            .service_principal_id
            .clone()
            .ok_or(StepError::Prerequisite("the service principal"))
    }

    pub fn creates_application(&self) -> bool {
        creates_application(self.plan)
    }

    /// The application's IDs and its current state, read for a PATCH that
    /// must send whole collections back.
    pub async fn current_application(&self) -> Result<(AppIds, Application), StepError> {
        let app = self.app()?;
        let current = graph::get_application(self.api, &app.object_id).await?;
        Ok((app, current))
    }

    /// The step's record when the application is already known (found or
    /// created by an earlier step or attempt).
    pub fn known_application(&self) -> Option<StepRecord> {
        self.progress
            .application
            .as_ref()
            .map(|app| done(Outcome::AlreadyDone, vec![app.object_id.clone()], None))
    }

    /// Whether this plan created the service principal: then it holds only
    /// what this plan gave it, so a grant or role step writes first and
    /// reads only when Microsoft answers that it exists (a lost answer).
    pub fn fresh_principal(&self) -> bool {
        self.progress.service_principal_created
    }

    /// The service principal of the API `app_id`, read once per run.
    pub async fn resource(
        &mut self,
        app_id: &str,
        name: &str,
    ) -> Result<ServicePrincipal, StepError> {
        if let Some(sp) = self.cache.resources.get(app_id) {
            return Ok(sp.clone());
        }
        let sp = graph::find_service_principal(self.api, app_id)
            .await?
            .ok_or_else(|| StepError::ResourceNotInTenant {
                app_id: app_id.into(),
                name: name.into(),
            })?;
        self.cache.resources.insert(app_id.into(), sp.clone());
        Ok(sp)
    }

    /// The principal's role assignments on the subscription, read once per
    /// run and kept up to date by the assignments this run makes.
    pub async fn role_assignments(
        &mut self,
        subscription_id: &str,
        principal_id: &str,
    ) -> Result<&mut Vec<RoleAssignment>, StepError> {
        let key = (subscription_id.to_string(), principal_id.to_string());
        if !self.cache.role_assignments.contains_key(&key) {
            let list =
                arm::list_role_assignments_for(self.api, subscription_id, principal_id).await?;
            self.cache.role_assignments.insert(key.clone(), list);
        }
        Ok(self
            .cache
            .role_assignments
            .get_mut(&key)
            .expect("just filled"))
    }
}

pub(crate) fn done(outcome: Outcome, ids: Vec<String>, note: Option<String>) -> StepRecord {
    StepRecord {
        outcome: Some(outcome),
        ids,
        note,
    }
}

pub(crate) fn changed_if(changed: bool) -> Outcome {
    if changed {
        Outcome::Changed
    } else {
        Outcome::AlreadyDone
    }
}

/// "a, b and c".
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        _ => {
            let (last, rest) = items.split_last().expect("two or more");
            format!("{} and {last}", rest.join(", "))
        }
    }
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n > 1 { "s" } else { "" }
}

/// Ends every advice: applying again is safe.
pub(crate) const AGAIN: &str = "Then apply again: the steps already done are not repeated.";
