//! Leptos components. They gather inputs and show results; the logic they
//! call lives in `crate::flows`, `crate::plan` and `crate::core`.

mod accounts;
mod bulk_renew;
mod certificates;
mod dashboard;
mod demo_accounts;
mod error;
mod fields;
mod router;
mod session;
mod settings;
mod shell;
mod storage;
mod wizards;

pub use shell::App;
