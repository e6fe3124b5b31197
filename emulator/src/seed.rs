//! Seeds: `demo` (the Contoso tenant), `empty` (tenant, users, subscriptions
//! and the page's client only) and `large:N` (the demo's service
//! applications plus N applications with secrets and certificates of
//! spread-out expiry, service principals, SAML signing certificates and app
//! management policies; see [`large`]).

use base64ct::{Base64, Encoding};
use serde_json::{Map, Value, json};

use crate::certs::{self, CertInfo};
use crate::graph::{applications, service_principals};
use crate::known::{self, *};
use crate::state::*;

pub const TENANT_ID: &str = "8f3a6c2e-4b1d-4e7a-9c5f-2d8b6a1e0c47";
pub const DOMAIN: &str = "contoso.onmicrosoft.com";
pub const PASSWORD: &str = "Demo-Passw0rd!";
pub const CLIENT_APP_ID: &str = "3c9f1e2a-7d4b-4a8e-b6c5-1f0e9d8c7b6a";
pub const ADMIN_ID: &str = "a1d2e3f4-0001-4c5d-8e9f-0a1b2c3d4e01";
pub const APPADMIN_ID: &str = "a1d2e3f4-0002-4c5d-8e9f-0a1b2c3d4e02";
pub const READER_ID: &str = "a1d2e3f4-0003-4c5d-8e9f-0a1b2c3d4e03";
pub const PRODUCTION: &str = "5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b51";
pub const DEVELOPMENT: &str = "5b1e7c3a-2f4d-4e8b-9a6c-0d1e2f3a4b52";
pub const REDIRECT_URIS: &[&str] = &[
    "http://127.0.0.1:8080",
    "http://127.0.0.1:8080/",
    "http://localhost:8080",
    "http://localhost:8080/",
];
const DAY: i64 = 86_400;

fn obj(v: Value) -> Map<String, Value> {
    serde_json::from_value(v).expect("object")
}

fn graph_sp_id(dir: &Directory) -> String {
    dir.sp_by_app_id(GRAPH_APP_ID)
        .map(|s| str_field(&s.body, "id").to_string())
        .unwrap_or_default()
}

fn add_app(dir: &mut Directory, body: Value, now: i64, with_sp: bool) -> (String, String, String) {
    let app =
        applications::new_application(dir, obj(body), now).expect("seed application is valid");
    let id = str_field(&app.body, "id").to_string();
    let app_id = str_field(&app.body, "appId").to_string();
    dir.applications.insert(id.clone(), app);
    let sp = if with_sp {
        service_principals::ensure_for_app(dir, &app_id, now)
    } else {
        String::new()
    };
    (id, app_id, sp)
}

fn assign_graph_role(dir: &mut Directory, sp: &str, role: &str, now: i64) {
    let graph = graph_sp_id(dir);
    dir.app_role_assignments.push(json!({
        "id": crate::ids::new_id(),
        "appRoleId": known::graph_role_id(role).expect("known role"),
        "createdDateTime": crate::clock::iso(now),
        "deletedDateTime": null,
        "principalDisplayName": dir.principal_display_name(sp),
        "principalId": sp,
        "principalType": "ServicePrincipal",
        "resourceDisplayName": "Microsoft Graph",
        "resourceId": graph,
    }));
}

fn assign_azure(dir: &mut Directory, principal: &str, kind: &str, sub: &str, role: &str, now: i64) {
    dir.role_assignments.push(RoleAssignment {
        name: crate::ids::new_id(),
        scope: format!("/subscriptions/{sub}"),
        role_definition_id: role.to_string(),
        principal_id: principal.to_string(),
        principal_type: kind.to_string(),
        created: now,
        created_by: ADMIN_ID.to_string(),
    });
}

fn cert_credential(der: &[u8], info: &CertInfo) -> Value {
    json!({"type": "AsymmetricX509Cert", "usage": "Verify", "key": Base64::encode_string(der), "displayName": info.subject})
}

