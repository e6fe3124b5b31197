//! Leptos components. They gather inputs and show results; the logic they
//! call lives in `crate::core`.

mod accounts;
mod certificates;
mod connect;
mod existing;
mod portal;
mod roles;
mod session;
mod settings;
mod shell;
mod subscriptions;

pub use shell::App;
