//! The steps a plan is made of: typed data (serde), dispatched to one
//! module per kind under `steps/`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cloud::Endpoints;

pub use super::steps::add_password::{AddPassword, NewSecret, SecretChannel};
pub use super::steps::add_required_permissions::AddRequiredPermissions;
pub use super::steps::add_spa_redirect_uri::AddSpaRedirectUri;
pub use super::steps::assign_role::{AssignRole, RoleRef};
pub use super::steps::create_application::CreateApplication;
pub use super::steps::create_service_principal::CreateServicePrincipal;
pub use super::steps::ensure_custom_role::EnsureCustomRole;
pub use super::steps::expose_api::ExposeApi;
pub use super::steps::find_application::FindApplication;
pub use super::steps::grant_app_roles::GrantAppRoles;
pub use super::steps::grant_delegated::{GrantDelegated, GrantResource};
pub use super::steps::register_certificate::RegisterCertificate;
pub use super::steps::remove_key_credential::RemoveKeyCredential;
pub use super::steps::remove_password::RemovePassword;
pub use crate::http::{RequestPreview, redact};

use super::steps::{Ctx, StepKind};
use super::{Plan, Progress};

/// One change a plan makes. Saved as `{"<kind>": {…}}` (or the bare kind
/// for a step with no data); [`compat`] reads the older `{"kind": …}` form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    /// `PATCH /applications(uniqueName=…)` with `Prefer: create-if-missing`
    /// (an idempotent create), tagged with the plan's marker.
    CreateApplication(CreateApplication),
    /// An existing application, by appId.
    FindApplication(FindApplication),
    /// Adds to the application's `requiredResourceAccess` what it misses.
    AddRequiredPermissions(AddRequiredPermissions),
    /// Its service principal (found or created).
    CreateServicePrincipal,
    /// Adds the certificate to `keyCredentials`, keeping the others.
    RegisterCertificate(RegisterCertificate),
    /// Adds a `spa` redirect URI, keeping the others.
    AddSpaRedirectUri(AddSpaRedirectUri),
    /// Sets `api://{appId}` and exposes a delegated scope.
    ExposeApi(ExposeApi),
    /// Grants application permissions (app roles) of an API.
    GrantAppRoles(GrantAppRoles),
    /// Admin consent (`AllPrincipals`) for delegated permissions.
    GrantDelegated(GrantDelegated),
    /// A custom role on the subscription, created if missing.
    EnsureCustomRole(EnsureCustomRole),
    /// An Azure role for the service principal at subscription scope.
    AssignRole(AssignRole),
    /// A new client secret (`addPassword`), its value handed to the page once.
    AddPassword(AddPassword),
    /// Removes one client secret by keyId.
    RemovePassword(RemovePassword),
    /// Removes one certificate from `keyCredentials`, keeping the others.
    RemoveKeyCredential(RemoveKeyCredential),
}

/// Runs `$body` with `$s` bound to the step's [`StepKind`].
macro_rules! each_step {
    ($step:expr, $s:ident => $body:expr) => {
        match $step {
            Step::CreateApplication($s) => $body,
            Step::FindApplication($s) => $body,
            Step::AddRequiredPermissions($s) => $body,
            Step::CreateServicePrincipal => {
                let $s = &$crate::plan::steps::create_service_principal::CreateServicePrincipal;
                $body
            }
            Step::RegisterCertificate($s) => $body,
            Step::AddSpaRedirectUri($s) => $body,
            Step::ExposeApi($s) => $body,
            Step::GrantAppRoles($s) => $body,
            Step::GrantDelegated($s) => $body,
            Step::EnsureCustomRole($s) => $body,
            Step::AssignRole($s) => $body,
            Step::AddPassword($s) => $body,
            Step::RemovePassword($s) => $body,
            Step::RemoveKeyCredential($s) => $body,
        }
    };
}
pub(crate) use each_step;

impl Step {
    /// One sentence for the review and progress lists.
    pub fn sentence(&self) -> String {
        each_step!(self, s => s.sentence())
    }

    /// The step's name in saved plans (`createApplication`…).
    pub fn kind(&self) -> &'static str {
        each_step!(self, s => super::steps::kind_of(s))
    }

    /// appIds of the APIs whose service principal the step reads.
    pub fn resources(&self) -> Vec<&str> {
        each_step!(self, s => s.resources())
    }

    /// The thumbprint of the certificate this step registers, if it does.
    pub fn certificate_thumbprint(&self) -> Option<&str> {
        match self {
            Step::RegisterCertificate(r) => Some(&r.thumbprint),
            _ => None,
        }
    }
}