fn base(now: i64) -> Directory {
    let mut dir = Directory {
        tenant: Tenant {
            id: TENANT_ID.into(),
            domain: DOMAIN.into(),
            display_name: "Contoso".into(),
        },
        ..Directory::default()
    };
    let user = |id: &str, name: &str, display: &str, roles: &[&str]| User {
        id: id.into(),
        user_principal_name: format!("{name}@{DOMAIN}"),
        display_name: display.into(),
        password: PASSWORD.into(),
        directory_roles: roles.iter().map(|r| r.to_string()).collect(),
    };
    dir.users = vec![
        user(ADMIN_ID, "admin", "Adele Admin", &[GLOBAL_ADMINISTRATOR]),
        user(
            APPADMIN_ID,
            "appadmin",
            "Alex AppAdmin",
            &[APPLICATION_ADMINISTRATOR],
        ),
        user(READER_ID, "reader", "Rita Reader", &[]),
    ];
    for body in [graph_service_principal_body(), arm_service_principal_body()] {
        let sp = service_principals::first_party(body, now);
        dir.service_principals
            .insert(str_field(&sp.body, "id").to_string(), sp);
    }
    dir.subscriptions = vec![
        Subscription {
            subscription_id: PRODUCTION.into(),
            display_name: "Production".into(),
        },
        Subscription {
            subscription_id: DEVELOPMENT.into(),
            display_name: "Development".into(),
        },
    ];
    for sub in [PRODUCTION, DEVELOPMENT] {
        assign_azure(&mut dir, ADMIN_ID, "User", sub, OWNER, now - 30 * DAY);
        assign_azure(
            &mut dir,
            APPADMIN_ID,
            "User",
            sub,
            CONTRIBUTOR,
            now - 30 * DAY,
        );
    }
    // The page's own sign-in client: a public SPA client, consented for the organisation.
    let graph_scopes = [
        "User.Read",
        "Directory.Read.All",
        "Application.ReadWrite.All",
        "AppRoleAssignment.ReadWrite.All",
        "DelegatedPermissionGrant.ReadWrite.All",
        "offline_access",
        "openid",
        "profile",
        // The page reads the tenant's app management policies before it plans a credential.
        "Policy.Read.All",
    ];
    let mut app = applications::new_application(
        &dir,
        obj(json!({
            "displayName": "entra-wizard",
            "description": "The entra-wizard page's sign-in client",
            "isFallbackPublicClient": true,
            "spa": {"redirectUris": REDIRECT_URIS},
            "requiredResourceAccess": [
                {"resourceAppId": GRAPH_APP_ID, "resourceAccess": graph_scopes.iter().map(|s| json!({"id": graph_scope_id(s), "type": "Scope"})).collect::<Vec<_>>()},
                {"resourceAppId": ARM_APP_ID, "resourceAccess": [{"id": ARM_USER_IMPERSONATION, "type": "Scope"}]},
            ],
        })),
        now - 30 * DAY,
    )
    .expect("client app");
    app.body
        .insert("appId".into(), Value::String(CLIENT_APP_ID.into()));
    let id = str_field(&app.body, "id").to_string();
    dir.applications.insert(id, app);
    let client_sp = service_principals::ensure_for_app(&mut dir, CLIENT_APP_ID, now - 30 * DAY);
    let arm_sp = dir
        .sp_by_app_id(ARM_APP_ID)
        .map(|s| str_field(&s.body, "id").to_string())
        .unwrap_or_default();
    let graph_sp = graph_sp_id(&dir);
    for (resource, scope) in [
        (graph_sp, graph_scopes.join(" ")),
        (arm_sp, "user_impersonation".to_string()),
    ] {
        dir.oauth2_permission_grants.push(json!({
            "id": crate::ids::new_id(),
            "clientId": client_sp, "consentType": "AllPrincipals", "principalId": null, "resourceId": resource, "scope": scope,
        }));
    }
    dir.seed = SeedInfo {
        seed: String::new(),
        password: PASSWORD.into(),
        client_id: CLIENT_APP_ID.into(),
        redirect_uris: REDIRECT_URIS.iter().map(|s| s.to_string()).collect(),
        service_apps: Vec::new(),
    };
    dir
}

