//! What Microsoft Graph, Azure Resource Manager and the token endpoint say
//! when a call fails, taken apart (code, message, request ID) with an
//! explanation an admin can act on.
// https://learn.microsoft.com/en-us/graph/errors
// https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/common-deployment-errors
// https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::core::aadsts;
use crate::core::time::UnixTime;
use crate::http::{HttpResponse, TransportError};

/// Which API answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Service {
    Graph,
    Arm,
    /// The Microsoft Entra token endpoint.
    Identity,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Graph => "Microsoft Graph",
            Service::Arm => "Azure Resource Manager",
            Service::Identity => "Microsoft Entra ID",
        })
    }
}

/// An error answer from a Microsoft API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceError {
    pub service: Service,
    pub status: u16,
    /// `Authorization_RequestDenied`, `AuthorizationFailed`, `invalid_grant`…
    pub code: String,
    /// Microsoft's message, as sent.
    pub message: String,
    /// Codes in `error.details` (Graph), e.g. `NoBackingApplicationObject`.
    #[serde(default)]
    pub detail_codes: Vec<String>,
    /// Graph `innerError.request-id`, ARM `x-ms-request-id`, or the token
    /// endpoint's `trace_id`: what Microsoft support asks for.
    #[serde(default)]
    pub request_id: Option<String>,
}

impl ServiceError {
    /// Reads the error envelope of a failed response.
    pub fn from_response(service: Service, response: &HttpResponse) -> Self {
        let (code, message, detail_codes, request_id) = match service {
            Service::Identity => {
                // The token endpoint's flat form (RFC 6749 §5.2).
                #[derive(Default, Deserialize)]
                struct TokenError {
                    #[serde(default)]
                    error: Option<String>,
                    #[serde(default)]
                    error_description: Option<String>,
                    #[serde(default)]
                    trace_id: Option<String>,
                }
                let e: TokenError = serde_json::from_slice(&response.body).unwrap_or_default();
                (
                    e.error.unwrap_or_default(),
                    e.error_description.unwrap_or_default(),
                    Vec::new(),
                    e.trace_id,
                )
            }
            Service::Graph | Service::Arm => {
                let e = response.error_envelope().error;
                let details = e.detail_codes().map(str::to_string).collect();
                let request_id = e
                    .inner_error
                    .and_then(|i| i.request_id)
                    .or_else(|| response.header("request-id").map(str::to_string))
                    .or_else(|| response.header("x-ms-request-id").map(str::to_string));
                (
                    e.code.unwrap_or_default(),
                    e.message.unwrap_or_default(),
                    details,
                    request_id,
                )
            }
        };
        let message = if message.is_empty() {
            let text = response.text();
            if text.trim().is_empty() || text.trim() == "null" {
                format!("HTTP {} with no details", response.status)
            } else {
                text.chars().take(500).collect()
            }
        } else {
            message
        };
        ServiceError {
            service,
            status: response.status,
            code: if code.is_empty() {
                format!("HTTP{}", response.status)
            } else {
                code
            },
            message,
            detail_codes,
            request_id,
        }
    }

    /// Graph's refusal of a credential by an app management policy, typed.
    pub fn policy_refusal(&self) -> Option<PolicyRefusal> {
        if self.service != Service::Graph {
            return None;
        }
        // "... as per assigned policy '{id}'." names the deciding policy.
        let policy_id = self
            .message
            .rsplit_once("policy '")
            .and_then(|(_, rest)| rest.split_once('\''))
            .map(|(id, _)| id.to_string())
            .filter(|id| !id.is_empty());
        if self.has_code(POLICY_TYPE_NOT_ALLOWED) {
            Some(PolicyRefusal::CredentialTypeNotAllowed { policy_id })
        } else if self.has_code(POLICY_LIFETIME_TOO_LONG) {
            Some(PolicyRefusal::LifetimeTooLong { policy_id })
        } else {
            None
        }
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.code.eq_ignore_ascii_case(code)
            || self
                .detail_codes
                .iter()
                .any(|c| c.eq_ignore_ascii_case(code))
    }

