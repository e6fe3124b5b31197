//! The tenant's app management policy, read before a plan adds a secret or
//! a certificate: which policy decides for the application, whether it
//! allows the credential type, and the longest lifetime it allows — so the
//! page offers only what Graph will accept, clamps the lifetime, and names
//! the policy before anything is sent.
//!
//! An application with an assigned, enabled custom policy follows it instead
//! of the tenant's default ("the application adopts this policy over the
//! tenant-wide setting"); otherwise the default's `applicationRestrictions`
//! apply when the default is enabled. A restriction applies to applications
//! created on or after its `restrictForAppsCreatedAfterDateTime` (all when
//! null) unless its `state` is `disabled`.
//!
//! Reading needs `Policy.Read.All`. An admin whose sign-in lacks it (403), or
//! any other failed read, gets [`PolicyView::Unreadable`]: the page says it
//! could not read the policy and goes on without clamping; if Graph then
//! refuses, [`crate::api_error::PolicyRefusal`] carries Microsoft's answer.
// https://learn.microsoft.com/en-us/graph/api/resources/tenantappmanagementpolicy
// https://learn.microsoft.com/en-us/graph/api/resources/appmanagementpolicy
// https://learn.microsoft.com/en-us/graph/api/resources/passwordcredentialconfiguration

use core::fmt;

use crate::api_error::{ApiError, DEFAULT_POLICY_ID, PolicyRefusal, ServiceError};
use crate::client::ApiClient;
use crate::core::time::{DAY, UnixTime};
use crate::graph::policies::{self, CredentialRestriction, Restrictions};
use crate::http::{HttpClient, Sleeper};

/// What kind of credential a plan adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    Secret,
    Certificate,
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialKind::Secret => "client secrets",
            CredentialKind::Certificate => "certificates",
        })
    }
}

/// The policy that decides for an application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decider {
    TenantDefault,
    Assigned { id: String, display_name: String },
}

impl fmt::Display for Decider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decider::TenantDefault => f.write_str("the tenant's default app management policy"),
            Decider::Assigned { display_name, .. } => write!(
                f,
                "the app management policy '{display_name}' assigned to this application"
            ),
        }
    }
}

/// What the page knows of the policy for one application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyView {
    /// Read. `None`: no policy is enforced (the default is disabled and no
    /// enabled policy is assigned).
    Read(Option<(Decider, Restrictions)>),
    /// The policy could not be read (`why`); nothing is clamped.
    Unreadable { why: String },
}

/// What a policy allows for a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    /// The lifetime to use, in seconds: the requested one or the policy's
    /// maximum, whichever is shorter.
    pub lifetime_secs: u64,
    /// The requested lifetime when it was shortened.
    pub clamped_from: Option<u64>,
    /// The policy that set a limit, if one did.
    pub decided_by: Option<Decider>,
    /// Set when the policy could not be read: the page says so.
    pub unread: Option<String>,
}

impl Allowed {
    /// One sentence for the form and the review: what was shortened and by
    /// which policy, or that the policy could not be read.
    pub fn note(&self) -> Option<String> {
        if let Some(why) = &self.unread {
            return Some(format!(
                "Could not read the tenant's app management policy ({why}); the lifetime is \
                 not checked against it before the request."
            ));
        }
        match (&self.clamped_from, &self.decided_by) {
            (Some(from), Some(by)) => Some(format!(
                "Shortened from {} to {} days: {by} allows no more.",
                from / DAY,
                self.lifetime_secs / DAY
            )),
            _ => None,
        }
    }
}

/// What a policy refuses, said so the admin knows what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "{decider} does not allow {kind} for this application. Use a certificate instead, or \
         ask an administrator (Application Administrator) to assign this application an app \
         management policy that allows them."
    )]
    TypeNotAllowed {
        kind: CredentialKind,
        decider: Decider,
    },
    #[error(
        "{decider} allows {kind} valid for at most {max_days} days; this one is valid for \
         {requested_days} days. Make one with a shorter validity, or ask an administrator to \
         raise the policy's maximum."
    )]
    LifetimeTooLong {
        kind: CredentialKind,
        decider: Decider,
        max_days: u64,
        requested_days: u64,
    },
}

