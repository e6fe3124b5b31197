//! Leptos components. They gather inputs and show results; the logic they
//! call lives in `crate::flows`, `crate::plan` and `crate::core`.
//!
//! Two wasm modules are built from them (`ui::bridge`): the shell
//! (`shell::App`: sign-in, certificates, settings) and the pages that call
//! Microsoft (`pages::mount`: connect, service accounts, renew, dashboard).

mod accounts;
pub mod bridge;
mod bulk_renew;
mod certificates;
mod dashboard;
mod demo_accounts;
mod error;
mod fields;
mod host;
pub mod pages;
mod router;
mod session;
mod settings;
mod shell;
mod storage;
mod wizards;

pub use shell::App;
