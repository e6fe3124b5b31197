//! The connection record a finished wizard saves under "Service accounts":
//! what the service needs to be configured and what the edit flows reopen —
//! never a secret or a key.

use serde::{Deserialize, Serialize};

use crate::cloud::Cloud;
use crate::core::time::UnixTime;
use crate::plan::Progress;

use super::SubscriptionChoice;

/// Format of saved records.
pub const RECORD_FORMAT: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AuthMethod {
    #[serde(rename_all = "camelCase")]
    Certificate {
        thumbprint: String,
        subject: String,
        not_before: UnixTime,
        not_after: UnixTime,
    },
    #[serde(rename_all = "camelCase")]
    ClientSecret {
        /// The first characters Entra shows, never the secret.
        hint: String,
        #[serde(default)]
        end: Option<UnixTime>,
    },
}

impl AuthMethod {
    /// The record of a certificate (thumbprint, subject, dates; never the key).
    pub fn certificate(
        cert: &crate::core::certificate::Certificate,
    ) -> Result<Self, super::InputError> {
        let info = cert
            .info()
            .map_err(|e| super::InputError::Certificate(e.to_string()))?;
        Ok(AuthMethod::Certificate {
            thumbprint: info.sha1,
            subject: info.subject,
            not_before: info.not_before,
            not_after: info.not_after,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRecord {
    pub format: u32,
    pub name: String,
    pub cloud: Cloud,
    pub tenant_id: String,
    pub app_id: String,
    #[serde(default)]
    pub application_object_id: Option<String>,
    #[serde(default)]
    pub service_principal_id: Option<String>,
    pub auth: AuthMethod,
    /// Permission profile ID.
    pub profile: String,
    #[serde(default)]
    pub subscription: Option<SubscriptionChoice>,
    /// Role assignment and grant IDs the wizard created or found.
    #[serde(default)]
    pub object_ids: Vec<String>,
    #[serde(default)]
    pub portal_address: Option<String>,
    pub saved: UnixTime,
    /// Graph's keyId of the credential in use, when the page made or found
    /// it (a pasted secret is known by its hint only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// A credential an edit created that the service does not use yet: the
    /// old one is removed only when the admin confirms. A secret here whose
    /// value the page no longer shows is an orphan nobody has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingCredential>,
    /// Applications this service account used before (re-created or
    /// switched), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<PreviousApplication>,
}

/// A new credential waiting for the admin's confirmation (no secret value).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingCredential {
    pub auth: AuthMethod,
    /// Graph's keyId of the new credential.
    #[serde(default)]
    pub key_id: Option<String>,
    pub created: UnixTime,
}

/// An application the record used before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviousApplication {
    pub app_id: String,
    #[serde(default)]
    pub application_object_id: Option<String>,
    /// Until when the record used it.
    pub until: UnixTime,
    /// "re-created: the application no longer existed".
    pub why: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error(
        "The plan has not finished: {done} of {total} steps are done. Apply it to the end first."
    )]
    Unfinished { done: usize, total: usize },
    #[error("The progress names no application.")]
    NoApplication,
    #[error("This file is not a list of service accounts: {0}")]
    Import(String),
    #[error("Service account {index} is from another version of this page (format {format}).")]
    Format { index: usize, format: u32 },
}

/// Details of the connection that the plan does not hold (kept with a
/// saved apply until it finishes: no secret in it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordDetails {
    pub name: String,
    pub cloud: Cloud,
    pub tenant_id: String,
    pub auth: AuthMethod,
    pub profile: String,
    #[serde(default)]
    pub subscription: Option<SubscriptionChoice>,
    #[serde(default)]
    pub portal_address: Option<String>,
}