impl PolicyView {
    /// The restriction of type `ty` in `list` that applies to an application
    /// created at `created`.
    fn restriction<'r>(
        restrictions: &'r Restrictions,
        kind: CredentialKind,
        ty: &str,
        created: UnixTime,
    ) -> Option<&'r CredentialRestriction> {
        let list = match kind {
            CredentialKind::Secret => restrictions.password_credentials.as_deref(),
            CredentialKind::Certificate => restrictions.key_credentials.as_deref(),
        };
        list?.iter().find(|r| {
            r.restriction_type == ty
                && r.state.as_deref() != Some("disabled")
                && r.restrict_for_apps_created_after_date_time
                    .as_deref()
                    .and_then(|d| UnixTime::parse_rfc3339(d).ok())
                    .is_none_or(|after| created >= after)
        })
    }

    /// The deciding policy and its limits for `kind`: forbidden, and the
    /// longest lifetime (seconds).
    fn limits(
        &self,
        kind: CredentialKind,
        created: UnixTime,
    ) -> Option<(Decider, bool, Option<u64>)> {
        let PolicyView::Read(Some((decider, r))) = self else {
            return None;
        };
        let (addition, lifetime) = match kind {
            CredentialKind::Secret => ("passwordAddition", "passwordLifetime"),
            CredentialKind::Certificate => ("", "asymmetricKeyLifetime"),
        };
        let forbidden =
            !addition.is_empty() && Self::restriction(r, kind, addition, created).is_some();
        let max = Self::restriction(r, kind, lifetime, created)
            .and_then(|x| x.max_lifetime.as_deref())
            .and_then(parse_duration);
        Some((decider.clone(), forbidden, max))
    }

    /// Whether `kind` may be added to an application created at `created`
    /// (`None`: the plan creates it, now), and for how long: `requested_secs`
    /// shortened to the policy's maximum.
    pub fn evaluate(
        &self,
        kind: CredentialKind,
        requested_secs: u64,
        created: Option<UnixTime>,
        now: UnixTime,
    ) -> Result<Allowed, PolicyError> {
        let unread = match self {
            PolicyView::Unreadable { why } => Some(why.clone()),
            PolicyView::Read(_) => None,
        };
        let mut allowed = Allowed {
            lifetime_secs: requested_secs,
            clamped_from: None,
            decided_by: None,
            unread,
        };
        let Some((decider, forbidden, max)) = self.limits(kind, created.unwrap_or(now)) else {
            return Ok(allowed);
        };
        if forbidden {
            return Err(PolicyError::TypeNotAllowed { kind, decider });
        }
        if let Some(max) = max {
            allowed.decided_by = Some(decider);
            if requested_secs > max {
                allowed.lifetime_secs = max;
                allowed.clamped_from = Some(requested_secs);
            }
        }
        Ok(allowed)
    }

    /// Like [`PolicyView::evaluate`] for a credential whose lifetime cannot
    /// be shortened (a PFX the admin brings): too long is an error.
    pub fn check_fixed(
        &self,
        kind: CredentialKind,
        lifetime_secs: u64,
        created: Option<UnixTime>,
        now: UnixTime,
    ) -> Result<Allowed, PolicyError> {
        let allowed = self.evaluate(kind, lifetime_secs, created, now)?;
        match (allowed.clamped_from, &allowed.decided_by) {
            (Some(requested), Some(decider)) => Err(PolicyError::LifetimeTooLong {
                kind,
                decider: decider.clone(),
                max_days: allowed.lifetime_secs / DAY,
                requested_days: requested.div_ceil(DAY),
            }),
            _ => Ok(allowed),
        }
    }

    /// The policy Graph named in a refusal, by display name when it is the
    /// one read, with Microsoft's message and what to do.
    pub fn explain_refusal(&self, error: &ServiceError) -> Option<String> {
        let refusal = error.policy_refusal()?;
        let named = match (self, refusal.policy_id()) {
            (_, Some(DEFAULT_POLICY_ID)) => Some(Decider::TenantDefault.to_string()),
            (PolicyView::Read(Some((d @ Decider::Assigned { id, .. }, _))), Some(got))
                if id == got =>
            {
                Some(d.to_string())
            }
            _ => None,
        };
        let advice = refusal.advice();
        let advice = match named {
            Some(n) => advice.replace(&refusal.policy_text(), &n),
            None => advice,
        };
        Some(format!("Microsoft Graph: \"{}\" {advice}", error.message))
    }
}