fn service_apps(dir: &mut Directory, now: i64) {
    // 1. Certificate expired 30 days ago (AADSTS700027 "The key used is expired.").
    let key = certs::private_key(certs::APP_EXPIRED_KEY_PEM);
    let der = certs::self_signed(&key, "Contoso Backup", now - 395 * DAY, now - 30 * DAY, 101);
    let info = certs::parse_certificate(&der).expect("cert");
    let (obj_id, app_id, sp) = add_app(
        dir,
        json!({"displayName": "Contoso Backup", "description": "Backup appliance (certificate expired)", "keyCredentials": [cert_credential(&der, &info)]}),
        now - 400 * DAY,
        true,
    );
    assign_graph_role(dir, &sp, "Application.ReadWrite.All", now);
    for role in [
        CONTRIBUTOR,
        KEY_VAULT_CRYPTO_USER,
        STORAGE_QUEUE_DATA_CONTRIBUTOR,
    ] {
        assign_azure(
            dir,
            &sp,
            "ServicePrincipal",
            PRODUCTION,
            role,
            now - 300 * DAY,
        );
    }
    dir.seed.service_apps.push(ServiceAppInfo {
        scenario: "expired-certificate".into(),
        display_name: "Contoso Backup".into(),
        app_id,
        object_id: obj_id.clone(),
        service_principal_id: sp,
        thumbprint: Some(info.thumbprint_hex()),
        certificate_end: Some(crate::clock::iso(info.not_after)),
        private_key_pem: Some(certs::APP_EXPIRED_KEY_PEM.into()),
        secret_text: None,
        secret_end: None,
        profile: "azure-backup".into(),
        subscription_id: Some(PRODUCTION.into()),
        key_id: first_key_id(dir, &obj_id),
        certificate_subject: Some(info.subject.clone()),
        certificate_start: Some(crate::clock::iso(info.not_before)),
        policy: None,
    });

    // 2. Secret expiring in 10 days.
    let (obj_id, app_id, sp) = add_app(
        dir,
        json!({"displayName": "Contoso Archiver", "description": "M365 archiver (secret expires in 10 days)"}),
        now - 355 * DAY,
        true,
    );
    let app = dir.applications.get_mut(&obj_id).expect("app");
    let cred = applications::add_password(
        app,
        Some("archiver secret"),
        now - 355 * DAY,
        now + 10 * DAY,
    );
    assign_graph_role(dir, &sp, "Application.Read.All", now);
    assign_azure(
        dir,
        &sp,
        "ServicePrincipal",
        PRODUCTION,
        CONTRIBUTOR,
        now - 300 * DAY,
    );
    dir.seed.service_apps.push(ServiceAppInfo {
        scenario: "expiring-secret".into(),
        display_name: "Contoso Archiver".into(),
        app_id,
        object_id: obj_id,
        service_principal_id: sp,
        thumbprint: None,
        certificate_end: None,
        private_key_pem: None,
        secret_text: cred["secretText"].as_str().map(str::to_string),
        secret_end: cred["endDateTime"].as_str().map(str::to_string),
        profile: "m365-archiver".into(),
        subscription_id: None,
        key_id: cred["keyId"].as_str().map(str::to_string),
        certificate_subject: None,
        certificate_start: None,
        policy: None,
    });

    // 3. Valid certificate, Contributor but missing Key Vault Crypto User and Storage Queue Data Contributor.
    let key = certs::private_key(certs::APP_ROLES_KEY_PEM);
    let der = certs::self_signed(
        &key,
        "Contoso Restore",
        now - 30 * DAY,
        now + 335 * DAY,
        103,
    );
    let info = certs::parse_certificate(&der).expect("cert");
    let (obj_id, app_id, sp) = add_app(
        dir,
        json!({"displayName": "Contoso Restore", "description": "Restore service (missing Azure roles)", "keyCredentials": [cert_credential(&der, &info)]}),
        now - 30 * DAY,
        true,
    );
    assign_azure(
        dir,
        &sp,
        "ServicePrincipal",
        PRODUCTION,
        CONTRIBUTOR,
        now - 30 * DAY,
    );
    dir.seed.service_apps.push(ServiceAppInfo {
        scenario: "missing-roles".into(),
        display_name: "Contoso Restore".into(),
        app_id,
        key_id: first_key_id(dir, &obj_id),
        object_id: obj_id,
        service_principal_id: sp,
        thumbprint: Some(info.thumbprint_hex()),
        certificate_end: Some(crate::clock::iso(info.not_after)),
        private_key_pem: Some(certs::APP_ROLES_KEY_PEM.into()),
        secret_text: None,
        secret_end: None,
        profile: "azure-backup".into(),
        subscription_id: Some(PRODUCTION.into()),
        certificate_subject: Some(info.subject.clone()),
        certificate_start: Some(crate::clock::iso(info.not_before)),
        policy: None,
    });
}

