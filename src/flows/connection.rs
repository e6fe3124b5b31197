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

/// Details of the connection that the plan does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordDetails {
    pub name: String,
    pub cloud: Cloud,
    pub tenant_id: String,
    pub auth: AuthMethod,
    pub profile: String,
    pub subscription: Option<SubscriptionChoice>,
    pub portal_address: Option<String>,
}

impl ConnectionRecord {
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
        }
    }
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