/// A Graph refusal by a policy, if `error` is one.
pub fn refusal(error: &ApiError) -> Option<PolicyRefusal> {
    error.service().and_then(ServiceError::policy_refusal)
}

/// Reads the policy that decides for the application `object_id` (`None`:
/// an application the plan will create, which only the tenant's default can
/// restrict). Never fails: a refused or failed read is
/// [`PolicyView::Unreadable`].
pub async fn read_for_application<C: HttpClient, S: Sleeper>(
    api: &ApiClient<'_, C, S>,
    object_id: Option<&str>,
) -> PolicyView {
    if let Some(id) = object_id {
        match policies::list_application_policies(api, id).await {
            Ok(list) => {
                if let Some(view) = assigned_view(list) {
                    return view;
                }
            }
            Err(e) => return unreadable(&e),
        }
    }
    match policies::get_default_policy(api).await {
        Ok(p) => default_view(p),
        Err(e) => unreadable(&e),
    }
}

/// The view of an application's assigned policies: the first enabled one
/// decides; `None` when none is (the tenant's default then applies).
pub fn assigned_view(list: Vec<policies::AppManagementPolicy>) -> Option<PolicyView> {
    let p = list.into_iter().find(|p| p.is_enabled != Some(false))?;
    let display_name = p.display_name.clone().unwrap_or_else(|| p.id.clone());
    Some(PolicyView::Read(Some((
        Decider::Assigned {
            id: p.id,
            display_name,
        },
        p.restrictions.unwrap_or_default(),
    ))))
}

/// The view of the tenant's default policy (nothing enforced when disabled).
pub fn default_view(p: policies::TenantAppManagementPolicy) -> PolicyView {
    match p.is_enabled {
        true => PolicyView::Read(Some((
            Decider::TenantDefault,
            p.application_restrictions.unwrap_or_default(),
        ))),
        false => PolicyView::Read(None),
    }
}

/// A policy read that failed: why, said for the admin.
pub fn unreadable(e: &ApiError) -> PolicyView {
    PolicyView::Unreadable {
        why: match e.status() {
            Some(403) => "your sign-in may not read policies: it needs Policy.Read.All".into(),
            _ => e.to_string(),
        },
    }
}

/// An ISO 8601 duration (`P90D`, `P1Y`, `PT12H`, `P4DT12H30M5S`, `P2W`) in
/// seconds; a year counts 365 days and a month 30. `None` when malformed.
pub fn parse_duration(text: &str) -> Option<u64> {
    let rest = text.trim().strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    fn fields(part: &str, units: &[(char, u64)]) -> Option<u64> {
        let mut total = 0u64;
        let mut number = String::new();
        let mut next = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let pos = units[next..].iter().position(|(u, _)| *u == c)? + next;
            let value: u64 = number.parse().ok()?;
            total = total.checked_add(value.checked_mul(units[pos].1)?)?;
            number.clear();
            next = pos + 1;
        }
        number.is_empty().then_some(total)
    }
    let mut total = fields(
        date,
        &[
            ('Y', 365 * DAY),
            ('M', 30 * DAY),
            ('W', 7 * DAY),
            ('D', DAY),
        ],
    )?;
    if let Some(t) = time {
        total = total.checked_add(fields(t, &[('H', 3600), ('M', 60), ('S', 1)])?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("P90D"), Some(90 * DAY));
        assert_eq!(parse_duration("P1Y"), Some(365 * DAY));
        assert_eq!(
            parse_duration("P4DT12H30M5S"),
            Some(4 * DAY + 12 * 3600 + 30 * 60 + 5)
        );
        assert_eq!(parse_duration("PT1M"), Some(60));
        assert_eq!(parse_duration("P1M"), Some(30 * DAY));
        for bad in [
            "",
            "P",
            "P1H",
            "PT",
            "90D",
            "P1D2",
            "P-1D",
            "P99999999999999999999D",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