fn first_key_id(dir: &Directory, object_id: &str) -> Option<String> {
    dir.applications
        .get(object_id)?
        .body
        .get("keyCredentials")?
        .get(0)?
        .get("keyId")?
        .as_str()
        .map(str::to_string)
}

/// The display name of the demo's secret-forbidding app management policy.
pub const NO_SECRETS_POLICY: &str = "Contoso: certificates only";

/// An application that was deleted (kept in deletedItems, its service
/// principal gone) and one under an app management policy that forbids
/// client secrets, whose service still uses a secret made before the policy.
fn repair_scenarios(dir: &mut Directory, now: i64) {
    let key = certs::private_key(certs::APP_ROLES_KEY_PEM);
    let der = certs::self_signed(&key, "Contoso Sync", now - 60 * DAY, now + 300 * DAY, 104);
    let info = certs::parse_certificate(&der).expect("cert");
    let (obj_id, app_id, sp) = add_app(
        dir,
        json!({"displayName": "Contoso Sync", "description": "Directory sync service (application deleted)", "keyCredentials": [cert_credential(&der, &info)]}),
        now - 60 * DAY,
        true,
    );
    let key_id = first_key_id(dir, &obj_id);
    service_principals::remove(dir, &sp);
    let mut app = dir.applications.remove(&obj_id).expect("app");
    app.body.insert(
        "deletedDateTime".into(),
        Value::String(crate::clock::iso(now - 2 * DAY)),
    );
    dir.deleted_applications.insert(obj_id.clone(), app);
    dir.seed.service_apps.push(ServiceAppInfo {
        scenario: "deleted-application".into(),
        display_name: "Contoso Sync".into(),
        app_id,
        object_id: obj_id,
        service_principal_id: sp,
        thumbprint: Some(info.thumbprint_hex()),
        certificate_end: Some(crate::clock::iso(info.not_after)),
        private_key_pem: Some(certs::APP_ROLES_KEY_PEM.into()),
        secret_text: None,
        secret_end: None,
        profile: "azure-backup".into(),
        subscription_id: Some(PRODUCTION.into()),
        key_id,
        certificate_subject: Some(info.subject.clone()),
        certificate_start: Some(crate::clock::iso(info.not_before)),
        policy: None,
    });

    let (obj_id, app_id, sp) = add_app(
        dir,
        json!({"displayName": "Contoso Reports", "description": "Reporting service (client secrets forbidden by policy)"}),
        now - 200 * DAY,
        true,
    );
    let app = dir.applications.get_mut(&obj_id).expect("app");
    let cred =
        applications::add_password(app, Some("reports secret"), now - 200 * DAY, now + 20 * DAY);
    assign_azure(
        dir,
        &sp,
        "ServicePrincipal",
        PRODUCTION,
        CONTRIBUTOR,
        now - 200 * DAY,
    );
    let policy_id = crate::ids::new_id();
    let policy = obj(json!({
        "id": policy_id,
        "displayName": NO_SECRETS_POLICY,
        "description": "Services authenticate with certificates; certificates live at most one year.",
        "isEnabled": true,
        "restrictions": {
            "passwordCredentials": [
                {"restrictionType": "passwordAddition", "state": "enabled", "maxLifetime": null, "restrictForAppsCreatedAfterDateTime": null},
            ],
            "keyCredentials": [
                {"restrictionType": "asymmetricKeyLifetime", "state": "enabled", "maxLifetime": "P365D", "restrictForAppsCreatedAfterDateTime": null},
            ],
        },
    }));
    dir.app_management_policies
        .insert(policy_id.clone(), policy);
    dir.app_policy_assignments.insert(obj_id.clone(), policy_id);
    dir.seed.service_apps.push(ServiceAppInfo {
        scenario: "secrets-forbidden".into(),
        display_name: "Contoso Reports".into(),
        app_id,
        object_id: obj_id,
        service_principal_id: sp,
        thumbprint: None,
        certificate_end: None,
        private_key_pem: None,
        secret_text: cred["secretText"].as_str().map(str::to_string),
        secret_end: cred["endDateTime"].as_str().map(str::to_string),
        profile: "azure-backup".into(),
        subscription_id: None,
        key_id: cred["keyId"].as_str().map(str::to_string),
        certificate_subject: None,
        certificate_start: None,
        policy: Some(NO_SECRETS_POLICY.into()),
    });
}