impl Plan {
    /// The requests step `index` sends, as the review shows them (redacted),
    /// from the builders the run uses. IDs created by earlier steps come
    /// from `progress`, or appear as placeholders such as
    /// `{application-object-id}` (see `plan::steps`).
    pub fn preview(
        &self,
        index: usize,
        endpoints: &Endpoints,
        progress: Option<&Progress>,
    ) -> Vec<RequestPreview> {
        let ctx = Ctx {
            endpoints,
            plan: self,
            index,
            progress,
        };
        ctx.previews(each_step!(&self.steps[index], s => s.requests(&ctx)))
    }
}

/// Reading plans saved by the first release, whose steps were internally
/// tagged: `{"kind": "assignRole", …, "role": {"type": "builtIn", …}}`.
pub mod compat {
    use super::*;

    /// `steps` of a saved plan, in either form.
    pub fn steps<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Step>, D::Error> {
        let raw = Vec::<Value>::deserialize(d)?;
        raw.into_iter()
            .map(|v| serde_json::from_value(upgrade(v)).map_err(serde::de::Error::custom))
            .collect()
    }

    /// `{"tag": "x", …rest}` → `{"x": {…rest}}`, or `"x"` when nothing is left.
    fn external(mut v: Value, tag: &str) -> Value {
        let Some(map) = v.as_object_mut() else {
            return v;
        };
        let Some(Value::String(kind)) = map.remove(tag) else {
            return v;
        };
        if map.is_empty() {
            Value::String(kind)
        } else {
            let mut out = serde_json::Map::new();
            out.insert(kind, v);
            Value::Object(out)
        }
    }