impl ConnectionRecord {
    /// The one rule for which records are the same service account: the
    /// same application (client) ID in the same tenant, compared without
    /// regard to case or surrounding spaces. A newer record of the same
    /// connection replaces the older one; the same application in another
    /// tenant is another service account.
    pub fn is(&self, tenant_id: &str, app_id: &str) -> bool {
        same_id(&self.tenant_id, tenant_id) && same_id(&self.app_id, app_id)
    }

    pub fn same_connection(&self, other: &ConnectionRecord) -> bool {
        self.is(&other.tenant_id, &other.app_id)
    }

    /// The record's ID in the page's address (`#/accounts/{id}`):
    /// `{appId}@{tenant}`, lower case.
    pub fn route_id(&self) -> String {
        format!(
            "{}@{}",
            self.app_id.trim().to_ascii_lowercase(),
            self.tenant_id.trim().to_ascii_lowercase()
        )
    }

    /// The record of a finished apply.
    pub fn from_progress(
        details: RecordDetails,
        progress: &Progress,
        now: UnixTime,
    ) -> Result<Self, RecordError> {
        if !progress.is_finished() {
            return Err(RecordError::Unfinished {
                done: progress.done_count(),
                total: progress.steps.len(),
            });
        }
        let app = progress
            .application
            .as_ref()
            .ok_or(RecordError::NoApplication)?;
        let mut object_ids: Vec<String> = Vec::new();
        for s in &progress.steps {
            for id in &s.ids {
                if *id != app.object_id
                    && Some(id) != progress.service_principal_id.as_ref()
                    && !object_ids.contains(id)
                {
                    object_ids.push(id.clone());
                }
            }
        }
        Ok(ConnectionRecord {
            format: RECORD_FORMAT,
            name: details.name,
            cloud: details.cloud,
            tenant_id: details.tenant_id,
            app_id: app.app_id.clone(),
            application_object_id: Some(app.object_id.clone()),
            service_principal_id: progress.service_principal_id.clone(),
            auth: details.auth,
            profile: details.profile,
            subscription: details.subscription,
            object_ids,
            portal_address: details.portal_address,
            saved: now,
            key_id: None,
            pending: None,
            history: Vec::new(),
        })
    }

    /// F2 without sign-in: what was checked locally.
    pub fn local(details: RecordDetails, app_id: &str, now: UnixTime) -> Self {
        ConnectionRecord {
            format: RECORD_FORMAT,
            name: details.name,
            cloud: details.cloud,
            tenant_id: details.tenant_id,
            app_id: app_id.to_string(),
            application_object_id: None,
            service_principal_id: None,
            auth: details.auth,
            profile: details.profile,
            subscription: details.subscription,
            object_ids: Vec::new(),
            portal_address: details.portal_address,
            saved: now,
            key_id: None,
            pending: None,
            history: Vec::new(),
        }
    }
}

fn same_id(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Adds `record` to `records`, replacing the record of the same connection
/// (see [`ConnectionRecord::is`]) in its place, or appending it.
pub fn upsert(records: &mut Vec<ConnectionRecord>, record: ConnectionRecord) {
    match records.iter().position(|r| r.same_connection(&record)) {
        Some(i) => {
            records[i] = record;
            records.retain({
                let mut seen = false;
                let keep = records[i].clone();
                move |r| {
                    if r.same_connection(&keep) {
                        let first = !seen;
                        seen = true;
                        first
                    } else {
                        true
                    }
                }
            });
        }
        None => records.push(record),
    }
}

/// Puts `new` where the record of `old`'s connection is (an edit that
/// changed the application: re-created, or another one), dropping any
/// other record of `new`'s connection; appends it when `old` is not there.
pub fn replace(records: &mut Vec<ConnectionRecord>, old: &ConnectionRecord, new: ConnectionRecord) {
    let at = records.iter().position(|r| r.same_connection(old));
    records.retain(|r| !r.same_connection(old) && !r.same_connection(&new));
    match at {
        Some(i) => records.insert(i.min(records.len()), new),
        None => records.push(new),
    }
}

/// Removes the record of this connection.
pub fn forget(records: &mut Vec<ConnectionRecord>, tenant_id: &str, app_id: &str) {
    records.retain(|r| !r.is(tenant_id, app_id));
}

/// The record whose [`ConnectionRecord::route_id`] is `id`.
pub fn find<'r>(records: &'r [ConnectionRecord], id: &str) -> Option<&'r ConnectionRecord> {
    records
        .iter()
        .find(|r| r.route_id().eq_ignore_ascii_case(id.trim()))
}