    /// What the admin can do about it, in general terms; a plan step may
    /// add what its own request needed.
    pub fn advice(&self) -> String {
        if self.service == Service::Identity
            && let Ok(parsed) = aadsts::parse(&self.message)
        {
            let a = parsed.advice();
            return format!("{} {}", a.summary, a.next_step);
        }
        if let Some(refusal) = self.policy_refusal() {
            return refusal.advice();
        }
        match (self.status, self.code.as_str()) {
            (401, _) | (_, "InvalidAuthenticationToken" | "ExpiredAuthenticationToken") => {
                "Your sign-in has expired or was refused. Sign in again, then retry.".into()
            }
            (403, "Authorization_RequestDenied") => {
                "Your account lacks the directory role this change needs. Creating and \
                 updating applications needs Application Administrator or Cloud Application \
                 Administrator; granting Microsoft Graph application permissions needs Global \
                 Administrator or Privileged Role Administrator. Ask an administrator with that \
                 role to sign in, or to assign you the role."
                    .into()
            }
            (403, "AuthorizationFailed") => {
                "Your account may not do this on the subscription. Assigning roles needs \
                 Owner or User Access Administrator on the subscription; creating a custom \
                 role needs Owner (or User Access Administrator)."
                    .into()
            }
            (_, "Request_ResourceNotFound") => {
                "The object does not exist in this tenant (or was deleted). Check the ID and \
                 the tenant you signed in to."
                    .into()
            }
            (_, "SubscriptionNotFound") => {
                "The subscription was not found: check that it belongs to this tenant and \
                 that your account has a role on it."
                    .into()
            }
            (_, "RoleDefinitionWithSameNameExists") => {
                "A custom role with this name already exists in the directory with other \
                 scopes. Rename it or add this subscription to its assignable scopes."
                    .into()
            }
            (_, "PrincipalNotFound") | (_, "NoBackingApplicationObject") => {
                "The new application has not replicated yet. Wait a minute and apply again; \
                 nothing will be created twice."
                    .into()
            }
            (429, _) => "Microsoft is throttling requests. Wait a minute and apply again.".into(),
            (500..=599, _) => {
                "The Microsoft service failed or is unavailable. Apply again in a few \
                 minutes; completed steps are not repeated."
                    .into()
            }
            _ => "Check the message above; after fixing the cause, apply again: completed \
                  steps are not repeated."
                .into(),
        }
    }
}

/// Graph's code when an app management policy forbids the credential type
/// ("Credential type not allowed as per assigned policy '{id}'.").
pub const POLICY_TYPE_NOT_ALLOWED: &str = "CredentialTypeNotAllowedAsPerAppPolicy";
/// Graph's code when the credential outlives the policy's maximum
/// ("Credential lifetime exceeds the max value allowed as per assigned policy '{id}'.").
pub const POLICY_LIFETIME_TOO_LONG: &str = "CredentialInvalidLifetimeAsPerAppPolicy";
/// The tenant default policy's ID in Graph's messages.
pub const DEFAULT_POLICY_ID: &str = "00000000-0000-0000-0000-000000000000";

/// A credential an app management policy refused (Graph's message is kept
/// in the [`ServiceError`]).
// https://learn.microsoft.com/en-us/graph/api/resources/appmanagementpolicy
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyRefusal {
    /// Client secrets (or this kind of key) are forbidden.
    CredentialTypeNotAllowed { policy_id: Option<String> },
    /// The credential is valid longer than the policy allows.
    LifetimeTooLong { policy_id: Option<String> },
}

impl PolicyRefusal {
    pub fn policy_id(&self) -> Option<&str> {
        match self {
            PolicyRefusal::CredentialTypeNotAllowed { policy_id }
            | PolicyRefusal::LifetimeTooLong { policy_id } => policy_id.as_deref(),
        }
    }

    /// "the tenant's default app management policy" or "the app management
    /// policy {id} assigned to this application".
    pub fn policy_text(&self) -> String {
        match self.policy_id() {
            Some(DEFAULT_POLICY_ID) => "the tenant's default app management policy".into(),
            Some(id) => format!("the app management policy {id} assigned to this application"),
            None => "an app management policy".into(),
        }
    }

    pub fn advice(&self) -> String {
        let policy = self.policy_text();
        match self {
            PolicyRefusal::CredentialTypeNotAllowed { .. } => format!(
                "Client secrets are not allowed for this application by {policy}. Use a \
                 certificate instead, or ask an administrator (Application Administrator) to \
                 assign this application an app management policy that allows secrets."
            ),
            PolicyRefusal::LifetimeTooLong { .. } => format!(
                "The credential is valid for longer than {policy} allows. Choose a shorter \
                 lifetime (a certificate with a shorter validity) and apply again, or ask an \
                 administrator to raise the policy's maximum."
            ),
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} refused the request (HTTP {}, {}): {}",
            self.service, self.status, self.code, self.message
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " [request ID {id}]")?;
        }
        Ok(())
    }
}