/// The large seed's app management policies: one forbids client secrets,
/// one caps the lifetime of new secrets and certificates.
pub const LARGE_NO_SECRETS_POLICY: &str = "Bulk: certificates only";
pub const LARGE_SHORT_LIFETIME_POLICY: &str = "Bulk: credentials for 180 days at most";

fn add_policy(dir: &mut Directory, name: &str, description: &str, restrictions: Value) -> String {
    let id = crate::ids::new_id();
    dir.app_management_policies.insert(
        id.clone(),
        obj(json!({
            "id": id,
            "displayName": name,
            "description": description,
            "isEnabled": true,
            "restrictions": restrictions,
        })),
    );
    id
}

/// A SAML application's token-signing certificate as Entra keeps it on the
/// service principal (addTokenSigningCertificate): a `Sign` and a `Verify`
/// key and the password of the private key, all with the certificate's
/// thumbprint as customKeyIdentifier and its dates.
// https://learn.microsoft.com/en-us/graph/api/serviceprincipal-addtokensigningcertificate
fn token_signing_credentials(sp: &mut ServicePrincipal, info: &CertInfo) {
    let thumbprint = info.thumbprint_hex();
    let sign_id = crate::ids::new_id();
    let (start, end) = (
        crate::clock::iso(info.not_before),
        crate::clock::iso(info.not_after),
    );
    let key = |key_id: &str, usage: &str| {
        json!({
            "customKeyIdentifier": thumbprint,
            "displayName": info.subject,
            "endDateTime": end,
            "key": null,
            "keyId": key_id,
            "startDateTime": start,
            "type": "AsymmetricX509Cert",
            "usage": usage,
        })
    };
    sp.body.insert(
        "keyCredentials".into(),
        json!([key(&sign_id, "Sign"), key(&crate::ids::new_id(), "Verify")]),
    );
    sp.body.insert(
        "passwordCredentials".into(),
        json!([{
            "customKeyIdentifier": thumbprint,
            "displayName": info.subject,
            "endDateTime": end,
            "hint": null,
            "keyId": sign_id,
            "secretText": null,
            "startDateTime": start,
        }]),
    );
    sp.body.insert(
        "preferredTokenSigningKeyThumbprint".into(),
        Value::String(thumbprint.clone()),
    );
    sp.body.insert(
        "preferredSingleSignOnMode".into(),
        Value::String("saml".into()),
    );
}