/// The "Service accounts" list as a JSON file.
pub fn export(records: &[ConnectionRecord]) -> String {
    serde_json::to_string_pretty(records).expect("records serialise")
}

/// Reads a file written by [`export`] (or a single record).
pub fn import(json: &str) -> Result<Vec<ConnectionRecord>, RecordError> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| RecordError::Import(e.to_string()))?;
    let records: Vec<ConnectionRecord> = if v.is_array() {
        serde_json::from_value(v)
    } else {
        serde_json::from_value(v).map(|r| vec![r])
    }
    .map_err(|e| RecordError::Import(e.to_string()))?;
    for (i, r) in records.iter().enumerate() {
        if r.format != RECORD_FORMAT {
            return Err(RecordError::Format {
                index: i + 1,
                format: r.format,
            });
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(tenant: &str, app: &str, name: &str) -> ConnectionRecord {
        ConnectionRecord::local(
            RecordDetails {
                name: name.into(),
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
            app,
            UnixTime(1_790_000_000),
        )
    }

    const T1: &str = "8f3a6c2e-4b1d-4e7a-9c5f-2d8b6a1e0c47";
    const T2: &str = "11111111-2222-3333-4444-555555555555";
    const A1: &str = "d8b0490d-823f-46df-8680-25017029384a";
    const A2: &str = "0c74fb13-03e3-4fc8-9e1f-61862656ca5e";

    #[test]
    fn identity_is_tenant_and_application() {
        let r = record(T1, A1, "one");
        assert!(r.is(T1, A1));
        assert!(r.is(&T1.to_uppercase(), &format!(" {} ", A1.to_uppercase())));
        assert!(!r.is(T2, A1), "the same application in another tenant");
        assert!(!r.is(T1, A2));
        assert_eq!(r.route_id(), format!("{A1}@{T1}"));
    }

    #[test]
    fn upsert_replaces_the_same_connection_only() {
        let mut all = vec![record(T1, A1, "one"), record(T2, A1, "other tenant")];
        upsert(&mut all, record(T1, A2, "two"));
        assert_eq!(all.len(), 3);
        upsert(&mut all, record(&T1.to_uppercase(), A1, "one again"));
        let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["one again", "other tenant", "two"]);
        // Duplicates from an older page collapse into the new record.
        let mut dup = vec![record(T1, A1, "a"), record(T1, A1, "b")];
        upsert(&mut dup, record(T1, A1, "c"));
        assert_eq!(dup.len(), 1);
        assert_eq!(dup[0].name, "c");

        // An edit that changed the application keeps the record's place.
        let mut moved = record(T1, A2, "two");
        moved.app_id = "6c0a4a8e-1f53-4b0e-9d52-3a1e7f0b9c11".into();
        let mut copy = all.clone();
        replace(&mut copy, &record(T1, A2, "two"), moved.clone());
        assert_eq!(copy.len(), 3);
        assert_eq!(copy[2], moved);
        replace(&mut copy, &record(T1, A2, "gone"), moved.clone());
        assert_eq!(copy.len(), 3, "a record is never there twice");

        forget(&mut all, T2, A1);
        let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["one again", "two"]);
        assert_eq!(
            find(&all, &format!("{A2}@{}", T1.to_uppercase())).map(|r| r.name.as_str()),
            Some("two")
        );
        assert!(find(&all, "nothing").is_none());
    }
}