/// A failed call to a Microsoft API. Serde: it crosses from the shell to
/// the pages module (`ui::bridge`) when a token cannot be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ApiError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("{0}")]
    Service(ServiceError),
    /// No access token for this API yet.
    #[error("Not signed in to {0}: sign in (and consent) first.")]
    NotSignedIn(Service),
    /// The sign-in could not be renewed for this API (the refresh token
    /// expired or was revoked, consent was withdrawn…): what the token
    /// endpoint said, with its advice.
    #[error("Could not renew your sign-in for {service}: {message}")]
    SignIn { service: Service, message: String },
    /// The page's own sign-in lacks a delegated permission this read needs
    /// (Graph then answers with less than the caller asked for).
    #[error(
        "{service} did not show {what}: the page's sign-in needs {permission} consented to read it."
    )]
    ConsentNeeded {
        service: Service,
        what: String,
        permission: String,
    },
    /// The service asked (`Retry-After`) for a wait longer than the page
    /// waits within one request ([`crate::http::MAX_RETRY_AFTER_MS`]).
    #[error(
        "{service} asked to wait {wait} before the next request (Retry-After), longer than the \
         {ceiling} this page waits. Apply again after {resume}: completed steps are not repeated.",
        wait = crate::http::wait_text(*.wait_ms),
        ceiling = crate::http::wait_text(*.ceiling_ms),
        resume = resume_text(*.resume_at)
    )]
    WaitTooLong {
        service: Service,
        wait_ms: u64,
        ceiling_ms: u64,
        /// When the wait ends (the service's date, else the page's clock).
        resume_at: UnixTime,
    },
    /// A success answer that does not hold what Microsoft documents.
    #[error(
        "{service} answered {what} in an unexpected form ({detail}). If a proxy sits between \
         the browser and Microsoft, check it; otherwise report this."
    )]
    Unexpected {
        service: Service,
        what: String,
        detail: String,
    },
}

impl ApiError {
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            ApiError::Service(e) => Some(e),
            _ => None,
        }
    }

    /// Whether Microsoft answered with this code (top-level or in details).
    pub fn has_code(&self, code: &str) -> bool {
        self.service().is_some_and(|e| e.has_code(code))
    }

    pub fn status(&self) -> Option<u16> {
        self.service().map(|e| e.status)
    }

    pub fn advice(&self) -> String {
        match self {
            ApiError::Service(e) => e.advice(),
            ApiError::Transport(_) => {
                "Check the network connection, then apply again: completed steps are not \
                 repeated."
                    .into()
            }
            ApiError::NotSignedIn(_) => "Sign in, then apply again.".into(),
            ApiError::SignIn { .. } => {
                "Sign in again, then apply again: completed steps are not repeated.".into()
            }
            ApiError::ConsentNeeded { permission, .. } => format!(
                "Sign in again and accept {permission} when asked, or ask an administrator to \
                 grant that consent to this page's sign-in application."
            ),
            ApiError::WaitTooLong { resume_at, .. } => format!(
                "Microsoft is throttling requests. Apply again after {}: completed steps are \
                 not repeated.",
                resume_text(*resume_at)
            ),
            ApiError::Unexpected { .. } => "Apply again; if it persists, report it.".into(),
        }
    }
}

/// `2026-11-29 22:15:00 UTC`.
fn resume_text(at: UnixTime) -> String {
    at.to_rfc3339().replace('T', " ").replace('Z', " UTC")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(status: u16, headers: &[(&str, &str)], body: serde_json::Value) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: serde_json::to_vec(&body).unwrap(),
        }
    }

    #[test]
    fn graph_envelope() {
        let r = resp(
            403,
            &[],
            json!({"error": {"code": "Authorization_RequestDenied",
                "message": "Insufficient privileges to complete the operation.",
                "innerError": {"date": "2026-01-01T00:00:00", "request-id": "abc", "client-request-id": "abc"}}}),
        );
        let e = ServiceError::from_response(Service::Graph, &r);
        assert_eq!(e.code, "Authorization_RequestDenied");
        assert_eq!(e.request_id.as_deref(), Some("abc"));
        assert!(e.to_string().contains("Insufficient privileges"));
        assert!(e.advice().contains("Privileged Role Administrator"));
    }

    #[test]
    fn arm_envelope_with_header_request_id() {
        let r = resp(
            403,
            &[("x-ms-request-id", "r-1")],
            json!({"error": {"code": "AuthorizationFailed", "message": "The client … does not have authorization"}}),
        );
        let e = ServiceError::from_response(Service::Arm, &r);
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
        assert!(e.advice().contains("User Access Administrator"));
    }

    #[test]
    fn graph_details_and_identity_errors() {
        let r = resp(
            400,
            &[],
            json!({"error": {"code": "Request_BadRequest", "message": "m",
                "details": [{"code": "NoBackingApplicationObject"}]}}),
        );
        let e = ServiceError::from_response(Service::Graph, &r);
        assert!(e.has_code("NoBackingApplicationObject"));
        let r = resp(
            400,
            &[],
            json!({"error": "invalid_grant", "error_description":
                "AADSTS700084: The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00.\r\nTrace ID: t", "trace_id": "t"}),
        );
        let e = ServiceError::from_response(Service::Identity, &r);
        assert_eq!(e.code, "invalid_grant");
        assert_eq!(e.request_id.as_deref(), Some("t"));
        assert!(!e.advice().is_empty());
    }

    #[test]
    fn empty_bodies_still_say_something() {
        let e = ServiceError::from_response(Service::Arm, &resp(500, &[], serde_json::Value::Null));
        assert_eq!(e.code, "HTTP500");
        assert_eq!(e.message, "HTTP 500 with no details");
    }
}