/// `large:N`: N applications ("Bulk app 00000"…), each with a certificate
/// and a secret whose expiries spread from months ago to months ahead; every
/// second one has a service principal, and every tenth a SAML one holding
/// its own token-signing certificate (Sign and Verify keys and a password);
/// every tenth application is under an app management policy (half
/// [`LARGE_NO_SECRETS_POLICY`], half [`LARGE_SHORT_LIFETIME_POLICY`]).
fn large(dir: &mut Directory, n: usize, now: i64) {
    // A small pool of certificates with spread-out expiry keeps seeding fast.
    let key = certs::private_key(certs::TEST_CLIENT_KEY_PEM);
    let pool: Vec<(Vec<u8>, CertInfo)> = (0..16)
        .map(|i| {
            let end = now + (i as i64 * 30 - 120) * DAY;
            let der =
                certs::self_signed(&key, &format!("Bulk {i}"), end - 365 * DAY, end, 1000 + i);
            let info = certs::parse_certificate(&der).expect("cert");
            (der, info)
        })
        .collect();
    let no_secrets = add_policy(
        dir,
        LARGE_NO_SECRETS_POLICY,
        "No new client secrets; services use certificates.",
        json!({
            "passwordCredentials": [
                {"restrictionType": "passwordAddition", "state": "enabled", "maxLifetime": null, "restrictForAppsCreatedAfterDateTime": null},
            ],
            "keyCredentials": [],
        }),
    );
    let short = add_policy(
        dir,
        LARGE_SHORT_LIFETIME_POLICY,
        "New secrets and certificates last at most 180 days.",
        json!({
            "passwordCredentials": [
                {"restrictionType": "passwordLifetime", "state": "enabled", "maxLifetime": "P180D", "restrictForAppsCreatedAfterDateTime": null},
            ],
            "keyCredentials": [
                {"restrictionType": "asymmetricKeyLifetime", "state": "enabled", "maxLifetime": "P180D", "restrictForAppsCreatedAfterDateTime": null},
            ],
        }),
    );
    let created = now - 400 * DAY;
    // Each pool certificate as Graph stores it, parsed once: the
    // applications share it, each under its own keyId (parsing a
    // certificate per application would be most of the seeding time).
    let stored: Vec<Value> = pool
        .iter()
        .map(|(der, info)| {
            let probe = applications::new_application(
                dir,
                obj(
                    json!({"displayName": "probe", "keyCredentials": [cert_credential(der, info)]}),
                ),
                created,
            )
            .expect("pool certificate");
            probe.body["keyCredentials"][0].clone()
        })
        .collect();
    for i in 0..n {
        let mut app = applications::new_application(
            dir,
            obj(json!({"displayName": format!("Bulk app {i:05}")})),
            created,
        )
        .expect("bulk app");
        let mut key = stored[i % pool.len()].clone();
        key["keyId"] = Value::String(crate::ids::new_id());
        app.body.insert("keyCredentials".into(), json!([key]));
        let end = now + ((i % 37) as i64 * 20 - 200) * DAY;
        applications::add_password(&mut app, Some("bulk secret"), end - 365 * DAY, end);
        let id = str_field(&app.body, "id").to_string();
        if i % 2 == 0 {
            let mut sp = service_principals::new_from_app(dir, &app, created);
            if i % 10 == 0 {
                // Another pool entry than the application's own, so the two
                // end on different days.
                token_signing_credentials(&mut sp, &pool[(i / 10 + 7) % pool.len()].1);
            }
            dir.service_principals
                .insert(str_field(&sp.body, "id").to_string(), sp);
        }
        match i % 20 {
            5 => {
                dir.app_policy_assignments
                    .insert(id.clone(), no_secrets.clone());
            }
            15 => {
                dir.app_policy_assignments.insert(id.clone(), short.clone());
            }
            _ => {}
        }
        dir.applications.insert(id, app);
    }
}

/// Builds the state for a seed spec at time `now`.
pub fn build(spec: &str, now: i64) -> Result<Directory, String> {
    crate::ids::deterministic(0x00c0_1750, || build_inner(spec, now))
}