    /// A step in the old form made new; a new one is left as it is.
    pub fn upgrade(mut step: Value) -> Value {
        if !step.get("kind").is_some_and(Value::is_string) {
            return step;
        }
        // Only the old form nests tagged enums: `resource` of a grant,
        // `role` of an assignment.
        for field in ["resource", "role"] {
            if let Some(inner) = step.get_mut(field)
                && inner.get("type").is_some_and(Value::is_string)
            {
                *inner = external(inner.take(), "type");
            }
        }
        external(step, "kind")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arm;
    use crate::core::time::UnixTime;

    #[test]
    fn sentences_read_like_the_seeds() {
        let s = Step::CreateApplication(CreateApplication {
            display_name: "Backup Azure SA".into(),
            description: None,
            permissions: vec![],
            spa_redirect_uris: vec![],
            web_redirect_uris: vec![],
        });
        assert_eq!(s.sentence(), "Create application 'Backup Azure SA'");
        let s = Step::AssignRole(AssignRole {
            subscription_id: "x".into(),
            subscription_name: "Production".into(),
            role: RoleRef::BuiltIn {
                name: "Contributor".into(),
                id: arm::builtin::CONTRIBUTOR.into(),
            },
            assignment_name: "g".into(),
        });
        assert_eq!(
            s.sentence(),
            "Assign Contributor on subscription Production"
        );
        let s = Step::GrantDelegated(GrantDelegated {
            resource: GrantResource::Api {
                app_id: "a".into(),
                display_name: "Microsoft Graph".into(),
            },
            scopes: vec!["User.Read".into(), "openid".into(), "profile".into()],
        });
        assert_eq!(
            s.sentence(),
            "Grant admin consent for Microsoft Graph delegated permissions User.Read, openid and profile"
        );
    }

    #[test]
    fn previews_hide_certificates_and_quote_like_the_request() {
        let e = crate::cloud::Cloud::Global.endpoints();
        let cert = Step::RegisterCertificate(RegisterCertificate {
            certificate: "MII".repeat(300),
            thumbprint: "AB".repeat(20),
            subject: "CN=Backup".into(),
            not_after: UnixTime(1_900_000_000),
        });
        let find = Step::FindApplication(FindApplication {
            app_id: "it's".into(),
        });
        let plan = Plan::new("p", "t", vec![find, cert]);
        let shown = serde_json::to_string(&plan.preview(1, &e, None)).unwrap();
        assert!(!shown.contains("MIIMII"), "{shown}");
        assert!(shown.contains("{application-object-id}"));
        assert!(shown.contains("https://graph.microsoft.com/v1.0/applications/"));
        // Lookups are quoted and encoded as sent.
        assert_eq!(
            plan.preview(0, &e, None)[0].url,
            "https://graph.microsoft.com/v1.0/applications(appId='it%27%27s')?$select=id,appId,displayName,keyCredentials"
        );
        let create = Plan::new(
            "p",
            "t",
            vec![Step::CreateApplication(CreateApplication {
                display_name: "O'Brien & co".into(),
                description: None,
                permissions: vec![],
                spa_redirect_uris: vec![],
                web_redirect_uris: vec![],
            })],
        );
        let shown = create.preview(0, &e, None);
        // The create is an upsert by the plan's key, and says so.
        assert_eq!(shown.len(), 1);
        assert_eq!(
            (shown[0].method.as_str(), shown[0].url.as_str()),
            (
                "PATCH",
                "https://graph.microsoft.com/v1.0/applications(uniqueName='entra-wizard-p')"
            )
        );
        assert_eq!(
            shown[0].headers,
            [("Prefer".to_string(), "create-if-missing".to_string())]
        );
        // The body has only the fields the create sends.
        let body = shown[0].body.as_ref().unwrap().as_object().unwrap();
        assert_eq!(body["displayName"], "O'Brien & co");
        let mut fields: Vec<&str> = body.keys().map(String::as_str).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "displayName",
                "requiredResourceAccess",
                "signInAudience",
                "tags"
            ]
        );
    }

    #[test]
    fn steps_are_data() {
        let step = Step::AssignRole(AssignRole {
            subscription_id: "s".into(),
            subscription_name: "Production".into(),
            role: RoleRef::Custom { name: "R".into() },
            assignment_name: "n".into(),
        });
        let j = serde_json::to_value(&step).unwrap();
        assert_eq!(j["assignRole"]["role"]["custom"]["name"], "R");
        assert_eq!(serde_json::from_value::<Step>(j.clone()).unwrap(), step);
        assert_eq!(
            serde_json::to_value(Step::CreateServicePrincipal).unwrap(),
            "createServicePrincipal"
        );
        // A step's kind is its saved name.
        assert!(j.get(step.kind()).is_some());
        assert_eq!(
            Step::CreateServicePrincipal.kind(),
            "createServicePrincipal"
        );
    }

    /// A plan as the first release saved it in sessionStorage.
    #[test]
    fn plans_saved_in_the_old_form_still_load() {
        let old = r#"{"format": 1, "id": "p1", "title": "Register",
          "steps": [
            {"kind": "createApplication", "displayName": "Backup", "description": null,
             "permissions": [], "spaRedirectUris": [], "webRedirectUris": []},
            {"kind": "createServicePrincipal"},
            {"kind": "grantDelegated", "resource": {"type": "thisApplication"}, "scopes": ["access_as_user"]},
            {"kind": "grantDelegated", "resource": {"type": "api", "appId": "g", "displayName": "Microsoft Graph"},
             "scopes": ["User.Read"]},
            {"kind": "assignRole", "subscriptionId": "s", "subscriptionName": "Production",
             "role": {"type": "builtIn", "name": "Contributor", "id": "b24988ac-6180-42a0-ab88-20f7382dd24c"},
             "assignmentName": "a1"},
            {"kind": "assignRole", "subscriptionId": "s", "subscriptionName": "Production",
             "role": {"type": "custom", "name": "Archiver"}, "assignmentName": "a2"}
          ]}"#;
        let plan: Plan = serde_json::from_str(old).unwrap();
        // The page reads its saved apply through `Value` (ui::storage).
        let value: Value = serde_json::from_str(old).unwrap();
        assert_eq!(serde_json::from_value::<Plan>(value).unwrap(), plan);
        assert_eq!(plan.format, 1);
        assert_eq!(plan.steps.len(), 6);
        assert_eq!(plan.steps[1], Step::CreateServicePrincipal);
        assert_eq!(
            plan.steps[2],
            Step::GrantDelegated(GrantDelegated {
                resource: GrantResource::ThisApplication,
                scopes: vec!["access_as_user".into()],
            })
        );
        assert!(matches!(&plan.steps[3],
            Step::GrantDelegated(GrantDelegated { resource: GrantResource::Api { app_id, .. }, .. }) if app_id == "g"));
        assert!(matches!(&plan.steps[4],
            Step::AssignRole(AssignRole { role: RoleRef::BuiltIn { name, .. }, .. }) if name == "Contributor"));
        assert!(matches!(&plan.steps[5],
            Step::AssignRole(AssignRole { role: RoleRef::Custom { name }, .. }) if name == "Archiver"));
        // Saved again, it is in the new form, and reads back the same.
        let new = serde_json::to_string(&plan).unwrap();
        assert!(!new.contains("\"kind\""), "{new}");
        assert_eq!(serde_json::from_str::<Plan>(&new).unwrap(), plan);
        // Its progress (format 1) still resumes it.
        let progress: crate::plan::Progress = serde_json::from_str(
            r#"{"format": 1, "planId": "p1", "steps": [{"outcome": "changed", "ids": ["o"]}, {}, {}, {}, {}, {}],
                "application": {"objectId": "o", "appId": "a"}, "applicationCreated": true}"#,
        )
        .unwrap();
        progress.check(&plan).unwrap();
        assert_eq!(progress.next_step(), Some(1));
    }
}
