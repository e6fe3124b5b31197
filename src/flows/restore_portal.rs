//! F5 — the Restore Portal application: a new application (name,
//! certificate, web address) or an existing one (application ID,
//! certificate, web address). The web address becomes a `spa` redirect URI;
//! the application exposes `access_as_user` under `api://{appId}`; User.Read
//! and that scope get admin consent. For an existing application only what
//! is missing is granted, and the certificate is updated.

use serde::{Deserialize, Serialize};

use crate::core::certificate::Certificate;
use crate::core::time::UnixTime;
use crate::core::validate;
use crate::plan::step::{
    AddRequiredPermissions, AddSpaRedirectUri, CreateApplication, ExposeApi, FindApplication,
    GrantDelegated,
};
use crate::plan::{GrantResource, Plan, Step, new_guid};
use crate::profiles::{self, Profile};

use super::{InputError, check_name, grant_steps, register_certificate};

/// The seed's note, repeated on the F5 page.
pub const MANUAL_SETTINGS_NOTE: &str = "Restore operators and end users can use only the web \
    address you enter here. To use several redirect URIs for the Restore Portal, or to make \
    the application multi-tenant, configure these settings by hand in Microsoft Entra ID.";

/// Help text of the web address field, with the seed's examples.
pub const ADDRESS_HELP: &str = "The Restore Portal web address, HTTPS only, with its port: \
    https://<IPv4 address>:<port> or https://<DNS name>:<port> (the portal uses port 4443 \
    unless it was changed), for example https://135.169.170.192:4443 or \
    https://portal.abc.com:4443.";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PortalApplication {
    #[serde(rename_all = "camelCase")]
    New { display_name: String },
    #[serde(rename_all = "camelCase")]
    Existing { app_id: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestorePortal {
    pub application: PortalApplication,
    pub certificate_der: Vec<u8>,
    pub portal_address: String,
}

/// The `restore-portal` profile that ships with the page.
pub fn profile() -> Profile {
    profiles::by_id("restore-portal").expect("restore-portal ships in profiles/permissions.json")
}

/// The F5 plan; also returns the redirect URI the address became.
pub fn plan(
    input: &RestorePortal,
    now: UnixTime,
    rng: &mut impl rand_core::RngCore,
) -> Result<(Plan, String), InputError> {
    let address = validate::portal_address(&input.portal_address)
        .map_err(|e| InputError::PortalAddress(e.to_string()))?;
    let redirect = address.redirect_uri();
    let cert = Certificate::from_der(&input.certificate_der)
        .map_err(|e| InputError::Certificate(e.to_string()))?;
    let (register, _) = register_certificate(&cert, now)?;
    let profile = profile();
    let scope = profile
        .expose_scope
        .clone()
        .unwrap_or_else(|| "access_as_user".into());
    let (mut steps, title) = match &input.application {
        PortalApplication::New { display_name } => {
            let name = check_name(display_name)?;
            (
                vec![Step::CreateApplication(CreateApplication {
                    display_name: name.clone(),
                    description: Some("Restore Portal".into()),
                    permissions: profile.resources.clone(),
                    spa_redirect_uris: vec![redirect.clone()],
                    web_redirect_uris: vec![],
                })],
                format!("Register the Restore Portal application '{name}'"),
            )
        }
        PortalApplication::Existing { app_id } => {
            let app_id = validate::application_id(app_id)
                .map_err(|e| InputError::ApplicationId(e.to_string()))?;
            (
                vec![
                    Step::FindApplication(FindApplication {
                        app_id: app_id.clone(),
                    }),
                    Step::AddRequiredPermissions(AddRequiredPermissions {
                        permissions: profile.resources.clone(),
                    }),
                    Step::AddSpaRedirectUri(AddSpaRedirectUri {
                        uri: redirect.clone(),
                    }),
                ],
                format!("Configure application {app_id} for the Restore Portal"),
            )
        }
    };
    steps.push(Step::CreateServicePrincipal);
    steps.push(register);
    steps.push(Step::ExposeApi(ExposeApi {
        scope: scope.clone(),
        scope_id: new_guid(rng),
        display_name: "Access the Restore Portal".into(),
    }));
    steps.extend(grant_steps(&profile));
    steps.push(Step::GrantDelegated(GrantDelegated {
        resource: GrantResource::ThisApplication,
        scopes: vec![scope],
    }));
    Ok((Plan::new(new_guid(rng), title, steps), redirect))
}
