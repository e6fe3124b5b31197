//! What can go wrong in the page's wizards, kept typed until it is shown
//! (its `Display` is the sentence the admin reads).

use std::sync::Arc;

use crate::api_error::ApiError;
use crate::auth::TokenError;
use crate::flows::InputError;
use crate::flows::certificate::CertificateError;
use crate::flows::connection::RecordError;
use crate::flows::existing_app::ExistingAppError;
use crate::plan::StepError;
use crate::plan::execute::ApplyError;
use crate::profiles::ProfileError;

#[derive(Clone, Debug, thiserror::Error)]
pub enum UiError {
    #[error("Sign in first (the button at the top of the page).")]
    SignedOut,
    #[error(
        "Sign in first (the button at the top of the page): granting permissions and \
         registering the certificate change the tenant."
    )]
    SignInToChange,
    #[error("Choose the permission profile.")]
    NoProfile,
    #[error("Choose the subscription.")]
    NoSubscription,
    #[error("The file could not be read: choose it again.")]
    FileUnreadable,
    #[error("The file is not text: choose the profile's JSON file.")]
    NotText,
    #[error("Stopped before step {}: resume to finish.", .0 + 1)]
    Stopped(usize),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Step(#[from] StepError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Certificate(Arc<CertificateError>),
    #[error(transparent)]
    ExistingApp(Arc<ExistingAppError>),
    /// What the admin pasted names no certificate to renew (F6).
    #[error(transparent)]
    RenewStart(#[from] crate::flows::renew::StartError),
    #[error(transparent)]
    Renew(#[from] crate::flows::renew::RenewError),
    /// An edit of a service account (F3) cannot be planned as entered.
    #[error(transparent)]
    Edit(#[from] crate::flows::edit_account::EditError),
    /// Another tab of this browser is applying the same plan.
    #[error(transparent)]
    PlanLocked(#[from] crate::web::lock::HeldElsewhere),
}

impl From<CertificateError> for UiError {
    fn from(e: CertificateError) -> Self {
        UiError::Certificate(Arc::new(e))
    }
}

impl From<ExistingAppError> for UiError {
    fn from(e: ExistingAppError) -> Self {
        UiError::ExistingApp(Arc::new(e))
    }
}