fn build_inner(spec: &str, now: i64) -> Result<Directory, String> {
    let mut dir = base(now);
    match spec {
        "empty" => {}
        "demo" => {
            service_apps(&mut dir, now);
            repair_scenarios(&mut dir, now);
        }
        s if s.starts_with("large:") => {
            let n: usize = s[6..]
                .parse()
                .map_err(|_| format!("invalid seed '{s}': expected large:N"))?;
            service_apps(&mut dir, now);
            large(&mut dir, n, now);
        }
        other => {
            return Err(format!(
                "unknown seed '{other}': expected demo, empty or large:N"
            ));
        }
    }
    dir.seed.seed = spec.to_string();
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(dir: &Directory) -> Vec<&Application> {
        dir.applications
            .values()
            .filter(|a| str_field(&a.body, "displayName").starts_with("Bulk app "))
            .collect()
    }

    #[test]
    fn large_has_service_principal_credentials_and_policies() {
        let now = 1_800_000_000;
        let started = std::time::Instant::now();
        let dir = build("large:1000", now).unwrap();
        let elapsed = started.elapsed();
        let apps = bulk(&dir);
        assert_eq!(apps.len(), 1000);
        // Each application: one certificate, one secret.
        for a in &apps {
            assert_eq!(a.body["keyCredentials"].as_array().unwrap().len(), 1);
            assert_eq!(a.body["passwordCredentials"].as_array().unwrap().len(), 1);
        }
        let bulk_sps: Vec<&ServicePrincipal> = dir
            .service_principals
            .values()
            .filter(|s| str_field(&s.body, "displayName").starts_with("Bulk app "))
            .collect();
        assert_eq!(bulk_sps.len(), 500);
        let saml: Vec<&&ServicePrincipal> = bulk_sps
            .iter()
            .filter(|s| !s.body["keyCredentials"].as_array().unwrap().is_empty())
            .collect();
        assert_eq!(saml.len(), 100);
        for sp in &saml {
            let keys = sp.body["keyCredentials"].as_array().unwrap();
            let usages: Vec<&str> = keys.iter().map(|k| k["usage"].as_str().unwrap()).collect();
            assert_eq!(usages, ["Sign", "Verify"]);
            let password = &sp.body["passwordCredentials"][0];
            assert_eq!(password["keyId"], keys[0]["keyId"]);
            assert_eq!(password["endDateTime"], keys[0]["endDateTime"]);
            assert_eq!(
                sp.body["preferredTokenSigningKeyThumbprint"],
                keys[0]["customKeyIdentifier"]
            );
            // Graph never lists a key's bytes.
            assert!(keys.iter().all(|k| k["key"].is_null()));
        }
        // Their expiries spread too.
        let ends: std::collections::BTreeSet<&str> = saml
            .iter()
            .map(|s| s.body["keyCredentials"][0]["endDateTime"].as_str().unwrap())
            .collect();
        assert!(ends.len() >= 8, "{ends:?}");
        // Every tenth application is under a policy, half of each.
        let policy_of = |name: &str| {
            dir.app_management_policies
                .iter()
                .find(|(_, p)| p["displayName"] == name)
                .map(|(id, _)| id.clone())
                .unwrap()
        };
        let (no_secrets, short) = (
            policy_of(LARGE_NO_SECRETS_POLICY),
            policy_of(LARGE_SHORT_LIFETIME_POLICY),
        );
        let under = |policy: &str| {
            dir.app_policy_assignments
                .values()
                .filter(|p| *p == policy)
                .count()
        };
        assert_eq!((under(&no_secrets), under(&short)), (50, 50));
        let first = dir
            .applications
            .values()
            .find(|a| a.body["displayName"] == "Bulk app 00005")
            .unwrap();
        assert_eq!(
            dir.app_policy_assignments.get(str_field(&first.body, "id")),
            Some(&no_secrets)
        );
        // The same spec gives the same tenant.
        let again = build("large:1000", now).unwrap();
        assert_eq!(
            serde_json::to_value(&dir).unwrap(),
            serde_json::to_value(&again).unwrap()
        );
        // Fast, even unoptimised (10,000 in release take a fraction of a second).
        assert!(elapsed.as_secs_f64() < 5.0, "{elapsed:?}");
    }
}
